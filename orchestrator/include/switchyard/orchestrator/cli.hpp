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
  std::optional<std::string> name;        // --name (default: a generated UUID)
  std::string type = "STANDARD";          // --type STANDARD|EXPRESS
  bool json = false;
  bool history = false;  // --history (or SWITCHYARD_RUN_HISTORY=1)
  bool fast_timers = false;
  std::string functions_dir;  // --functions DIR
};
// Exit 0 SUCCEEDED, 1 FAILED/TIMED_OUT/ABORTED, 2 invalid definition or usage, or a request
// AWS would refuse before the execution starts (a bad name, an input over 256 KiB).
int RunRunCommand(const RunOptions& options, std::ostream& out, std::ostream& err);

struct InvokeOptions {
  std::string functions_dir;             // --functions DIR (one folder per function)
  std::string function_name;             // NAME or NAME:QUALIFIER
  std::optional<std::string> payload;    // --payload JSON (default {})
  std::string type = "RequestResponse";  // --type Event|RequestResponse|DryRun
  bool log_tail = false;                 // --log-tail: the last 4 KB of the log on stderr
};
// Prints the response payload; an Event invocation's steps go to stderr as they happen.
// Exit 0 success, 1 function error (also an Event invocation that finally failed) or
// throttle/environment error, 2 usage (bad type, unknown function or qualifier, payload not
// JSON or too large).
int RunInvokeCommand(const InvokeOptions& options, std::ostream& out, std::ostream& err);

// Where the database is: --database-url (else $SWITCHYARD_DATABASE_URL), else the embedded
// cluster in --data-dir (default: $XDG_DATA_HOME/switchyard, ~/.local/share/switchyard, or
// /var/lib/switchyard for root).
struct DatabaseOptions {
  std::optional<std::string> database_url;  // --database-url URL
  std::optional<std::string> data_dir;      // --data-dir DIR
};

struct MigrateOptions {
  DatabaseOptions database;
};
// Applies the migrations compiled into the binary. Exit 0 applied or already up to date, 1 when a
// migration or the database fails.
int RunMigrateCommand(const MigrateOptions& options, std::ostream& out, std::ostream& err);

struct ServeOptions {
  DatabaseOptions database;
  bool no_migrate = false;    // --no-migrate
  std::string functions_dir;  // --functions DIR / SWITCHYARD_FUNCTIONS_DIR: registered at start
  // --functions-store DIR / SWITCHYARD_FUNCTIONS_STORE: where functions' code is unpacked
  // (default <data-dir>/functions of the embedded cluster, else <default data dir>/functions).
  std::string functions_store;
  std::string bind_address = "127.0.0.1";  // --bind / SWITCHYARD_BIND
  uint16_t port = 8083;                    // --port / SWITCHYARD_PORT (0 = any free port)
  std::string credentials_file;            // --credentials-file / SWITCHYARD_CREDENTIALS_FILE
  std::string port_file;                   // --port-file: the bound port is written there
  int64_t read_timeout_ms = 60000;         // --read-timeout-ms / SWITCHYARD_READ_TIMEOUT_MS
  // --retention-days / SWITCHYARD_RETENTION_DAYS: finished executions are purged after this
  // many days (0 keeps them forever).
  double retention_days = 90;
  std::string log_level = "info";   // --log-level / SWITCHYARD_LOG_LEVEL (trace..off)
  std::string log_format = "text";  // --log-format / SWITCHYARD_LOG_FORMAT (text|json)
  int64_t lease_ms = 10000;         // --lease-ms / SWITCHYARD_LEASE_MS (work leases)
  // --shutdown-grace-seconds / SWITCHYARD_SHUTDOWN_GRACE_SECONDS: after SIGTERM, how long work
  // in flight (requests, tasks, invocations) may take to finish; then the function processes
  // still running are killed and their work goes back to the queue, as after a crash.
  double shutdown_grace_seconds = 30;
};
// Resolves the database (starting the embedded cluster when no URL is given), migrates unless
// --no-migrate, runs the engine and the HTTP API until SIGINT or SIGTERM, then stops what it
// started (the API first, finishing requests in flight). Exit 0 after a signal, 1 when the
// database cannot be reached or migrated, 2 for unusable flags (credentials, bind address).
int RunServeCommand(const ServeOptions& options, std::ostream& out, std::ostream& err);

// `state-machine create|update|describe|list|delete`, `execution start|describe|list|history|
// stop`, `task send-success|send-failure|send-heartbeat`: calls on the engine's database (a
// running `serve` does the work). `command` names the pair, e.g. "execution start".
struct EngineCommandOptions {
  std::string command;
  DatabaseOptions database;  // as serve's: the same database
  std::string name;          // state machine name (or ARN) / execution name
  std::string definition_file;
  std::string type = "STANDARD";
  std::string role_arn;
  std::string state_machine;  // execution start|list
  std::optional<std::string> input;
  std::optional<std::string> input_file;
  bool wait = false;  // execution start --wait: until it ends, then describe it
  int64_t wait_seconds = 300;
  std::string execution_arn;
  std::string status;  // execution list --status-filter
  int64_t max_items = 100;
  bool reverse = false;  // execution history --reverse-order
  std::string error;
  std::string cause;
  std::string token;
  std::string output = "{}";
};
// Exit 0 done (execution start --wait: SUCCEEDED), 1 an AWS error (printed) or an execution
// that did not succeed, 2 usage or an unreachable database.
int RunEngineCommand(const EngineCommandOptions& options, std::ostream& out, std::ostream& err);

// Reads a whole file ("-" = standard input). Returns nullopt and sets `error` when unreadable.
std::optional<std::string> ReadTextFile(const std::string& path, std::string* error);

}  // namespace switchyard::orchestrator
