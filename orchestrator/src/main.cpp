// The switchyard executable: parses the command line and hands each subcommand to the
// orchestrator. Nothing else lives here.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "switchyard/orchestrator/cli.hpp"

namespace orch = switchyard::orchestrator;

int main(int argc, char** argv) {
  CLI::App app{
      "Switchyard: Amazon States Language state machines and Lambda-style functions, "
      "self-hosted"};
  app.set_version_flag("--version", std::string("switchyard ") + SWITCHYARD_VERSION);
  app.require_subcommand(1);

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
  run_cmd->add_option("--name", run.name, "Execution name");
  run_cmd->add_flag("--json", run.json, "Print one JSON object {status, output, error, cause}");
  run_cmd->add_flag("--history", run.history, "Include the execution history");
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

  orch::ServeOptions serve;
  CLI::App* serve_cmd =
      app.add_subcommand("serve", "Serve the AWS Lambda (and Step Functions) APIs over HTTP");
  serve_cmd->add_option("--port", serve.port, "TCP port (0 = any free port)")
      ->envname("SWITCHYARD_PORT");
  serve_cmd->add_option("--bind", serve.bind_address, "Address to listen on")
      ->envname("SWITCHYARD_BIND");
  serve_cmd
      ->add_option("--credentials-file", serve.credentials_file,
                   "AWS shared-credentials file whose keys may sign requests (SigV4)")
      ->envname("SWITCHYARD_CREDENTIALS_FILE");
  serve_cmd
      ->add_option("--functions-dir", serve.functions_dir,
                   "Directory of functions to register at start (one folder each)")
      ->envname("SWITCHYARD_FUNCTIONS_DIR");
  serve_cmd->add_option("--data-dir", serve.data_dir, "Where function code is kept")
      ->envname("SWITCHYARD_DATA_DIR");
  serve_cmd->add_option("--port-file", serve.port_file, "Write the bound port to this file");
  serve_cmd
      ->add_option("--read-timeout-ms", serve.read_timeout_ms,
                   "Deadline for reading one request (and keep-alive idle limit)")
      ->envname("SWITCHYARD_READ_TIMEOUT_MS");

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
    if (*serve_cmd) return orch::RunServeCommand(serve, std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "switchyard: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
