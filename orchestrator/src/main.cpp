// The switchyard executable: parses the command line and hands each subcommand to the
// orchestrator. Nothing else lives here.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "switchyard/orchestrator/cli.hpp"
#include "switchyard/orchestrator/cli_jsonata.hpp"

namespace orch = switchyard::orchestrator;

namespace {

void AddDatabaseOptions(CLI::App& command, orch::DatabaseOptions& options) {
  auto* url = command.add_option("--database-url", options.database_url,
                                 "PostgreSQL URL (default: $SWITCHYARD_DATABASE_URL, else the "
                                 "embedded cluster)");
  command
      .add_option("--data-dir", options.data_dir,
                  "Data directory of the embedded PostgreSQL cluster (default: "
                  "$XDG_DATA_HOME/switchyard, else ~/.local/share/switchyard; for root "
                  "/var/lib/switchyard)")
      ->excludes(url);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Switchyard: Amazon States Language state machines and Lambda-style functions, "
      "self-hosted"};
  app.set_version_flag("--version", std::string("switchyard ") + SWITCHYARD_VERSION);
  app.require_subcommand(1);
  // Logs go to standard error: standard output belongs to the commands' results.
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "switchyard", std::make_shared<spdlog::sinks::stderr_color_sink_mt>()));
  if (const char* level = std::getenv("SWITCHYARD_LOG_LEVEL"); level != nullptr) {
    spdlog::set_level(spdlog::level::from_str(level));
  }

  orch::ValidateOptions validate;
  CLI::App* validate_cmd =
      app.add_subcommand("validate", "Check state machine definitions and print their diagnostics");
  validate_cmd->add_option("files", validate.files, "Definition files ('-' reads stdin)")
      ->required();
  validate_cmd->add_flag("--json", validate.json, "One JSON object per file");

  orch::JsonataCliOptions jsonata;
  CLI::App* jsonata_cmd = app.add_subcommand("jsonata", "Evaluate one JSONata expression");
  auto* expr_opt = jsonata_cmd->add_option("expression", jsonata.expression, "JSONata expression");
  jsonata_cmd->add_option("--expr-file", jsonata.expr_file, "File holding the expression")
      ->excludes(expr_opt);
  auto* jinput_opt = jsonata_cmd->add_option("--input", jsonata.input, "Input (JSON text)");
  jsonata_cmd->add_option("--input-file", jsonata.input_file, "File holding the input")
      ->excludes(jinput_opt);
  auto* jbind_opt =
      jsonata_cmd->add_option("--bindings", jsonata.bindings, "Variables (a JSON object)");
  jsonata_cmd->add_option("--bindings-file", jsonata.bindings_file, "File holding the bindings")
      ->excludes(jbind_opt);
  jsonata_cmd->add_option("--max-depth", jsonata.max_depth, "Deepest evaluation nesting (1000)")
      ->check(CLI::Range(1, 100000));
  jsonata_cmd->add_option("--time-limit-ms", jsonata.time_limit_ms, "Wall-clock limit");
  jsonata_cmd->add_flag("--json", jsonata.json, "One JSON object: result, undefined or error");

  orch::RunOptions run;
  CLI::App* run_cmd = app.add_subcommand("run", "Run one execution of a state machine in memory");
  run_cmd->add_option("definition", run.definition_file, "Definition file")->required();
  auto* input_opt = run_cmd->add_option("--input", run.input, "Execution input (JSON text)");
  run_cmd->add_option("--input-file", run.input_file, "File holding the execution input")
      ->excludes(input_opt);
  run_cmd->add_option("--name", run.name, "Execution name (AWS's rules: 1-80 characters, ...)");
  run_cmd
      ->add_option("--type", run.type,
                   "STANDARD (default: 25,000 history events, 1 year) or EXPRESS (5 minutes)")
      ->check(CLI::IsMember({"STANDARD", "EXPRESS"}));
  run_cmd->add_flag("--json", run.json, "Print one JSON object {status, output, error, cause}");
  run_cmd->add_flag("--history", run.history,
                    "Include the execution history (without --json: JSON lines on stderr)");
  run_cmd->add_flag("--fast-timers", run.fast_timers,
                    "Fire Wait states and retry backoffs at once");
  run_cmd->add_option("--functions", run.functions_dir,
                      "Directory of functions (one folder each, with function.json)");

  orch::InvokeOptions invoke;
  CLI::App* invoke_cmd =
      app.add_subcommand("invoke", "Invoke one function from a functions directory");
  invoke_cmd->add_option("name", invoke.function_name, "Function name (NAME[:QUALIFIER])")
      ->required();
  invoke_cmd
      ->add_option("--functions", invoke.functions_dir,
                   "Directory of functions (one folder each, with function.json)")
      ->required();
  invoke_cmd->add_option("--payload", invoke.payload, "Event payload (JSON text)");
  invoke_cmd->add_option("--type", invoke.type, "RequestResponse (default), Event or DryRun");
  invoke_cmd->add_flag("--log-tail", invoke.log_tail, "Print the last 4 KB of the log on stderr");

  orch::MigrateOptions migrate;
  CLI::App* migrate_cmd = app.add_subcommand(
      "migrate", "Apply the database migrations (to --database-url or the embedded cluster)");
  AddDatabaseOptions(*migrate_cmd, migrate.database);

  orch::ServeOptions serve;
  CLI::App* serve_cmd = app.add_subcommand("serve",
                                           "Serve the Step Functions and Lambda APIs (durable "
                                           "engine on PostgreSQL) until SIGINT or SIGTERM");
  AddDatabaseOptions(*serve_cmd, serve.database);
  serve_cmd->add_flag("--no-migrate", serve.no_migrate, "Do not apply migrations on start");
  serve_cmd
      ->add_option("--functions,--functions-dir", serve.functions_dir,
                   "Directory of functions to register at start (one folder each, with "
                   "function.json)")
      ->envname("SWITCHYARD_FUNCTIONS_DIR");
  serve_cmd
      ->add_option("--functions-store", serve.functions_store,
                   "Directory where functions' code is kept (default: <data-dir>/functions; the "
                   "packages themselves are in the database, so any node can rebuild it)")
      ->envname("SWITCHYARD_FUNCTIONS_STORE");
  serve_cmd->add_option("--port", serve.port, "HTTP API port (0 = any free port)")
      ->envname("SWITCHYARD_PORT");
  serve_cmd->add_option("--bind", serve.bind_address, "Address the HTTP API listens on")
      ->envname("SWITCHYARD_BIND");
  serve_cmd
      ->add_option("--credentials-file", serve.credentials_file,
                   "AWS shared-credentials file whose keys may sign requests (SigV4)")
      ->envname("SWITCHYARD_CREDENTIALS_FILE");
  serve_cmd->add_option("--port-file", serve.port_file, "Write the bound port to this file");
  serve_cmd
      ->add_option("--read-timeout-ms", serve.read_timeout_ms,
                   "Deadline for reading one request (and the keep-alive idle limit)")
      ->envname("SWITCHYARD_READ_TIMEOUT_MS");
  serve_cmd
      ->add_option("--retention-days", serve.retention_days,
                   "Purge finished executions and their history after this many days (0: never)")
      ->envname("SWITCHYARD_RETENTION_DAYS")
      ->check(CLI::Range(0.0, 36500.0));
  serve_cmd
      ->add_option("--log-level", serve.log_level,
                   "trace, debug, info (default), warn, error, critical or off")
      ->envname("SWITCHYARD_LOG_LEVEL");
  serve_cmd
      ->add_option("--log-format", serve.log_format,
                   "text (default) or json (one JSON object per line)")
      ->envname("SWITCHYARD_LOG_FORMAT");
  serve_cmd
      ->add_option("--lease-ms", serve.lease_ms,
                   "Lease of claimed work: another node takes it over this long after this one "
                   "dies (renewed while the work runs)")
      ->check(CLI::Range(int64_t{100}, int64_t{3600000}))
      ->envname("SWITCHYARD_LEASE_MS");
  serve_cmd
      ->add_option("--shutdown-grace-seconds", serve.shutdown_grace_seconds,
                   "After SIGINT/SIGTERM, how long work in flight may take to finish before the "
                   "functions still running are killed and their work is left to another node "
                   "(default 30)")
      ->check(CLI::Range(0.0, 86400.0))
      ->envname("SWITCHYARD_SHUTDOWN_GRACE_SECONDS");

  // Engine calls against the database of a running `serve`, named as the AWS CLI names them.
  orch::EngineCommandOptions engine_cmd;
  std::vector<std::pair<CLI::App*, std::string>> engine_commands;
  auto add_engine = [&](CLI::App* group, const std::string& name, const std::string& help) {
    CLI::App* cmd = group->add_subcommand(name, help);
    AddDatabaseOptions(*cmd, engine_cmd.database);
    engine_commands.emplace_back(cmd, group->get_name() + " " + name);
    return cmd;
  };
  CLI::App* sm_cmd = app.add_subcommand("state-machine", "Create and inspect state machines");
  sm_cmd->require_subcommand(1);
  CLI::App* sm_create = add_engine(sm_cmd, "create", "Create a state machine");
  sm_create->add_option("--name", engine_cmd.name, "Name")->required();
  sm_create->add_option("--definition", engine_cmd.definition_file, "Definition file ('-' = stdin)")
      ->required();
  sm_create->add_option("--type", engine_cmd.type, "STANDARD (default) or EXPRESS");
  sm_create->add_option("--role-arn", engine_cmd.role_arn, "Execution role ARN");
  CLI::App* sm_update = add_engine(sm_cmd, "update", "Give a state machine a new definition");
  sm_update->add_option("--state-machine-arn", engine_cmd.name, "Name or ARN")->required();
  sm_update->add_option("--definition", engine_cmd.definition_file, "Definition file")->required();
  CLI::App* sm_describe = add_engine(sm_cmd, "describe", "Describe a state machine");
  sm_describe->add_option("--state-machine-arn", engine_cmd.name, "Name or ARN")->required();
  add_engine(sm_cmd, "list", "List state machines");
  CLI::App* sm_delete = add_engine(sm_cmd, "delete", "Delete a state machine");
  sm_delete->add_option("--state-machine-arn", engine_cmd.name, "Name or ARN")->required();

  CLI::App* ex_cmd = app.add_subcommand("execution", "Start, inspect and stop executions");
  ex_cmd->require_subcommand(1);
  CLI::App* ex_start = add_engine(ex_cmd, "start", "Start an execution");
  ex_start
      ->add_option("--state-machine-arn,--state-machine", engine_cmd.state_machine,
                   "State machine name or ARN")
      ->required();
  ex_start->add_option("--name", engine_cmd.name, "Execution name (default: a UUID)");
  auto* ex_input = ex_start->add_option("--input", engine_cmd.input, "Input (JSON text)");
  ex_start->add_option("--input-file", engine_cmd.input_file, "File holding the input")
      ->excludes(ex_input);
  ex_start->add_flag("--wait", engine_cmd.wait, "Wait for the end and describe the execution");
  ex_start->add_option("--wait-seconds", engine_cmd.wait_seconds, "How long --wait waits");
  for (const char* verb : {"describe", "history", "stop"}) {
    CLI::App* cmd = add_engine(ex_cmd, verb,
                               std::string(verb) == "describe"  ? "Describe an execution"
                               : std::string(verb) == "history" ? "Print an execution's history"
                                                                : "Stop an execution");
    cmd->add_option("--execution-arn", engine_cmd.execution_arn, "Execution ARN")->required();
    if (std::string(verb) == "history") {
      cmd->add_flag("--reverse-order", engine_cmd.reverse, "Newest first");
    }
    if (std::string(verb) == "stop") {
      cmd->add_option("--error", engine_cmd.error, "Error code");
      cmd->add_option("--cause", engine_cmd.cause, "Cause");
    }
  }
  CLI::App* ex_list = add_engine(ex_cmd, "list", "List a state machine's executions");
  ex_list
      ->add_option("--state-machine-arn,--state-machine", engine_cmd.state_machine,
                   "State machine name or ARN")
      ->required();
  ex_list->add_option("--status-filter", engine_cmd.status, "RUNNING, SUCCEEDED, ...");
  ex_list->add_option("--max-items", engine_cmd.max_items, "At most this many (1-1000)");

  CLI::App* task_cmd = app.add_subcommand("task", "Answer .waitForTaskToken tasks");
  task_cmd->require_subcommand(1);
  CLI::App* send_success = add_engine(task_cmd, "send-success", "SendTaskSuccess");
  send_success->add_option("--task-token", engine_cmd.token, "Task token")->required();
  send_success->add_option("--task-output", engine_cmd.output, "Output (JSON text)")->required();
  CLI::App* send_failure = add_engine(task_cmd, "send-failure", "SendTaskFailure");
  send_failure->add_option("--task-token", engine_cmd.token, "Task token")->required();
  send_failure->add_option("--error", engine_cmd.error, "Error code");
  send_failure->add_option("--cause", engine_cmd.cause, "Cause");
  CLI::App* send_heartbeat = add_engine(task_cmd, "send-heartbeat", "SendTaskHeartbeat");
  send_heartbeat->add_option("--task-token", engine_cmd.token, "Task token")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  try {
    if (*validate_cmd) return orch::RunValidateCommand(validate, std::cout, std::cerr);
    if (*run_cmd) return orch::RunRunCommand(run, std::cout, std::cerr);
    if (*jsonata_cmd) return orch::RunJsonataCommand(jsonata, std::cout, std::cerr);
    if (*invoke_cmd) return orch::RunInvokeCommand(invoke, std::cout, std::cerr);
    if (*migrate_cmd) return orch::RunMigrateCommand(migrate, std::cout, std::cerr);
    if (*serve_cmd) return orch::RunServeCommand(serve, std::cout, std::cerr);
    for (const auto& [cmd, name] : engine_commands) {
      if (*cmd) {
        engine_cmd.command = name;
        return orch::RunEngineCommand(engine_cmd, std::cout, std::cerr);
      }
    }
    if (*migrate_cmd) return orch::RunMigrateCommand(migrate, std::cout, std::cerr);
    if (*serve_cmd) return orch::RunServeCommand(serve, std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "switchyard: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
