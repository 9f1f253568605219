#pragma once
// The process's logs on standard error, written by a background thread (so a request never
// waits for the terminal) that gathers the lines of up to 2 ms into one write (so a busy server
// pays neither a write nor a thread wake-up per line; warnings and errors go out at once), in
// one of two formats:
//   text: 2026-11-27T14:50:01.123Z info request method=POST operation=StartExecution status=200
//   json: {"time":"2026-11-27T14:50:01.123456Z","level":"info","event":"request","method":...}
// Every JSON line is one valid JSON object: user strings are escaped (ill-formed UTF-8 becomes
// U+FFFD); free-text lines from spdlog::info(...) elsewhere (spdlog's default logger, whose sink
// is the same writer) become {"msg": "..."}.
// Thread model: ConfigureLogging / StopLogging from the controlling thread; LogLine anywhere.
#include <cstdint>
#include <string>
#include <string_view>

namespace switchyard::orchestrator {

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kCritical, kOff };

// Installs the logger. `level`: trace, debug, info, warn, error, critical or off; `format`:
// text or json. Returns "" or what is wrong with them (nothing is changed then).
std::string ConfigureLogging(const std::string& level, const std::string& format);
// Writes what is queued and goes back to synchronous logging (call before exiting).
void StopLogging();
// True when a line at `level` would be written (check before building an expensive line).
bool LogEnabled(LogLevel level);

// One structured line: an event name and fields, written by Emit in the configured format.
// Build it only when LogEnabled(level).
class LogLine {
 public:
  explicit LogLine(std::string_view event);
  LogLine& Str(std::string_view key, std::string_view value);
  LogLine& Int(std::string_view key, int64_t value);
  LogLine& Num(std::string_view key, double value, int decimals = 3);
  void Emit(LogLevel level);

 private:
  bool json_;
  std::string text_;
};

}  // namespace switchyard::orchestrator
