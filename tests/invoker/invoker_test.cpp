// The invoker against real runtime processes: /usr/bin/python3, /usr/bin/node and a bash
// custom runtime. No timing assertions: timeouts are asserted by their error, not duration.
#include "switchyard/invoker/invoker.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "invoker_test_util.hpp"

namespace switchyard::invoker {
namespace {

using testing::Base64Decode;
using testing::MakeFunction;
using testing::MakeTempDir;

rapidjson::Document Parse(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  return doc;
}

std::string Str(const rapidjson::Value& object, const char* key) {
  auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsString()) return "<missing>";
  return it->value.GetString();
}

InvokeRequest Request(const std::string& name, const std::string& payload = "{}") {
  InvokeRequest request;
  request.function_name = name;
  request.payload = payload;
  return request;
}

class InvokerTest : public ::testing::Test {
 protected:
  InvokerTest() : root_(MakeTempDir()) {}
  ~InvokerTest() override {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }

  std::unique_ptr<Invoker> Make(InvokerOptions options = {}) {
    options.log_sink = [this](const std::string&, const std::string& request_id,
                              const std::string& log) {
      std::lock_guard lock(mu_);
      logs_[request_id] = log;
      ++log_count_;
    };
    return std::make_unique<Invoker>(std::move(options));
  }
  std::string LogOf(const std::string& request_id) {
    std::lock_guard lock(mu_);
    return logs_[request_id];
  }
  void Register(Invoker& invoker, const FunctionConfig& config) {
    ASSERT_EQ(invoker.RegisterFunction(config), "");
  }

