// `switchyard state-machine ...`, `switchyard execution ...` and `switchyard task ...`: drive the
// engine's database from the command line (a running `serve` does the work). Output is the JSON
// the AWS CLI prints for the same Step Functions calls.
#include <cstdlib>
#include <ostream>

#include "switchyard/asl/json.hpp"
#include "switchyard/asl/timestamp.hpp"
#include "switchyard/orchestrator/cli.hpp"
#include "switchyard/orchestrator/engine.hpp"

namespace switchyard::orchestrator {
namespace {

namespace asl = switchyard::asl;

asl::Json Date(int64_t ns) { return asl::JsonString(asl::FormatTimestamp(ns)); }

void SetOptional(asl::Json& object, std::string_view key, const std::optional<std::string>& v) {
  if (v) asl::JsonSet(object, key, asl::JsonString(*v));
}

asl::Json StateMachineJson(const StateMachineInfo& info, bool with_definition) {
  asl::Json doc = asl::JsonObject();
  asl::JsonSet(doc, "stateMachineArn", asl::JsonString(info.arn));
  asl::JsonSet(doc, "name", asl::JsonString(info.name));
  asl::JsonSet(doc, "status", asl::JsonString(info.status));
  if (with_definition) asl::JsonSet(doc, "definition", asl::JsonString(info.definition));
  asl::JsonSet(doc, "roleArn", asl::JsonString(info.role_arn));
  asl::JsonSet(doc, "type", asl::JsonString(info.type));
  asl::JsonSet(doc, "creationDate", Date(info.creation_date));
  asl::JsonSet(doc, "revisionId", asl::JsonString(info.revision_id));
  return doc;
}

asl::Json ExecutionJson(const ExecutionInfo& info, bool full) {
  asl::Json doc = asl::JsonObject();
  asl::JsonSet(doc, "executionArn", asl::JsonString(info.execution_arn));
  asl::JsonSet(doc, "stateMachineArn", asl::JsonString(info.state_machine_arn));
  asl::JsonSet(doc, "name", asl::JsonString(info.name));
  asl::JsonSet(doc, "status", asl::JsonString(info.status));
  asl::JsonSet(doc, "startDate", Date(info.start_date));
  if (info.stop_date) asl::JsonSet(doc, "stopDate", Date(*info.stop_date));
  if (full) {
    asl::JsonSet(doc, "input", asl::JsonString(info.input));
    SetOptional(doc, "output", info.output);
    SetOptional(doc, "error", info.error);
    SetOptional(doc, "cause", info.cause);
    asl::JsonSet(doc, "redriveCount", asl::JsonInt(info.redrive_count));
  }
  return doc;
}

int Fail(std::ostream& err, const std::string& command, const asl::Error& error) {
  err << "switchyard " << command << ": " << error.error << ": " << error.cause << "\n";
  return 1;
}

}  // namespace

int RunEngineCommand(const EngineCommandOptions& options, std::ostream& out, std::ostream& err) {
  EngineOptions engine_options;
  engine_options.database_url = options.database.database_url.value_or("");
  engine_options.data_dir = options.database.data_dir.value_or("");
  engine_options.run_workers = false;
  engine_options.migrate = true;  // under the runner's advisory lock: safe beside a serve
  std::unique_ptr<Engine> engine;
  try {
    engine = Engine::Create(engine_options);
  } catch (const std::exception& e) {
    err << "switchyard " << options.command << ": cannot use the database: " << e.what() << "\n";
    return 2;
  }
  const std::string& c = options.command;
  auto print = [&](const asl::Json& doc) { out << asl::DumpJson(doc) << "\n"; };

  if (c == "state-machine create" || c == "state-machine update") {
    std::string read_error;
    std::optional<std::string> definition = ReadTextFile(options.definition_file, &read_error);
    if (!definition) {
      err << "switchyard " << c << ": cannot read " << read_error << "\n";
      return 2;
    }
    auto result = c == "state-machine create"
                      ? engine->CreateStateMachine(options.name, *definition, options.type,
                                                   options.role_arn)
                      : engine->UpdateStateMachine(options.name, *definition);
    if (!result.ok()) return Fail(err, c, result.error());
    asl::Json doc = asl::JsonObject();
    asl::JsonSet(doc, "stateMachineArn", asl::JsonString(result->arn));
    asl::JsonSet(doc, c == "state-machine create" ? "creationDate" : "updateDate",
                 Date(result->creation_date));
    asl::JsonSet(doc, "revisionId", asl::JsonString(result->revision_id));
    print(doc);
    return 0;
  }
  if (c == "state-machine describe") {
    auto result = engine->DescribeStateMachine(options.name);
    if (!result.ok()) return Fail(err, c, result.error());
    print(StateMachineJson(*result, true));
    return 0;
  }
  if (c == "state-machine list") {
    asl::Json list = asl::JsonArray();
    for (const auto& info : engine->ListStateMachines()) {
      asl::JsonPush(list, StateMachineJson(info, false));
    }
    asl::Json doc = asl::JsonObject();
    asl::JsonSet(doc, "stateMachines", std::move(list));
    print(doc);
    return 0;
  }
  if (c == "state-machine delete") {
    asl::Status status = engine->DeleteStateMachine(options.name);
    if (!status.ok()) return Fail(err, c, status.error());
    return 0;
  }
  if (c == "execution start") {
    std::string input = "{}";
    if (options.input) {
      input = *options.input;
    } else if (options.input_file) {
      std::string read_error;
      std::optional<std::string> text = ReadTextFile(*options.input_file, &read_error);
      if (!text) {
        err << "switchyard " << c << ": cannot read " << read_error << "\n";
        return 2;
      }
      input = *text;
    }
    auto result = engine->StartExecution(options.state_machine, options.name, input);
    if (!result.ok()) return Fail(err, c, result.error());
    if (options.wait) {
      auto info = engine->WaitForExecution(result->execution_arn,
                                           std::chrono::milliseconds(options.wait_seconds * 1000));
      if (!info.ok()) return Fail(err, c, info.error());
      print(ExecutionJson(*info, true));
      return info->status == "SUCCEEDED" ? 0 : 1;
    }
    asl::Json doc = asl::JsonObject();
    asl::JsonSet(doc, "executionArn", asl::JsonString(result->execution_arn));
    asl::JsonSet(doc, "startDate", Date(result->start_date));
    print(doc);
    return 0;
  }
  if (c == "execution describe") {
    auto result = engine->DescribeExecution(options.execution_arn);
    if (!result.ok()) return Fail(err, c, result.error());
    print(ExecutionJson(*result, true));
    return 0;
  }
  if (c == "execution list") {
    auto result = engine->ListExecutions(options.state_machine, options.status, options.max_items);
    if (!result.ok()) return Fail(err, c, result.error());
    asl::Json list = asl::JsonArray();
    for (const auto& info : *result) asl::JsonPush(list, ExecutionJson(info, false));
    asl::Json doc = asl::JsonObject();
    asl::JsonSet(doc, "executions", std::move(list));
    print(doc);
    return 0;
  }
  if (c == "execution history") {
    std::string events = "[";
    std::string token;
    do {
      auto page = engine->GetExecutionHistory(options.execution_arn, 1000, token, options.reverse);
      if (!page.ok()) return Fail(err, c, page.error());
      for (const auto& event : page->events) {
        if (events.size() > 1) events += ',';
        events += event.ToJson();
      }
      token = page->next_token;
    } while (!token.empty());
    out << "{\"events\":" << events << "]}\n";
    return 0;
  }
  if (c == "execution stop") {
    auto result = engine->StopExecution(options.execution_arn, options.error, options.cause);
    if (!result.ok()) return Fail(err, c, result.error());
    asl::Json doc = asl::JsonObject();
    asl::JsonSet(doc, "stopDate", Date(*result));
    print(doc);
    return 0;
  }
  if (c == "task send-success" || c == "task send-failure" || c == "task send-heartbeat") {
    asl::Status status = c == "task send-success"
                             ? engine->SendTaskSuccess(options.token, options.output)
                         : c == "task send-failure"
                             ? engine->SendTaskFailure(options.token, options.error, options.cause)
                             : engine->SendTaskHeartbeat(options.token);
    if (!status.ok()) return Fail(err, c, status.error());
    return 0;
  }
  err << "switchyard: unknown command '" << c << "'\n";
  return 2;
}

}  // namespace switchyard::orchestrator
