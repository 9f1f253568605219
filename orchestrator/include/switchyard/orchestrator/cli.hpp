#pragma once
// The `switchyard` subcommands. Each takes its parsed options, writes to the given streams and
// returns the process exit status.
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace switchyard::orchestrator {

struct ValidateOptions {
  std::vector<std::string> files;  // "-" reads standard input
  bool json = false;
};
// Exit 0 when every file is valid, 1 when any is invalid, 2 when a file cannot be read.
int RunValidateCommand(const ValidateOptions& options, std::ostream& out, std::ostream& err);

struct RunOptions {
  std::string definition_file;
  std::optional<std::string> input;       // --input JSON
  std::optional<std::string> input_file;  // --input-file FILE
  std::string name;                       // --name (default: a generated UUID)
  bool json = false;
  bool history = false;
  bool fast_timers = false;
  std::string functions_dir;  // --functions DIR
};
// Exit 0 SUCCEEDED, 1 FAILED/TIMED_OUT/ABORTED, 2 invalid definition or usage.
int RunRunCommand(const RunOptions& options, std::ostream& out, std::ostream& err);

struct InvokeOptions {
  std::string functions_dir;             // --functions DIR (one folder per function)
  std::string function_name;             // NAME or NAME:QUALIFIER
  std::optional<std::string> payload;    // --payload JSON (default {})
  std::string type = "RequestResponse";  // --type Event|RequestResponse|DryRun
  bool log_tail = false;                 // --log-tail: the last 4 KB of the log on stderr
};
// Prints the response payload. Exit 0 success, 1 function error (or throttle/environment
// error), 2 usage (bad type, unknown function, payload not JSON or too large).
int RunInvokeCommand(const InvokeOptions& options, std::ostream& out, std::ostream& err);

struct ServeOptions {
  std::string bind_address = "127.0.0.1";  // --bind / SWITCHYARD_BIND
  uint16_t port = 8083;                    // --port / SWITCHYARD_PORT (0 = any free port)
  std::string credentials_file;            // --credentials-file / SWITCHYARD_CREDENTIALS_FILE
  std::string functions_dir;               // --functions-dir / SWITCHYARD_FUNCTIONS_DIR
  std::string data_dir;                    // --data-dir / SWITCHYARD_DATA_DIR
  std::string port_file;                   // --port-file: write the bound port there
  int64_t read_timeout_ms = 60000;         // --read-timeout-ms / SWITCHYARD_READ_TIMEOUT_MS
};
// Serves the AWS APIs until SIGINT or SIGTERM, then shuts down gracefully. Exit 0 after a clean
// stop, 2 when it cannot start (bad flags, unusable credentials, address in use).
int RunServeCommand(const ServeOptions& options, std::ostream& out, std::ostream& err);

// Reads a whole file ("-" = standard input). Returns nullopt and sets `error` when unreadable.
std::optional<std::string> ReadTextFile(const std::string& path, std::string* error);

}  // namespace switchyard::orchestrator