  std::string root_;
  std::mutex mu_;
  std::map<std::string, std::string> logs_;
  std::size_t log_count_ = 0;  // invocations logged (async retries share a request id)
};

TEST_F(InvokerTest, PythonExampleAnswersSynchronouslyWithLogLines) {
  auto invoker = Make();
  std::vector<std::string> errors;
  for (const auto& config :
       LoadFunctionsDirectory(SWITCHYARD_SOURCE_DIR "/examples/functions", &errors)) {
    Register(*invoker, config);
  }
  InvokeResult result = invoker->Invoke(Request("hello", R"({"name":"Ada"})"));
  EXPECT_EQ(result.status, InvokeStatus::kOk);
  EXPECT_EQ(result.status_code, 200);
  EXPECT_EQ(result.payload, R"({"greeting": "Hello, Ada!"})");
  EXPECT_EQ(result.function_error, "");
  EXPECT_EQ(result.executed_version, "$LATEST");
  const std::string log = LogOf(result.request_id);
  EXPECT_EQ(log.rfind("START RequestId: " + result.request_id + " Version: $LATEST\n", 0), 0u)
      << log;
  EXPECT_NE(log.find("greeting Ada\nEND RequestId: " + result.request_id +
                     "\nREPORT RequestId: " + result.request_id + "\tDuration: "),
            std::string::npos)
      << log;
  EXPECT_NE(log.find(" ms\tMemory Size: 128 MB\tMax Memory Used: "), std::string::npos) << log;
  EXPECT_NE(log.find("\tInit Duration: "), std::string::npos) << log;
}

TEST_F(InvokerTest, NodeAndShellExamplesAnswer) {
  auto invoker = Make();
  std::vector<std::string> errors;
  for (const auto& config :
       LoadFunctionsDirectory(SWITCHYARD_SOURCE_DIR "/examples/functions", &errors)) {
    Register(*invoker, config);
  }
  InvokeResult node = invoker->Invoke(Request("hello-node", R"({"name":"Bo"})"));
  EXPECT_EQ(node.payload, R"({"greeting":"Hello, Bo!"})");
  EXPECT_EQ(node.function_error, "");
  EXPECT_NE(LogOf(node.request_id).find("\t" + node.request_id + "\tINFO\tgreeting Bo\n"),
            std::string::npos)
      << LogOf(node.request_id);

  InvokeResult shell = invoker->Invoke(Request("hello-shell", R"({"n":1})"));
  EXPECT_EQ(shell.payload, R"({"message":"Hello from a shell function","event":{"n":1}})");
  EXPECT_EQ(shell.function_error, "");
  EXPECT_NE(LogOf(shell.request_id).find("handling " + shell.request_id), std::string::npos);
}

TEST_F(InvokerTest, PythonExceptionHasLambdasErrorShape) {
  auto invoker = Make();
  Register(*invoker, MakeFunction(root_, "raise_exception", "python3.12", "handler.handler",
                                  {{"handler.py",
                                    "def handler(event, context):\n"
                                    "    raise Exception(\"Some exception was raised.\")\n"}}));
  InvokeResult result = invoker->Invoke(Request("raise_exception"));
  EXPECT_EQ(result.status_code, 200);
  EXPECT_EQ(result.function_error, "Unhandled");
  EXPECT_EQ(result.error_type, "Exception");
  EXPECT_EQ(result.payload,
            "{\"errorMessage\": \"Some exception was raised.\", \"errorType\": \"Exception\", "
            "\"requestId\": \"" +
                result.request_id +
                "\", \"stackTrace\": [\"  File \\\"/var/task/handler.py\\\", line 2, in "
                "handler\\n    raise Exception(\\\"Some exception was raised.\\\")\\n\"]}");
  EXPECT_NE(LogOf(result.request_id).find("[ERROR] Exception: Some exception was raised."),
            std::string::npos);
}

// The python bootstrap decodes events and encodes responses with the C half of `json`; the
// text must be json.dumps's, and events must decode as json.loads would.
TEST_F(InvokerTest, PythonRuntimeJsonIsJsonDumps) {
  auto invoker = Make();
  Register(*invoker,
           MakeFunction(root_, "shapes", "python3.12", "handler.handler",
                        {{"handler.py",
                          "def handler(event, context):\n"
                          "    return {'event': event, 'types': [type(v).__name__ for v in "
                          "event['values']], 'out': ['\\u00e9\\u2028', 1e300, -0.0, 0.1, "
                          "2**70, None, True, {'nested': []}]}\n"}}));
  InvokeResult result = invoker->Invoke(
      Request("shapes", " \n{\"values\": [1, 1.5, \"\\u00e9x\", null, false, {}, [], 1e2]} \n"));
  EXPECT_EQ(result.function_error, "") << result.payload;
  EXPECT_EQ(result.payload,
            R"({"event": {"values": [1, 1.5, "\u00e9x", null, false, {}, [], 100.0]}, )"
            R"("types": ["int", "float", "str", "NoneType", "bool", "dict", "list", "float"], )"
            R"("out": ["\u00e9\u2028", 1e+300, -0.0, 0.1, 1180591620717411303424, null, true, )"
            R"({"nested": []}]})");

  // A response json.dumps refuses is Runtime.MarshalError, as on Lambda.
  Register(*invoker, MakeFunction(root_, "unmarshallable", "python3.12", "handler.handler",
                                  {{"handler.py",
                                    "def handler(event, context):\n"
                                    "    return {'when': object()}\n"}}));
  InvokeResult bad = invoker->Invoke(Request("unmarshallable"));
  EXPECT_EQ(bad.function_error, "Unhandled");
  EXPECT_EQ(bad.error_type, "Runtime.MarshalError");
  EXPECT_NE(bad.payload.find("Unable to marshal response: Object of type object is not JSON "
                             "serializable"),
            std::string::npos)
      << bad.payload;
}

TEST_F(InvokerTest, PythonCustomExceptionWithoutMessage) {
  auto invoker = Make();
  Register(*invoker, MakeFunction(root_, "custom", "python3.12", "handler.handler",
                                  {{"handler.py",
                                    "class CustomException(Exception):\n"
                                    "    pass\n"
                                    "def handler(event, context):\n"
                                    "    raise CustomException()\n"}}));
  InvokeResult result = invoker->Invoke(Request("custom"));
  EXPECT_EQ(result.error_type, "CustomException");
  auto doc = Parse(result.payload);
  ASSERT_TRUE(doc.IsObject()) << result.payload;
  EXPECT_EQ(Str(doc, "errorMessage"), "");
  EXPECT_EQ(Str(doc, "errorType"), "CustomException");
}

TEST_F(InvokerTest, NodeErrorUsesTraceAndCallbackStyleWorks) {
  auto invoker = Make();
  Register(*invoker, MakeFunction(root_, "node-fail", "nodejs20.x", "index.handler",
                                  {{"index.js",
                                    "exports.handler = async () => {\n"
                                    "  const e = new Error('boom'); e.name = 'MyError'; throw e;\n"
                                    "};\n"}}));
  Register(*invoker, MakeFunction(root_, "node-callback", "nodejs18.x", "app.run",
                                  {{"app.js",
                                    "exports.run = (event, context, callback) => {\n"
                                    "  setTimeout(() => callback(null, {sum: event.a + event.b,\n"
                                    "    fn: context.functionName}), 10);\n"
                                    "};\n"}}));
  InvokeResult fail = invoker->Invoke(Request("node-fail"));
  EXPECT_EQ(fail.function_error, "Unhandled");
  EXPECT_EQ(fail.error_type, "MyError");
  auto doc = Parse(fail.payload);
  ASSERT_TRUE(doc.IsObject()) << fail.payload;
  EXPECT_EQ(Str(doc, "errorMessage"), "boom");
  ASSERT_TRUE(doc.HasMember("trace") && doc["trace"].IsArray());
  EXPECT_EQ(std::string(doc["trace"][0].GetString()), "MyError: boom");

  InvokeResult ok = invoker->Invoke(Request("node-callback", R"({"a":2,"b":3})"));
  EXPECT_EQ(ok.payload, R"({"sum":5,"fn":"node-callback"})");
}

TEST_F(InvokerTest, TimeoutKillsTheEnvironmentAndReportsLambdasMessage) {
  auto invoker = Make();
  Register(*invoker, MakeFunction(root_, "sleepy", "python3.12", "handler.handler",
                                  {{"handler.py",
                                    "import time\n"
                                    "def handler(event, context):\n"
                                    "    if event.get('sleep'):\n"
                                    "        time.sleep(60)\n"
                                    "    return 'awake'\n"}},
                                  1));
  InvokeResult result = invoker->Invoke(Request("sleepy", R"({"sleep":true})"));
  EXPECT_EQ(result.status, InvokeStatus::kOk);
  EXPECT_EQ(result.function_error, "Unhandled");
  EXPECT_EQ(result.error_type, "Sandbox.Timedout");
  EXPECT_EQ(result.payload, "{\"errorType\":\"Sandbox.Timedout\",\"errorMessage\":\"RequestId: " +
                                result.request_id + " Error: Task timed out after 1.00 seconds\"}");
  const std::string log = LogOf(result.request_id);
  EXPECT_NE(log.find(result.request_id + " Task timed out after 1.00 seconds\n"), std::string::npos)
      << log;
  EXPECT_NE(log.find("\tStatus: timeout\n"), std::string::npos) << log;
  EXPECT_EQ(invoker->EnvironmentCount("sleepy"), 0);
  // The next invocation gets a fresh environment.
  InvokeResult again = invoker->Invoke(Request("sleepy", R"({"sleep":false})"));
  EXPECT_EQ(again.payload, "\"awake\"");
  EXPECT_NE(LogOf(again.request_id).find("Init Duration"), std::string::npos);
}

TEST_F(InvokerTest, CrashFailsOnlyThatInvocation) {
  auto invoker = Make();
  Register(*invoker, MakeFunction(root_, "crashy", "python3.12", "handler.handler",
                                  {{"handler.py",
                                    "import os\n"
                                    "def handler(event, context):\n"
                                    "    if event.get('crash'):\n"
                                    "        print('going down')\n"
                                    "        os._exit(3)\n"
                                    "    return 'fine'\n"}}));
  InvokeResult crash = invoker->Invoke(Request("crashy", R"({"crash":true})"));
  EXPECT_EQ(crash.function_error, "Unhandled");
  EXPECT_EQ(crash.error_type, "Runtime.ExitError");
  EXPECT_EQ(crash.payload, "{\"errorType\":\"Runtime.ExitError\",\"errorMessage\":\"RequestId: " +
                               crash.request_id +
                               " Error: Runtime exited with error: exit status 3\"}");
  EXPECT_NE(LogOf(crash.request_id).find("going down\nEND RequestId"), std::string::npos)
      << LogOf(crash.request_id);
  InvokeResult fine = invoker->Invoke(Request("crashy", R"({"crash":false})"));
  EXPECT_EQ(fine.payload, "\"fine\"");
  EXPECT_EQ(fine.function_error, "");
}

TEST_F(InvokerTest, WarmEnvironmentServesTheNextInvocation) {
  auto invoker = Make();
  Register(*invoker, MakeFunction(root_, "counter", "python3.12", "handler.handler",
                                  {{"handler.py",
                                    "count = 0\n"
                                    "def handler(event, context):\n"
                                    "    global count\n"
                                    "    count += 1\n"
                                    "    return count\n"}}));
  InvokeResult first = invoker->Invoke(Request("counter"));
  InvokeResult second = invoker->Invoke(Request("counter"));
  EXPECT_EQ(first.payload, "1");
  EXPECT_EQ(second.payload, "2");
  EXPECT_EQ(invoker->EnvironmentCount("counter"), 1);
  EXPECT_NE(LogOf(first.request_id).find("Init Duration"), std::string::npos);
  EXPECT_EQ(LogOf(second.request_id).find("Init Duration"), std::string::npos);
}

TEST_F(InvokerTest, RuntimeSeesLambdasEnvironmentAndContext) {
  auto invoker = Make();
  FunctionConfig config = MakeFunction(
      root_, "envy", "python3.12", "handler.handler",
      {{"handler.py",
        "import os\n"
        "def handler(event, context):\n"
        "    keys = ['_HANDLER','LAMBDA_TASK_ROOT','AWS_LAMBDA_FUNCTION_NAME',\n"
        "            'AWS_LAMBDA_FUNCTION_VERSION','AWS_LAMBDA_FUNCTION_MEMORY_SIZE',\n"
        "            'AWS_LAMBDA_LOG_GROUP_NAME','AWS_REGION','AWS_DEFAULT_REGION','TZ',\n"
        "            'AWS_EXECUTION_ENV','MY_SETTING','AWS_LAMBDA_INITIALIZATION_TYPE']\n"
        "    out = {k: os.environ.get(k) for k in keys}\n"
        "    out['api'] = os.environ['AWS_LAMBDA_RUNTIME_API'].startswith('127.0.0.1:')\n"
        "    out['stream'] = bool(os.environ.get('AWS_LAMBDA_LOG_STREAM_NAME'))\n"
        "    out['ctx'] = [context.function_name, context.function_version,\n"
        "                  context.memory_limit_in_mb, context.invoked_function_arn,\n"
        "                  context.aws_request_id, context.log_group_name]\n"
        "    remaining = context.get_remaining_time_in_millis()\n"
        "    out['remaining_ok'] = 0 < remaining <= 5000\n"
        "    return out\n"}},
      5);
  config.memory_size_mb = 256;
  config.environment["MY_SETTING"] = "on";
  Register(*invoker, config);
  InvokeResult result = invoker->Invoke(Request("envy"));
  auto doc = Parse(result.payload);
  ASSERT_TRUE(doc.IsObject()) << result.payload;
  EXPECT_EQ(Str(doc, "_HANDLER"), "handler.handler");
  EXPECT_EQ(Str(doc, "LAMBDA_TASK_ROOT"), root_ + "/envy");
  EXPECT_EQ(Str(doc, "AWS_LAMBDA_FUNCTION_NAME"), "envy");
  EXPECT_EQ(Str(doc, "AWS_LAMBDA_FUNCTION_VERSION"), "$LATEST");
  EXPECT_EQ(Str(doc, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), "256");
  EXPECT_EQ(Str(doc, "AWS_LAMBDA_LOG_GROUP_NAME"), "/aws/lambda/envy");
  EXPECT_EQ(Str(doc, "AWS_REGION"), "us-east-1");
  EXPECT_EQ(Str(doc, "AWS_DEFAULT_REGION"), "us-east-1");
  EXPECT_EQ(Str(doc, "TZ"), ":UTC");
  EXPECT_EQ(Str(doc, "AWS_EXECUTION_ENV"), "AWS_Lambda_python3.12");
  EXPECT_EQ(Str(doc, "MY_SETTING"), "on");
  EXPECT_EQ(Str(doc, "AWS_LAMBDA_INITIALIZATION_TYPE"), "on-demand");
  EXPECT_TRUE(doc["api"].GetBool());
  EXPECT_TRUE(doc["stream"].GetBool());
  EXPECT_TRUE(doc["remaining_ok"].GetBool());
  const auto& ctx = doc["ctx"];
  EXPECT_EQ(std::string(ctx[0].GetString()), "envy");
  EXPECT_EQ(std::string(ctx[1].GetString()), "$LATEST");
  EXPECT_EQ(std::string(ctx[2].GetString()), "256");
  EXPECT_EQ(std::string(ctx[3].GetString()), "arn:aws:lambda:us-east-1:000000000000:function:envy");
  EXPECT_EQ(std::string(ctx[4].GetString()), result.request_id);
  EXPECT_EQ(std::string(ctx[5].GetString()), "/aws/lambda/envy");
}

TEST_F(InvokerTest, ImportErrorIsAnInitError) {
  auto invoker = Make();
  Register(*invoker, MakeFunction(root_, "broken", "python3.12", "handler.handler",
                                  {{"handler.py", "import no_such_module_here\n"}}));
  InvokeResult result = invoker->Invoke(Request("broken"));
  EXPECT_EQ(result.function_error, "Unhandled");
  EXPECT_EQ(result.error_type, "Runtime.ImportModuleError");
  auto doc = Parse(result.payload);
  ASSERT_TRUE(doc.IsObject()) << result.payload;
  EXPECT_EQ(Str(doc, "errorMessage"),
            "Unable to import module 'handler': No module named 'no_such_module_here'");
  EXPECT_EQ(invoker->EnvironmentCount("broken"), 0);
}

TEST_F(InvokerTest, RuntimeApiAnswersWithAwsStatusCodes) {
  // A custom runtime that probes the protocol and returns what it saw.
  const std::string bootstrap = R"(#!/usr/bin/python3
import http.client, json, os
host, port = os.environ['AWS_LAMBDA_RUNTIME_API'].split(':')
c = http.client.HTTPConnection(host, int(port))
def call(method, path, body=None):
    c.request(method, '/2018-06-01/runtime/' + path, body=body)
    r = c.getresponse()
    return r.status, r.getheaders(), r.read()
while True:
    status, headers, body = call('GET', 'invocation/next')
    h = {k.lower(): v for k, v in headers}
    rid = h['lambda-runtime-aws-request-id']
    seen = {
        'has_deadline': h.get('lambda-runtime-deadline-ms', '').isdigit(),
        'arn': h.get('lambda-runtime-invoked-function-arn'),
        'trace': h.get('lambda-runtime-trace-id'),
        'wrong_id': call('POST', 'invocation/not-the-id/response', b'{}')[0],
        'wrong_id_body': json.loads(call('POST', 'invocation/not-the-id/error', b'{}')[2]),
        'next_again': call('GET', 'invocation/next')[0],
        'init_error_late': call('POST', 'init/error', b'{}')[0],
    }
    if json.loads(body).get('twice'):
        first = call('POST', 'invocation/%s/response' % rid, json.dumps(seen))
        call('POST', 'invocation/%s/response' % rid, b'"second"')
        continue
    call('POST', 'invocation/%s/response' % rid, json.dumps(seen))
)";
  auto invoker = Make();
  Register(*invoker,
           MakeFunction(root_, "probe", "provided.al2023", "", {{"bootstrap", bootstrap}}, 10));
  InvokeRequest request = Request("probe:$LATEST", "{}");
  request.trace_id = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1";
  InvokeResult result = invoker->Invoke(request);
  ASSERT_EQ(result.function_error, "") << result.payload << "\n" << LogOf(result.request_id);
  auto doc = Parse(result.payload);
  ASSERT_TRUE(doc.IsObject()) << result.payload;
  EXPECT_TRUE(doc["has_deadline"].GetBool());
  EXPECT_EQ(Str(doc, "arn"), "arn:aws:lambda:us-east-1:000000000000:function:probe:$LATEST");
  EXPECT_EQ(Str(doc, "trace"), request.trace_id);
  EXPECT_EQ(doc["wrong_id"].GetInt(), 400);
  EXPECT_EQ(Str(doc["wrong_id_body"], "errorType"), "InvalidRequestID");
  EXPECT_EQ(Str(doc["wrong_id_body"], "errorMessage"), "Invalid request ID");
  EXPECT_EQ(doc["next_again"].GetInt(), 403);
  EXPECT_EQ(doc["init_error_late"].GetInt(), 403);
}

