// Embedding Switchyard: a state machine whose Task calls a C++ function of this program, run
// durably by the engine on PostgreSQL. With no database URL the engine creates and starts a
// private PostgreSQL cluster in the data directory (argv[1], default ./switchyard-embed-data)
// and stops it when the engine goes; every state transition is committed there, so an execution
// survives this process dying and finishes when the program runs again.
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>

#include "switchyard/asl/json.hpp"
#include "switchyard/orchestrator/engine.hpp"

namespace asl = switchyard::asl;
namespace orch = switchyard::orchestrator;
namespace invoker = switchyard::invoker;

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

int main(int argc, char** argv) {
  orch::EngineOptions options;
  options.data_dir = argc > 1 ? argv[1] : "switchyard-embed-data";
  try {
    auto engine = orch::Engine::Create(options);

    // The native function: JSON text in, JSON text out; a non-empty error_type is an error that
    // Retry and Catch see. The first call fails, so the retry (a durable timer) is exercised.
    int calls = 0;
    std::string error = engine->RegisterNative("greet", [&calls](const std::string& payload,
                                                                 const invoker::NativeContext&) {
      if (++calls == 1) {
        return invoker::NativeOutcome{R"({"errorType":"Flaky","errorMessage":"first try"})",
                                      "Flaky"};
      }
      std::optional<asl::Json> input = asl::ParseJson(payload);
      const asl::Json* name = input ? asl::JsonFind(*input, "name") : nullptr;
      if (name == nullptr || !name->IsString()) {
        return invoker::NativeOutcome{R"({"errorMessage":"name must be a string"})", "BadInput"};
      }
      asl::Json result = asl::JsonObject();
      asl::JsonSet(result, "greeting",
                   asl::JsonString("hello, " + std::string(asl::JsonView(*name))));
      return invoker::NativeOutcome{asl::DumpJson(result), ""};
    });
    if (!error.empty()) {
      std::fprintf(stderr, "register: %s\n", error.c_str());
      return 2;
    }

    // Creating a machine that exists with the same definition returns it.
    auto machine = engine->CreateStateMachine("embed-example", kDefinition);
    if (!machine) {
      std::fprintf(stderr, "%s: %s\n", machine.error().error.c_str(),
                   machine.error().cause.c_str());
      return 2;
    }
    const std::string name =
        "run-" + std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
    auto started = engine->StartExecution(machine->arn, name, R"({"name": "embedder"})");
    if (!started) {
      std::fprintf(stderr, "%s: %s\n", started.error().error.c_str(),
                   started.error().cause.c_str());
      return 2;
    }
    auto done = engine->WaitForExecution(started->execution_arn, std::chrono::seconds(60));
    if (!done) {
      std::fprintf(stderr, "%s\n", done.error().cause.c_str());
      return 1;
    }
    std::printf("%s %s after %d calls\n", done->status.c_str(), done->output.value_or("").c_str(),
                calls);
    const bool ok = done->status == "SUCCEEDED";
    engine->Shutdown();  // finishes decisions in flight, then stops the embedded database
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "embed_example: %s\n", e.what());
    return 1;
  }
}
