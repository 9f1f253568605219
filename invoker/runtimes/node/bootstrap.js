// Switchyard's built-in Node.js runtime: a Lambda Runtime API client (Node standard library
// only). Loads the module named by _HANDLER ("file.export") from LAMBDA_TASK_ROOT (CommonJS
// or ES module), then loops on /invocation/next calling the handler, async or callback style.
// Errors are posted as the Node runtime does: {"errorType","errorMessage","trace":[...]}.
'use strict';
// Start-up cost matters (it is most of a cold start): only modules that Node's own start-up
// snapshot already holds are loaded eagerly (fs, path, util), plus `net`; not `http`, whose
// parser, agent and streams cost more than the rest of this file. `url` loads only for ES
// modules.
const net = require('net');
const fs = require('fs');
const path = require('path');
const util = require('util');

const [apiHost, apiPort] = (() => {
  const api = process.env.AWS_LAMBDA_RUNTIME_API;
  const colon = api.lastIndexOf(':');
  return [api.slice(0, colon), Number(api.slice(colon + 1))];
})();
const taskRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();

// A minimal HTTP/1.1 client for the Runtime API: one keep-alive connection, one request at a
// time, bodies framed by Content-Length (or chunked), as the Runtime API answers.
let socket = null;
let received = Buffer.alloc(0);
let waiting = null;  // { resolve, reject } of the request in flight

function connection() {
  if (socket) return socket;
  socket = net.connect(apiPort, apiHost);
  socket.setNoDelay(true);
  socket.on('data', (chunk) => {
    received = received.length ? Buffer.concat([received, chunk]) : chunk;
    parseResponse();
  });
  const fail = (error) => {
    socket = null;
    received = Buffer.alloc(0);
    if (waiting) {
      const { reject } = waiting;
      waiting = null;
      reject(error || new Error('Runtime API connection closed'));
    }
  };
  socket.on('error', fail);
  socket.on('close', () => fail());
  return socket;
}

function parseResponse() {
  if (!waiting) return;
  const end = received.indexOf('\r\n\r\n');
  if (end < 0) return;
  const lines = received.toString('latin1', 0, end).split('\r\n');
  const status = Number(lines[0].split(' ')[1]);
  const headers = {};
  for (let i = 1; i < lines.length; i++) {
    const colon = lines[i].indexOf(':');
    if (colon > 0) headers[lines[i].slice(0, colon).trim().toLowerCase()] = lines[i].slice(colon + 1).trim();
  }
  let body;
  let consumed;
  if ((headers['transfer-encoding'] || '').toLowerCase() === 'chunked') {
    const parts = [];
    let at = end + 4;
    for (;;) {
      const lineEnd = received.indexOf('\r\n', at);
      if (lineEnd < 0) return;
      const size = parseInt(received.toString('latin1', at, lineEnd), 16);
      if (received.length < lineEnd + 2 + size + 2) return;
      if (size === 0) {
        const trailerEnd = received.indexOf('\r\n\r\n', lineEnd);
        if (received.indexOf('\r\n', lineEnd + 2) === lineEnd + 2) {
          consumed = lineEnd + 4;
        } else if (trailerEnd < 0) {
          return;
        } else {
          consumed = trailerEnd + 4;
        }
        break;
      }
      parts.push(received.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  } else {
    const length = Number(headers['content-length'] || 0);
    if (received.length < end + 4 + length) return;
    body = received.subarray(end + 4, end + 4 + length);
    consumed = end + 4 + length;
  }
  const text = body.toString('utf8');
  received = received.subarray(consumed);
  const { resolve } = waiting;
  waiting = null;
  if ((headers.connection || '').toLowerCase() === 'close' && socket) {
    socket.destroy();
    socket = null;
  }
  resolve({ status, headers, body: text });
}

function call(method, urlPath, body, headers) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(body);
    let head = `${method} /2018-06-01/runtime/${urlPath} HTTP/1.1\r\nHost: ${apiHost}\r\n` +
               `Content-Length: ${data ? data.length : 0}\r\n`;
    for (const [name, value] of Object.entries(headers || {})) head += `${name}: ${value}\r\n`;
    head += '\r\n';
    waiting = { resolve, reject };
    const sock = connection();
    sock.cork();
    sock.write(head, 'latin1');
    if (data) sock.write(data);
    sock.uncork();
  });
}

let currentRequestId = undefined;
function patchConsole() {
  // Lambda's Node runtime prefixes each console line: time, request id, level.
  const levels = { log: 'INFO', info: 'INFO', warn: 'WARN', error: 'ERROR', debug: 'DEBUG',
                   trace: 'TRACE' };
  for (const [method, level] of Object.entries(levels)) {
    console[method] = (...args) => {
      const text = util.format(...args).replace(/\n/g, '\r');
      process.stdout.write(`${new Date().toISOString()}\t${currentRequestId}\t${level}\t${text}\n`);
    };
  }
}

