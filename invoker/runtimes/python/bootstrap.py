# Switchyard's built-in python3 runtime: a Lambda Runtime API client (standard library only).
# Imports module.function from _HANDLER (relative to LAMBDA_TASK_ROOT), then loops on
# /invocation/next, calling handler(event, context) and posting the result or the error.
# Errors have the shape AWS's Python runtime reports: errorMessage, errorType, requestId,
# stackTrace (frames of the function's code, paths shown under /var/task as on Lambda).
#
# Cold starts matter: `import http.client` costs ~40 ms and `import json` ~10 ms (it pulls in
# `re`), more than the interpreter's own start. So this speaks HTTP/1.1 over the C `_socket`
# module and uses the C half of `json` (`_json`) directly, with the same output as json.dumps;
# `traceback` is imported only when there is an error to report. If `_json` is not what we
# expect, it falls back to `json`.
import importlib
import os
import sys
import time

import _socket

try:
    import _json

    class _DecodeContext:
        strict = True
        object_hook = None
        object_pairs_hook = None
        parse_float = float
        parse_int = int
        parse_constant = {"NaN": float("nan"), "Infinity": float("inf"),
                          "-Infinity": float("-inf")}.__getitem__
        memo = {}

    _scan = _json.make_scanner(_DecodeContext())
    _WHITESPACE = " \t\n\r"

    def _not_serializable(value):
        raise TypeError("Object of type %s is not JSON serializable" % type(value).__name__)

    # json.dumps's defaults: ensure_ascii, check_circular, allow_nan, ", " and ": ".
    _encode = _json.make_encoder({}, _not_serializable, _json.encode_basestring_ascii, None,
                                 ": ", ", ", False, False, True)

    def json_loads(text):
        if isinstance(text, (bytes, bytearray)):
            text = bytes(text).decode("utf-8-sig")
        start = len(text) - len(text.lstrip(_WHITESPACE))
        try:
            value, end = _scan(text, start)
        except StopIteration as exc:
            raise ValueError("Expecting value: char %d" % exc.value) from None
        if text[end:].strip(_WHITESPACE):
            raise ValueError("Extra data: char %d" % end)
        return value

    def json_dumps(value):
        if isinstance(value, str):
            return _json.encode_basestring_ascii(value)
        return "".join(_encode(value, 0))

    if json_dumps({"a": [1, 2.5, None, True, "\u00e9"]}) != '{"a": [1, 2.5, null, true, "\\u00e9"]}':
        raise ImportError("unexpected _json")
except Exception:  # any other Python: the slower, plain module
    import json

    json_loads, json_dumps = json.loads, json.dumps

TASK_ROOT_ON_LAMBDA = "/var/task"

api_address = os.environ["AWS_LAMBDA_RUNTIME_API"]
api_host, api_port = api_address.rsplit(":", 1)
task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())


