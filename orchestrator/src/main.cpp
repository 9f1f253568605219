// The switchyard executable: parses the command line and hands each subcommand to the
// orchestrator. Nothing else lives here.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <exception>
#include <iostream>

#include "switchyard/orchestrator/cli.hpp"

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
  CLI::App* serve_cmd =
      app.add_subcommand("serve", "Run the durable engine on PostgreSQL until SIGINT or SIGTERM");
  AddDatabaseOptions(*serve_cmd, serve.database);
  serve_cmd->add_flag("--no-migrate", serve.no_migrate, "Do not apply migrations on start");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  try {
    if (*validate_cmd) return orch::RunValidateCommand(validate, std::cout, std::cerr);
    if (*run_cmd) return orch::RunRunCommand(run, std::cout, std::cerr);
    if (*invoke_cmd) return orch::RunInvokeCommand(invoke, std::cout, std::cerr);
    if (*migrate_cmd) return orch::RunMigrateCommand(migrate, std::cout, std::cerr);
    if (*serve_cmd) return orch::RunServeCommand(serve, std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "switchyard: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
