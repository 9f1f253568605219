#pragma once
// A function's configuration, as Lambda names its fields, and the loader for a directory of
// functions (DIR/<name>/function.json plus code). Plain values; no thread model to speak of.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace switchyard::invoker {

inline constexpr int64_t kMinMemoryMb = 128;
inline constexpr int64_t kMaxMemoryMb = 10240;
inline constexpr int64_t kDefaultTimeoutSeconds = 3;
inline constexpr int64_t kMaxTimeoutSeconds = 900;
inline constexpr std::size_t kMaxEnvironmentBytes = 4096;

struct FunctionConfig {
  std::string function_name;  // [a-zA-Z0-9-_]{1,64}
  std::string code_dir;       // absolute task root (LAMBDA_TASK_ROOT); a zip is unpacked here
  std::string runtime;        // python3.x | nodejs* | provided* | native | http
  std::string handler;        // "module.function" (python, node); unused by provided/native/http
  int64_t memory_size_mb = kMinMemoryMb;
  int64_t timeout_seconds = kDefaultTimeoutSeconds;
  std::map<std::string, std::string> environment;  // Environment.Variables
  std::optional<int64_t> reserved_concurrency;     // nullopt = unreserved; 0 = disabled
  std::string description;
  std::string url;  // runtime "http" only: the event is POSTed here
  // The function's layers merged into one directory (what Lambda extracts to /opt); empty =
  // none. The process sees it read-only at /opt in a mount namespace of its own when the host
  // allows (InvokerOptions::layers_at_opt), with Lambda's variables: PATH (/opt/bin), PYTHONPATH
  // (/opt/python/lib/python3.*/site-packages, /opt/python), NODE_PATH, LD_LIBRARY_PATH and
  // SWITCHYARD_LAYERS_DIR=/opt; else they point into this directory. The invoker only reads it;
  // whoever builds it keeps it (it is shared between functions).
  std::string layers_dir;
  // DeadLetterConfig.TargetArn (an SQS queue or SNS topic ARN; empty = none): where an Event
  // invocation of this version that fails for good sends its event.
  std::string dead_letter_target_arn;
  // Set by LoadFunctionConfig when it unpacked the zip into a temporary directory it created
  // (code_dir lies inside it); empty otherwise. An Invoker that registers the config takes
  // ownership: it removes the directory once no registered version of any Invoker uses it any
  // more (replaced or deleted, and no invocation in flight) and at the latest when it is
  // destroyed. A config that is never registered leaves it to the caller (RemoveUnpackedCode).
  std::string unpacked_root;
};

// Removes config.unpacked_root (if set) and clears it. For callers that load a config but do
// not register it.
void RemoveUnpackedCode(FunctionConfig* config);

// Checks what Lambda enforces: name pattern, memory 128–10240 MB, timeout 1–900 s, environment
// ≤ 4 KB with keys [a-zA-Z][a-zA-Z0-9_]* that are not reserved, reserved concurrency ≥ 0, a known
// runtime and a handler where the runtime needs one. Returns an empty string when valid, else
// the reason (one sentence naming the field).
std::string CheckFunctionConfig(const FunctionConfig& config);

// Reads DIR/function.json ({"Runtime","Handler","Timeout","MemorySize","Description",
// "ReservedConcurrentExecutions","Environment":{"Variables":{...}},"Url","FunctionName"?}).
// The function name is "FunctionName" or else the folder's name; the code is the folder itself,
// or, when DIR holds function.zip (or "ZipFile": "x.zip"), that zip unpacked under
// `unpack_root` (a fresh temporary directory when empty, recorded in unpacked_root; it is
// removed again when loading fails). Returns nullopt and sets `error`
// (naming the file) when unreadable, malformed or invalid per CheckFunctionConfig.
std::optional<FunctionConfig> LoadFunctionConfig(const std::string& dir, std::string* error,
                                                 const std::string& unpack_root = {});

// Loads every subfolder of `dir` that holds a function.json, sorted by name. Folders that fail
// to load are reported in `errors` ("<folder>: <reason>") and skipped.
std::vector<FunctionConfig> LoadFunctionsDirectory(const std::string& dir,
                                                   std::vector<std::string>* errors);

// Unpacks a zip archive into `dest_dir` (created if missing), keeping the executable bit.
// Rejects entries that would escape dest_dir. Returns an empty string or the reason.
std::string UnpackZip(const std::string& zip_path, const std::string& dest_dir);

}  // namespace switchyard::invoker
