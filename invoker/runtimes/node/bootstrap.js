// Switchyard's built-in Node.js runtime: a Lambda Runtime API client (Node standard library
// only). Loads the module named by _HANDLER ("file.export") from LAMBDA_TASK_ROOT (CommonJS
// or ES module), then loops on /invocation/next calling the handler, async or callback style.
// Errors are posted as the Node runtime does: {"errorType","errorMessage","trace":[...]}.
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');
const util = require('util');
const { pathToFileURL } = require('url');

const [apiHost, apiPort] = (() => {
  const api = process.env.AWS_LAMBDA_RUNTIME_API;
  const colon = api.lastIndexOf(':');
  return [api.slice(0, colon), Number(api.slice(colon + 1))];
})();
const taskRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function call(method, urlPath, body, headers) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(body);
    const request = http.request({
      host: apiHost, port: apiPort, method, agent,
      path: '/2018-06-01/runtime/' + urlPath,
      headers: Object.assign(data ? { 'Content-Length': data.length } : {}, headers || {}),
    }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({
        status: response.statusCode, headers: response.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      }));
    });
    request.on('error', reject);
    if (data) request.write(data);
    request.end();
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
    moduleObject = await import(pathToFileURL(file).href);
  } else {
    try {
      moduleObject = require(file);
    } catch (error) {
      if (error && error.code === 'ERR_REQUIRE_ESM') {
        moduleObject = await import(pathToFileURL(file).href);
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
