// Embedding Switchyard: a state machine whose Task calls a C++ function of this program.
// It runs on the in-memory driver (switchyard::orchestrator's MemoryDriver); the durable engine
// on PostgreSQL takes the same definition and native functions.
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "switchyard/asl/definition.hpp"
#include "switchyard/asl/json.hpp"
#include "switchyard/orchestrator/memory_driver.hpp"

namespace asl = switchyard::asl;
namespace orch = switchyard::orchestrator;

// Native functions by Lambda function ARN: payload in, result out.
class NativeFunctions : public orch::TaskBackend {
 public:
  using Function = std::function<orch::TaskOutcome(const asl::Json& payload)>;
  void Register(std::string arn, Function function) {
    functions_[std::move(arn)] = std::move(function);
  }
  std::optional<orch::TaskOutcome> Start(const orch::TaskRequest& request,
                                         orch::TaskCompleter) override {
    const auto it = functions_.find(request.resource);
    if (it == functions_.end()) {
      return orch::TaskOutcome::Failure("States.TaskFailed", "no function " + request.resource);
    }
    return it->second(request.payload);
  }

 private:
  std::map<std::string, Function> functions_;
};

constexpr const char* kDefinition = R"({
  "StartAt": "Greet",
  "States": {
    "Greet": {
      "Type": "Task",
      "Resource": "arn:aws:lambda:us-east-1:000000000000:function:greet",
      "Retry": [{"ErrorEquals": ["Flaky"], "MaxAttempts": 2, "IntervalSeconds": 1}],
      "Next": "Done"
    },
    "Done": {"Type": "Pass", "Parameters": {"message.$": "$.greeting"}, "End": true}
  }
})";

int main() {
  const asl::ParseResult parsed = asl::ParseDefinition(kDefinition);
  if (!parsed.ok()) {
    for (const auto& d : parsed.diagnostics) std::fprintf(stderr, "%s\n", d.message.c_str());
    return 2;
  }
  int calls = 0;
  NativeFunctions functions;
  functions.Register("arn:aws:lambda:us-east-1:000000000000:function:greet",
                     [&](const asl::Json& payload) {
                       if (++calls == 1) return orch::TaskOutcome::Failure("Flaky", "first try");
                       const asl::Json* name = asl::JsonFind(payload, "name");
                       if (name == nullptr || !name->IsString()) {
                         return orch::TaskOutcome::Failure("BadInput", "name must be a string");
                       }
                       asl::Json result = asl::JsonObject();
                       asl::JsonSet(result, "greeting",
                                    asl::JsonString("hello, " + std::string(asl::JsonView(*name))));
                       return orch::TaskOutcome::Success(std::move(result));
                     });

  orch::MemoryDriverOptions options;
  options.execution_name = "embed-example";
  options.fast_timers = true;
  orch::MemoryDriver driver(*parsed.definition, functions, options);
  orch::RunResult result = driver.Run(*asl::ParseJson(R"({"name": "embedder"})"));
  std::printf("%s %s after %d calls\n",
              std::string(asl::ExecutionStatusName(result.status)).c_str(),
              asl::DumpJson(result.output).c_str(), calls);
  return result.status == asl::ExecutionStatus::kSucceeded ? 0 : 1;
}