TEST_F(InvokerTest, ApiErrorsComeBackAsValues) {
  auto invoker = Make();
  Register(*invoker, MakeFunction(root_, "f", "python3.12", "handler.handler",
                                  {{"handler.py", "def handler(e, c):\n    return 1\n"}}));
  InvokeResult missing = invoker->Invoke(Request("nope"));
  EXPECT_EQ(missing.status, InvokeStatus::kNotFound);
  EXPECT_EQ(missing.status_code, 404);
  EXPECT_EQ(missing.error_type, "ResourceNotFoundException");
  EXPECT_EQ(missing.payload,
            "{\"Type\":\"User\",\"message\":\"Function not found: "
            "arn:aws:lambda:us-east-1:000000000000:function:nope:$LATEST\"}");

  InvokeResult large =
      invoker->Invoke(Request("f", "\"" + std::string(std::size_t{6} * 1024 * 1024, 'a') + "\""));
  EXPECT_EQ(large.status, InvokeStatus::kTooLarge);
  EXPECT_EQ(large.status_code, 413);
  EXPECT_EQ(large.error_type, "RequestTooLargeException");

  InvokeResult not_json = invoker->Invoke(Request("f", "{nope"));
  EXPECT_EQ(not_json.status, InvokeStatus::kInvalidRequest);
  EXPECT_EQ(not_json.error_type, "InvalidRequestContentException");

  InvokeRequest dry = Request("arn:aws:lambda:us-east-1:000000000000:function:f");
  dry.type = InvocationType::kDryRun;
  InvokeResult dry_result = invoker->Invoke(dry);
  EXPECT_EQ(dry_result.status_code, 204);
  EXPECT_EQ(invoker->EnvironmentCount("f"), 0);
}

