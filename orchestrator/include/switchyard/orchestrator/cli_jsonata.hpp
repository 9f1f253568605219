#pragma once
// `switchyard jsonata`: evaluates one JSONata expression, as a user does while writing a state
// machine.
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

namespace switchyard::orchestrator {

struct JsonataCliOptions {
  std::optional<std::string> expression;     // EXPRESSION
  std::optional<std::string> expr_file;      // --expr-file FILE
  std::optional<std::string> input;          // --input JSON
  std::optional<std::string> input_file;     // --input-file FILE
  std::optional<std::string> bindings;       // --bindings JSON (an object: name -> value)
  std::optional<std::string> bindings_file;  // --bindings-file FILE
  std::optional<int> max_depth;              // --max-depth N
  std::optional<int64_t> time_limit_ms;      // --time-limit-ms MS
  bool json = false;                         // --json
};

// Without --json: the result as JSON on `out` (nothing for undefined); an error on `err` with its
// code, position and message, exit 1. With --json: exactly one object on `out`: {"result": v},
// {"undefined": true} or {"error": {"code", "message", "position", "token"}} (exit 0 unless the
// command line itself is wrong). Bad options or unreadable files: message on `err`, exit 2.
int RunJsonataCommand(const JsonataCliOptions& options, std::ostream& out, std::ostream& err);

}  // namespace switchyard::orchestrator