function toError(error) {
  if (error instanceof Error) {
    return {
      errorType: error.name || 'Error',
      errorMessage: error.message,
      trace: String(error.stack || '').split('\n'),
    };
  }
  let message;
  try { message = typeof error === 'string' ? error : JSON.stringify(error); }
  catch (e) { message = String(error); }
  return { errorType: typeof error === 'string' ? 'string' : typeof error,
           errorMessage: message, trace: [] };
}

async function loadHandler() {
  const spec = process.env._HANDLER || '';
  const dot = spec.lastIndexOf('.');
  if (dot <= 0) {
    const error = new Error(`Bad handler ${spec}`);
    error.name = 'Runtime.MalformedHandlerName';
    throw error;
  }
  const modulePath = path.resolve(taskRoot, spec.slice(0, dot));
  const exportPath = spec.slice(dot + 1).split('.');
  let moduleObject;
  const candidates = ['.js', '.mjs', '.cjs'].map((ext) => modulePath + ext);
  const file = candidates.find((candidate) => fs.existsSync(candidate));
  if (!file) {
    const error = new Error(`Cannot find module '${path.basename(modulePath)}'`);
    error.name = 'Runtime.ImportModuleError';
    throw error;
  }
  if (file.endsWith('.mjs')) {
    moduleObject = await import(require('url').pathToFileURL(file).href);
  } else {
    try {
      moduleObject = require(file);
    } catch (error) {
      if (error && error.code === 'ERR_REQUIRE_ESM') {
        moduleObject = await import(require('url').pathToFileURL(file).href);
      } else {
        throw error;
      }
    }
  }
  let handler = moduleObject;
  for (const key of exportPath) handler = handler === undefined ? undefined : handler[key];
  if (handler === undefined && moduleObject && moduleObject.default) {
    handler = moduleObject.default[exportPath[0]];
  }
  if (typeof handler !== 'function') {
    const error = new Error(`${spec} is undefined or not exported`);
    error.name = 'Runtime.HandlerNotFound';
    throw error;
  }
  return handler;
}

function invokeHandler(handler, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const callback = (error, result) => {
      if (settled) return;
      settled = true;
      if (error !== undefined && error !== null) reject(error); else resolve(result);
    };
    context.done = callback;
    context.succeed = (result) => callback(null, result);
    context.fail = (error) => callback(error || 'handled');
    try {
      const returned = handler(event, context, callback);
      if (returned && typeof returned.then === 'function') {
        returned.then((result) => callback(null, result), (error) => callback(error));
      } else if (handler.length < 3) {
        callback(null, returned);
      }
    } catch (error) {
      callback(error);
    }
  });
}

async function main() {
  patchConsole();
  let handler;
  try {
    handler = await loadHandler();
  } catch (error) {
    const body = toError(error);
    console.error(`${body.errorType}: ${body.errorMessage}`);
    await call('POST', 'init/error', JSON.stringify(body),
               { 'Lambda-Runtime-Function-Error-Type': body.errorType,
                 'Content-Type': 'application/json' });
    process.exit(1);
  }
  for (;;) {
    const next = await call('GET', 'invocation/next');
    if (next.status !== 200) throw new Error(`/next answered ${next.status}`);
    const requestId = next.headers['lambda-runtime-aws-request-id'];
    const deadline = Number(next.headers['lambda-runtime-deadline-ms']);
    currentRequestId = requestId;
    if (next.headers['lambda-runtime-trace-id']) {
      process.env._X_AMZN_TRACE_ID = next.headers['lambda-runtime-trace-id'];
    }
    const clientContext = next.headers['lambda-runtime-client-context'];
    const identity = next.headers['lambda-runtime-cognito-identity'];
    const context = {
      awsRequestId: requestId,
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      invokedFunctionArn: next.headers['lambda-runtime-invoked-function-arn'],
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
      clientContext: clientContext ? JSON.parse(clientContext) : undefined,
      identity: identity ? JSON.parse(identity) : undefined,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    let event;
    try {
      event = next.body.length ? JSON.parse(next.body) : undefined;
      const result = await invokeHandler(handler, event, context);
      const payload = result === undefined ? 'null' : JSON.stringify(result);
      await call('POST', `invocation/${requestId}/response`, payload,
                 { 'Content-Type': 'application/json' });
    } catch (error) {
      const body = toError(error);
      console.error(`Invoke Error \t${JSON.stringify(body)}`);
      await call('POST', `invocation/${requestId}/error`, JSON.stringify(body),
                 { 'Content-Type': 'application/json' });
    }
  }
}

main().catch((error) => {
  process.stderr.write(`runtime: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