TEST_F(InvokerTest, ReservedConcurrencyThrottles) {
  auto invoker = Make();
  FunctionConfig config = MakeFunction(root_, "slow", "python3.12", "handler.handler",
                                       {{"handler.py",
                                         "import time\n"
                                         "def handler(e, c):\n"
                                         "    time.sleep(e.get('sleep', 0))\n"
                                         "    return 'done'\n"}},
                                       30);
  config.reserved_concurrency = 1;
  Register(*invoker, config);
  std::promise<InvokeResult> first;
  invoker->InvokeAsync(Request("slow", R"({"sleep":3})"),
                       [&first](InvokeResult result) { first.set_value(std::move(result)); });
  // Wait until the first invocation holds the only slot.
  while (invoker->EnvironmentCount("slow") == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  InvokeResult throttled = invoker->Invoke(Request("slow"));
  EXPECT_EQ(throttled.status, InvokeStatus::kThrottled);
  EXPECT_EQ(throttled.status_code, 429);
  EXPECT_EQ(throttled.error_type, "TooManyRequestsException");
  EXPECT_EQ(throttled.payload,
            "{\"Type\":\"User\",\"message\":\"Rate Exceeded.\",\"Reason\":"
            "\"ReservedFunctionConcurrentInvocationLimitExceeded\"}");
  EXPECT_EQ(first.get_future().get().payload, "\"done\"");
  EXPECT_EQ(invoker->Invoke(Request("slow")).payload, "\"done\"");

  config.reserved_concurrency = 0;
  Register(*invoker, config);
  EXPECT_EQ(invoker->Invoke(Request("slow")).status, InvokeStatus::kThrottled);
}

TEST_F(InvokerTest, MemoryOverTheLimitIsOutOfMemory) {
  auto invoker = Make();
  Register(*invoker, MakeFunction(root_, "hog", "python3.12", "handler.handler",
                                  {{"handler.py",
                                    "import time\n"
                                    "def handler(e, c):\n"
                                    "    data = bytearray(300 * 1024 * 1024)\n"
                                    "    for i in range(0, len(data), 4096): data[i] = 1\n"
                                    "    time.sleep(5)\n"
                                    "    return len(data)\n"}},
                                  20));
  InvokeResult result = invoker->Invoke(Request("hog"));
  EXPECT_EQ(result.function_error, "Unhandled");
  EXPECT_EQ(result.error_type, "Runtime.OutOfMemory");
  EXPECT_NE(LogOf(result.request_id).find("Status: error\tError Type: Runtime.OutOfMemory"),
            std::string::npos);
}

TEST_F(InvokerTest, LogTailIsBase64OfTheLastFourKilobytes) {
  auto invoker = Make();
  Register(*invoker, MakeFunction(root_, "chatty", "python3.12", "handler.handler",
                                  {{"handler.py",
                                    "def handler(e, c):\n"
                                    "    print('x' * 10000)\n"
                                    "    return 0\n"}}));
  InvokeRequest request = Request("chatty");
  request.log_tail = true;
  InvokeResult result = invoker->Invoke(request);
  const std::string tail = Base64Decode(result.log_result);
  EXPECT_EQ(tail.size(), kLogTailBytes);
  EXPECT_NE(tail.find("END RequestId: " + result.request_id), std::string::npos);
  EXPECT_EQ(tail, LogOf(result.request_id).substr(LogOf(result.request_id).size() - 4096));
}

TEST_F(InvokerTest, VersionsAndAliasesPinTheCode) {
  auto invoker = Make();
  FunctionConfig config = MakeFunction(root_, "ver", "python3.12", "handler.handler",
                                       {{"handler.py",
                                         "import os\n"
                                         "def handler(e, c):\n"
                                         "    return [os.environ['V'], c.function_version]\n"}});
  config.environment["V"] = "one";
  Register(*invoker, config);
  EXPECT_EQ(invoker->PublishVersion("ver"), "1");
  config.environment["V"] = "two";
  Register(*invoker, config);
  EXPECT_EQ(invoker->CreateAlias("ver", "live", "1"), "");
  EXPECT_EQ(invoker->CreateAlias("ver", "bad", "7"), "function 'ver' has no version '7'");

  EXPECT_EQ(invoker->Invoke(Request("ver")).payload, R"(["two", "$LATEST"])");
  InvokeResult pinned = invoker->Invoke(Request("ver:1"));
  EXPECT_EQ(pinned.payload, R"(["one", "1"])");
  EXPECT_EQ(pinned.executed_version, "1");
  InvokeResult alias = invoker->Invoke(Request("ver:live"));
  EXPECT_EQ(alias.payload, R"(["one", "1"])");
  EXPECT_EQ(invoker->Invoke(Request("ver:9")).status, InvokeStatus::kNotFound);
}

TEST_F(InvokerTest, NativeFunctionsRunInProcess) {
  auto invoker = Make();
  FunctionConfig config;
  config.function_name = "native-echo";
  ASSERT_EQ(invoker->RegisterNative(
                config,
                [](const std::string& payload, const NativeContext& context) {
                  if (payload == "\"fail\"") {
                    return NativeOutcome{R"({"errorMessage":"no","errorType":"Nope"})", "Nope"};
                  }
                  return NativeOutcome{
                      "{\"echo\":" + payload + ",\"id\":\"" + context.request_id + "\"}", ""};
                }),
            "");
  InvokeResult ok = invoker->Invoke(Request("native-echo", "[1]"));
  EXPECT_EQ(ok.payload, "{\"echo\":[1],\"id\":\"" + ok.request_id + "\"}");
  InvokeResult fail = invoker->Invoke(Request("native-echo", "\"fail\""));
  EXPECT_EQ(fail.function_error, "Unhandled");
  EXPECT_EQ(fail.error_type, "Nope");
}

TEST_F(InvokerTest, AsyncCallsOfANonBlockingNativeFunctionRunOnTheCallersThread) {
  auto invoker = Make();
  const auto thread_of = [](const std::string&, const NativeContext&) {
    std::ostringstream id;
    id << std::this_thread::get_id();
    return NativeOutcome{"\"" + id.str() + "\"", ""};
  };
  FunctionConfig config;
  config.function_name = "inline";
  ASSERT_EQ(invoker->RegisterNative(config, thread_of, NativeMode::kNonBlocking), "");
  config.function_name = "pooled";
  ASSERT_EQ(invoker->RegisterNative(config, thread_of), "");
  std::ostringstream caller;
  caller << std::this_thread::get_id();
  const std::string here = "\"" + caller.str() + "\"";

  // Called, and answered, before InvokeAsync returns, on this thread.
  std::optional<InvokeResult> answered;
  invoker->InvokeAsync(Request("inline"), [&](InvokeResult r) { answered = std::move(r); });
  ASSERT_TRUE(answered.has_value());
  EXPECT_EQ(answered->payload, here);
  EXPECT_EQ(answered->executed_version, "$LATEST");

  // The default (the function may block) runs elsewhere.
  std::promise<InvokeResult> pooled;
  invoker->InvokeAsync(Request("pooled"), [&](InvokeResult r) { pooled.set_value(std::move(r)); });
  InvokeResult elsewhere = pooled.get_future().get();
  EXPECT_EQ(elsewhere.function_error, "") << elsewhere.payload;
  EXPECT_NE(elsewhere.payload, here);

  // $LATEST replaced by a function that may block: no longer on the caller's thread.
  config.function_name = "inline";
  ASSERT_EQ(invoker->RegisterNative(config, thread_of), "");
  std::promise<InvokeResult> replaced;
  invoker->InvokeAsync(Request("inline"),
                       [&](InvokeResult r) { replaced.set_value(std::move(r)); });
  EXPECT_NE(replaced.get_future().get().payload, here);

  // An unknown function's answer comes the usual way (from the pool), not from the caller.
  std::promise<InvokeResult> missing;
  invoker->InvokeAsync(Request("nobody"), [&](InvokeResult r) { missing.set_value(std::move(r)); });
  EXPECT_EQ(missing.get_future().get().status, InvokeStatus::kNotFound);
}

TEST_F(InvokerTest, IdleEnvironmentsAreReapedAndProvisionedOnesKept) {
  InvokerOptions options;
  options.idle_timeout = std::chrono::milliseconds(0);
  auto invoker = Make(std::move(options));
  Register(*invoker, MakeFunction(root_, "idle", "python3.12", "handler.handler",
                                  {{"handler.py", "def handler(e, c):\n    return 1\n"}}));
  EXPECT_EQ(invoker->Invoke(Request("idle")).payload, "1");
  invoker->ReapIdle();
  EXPECT_EQ(invoker->EnvironmentCount("idle"), 0);

  invoker->SetProvisionedConcurrency("idle", 2);
  EXPECT_EQ(invoker->EnvironmentCount("idle"), 2);
  invoker->ReapIdle();
  EXPECT_EQ(invoker->EnvironmentCount("idle"), 2);
  InvokeResult warm = invoker->Invoke(Request("idle"));
  EXPECT_EQ(warm.payload, "1");
}

TEST_F(InvokerTest, EventInvocationsRetryThenGoToTheFailureDestination) {
  std::mutex deliveries_mu;
  std::vector<AsyncDelivery> deliveries;
  InvokerOptions options;
  options.async_retry_base = std::chrono::milliseconds(20);
  options.async_sink = [&](const AsyncDelivery& delivery) {
    std::lock_guard lock(deliveries_mu);
    deliveries.push_back(delivery);
  };
  auto invoker = Make(std::move(options));
  Register(*invoker, MakeFunction(root_, "flaky", "python3.12", "handler.handler",
                                  {{"handler.py",
                                    "def handler(e, c):\n"
                                    "    if e.get('fail'):\n"
                                    "        raise ValueError('nope')\n"
                                    "    return 'ok'\n"}}));
  EventInvokeConfig config;
  config.on_failure = "failures";
  config.on_success = "successes";
  config.dead_letter = true;
  invoker->PutEventInvokeConfig("flaky", config);

  InvokeRequest request = Request("flaky", R"({"fail":true})");
  request.type = InvocationType::kEvent;
  InvokeResult queued = invoker->Invoke(request);
  EXPECT_EQ(queued.status_code, 202);
  EXPECT_EQ(queued.payload, "");
  request.payload = R"({"fail":false})";
  invoker->Invoke(request);
  invoker->DrainAsync();

  std::lock_guard lock(deliveries_mu);
  ASSERT_EQ(deliveries.size(), 3u);
  std::map<std::string, std::string> by_destination;
  for (const auto& d : deliveries) by_destination[d.destination] = d.record;
  EXPECT_EQ(by_destination["dead-letter"], R"({"fail":true})");
  auto failure = Parse(by_destination["failures"]);
  ASSERT_TRUE(failure.IsObject()) << by_destination["failures"];
  EXPECT_EQ(Str(failure, "version"), "1.0");
  EXPECT_EQ(Str(failure["requestContext"], "requestId"), queued.request_id);
  EXPECT_EQ(Str(failure["requestContext"], "condition"), "RetriesExhausted");
  EXPECT_EQ(Str(failure["requestContext"], "functionArn"),
            "arn:aws:lambda:us-east-1:000000000000:function:flaky:$LATEST");
  EXPECT_EQ(failure["requestContext"]["approximateInvokeCount"].GetInt(), 3);
  EXPECT_TRUE(failure["requestPayload"]["fail"].GetBool());
  EXPECT_EQ(failure["responseContext"]["statusCode"].GetInt(), 200);
  EXPECT_EQ(Str(failure["responseContext"], "functionError"), "Unhandled");
  EXPECT_EQ(Str(failure["responsePayload"], "errorType"), "ValueError");
  auto success = Parse(by_destination["successes"]);
  ASSERT_TRUE(success.IsObject());
  EXPECT_EQ(Str(success["requestContext"], "condition"), "Success");
  EXPECT_EQ(Str(success, "responsePayload"), "ok");
}

TEST_F(InvokerTest, AFailedEventGoesToTheVersionsDeadLetterQueue) {
  std::mutex deliveries_mu;
  std::vector<AsyncDelivery> deliveries;
  InvokerOptions options;
  options.async_retry_base = std::chrono::milliseconds(20);
  options.async_sink = [&](const AsyncDelivery& delivery) {
    std::lock_guard lock(deliveries_mu);
    deliveries.push_back(delivery);
  };
  auto invoker = Make(std::move(options));
  FunctionConfig function = MakeFunction(root_, "doomed", "python3.12", "handler.handler",
                                         {{"handler.py",
                                           "def handler(e, c):\n"
                                           "    raise ValueError('nope')\n"}});
  function.dead_letter_target_arn = "arn:aws:sqs:us-east-1:000000000000:dlq";
  Register(*invoker, function);
  EventInvokeConfig config;
  config.maximum_retry_attempts = 0;
  config.on_failure = "failures";
  config.dead_letter = true;  // the catch-all yields to the function's own dead-letter queue
  invoker->PutEventInvokeConfig("doomed", config);
  InvokeRequest request = Request("doomed", R"({"n":1})");
  request.type = InvocationType::kEvent;
  EXPECT_EQ(invoker->Invoke(request).status_code, 202);
  invoker->DrainAsync();

  std::lock_guard lock(deliveries_mu);
  std::string rendered;
  for (const auto& d : deliveries) {
    rendered += d.destination + (d.destination == "failures" ? "" : "=" + d.record) + ";";
  }
  EXPECT_EQ(rendered, R"(failures;arn:aws:sqs:us-east-1:000000000000:dlq={"n":1};)");
}

// Every invocation that reaches a function is reported once with the function's plain name:
// synchronous calls by name or ARN, each attempt of an Event invocation, throttles; not the
// queuing of the event, a dry run, or a name that is no function.
TEST_F(InvokerTest, TheResultSinkSeesEveryInvocationOfAFunction) {
  std::mutex mu;
  std::vector<std::string> seen;
  InvokerOptions options;
  options.async_retry_base = std::chrono::milliseconds(20);
  options.result_sink = [&](const std::string& name, const InvokeResult& result) {
    std::lock_guard lock(mu);
    seen.push_back(name + ":" +
                   (result.status == InvokeStatus::kThrottled ? "throttled"
                    : result.function_error.empty()           ? "ok"
                                                              : result.function_error));
  };
  auto invoker = Make(std::move(options));
  FunctionConfig function = MakeFunction(root_, "sink", "python3.12", "handler.handler",
                                         {{"handler.py",
                                           "def handler(e, c):\n"
                                           "    if e.get('fail'):\n"
                                           "        raise ValueError('nope')\n"
                                           "    return 1\n"}});
  Register(*invoker, function);
  EXPECT_EQ(invoker->Invoke(Request("sink")).payload, "1");
  invoker->Invoke(Request("arn:aws:lambda:us-east-1:000000000000:function:sink:$LATEST"));
  InvokeRequest dry = Request("sink");
  dry.type = InvocationType::kDryRun;
  invoker->Invoke(dry);
  invoker->Invoke(Request("nothing"));
  EventInvokeConfig config;
  config.maximum_retry_attempts = 1;
  invoker->PutEventInvokeConfig("sink", config);
  InvokeRequest event = Request("sink", R"({"fail":true})");
  event.type = InvocationType::kEvent;
  invoker->Invoke(event);
  invoker->DrainAsync();
  function.reserved_concurrency = 0;
  Register(*invoker, function);
  invoker->Invoke(Request("sink"));
  std::lock_guard lock(mu);
  std::string rendered;
  for (const auto& s : seen) rendered += s + ";";
  EXPECT_EQ(rendered, "sink:ok;sink:ok;sink:Unhandled;sink:Unhandled;sink:throttled;");
}

// A runtime that never asks for its first event fails on the init limit, and says so (not the
// function's Timeout).
TEST_F(InvokerTest, AStartUpPastTheInitLimitSaysSo) {
  InvokerOptions options;
  options.init_timeout = std::chrono::milliseconds(300);
  auto invoker = Make(std::move(options));
  Register(*invoker, MakeFunction(root_, "slowstart", "python3.12", "handler.handler",
                                  {{"handler.py",
                                    "import time\n"
                                    "time.sleep(30)\n"
                                    "def handler(e, c):\n"
                                    "    return 1\n"}},
                                  30));
  InvokeResult result = invoker->Invoke(Request("slowstart"));
  EXPECT_EQ(result.error_type, "Sandbox.Timedout");
  EXPECT_NE(result.payload.find("Error: Init timed out after 0.30 seconds: the runtime did not "
                                "ask for its first event"),
            std::string::npos)
      << result.payload;
}

TEST_F(InvokerTest, CallerDeadlineStopsTheInvocation) {
  auto invoker = Make();
  Register(*invoker, MakeFunction(root_, "long", "python3.12", "handler.handler",
                                  {{"handler.py",
                                    "import time\n"
                                    "def handler(e, c):\n"
                                    "    time.sleep(60)\n"}},
                                  60));
  InvokeRequest request = Request("long");
  request.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  InvokeResult result = invoker->Invoke(request);
  EXPECT_EQ(result.status, InvokeStatus::kDeadlineExceeded);
  EXPECT_EQ(result.error_type, "DeadlineExceeded");
  EXPECT_EQ(invoker->EnvironmentCount("long"), 0);
}

TEST_F(InvokerTest, GlobalConcurrencyCapThrottles) {
  InvokerOptions options;
  options.max_concurrency = 0;
  auto invoker = Make(std::move(options));
  Register(*invoker, MakeFunction(root_, "capped", "python3.12", "handler.handler",
                                  {{"handler.py", "def handler(e, c):\n    return 1\n"}}));
  InvokeResult result = invoker->Invoke(Request("capped"));
  EXPECT_EQ(result.status, InvokeStatus::kThrottled);
  EXPECT_EQ(result.payload,
            "{\"Type\":\"User\",\"message\":\"Rate Exceeded.\",\"Reason\":"
            "\"ConcurrentInvocationLimitExceeded\"}");
}

TEST_F(InvokerTest, NodeModuleThatThrowsIsAnInitError) {
  auto invoker = Make();
  Register(*invoker, MakeFunction(root_, "node-init", "nodejs20.x", "index.handler",
                                  {{"index.js", "throw new TypeError('bad init');\n"}}));
  InvokeResult result = invoker->Invoke(Request("node-init"));
  EXPECT_EQ(result.function_error, "Unhandled");
  EXPECT_EQ(result.error_type, "TypeError");
  auto doc = Parse(result.payload);
  ASSERT_TRUE(doc.IsObject()) << result.payload;
  EXPECT_EQ(Str(doc, "errorMessage"), "bad init");
  EXPECT_EQ(invoker->EnvironmentCount("node-init"), 0);
}

TEST_F(InvokerTest, EventWithZeroReservedConcurrencyFailsWithoutRunning) {
  std::mutex deliveries_mu;
  std::vector<AsyncDelivery> deliveries;
  InvokerOptions options;
  options.async_sink = [&](const AsyncDelivery& delivery) {
    std::lock_guard lock(deliveries_mu);
    deliveries.push_back(delivery);
  };
  auto invoker = Make(std::move(options));
  FunctionConfig config = MakeFunction(root_, "off", "python3.12", "handler.handler",
                                       {{"handler.py", "def handler(e, c):\n    return 1\n"}});
  config.reserved_concurrency = 0;
  Register(*invoker, config);
  EventInvokeConfig event_config;
  event_config.on_failure = "failures";
  invoker->PutEventInvokeConfig("off", event_config);
  InvokeRequest request = Request("off", R"({"k":1})");
  request.type = InvocationType::kEvent;
  EXPECT_EQ(invoker->Invoke(request).status_code, 202);
  invoker->DrainAsync();
  std::lock_guard lock(deliveries_mu);
  ASSERT_EQ(deliveries.size(), 1u);
  auto record = Parse(deliveries[0].record);
  ASSERT_TRUE(record.IsObject()) << deliveries[0].record;
  EXPECT_EQ(Str(record["requestContext"], "condition"), "ZeroReservedConcurrency");
  EXPECT_EQ(record["requestContext"]["approximateInvokeCount"].GetInt(), 0);
  EXPECT_FALSE(record.HasMember("responseContext"));
  EXPECT_EQ(invoker->EnvironmentCount("off"), 0);
}

TEST_F(InvokerTest, EventRetriesFollowLambdasBackoffAndEventAge) {
  std::atomic<int64_t> fake_seconds{0};
  std::mutex deliveries_mu;
  std::vector<AsyncDelivery> deliveries;
  InvokerOptions options;
  options.clock = [&fake_seconds] {
    return AsyncClock::time_point(std::chrono::seconds(fake_seconds.load()));
  };
  options.async_sink = [&](const AsyncDelivery& delivery) {
    std::lock_guard lock(deliveries_mu);
    deliveries.push_back(delivery);
  };
  // When the first attempt's failure has been handled (its retry scheduled): the fake clock may
  // move only then, or a slow handling (ASan, a loaded machine) would schedule the retry from
  // the moved clock and the test would wait for it forever.
  std::optional<AsyncClock::time_point> first_retry_at;
  options.async_progress = [&](const AsyncProgress& progress) {
    std::lock_guard lock(deliveries_mu);
    if (!first_retry_at && progress.retry_at) first_retry_at = progress.retry_at;
  };
  auto invoker = Make(std::move(options));
  Register(*invoker, MakeFunction(root_, "always-fails", "python3.12", "handler.handler",
                                  {{"handler.py", "def handler(e, c):\n    raise KeyError(1)\n"}}));
  EventInvokeConfig config;
  config.on_failure = "failures";
  config.maximum_event_age_seconds = 100;  // fits the 1-minute retry, not the 2-minute one
  invoker->PutEventInvokeConfig("always-fails", config);
  auto invocations = [&] {
    std::lock_guard lock(mu_);
    return log_count_;
  };
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  auto wait_for_invocations = [&](std::size_t n) {
    while (invocations() < n && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return invocations() >= n;
  };
  auto retry_scheduled = [&] {
    while (std::chrono::steady_clock::now() < give_up) {
      {
        std::lock_guard lock(deliveries_mu);
        if (first_retry_at) return *first_retry_at;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return AsyncClock::time_point::max();
  };

  InvokeRequest request = Request("always-fails", R"({"n":1})");
  request.type = InvocationType::kEvent;
  ASSERT_EQ(invoker->Invoke(request).status_code, 202);
  ASSERT_TRUE(wait_for_invocations(1));
  // Lambda waits a full minute before the second attempt.
  ASSERT_EQ(retry_scheduled(), AsyncClock::time_point(std::chrono::seconds(60)));
  fake_seconds = 59;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(invocations(), 1u);  // Lambda waits a full minute before the second attempt
  fake_seconds = 60;
  ASSERT_TRUE(wait_for_invocations(2));
  invoker->DrainAsync();  // the third attempt (2 minutes later) would exceed the event age

  std::lock_guard lock(deliveries_mu);
  ASSERT_EQ(deliveries.size(), 1u);
  auto record = Parse(deliveries[0].record);
  ASSERT_TRUE(record.IsObject()) << deliveries[0].record;
  EXPECT_EQ(Str(record["requestContext"], "condition"), "EventAgeExceeded");
  EXPECT_EQ(record["requestContext"]["approximateInvokeCount"].GetInt(), 2);
  EXPECT_EQ(Str(record["responsePayload"], "errorType"), "KeyError");
  EXPECT_EQ(invocations(), 2u);
}

TEST_F(InvokerTest, CustomRuntimeWithoutBootstrapIsInvalidEntrypoint) {
  auto invoker = Make();
  Register(*invoker, MakeFunction(root_, "no-bootstrap", "provided.al2023", "",
                                  {{"README", "nothing to run"}}));
  InvokeResult result = invoker->Invoke(Request("no-bootstrap"));
  EXPECT_EQ(result.status, InvokeStatus::kOk);
  EXPECT_EQ(result.function_error, "Unhandled");
  EXPECT_EQ(result.error_type, "Runtime.InvalidEntrypoint");
  EXPECT_EQ(result.payload,
            "{\"errorType\":\"Runtime.InvalidEntrypoint\",\"errorMessage\":\"RequestId: " +
                result.request_id + " Error: Couldn't find valid bootstrap(s): [" + root_ +
                "/no-bootstrap/bootstrap]\"}");
}

// Answers each POST with a canned reply chosen by the request body; serves `count` requests.
class CannedHttpServer {
 public:
  explicit CannedHttpServer(int count) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(listen(fd_, 8), 0);
    socklen_t len = sizeof address;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &len);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this, count] {
      for (int i = 0; i < count; ++i) {
        const int client = accept(fd_, nullptr, nullptr);
        std::string request;
        char buffer[4096];
        for (;;) {
          const ssize_t n = recv(client, buffer, sizeof buffer, 0);
          if (n <= 0) break;
          request.append(buffer, static_cast<std::size_t>(n));
          const auto end = request.find("\r\n\r\n");
          if (end != std::string::npos && request.find('}', end) != std::string::npos) break;
        }
        std::string reply;
        if (request.find("\"fail\"") != std::string::npos) {
          reply = "HTTP/1.1 500 Oops\r\nContent-Length: 4\r\n\r\nbad!";
        } else if (request.find("\"slow\"") != std::string::npos) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        } else {
          reply =
              "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
              "5\r\n{\"ok\"\r\n5\r\n:true\r\n1\r\n}\r\n0\r\n\r\n";
        }
        send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
        close(client);
      }
    });
  }
  ~CannedHttpServer() {
    thread_.join();
    close(fd_);
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/invoke"; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(InvokerTest, HttpBackendPostsTheEvent) {
  CannedHttpServer server(3);
  auto invoker = Make();
  FunctionConfig config;
  config.function_name = "remote";
  config.runtime = "http";
  config.url = server.Url();
  config.timeout_seconds = 1;
  Register(*invoker, config);
  InvokeResult ok = invoker->Invoke(Request("remote", R"({"x":1})"));
  EXPECT_EQ(ok.payload, R"({"ok":true})");
  EXPECT_EQ(ok.function_error, "");
  InvokeResult fail = invoker->Invoke(Request("remote", R"({"mode":"fail"})"));
  EXPECT_EQ(fail.function_error, "Unhandled");
  EXPECT_EQ(fail.error_type, "HttpError");
  EXPECT_EQ(fail.payload, R"({"errorType":"HttpError","errorMessage":"HTTP 500: bad!"})");
  InvokeResult slow = invoker->Invoke(Request("remote", R"({"mode":"slow"})"));
  EXPECT_EQ(slow.error_type, "Sandbox.Timedout");
}