class Connection:
    """One keep-alive HTTP/1.1 connection to the Runtime API (no timeout: /next blocks)."""

    def __init__(self, host, port):
        family = _socket.AF_INET6 if ":" in host.strip("[]") else _socket.AF_INET
        self.sock = _socket.socket(family, _socket.SOCK_STREAM)
        self.sock.connect((host.strip("[]"), port))
        self.sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
        self.buffer = b""

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the Runtime API closed the connection")
        self.buffer += chunk

    def _read_until(self, marker):
        while True:
            at = self.buffer.find(marker)
            if at >= 0:
                line, self.buffer = self.buffer[:at], self.buffer[at + len(marker):]
                return line
            self._fill()

    def _read_exactly(self, size):
        while len(self.buffer) < size:
            self._fill()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def request(self, method, path, body, headers):
        head = ["%s %s HTTP/1.1" % (method, path), "Host: " + api_address,
                "Content-Length: %d" % len(body)]
        head.extend("%s: %s" % item for item in headers.items())
        self.sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        lines = self._read_until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        response_headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            response_headers.append((name.strip(), value.strip()))
        fields = {name.lower(): value for name, value in response_headers}
        if fields.get("transfer-encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self._read_until(b"\r\n").split(b";")[0], 16)
                if size == 0:
                    self._read_until(b"\r\n")
                    break
                data += self._read_exactly(size)
                self._read_exactly(2)
        else:
            data = self._read_exactly(int(fields.get("content-length", "0")))
        return status, response_headers, data


connection = Connection(api_host, int(api_port))


def call(method, path, body=None, headers=None):
    data = body.encode("utf-8") if isinstance(body, str) else (body or b"")
    return connection.request(method, "/2018-06-01/runtime/" + path, data, headers or {})


def lambda_path(filename):
    if filename.startswith(task_root + "/"):
        return TASK_ROOT_ON_LAMBDA + filename[len(task_root):]
    return filename


def frames_of(tb):
    # Lambda reports the frames from the function's code on, not the runtime's own.
    import traceback  # only when there is an error: it costs ~10 ms at start-up

    frames = traceback.extract_tb(tb)
    for index, frame in enumerate(frames):
        if not frame.filename.endswith("/bootstrap.py"):
            frames = frames[index:]
            break
    else:
        frames = []
    summary = traceback.StackSummary.from_list(
        [(lambda_path(f.filename), f.lineno, f.name, f.line) for f in frames])
    return traceback.format_list(summary)


def error_body(exc, request_id, error_type=None):
    return json_dumps({
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": request_id,
        "stackTrace": frames_of(exc.__traceback__),
    })


def log_error(body):
    # Lambda writes "[ERROR] Type: message" and the traceback to the function's log.
    error = json_loads(body)
    lines = ["[ERROR] %s: %s" % (error["errorType"], error["errorMessage"]),
             "Traceback (most recent call last):"]
    lines.extend(frame.rstrip("\n") for frame in error["stackTrace"])
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


def init_error(exc, error_type):
    body = error_body(exc, "", error_type)
    if error_type == "Runtime.ImportModuleError":
        body = json_dumps({"errorMessage": "Unable to import module '%s': %s" % (module_name, exc),
                           "errorType": error_type, "requestId": "", "stackTrace": []})
    log_error(body)
    call("POST", "init/error", body,
         {"Lambda-Runtime-Function-Error-Type": error_type,
          "Content-Type": "application/vnd.aws.lambda.error+json"})
    sys.exit(1)


class MarshalError(Exception):
    pass


class Context:
    def __init__(self, request_id, deadline_ms, function_arn, client_context, identity):
        self.aws_request_id = request_id
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = function_arn
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.client_context = client_context
        self.identity = identity
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))


handler_spec = os.environ.get("_HANDLER", "")
module_name, _, function_name = handler_spec.rpartition(".")
module_name = module_name.replace("/", ".")
sys.path.insert(0, task_root)
try:
    if not module_name:
        raise ValueError("Bad handler '%s': not enough values to unpack" % handler_spec)
    module = importlib.import_module(module_name)
except ValueError as exc:
    init_error(exc, "Runtime.MalformedHandlerName")
except ImportError as exc:
    init_error(exc, "Runtime.ImportModuleError")
except SyntaxError as exc:
    init_error(exc, "Runtime.UserCodeSyntaxError")
except Exception as exc:  # errors raised by the module's own top-level code
    init_error(exc, type(exc).__name__)

handler = getattr(module, function_name, None)
if handler is None:
    init_error(AttributeError("Handler '%s' missing on module '%s'" % (function_name, module_name)),
               "Runtime.HandlerNotFound")

while True:
    status, headers, body = call("GET", "invocation/next")
    if status != 200:
        sys.exit("runtime: /next answered %d" % status)
    headers = {name.lower(): value for name, value in headers}
    request_id = headers.get("lambda-runtime-aws-request-id", "")
    if headers.get("lambda-runtime-trace-id"):
        os.environ["_X_AMZN_TRACE_ID"] = headers["lambda-runtime-trace-id"]
    client_context = headers.get("lambda-runtime-client-context")
    identity = headers.get("lambda-runtime-cognito-identity")
    context = Context(request_id, int(headers.get("lambda-runtime-deadline-ms", "0")),
                      headers.get("lambda-runtime-invoked-function-arn"),
                      json_loads(client_context) if client_context else None,
                      json_loads(identity) if identity else None)
    try:
        event = json_loads(body) if body else None
        result = handler(event, context)
        try:
            # As AWS's runtime does, bytes go out as the raw response body.
            payload = bytes(result) if isinstance(result, (bytes, bytearray)) else json_dumps(result)
        except (TypeError, ValueError) as exc:
            raise MarshalError("Unable to marshal response: %s" % exc) from None
    except Exception as exc:
        error_type = "Runtime.MarshalError" if isinstance(exc, MarshalError) else None
        error = error_body(exc, request_id, error_type)
        log_error(error)
        call("POST", "invocation/%s/error" % request_id, error,
             {"Lambda-Runtime-Function-Error-Type": "Unhandled",
              "Content-Type": "application/vnd.aws.lambda.error+json"})
        continue
    call("POST", "invocation/%s/response" % request_id, payload,
         {"Content-Type": "application/json"})
