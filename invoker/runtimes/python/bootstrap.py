# Switchyard's built-in python3 runtime: a Lambda Runtime API client (standard library only).
# Imports module.function from _HANDLER (relative to LAMBDA_TASK_ROOT), then loops on
# /invocation/next, calling handler(event, context) and posting the result or the error.
# Errors have the shape AWS's Python runtime reports: errorMessage, errorType, requestId,
# stackTrace (frames of the function's code, paths shown under /var/task as on Lambda).
import http.client
import importlib
import json
import os
import sys
import time
import traceback

TASK_ROOT_ON_LAMBDA = "/var/task"

api_host, api_port = os.environ["AWS_LAMBDA_RUNTIME_API"].rsplit(":", 1)
task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
connection = http.client.HTTPConnection(api_host, int(api_port))  # keep-alive, no timeout


def call(method, path, body=None, headers=None):
    data = body.encode("utf-8") if isinstance(body, str) else body
    connection.request(method, "/2018-06-01/runtime/" + path, body=data, headers=headers or {})
    response = connection.getresponse()
    return response.status, response.getheaders(), response.read()


def lambda_path(filename):
    if filename.startswith(task_root + "/"):
        return TASK_ROOT_ON_LAMBDA + filename[len(task_root):]
    return filename


def frames_of(tb):
    # Lambda reports the frames from the function's code on, not the runtime's own.
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
    return json.dumps({
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": request_id,
        "stackTrace": frames_of(exc.__traceback__),
    })


def log_error(body):
    # Lambda writes "[ERROR] Type: message" and the traceback to the function's log.
    error = json.loads(body)
    lines = ["[ERROR] %s: %s" % (error["errorType"], error["errorMessage"]),
             "Traceback (most recent call last):"]
    lines.extend(frame.rstrip("\n") for frame in error["stackTrace"])
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


def init_error(exc, error_type):
    body = error_body(exc, "", error_type)
    if error_type == "Runtime.ImportModuleError":
        body = json.dumps({"errorMessage": "Unable to import module '%s': %s" % (module_name, exc),
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
                      json.loads(client_context) if client_context else None,
                      json.loads(identity) if identity else None)
    try:
        event = json.loads(body) if body else None
        result = handler(event, context)
        try:
            # As AWS's runtime does, bytes go out as the raw response body.
            payload = bytes(result) if isinstance(result, (bytes, bytearray)) else json.dumps(result)
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