// A zipped function's code is unpacked into a temporary directory that LoadFunctionConfig
// creates; the Invoker removes it once no version uses it: not when $LATEST is replaced while a
// published version still runs that code, but when the function is deleted, and at the latest
// when the Invoker goes.
TEST_F(InvokerTest, UnpackedZipCodeIsRemovedWhenNoVersionUsesIt) {
  namespace fs = std::filesystem;
  const std::string folder = root_ + "/zipped";
  testing::WriteFile(folder + "/function.json", R"({"Runtime":"provided.al2023","Timeout":10})");
  testing::WriteFile(root_ + "/src/bootstrap", R"(#!/usr/bin/python3
import http.client, os
c = http.client.HTTPConnection(*os.environ['AWS_LAMBDA_RUNTIME_API'].split(':'))
while True:
    c.request('GET', '/2018-06-01/runtime/invocation/next')
    r = c.getresponse(); r.read()
    rid = r.getheader('Lambda-Runtime-Aws-Request-Id')
    c.request('POST', '/2018-06-01/runtime/invocation/%s/response' % rid, '"from zip"')
    c.getresponse().read()
)",
                     true);
  testing::WriteFile(root_ + "/make_zip.py",
                     "import zipfile,sys\n"
                     "z=zipfile.ZipFile(sys.argv[1],'w')\n"
                     "z.write(sys.argv[2],'bootstrap')\n"  // keeps the executable bit
                     "z.close()\n");
  ASSERT_EQ(std::system(("/usr/bin/python3 " + root_ + "/make_zip.py " + folder + "/function.zip " +
                         root_ + "/src/bootstrap")
                            .c_str()),
            0);
  auto load = [&] {
    std::string error;
    auto config = LoadFunctionConfig(folder, &error);
    EXPECT_TRUE(config) << error;
    return config.value_or(FunctionConfig{});
  };
  const FunctionConfig first = load();
  ASSERT_FALSE(first.unpacked_root.empty());
  ASSERT_TRUE(fs::exists(first.code_dir + "/bootstrap"));

  auto invoker = Make();
  Register(*invoker, first);
  EXPECT_EQ(invoker->Invoke(Request("zipped")).payload, "\"from zip\"");
  ASSERT_EQ(invoker->PublishVersion("zipped"), "1");

  const FunctionConfig second = load();
  ASSERT_NE(second.unpacked_root, first.unpacked_root);
  Register(*invoker, second);  // replaces $LATEST; version 1 still runs the first code
  EXPECT_TRUE(fs::exists(first.unpacked_root));
  EXPECT_EQ(invoker->Invoke(Request("zipped:1")).payload, "\"from zip\"");
  EXPECT_EQ(invoker->Invoke(Request("zipped")).payload, "\"from zip\"");

  const FunctionConfig third = load();
  Register(*invoker, third);  // nothing uses the second code any more
  EXPECT_FALSE(fs::exists(second.unpacked_root));
  EXPECT_TRUE(fs::exists(first.unpacked_root));

  EXPECT_TRUE(invoker->DeleteFunction("zipped"));
  EXPECT_FALSE(invoker->DeleteFunction("zipped"));
  EXPECT_FALSE(fs::exists(first.unpacked_root));
  EXPECT_FALSE(fs::exists(third.unpacked_root));
  EXPECT_EQ(invoker->Invoke(Request("zipped")).status, InvokeStatus::kNotFound);

  const FunctionConfig fourth = load();
  Register(*invoker, fourth);
  EXPECT_EQ(invoker->Invoke(Request("zipped")).payload, "\"from zip\"");
  EXPECT_EQ(invoker->EnvironmentCount("zipped"), 1);
  invoker.reset();
  EXPECT_FALSE(fs::exists(fourth.unpacked_root));
}

// A function deleted while an invocation runs: the invocation finishes, and its environment is
// not pooled into a function re-created under the same name.
TEST_F(InvokerTest, DeletedFunctionFinishesItsInvocationInFlight) {
  const std::string bootstrap = R"(#!/usr/bin/python3
import http.client, os, time
c = http.client.HTTPConnection(*os.environ['AWS_LAMBDA_RUNTIME_API'].split(':'))
while True:
    c.request('GET', '/2018-06-01/runtime/invocation/next')
    r = c.getresponse(); body = r.read()
    rid = r.getheader('Lambda-Runtime-Aws-Request-Id')
    if body == b'{"slow":true}':
        time.sleep(1)
    c.request('POST', '/2018-06-01/runtime/invocation/%s/response' % rid, body)
    c.getresponse().read()
)";
  auto invoker = Make();
  const FunctionConfig config =
      MakeFunction(root_, "doomed", "provided.al2023", "", {{"bootstrap", bootstrap}}, 10);
  Register(*invoker, config);
  auto slow = std::async(std::launch::async,
                         [&] { return invoker->Invoke(Request("doomed", R"({"slow":true})")); });
  while (invoker->EnvironmentCount("doomed") == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(invoker->DeleteFunction("doomed"));
  Register(*invoker, config);
  const InvokeResult result = slow.get();
  EXPECT_EQ(result.status, InvokeStatus::kOk);
  EXPECT_EQ(result.payload, R"({"slow":true})");
  EXPECT_EQ(invoker->EnvironmentCount("doomed"), 0);  // the old environment was not pooled
  EXPECT_EQ(invoker->Invoke(Request("doomed", R"({"n":2})")).payload, R"({"n":2})");
  EXPECT_EQ(invoker->EnvironmentCount("doomed"), 1);
}

}  // namespace
}  // namespace switchyard::invoker

namespace switchyard::invoker {
namespace {

// The REPORT line's Init Duration in ms; nullopt when the line has none.
std::optional<double> InitDurationOf(const std::string& log) {
  const std::string key = "Init Duration: ";
  const auto at = log.find(key);
  if (at == std::string::npos) return std::nullopt;
  return std::strtod(log.c_str() + at + key.size(), nullptr);
}

TEST_F(InvokerTest, InitDurationIsNeverNegative) {
  // The runtime may ask for its first event before the spawn returns (a fast custom runtime
  // does); Init Duration counts from before the spawn, so it is positive however they race.
  auto invoker = Make();
  const FunctionConfig shell =
      MakeFunction(root_, "quick", "provided.al2023", "", {{"bootstrap", R"(#!/bin/bash
api=$AWS_LAMBDA_RUNTIME_API
exec 3<>"/dev/tcp/${api%:*}/${api##*:}"
printf 'GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n' >&3
id=
while IFS= read -r line <&3; do
  line=${line%$'\r'}; [ -z "$line" ] && break
  case ${line,,} in lambda-runtime-aws-request-id:*) id=${line#*: } ;; esac
done
exec 4<>"/dev/tcp/${api%:*}/${api##*:}"
printf 'POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok' "$id" >&4
IFS= read -r line <&4
sleep 5
)"}});
  const FunctionConfig python =
      MakeFunction(root_, "py", "python3.12", "handler.handler",
                   {{"handler.py", "def handler(e, c):\n    return 1\n"}});
  for (const FunctionConfig* config : {&shell, &python}) {
    const int runs = config == &shell ? 30 : 8;
    for (int i = 0; i < runs; ++i) {
      Register(*invoker, *config);  // retires the idle environment: the next start is cold
      InvokeResult result = invoker->Invoke(Request(config->function_name));
      ASSERT_EQ(result.function_error, "") << result.payload;
      const std::string log = LogOf(result.request_id);
      const std::optional<double> init = InitDurationOf(log);
      ASSERT_TRUE(init.has_value()) << log;
      EXPECT_GT(*init, 0.0) << config->function_name << " run " << i << ":\n" << log;
    }
  }
}

TEST_F(InvokerTest, MemoryUsedDuringInitIsCharged) {
  // Import-time allocations count against MemorySize: the runtime is in its memory cgroup
  // before it execs. 200 MB touched and freed at import: OOM at 128 MB, and the peak at 512 MB.
  // (Without a writable cgroup the invoker samples RSS instead and may miss a brief peak.)
  auto invoker = Make();
  const std::string module =
      "data = bytearray(200 * 1024 * 1024)\n"
      "for i in range(0, len(data), 4096): data[i] = 1\n"
      "del data\n"
      "def handler(e, c):\n    return 'ran'\n";
  FunctionConfig small =
      MakeFunction(root_, "greedy", "python3.12", "handler.handler", {{"handler.py", module}}, 20);
  Register(*invoker, small);
  InvokeResult killed = invoker->Invoke(Request("greedy"));
  EXPECT_EQ(killed.function_error, "Unhandled") << killed.payload;
  EXPECT_EQ(killed.error_type, "Runtime.OutOfMemory") << killed.payload;
  EXPECT_NE(LogOf(killed.request_id).find("Status: error\tError Type: Runtime.OutOfMemory"),
            std::string::npos)
      << LogOf(killed.request_id);

  small.memory_size_mb = 512;
  Register(*invoker, small);
  InvokeResult fits = invoker->Invoke(Request("greedy"));
  EXPECT_EQ(fits.payload, "\"ran\"");
  const std::string log = LogOf(fits.request_id);
  const auto at = log.find("Max Memory Used: ");
  ASSERT_NE(at, std::string::npos) << log;
  EXPECT_GE(std::atoi(log.c_str() + at + 17), 200) << log;
}

// The invoker's own cgroup v1 memory directory when it may create cgroups there, else "".
std::string WritableMemoryCgroupV1() {
  if (const char* off = std::getenv("SWITCHYARD_NO_CGROUP"); off && std::string(off) == "1") {
    return {};
  }
  std::ifstream self("/proc/self/cgroup");
  std::string line;
  while (std::getline(self, line)) {
    const auto at = line.find(":memory:");
    if (at == std::string::npos) continue;
    const std::string path = line.substr(at + 8);
    const std::string dir = "/sys/fs/cgroup/memory" + (path == "/" ? std::string() : path);
    return access(dir.c_str(), W_OK) == 0 ? dir : std::string();
  }
  return {};
}

TEST_F(InvokerTest, RuntimeStartsInsideItsMemoryCgroup) {
  if (WritableMemoryCgroupV1().empty()) GTEST_SKIP() << "no writable cgroup v1 memory hierarchy";
  // The bootstrap's very first command reads its own cgroup: it must already be the
  // environment's, not the invoker's (the child joins before exec).
  auto invoker = Make();
  Register(*invoker, MakeFunction(root_, "where", "provided.al2023", "", {{"bootstrap", R"(#!/bin/sh
where=$(grep ':memory:' /proc/self/cgroup)
api=$AWS_LAMBDA_RUNTIME_API
exec python3 -c '
import http.client, os, sys
c = http.client.HTTPConnection(*os.environ["AWS_LAMBDA_RUNTIME_API"].split(":"))
c.request("GET", "/2018-06-01/runtime/invocation/next")
r = c.getresponse(); r.read()
rid = r.getheader("Lambda-Runtime-Aws-Request-Id")
c.request("POST", "/2018-06-01/runtime/invocation/%s/response" % rid, body=sys.argv[1])
c.getresponse().read()
' ""$where""
)"}}));
  for (int i = 0; i < 5; ++i) {
    Register(*invoker, MakeFunction(root_, "where", "provided.al2023", "", {}));
    InvokeResult result = invoker->Invoke(Request("where"));
    ASSERT_EQ(result.function_error, "") << result.payload;
    EXPECT_NE(result.payload.find("/switchyard-"), std::string::npos) << result.payload;
  }
}

TEST_F(InvokerTest, ColdStartsBeyondTheWaitingStemsEachGetTheirOwnCgroup) {
  if (WritableMemoryCgroupV1().empty()) GTEST_SKIP() << "no writable cgroup v1 memory hierarchy";
  // More environments at once than the invoker keeps ready: some start from a waiting stem,
  // the rest directly; every one runs inside a memory cgroup of its own.
  auto invoker = Make();
  Register(*invoker,
           MakeFunction(root_, "many", "python3.12", "handler.handler",
                        {{"handler.py",
                          "import time\n"
                          "def handler(e, c):\n"
                          "    time.sleep(0.5)\n"
                          "    with open('/proc/self/cgroup') as f:\n"
                          "        return [l for l in f.read().split() if ':memory:' in l][0]\n"}},
                        20));
  constexpr int kAtOnce = 6;
  std::vector<std::promise<InvokeResult>> results(kAtOnce);
  for (auto& result : results) {
    invoker->InvokeAsync(Request("many"),
                         [&result](InvokeResult r) { result.set_value(std::move(r)); });
  }
  std::set<std::string> cgroups;
  for (auto& result : results) {
    InvokeResult r = result.get_future().get();
    ASSERT_EQ(r.function_error, "") << r.payload;
    EXPECT_NE(r.payload.find("/switchyard-"), std::string::npos) << r.payload;
    cgroups.insert(r.payload);
  }
  EXPECT_EQ(cgroups.size(), static_cast<std::size_t>(kAtOnce));
}

TEST_F(InvokerTest, OversizedResponseIsResponseSizeTooLargeAndTheEnvironmentLivesOn) {
  auto invoker = Make();
  Register(*invoker,
           MakeFunction(root_, "bigpy", "python3.12", "handler.handler",
                        {{"handler.py",
                          "def handler(e, c):\n"
                          "    return 'x' * (7 * 1024 * 1024) if e.get('big') else 'small'\n"}},
                        10));
  Register(*invoker, MakeFunction(root_, "bignode", "nodejs20.x", "app.handler",
                                  {{"app.js",
                                    "exports.handler = async (e) => "
                                    "e.big ? 'x'.repeat(7 * 1024 * 1024) : 'small';\n"}},
                                  10));
  const std::string expected =
      "{\"errorMessage\":\"Response payload size exceeded maximum allowed payload size "
      "(6291556 bytes).\",\"errorType\":\"Function.ResponseSizeTooLarge\"}";
  for (const std::string name : {"bigpy", "bignode"}) {
    InvokeResult big = invoker->Invoke(Request(name, R"({"big":true})"));
    EXPECT_EQ(big.status, InvokeStatus::kOk) << name;
    EXPECT_EQ(big.function_error, "Unhandled") << name;
    EXPECT_EQ(big.error_type, "Function.ResponseSizeTooLarge") << name << ": " << big.payload;
    EXPECT_EQ(big.payload, expected) << name;
    EXPECT_NE(
        LogOf(big.request_id).find("Status: error\tError Type: Function.ResponseSizeTooLarge"),
        std::string::npos)
        << LogOf(big.request_id);
    // The same (warm) environment answers the next invocation.
    InvokeResult next = invoker->Invoke(Request(name, R"({"big":false})"));
    EXPECT_EQ(next.function_error, "") << name << ": " << next.payload;
    EXPECT_EQ(next.payload, "\"small\"") << name;
    EXPECT_EQ(InitDurationOf(LogOf(next.request_id)), std::nullopt)
        << LogOf(big.request_id) << LogOf(next.request_id);
    EXPECT_EQ(invoker->EnvironmentCount(name), 1) << name;
  }
}

}  // namespace
}  // namespace switchyard::invoker
