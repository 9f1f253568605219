#include "logging.hpp"

#include <spdlog/async.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>
#include <memory>

#include "switchyard/asl/json.hpp"

namespace switchyard::orchestrator {
namespace {

// A structured line's payload starts with this byte; the formatter strips it (text) or copies
// the payload as JSON members (json). Anything else is free text.
constexpr char kStructured = '\x1e';

std::atomic<bool> g_json{false};
std::shared_ptr<spdlog::details::thread_pool> g_pool;  // owned here so StopLogging can drain it

spdlog::level::level_enum ToSpd(LogLevel level) {
  return static_cast<spdlog::level::level_enum>(static_cast<int>(level));
}

// %* : the message, as JSON members ("event":..,...) or escaped into "msg" (json), or plain.
class MessageFlag : public spdlog::custom_flag_formatter {
 public:
  explicit MessageFlag(bool json) : json_(json) {}
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string_view payload(msg.payload.data(), msg.payload.size());
    const bool structured = !payload.empty() && payload.front() == kStructured;
    if (structured) payload.remove_prefix(1);
    if (json_ && !structured) {
      std::string quoted;
      asl::AppendJsonString(quoted, payload);
      dest.append(std::string_view("\"msg\":"));
      dest.append(quoted);
      return;
    }
    dest.append(payload);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<MessageFlag>(json_);
  }

 private:
  bool json_;
};

std::unique_ptr<spdlog::formatter> MakeFormatter(bool json) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  formatter->add_flag<MessageFlag>('*', json);
  formatter->set_pattern(json ? R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%*})"
                              : "%Y-%m-%dT%H:%M:%S.%eZ %l %*");
  return formatter;
}

// Text values are bare when they are plain words, else quoted with JSON's escapes.
bool IsBare(std::string_view value) {
  if (value.empty()) return false;
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || u >= 0x7f || c == '"' || c == '=' || c == '\\') return false;
  }
  return true;
}

}  // namespace

std::string ConfigureLogging(const std::string& level, const std::string& format) {
  LogLevel parsed = LogLevel::kInfo;
  static constexpr const char* kNames[] = {"trace", "debug",    "info", "warn",
                                           "error", "critical", "off"};
  bool found = false;
  for (int i = 0; i < 7; ++i) {
    if (level == kNames[i] || (i == 3 && level == "warning")) {
      parsed = static_cast<LogLevel>(i);
      found = true;
    }
  }
  if (!found) {
    return "unknown log level '" + level + "' (trace, debug, info, warn, error, critical, off)";
  }
  if (format != "text" && format != "json") {
    return "unknown log format '" + format + "' (text, json)";
  }
  const bool json = format == "json";
  g_json = json;
  if (!g_pool) g_pool = std::make_shared<spdlog::details::thread_pool>(16384, 1);
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  sink->set_formatter(MakeFormatter(json));
  // Block rather than drop when the queue is full: a line asked for is a line written.
  auto logger = std::make_shared<spdlog::async_logger>("switchyard", std::move(sink), g_pool,
                                                       spdlog::async_overflow_policy::block);
  logger->set_level(ToSpd(parsed));
  logger->flush_on(spdlog::level::err);
  spdlog::set_default_logger(std::move(logger));
  return {};
}

void StopLogging() {
  if (!g_pool) return;
  auto old = spdlog::default_logger();
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  sink->set_formatter(MakeFormatter(g_json));
  auto logger = std::make_shared<spdlog::logger>("switchyard", std::move(sink));
  logger->set_level(old->level());
  spdlog::set_default_logger(std::move(logger));
  old.reset();
  // The pool's destructor writes what is queued, then joins its thread.
  g_pool.reset();
}

bool LogEnabled(LogLevel level) { return spdlog::default_logger_raw()->should_log(ToSpd(level)); }

LogLine::LogLine(std::string_view event) : json_(g_json) {
  text_.reserve(192);
  if (json_) {
    text_.push_back(kStructured);
    text_ += "\"event\":";
    asl::AppendJsonString(text_, event);
  } else {
    text_.append(event);
  }
}

LogLine& LogLine::Str(std::string_view key, std::string_view value) {
  if (json_) {
    text_.push_back(',');
    asl::AppendJsonString(text_, key);
    text_.push_back(':');
    asl::AppendJsonString(text_, value);
  } else {
    text_.push_back(' ');
    text_.append(key);
    text_.push_back('=');
    if (IsBare(value)) {
      text_.append(value);
    } else {
      asl::AppendJsonString(text_, value);
    }
  }
  return *this;
}

LogLine& LogLine::Int(std::string_view key, int64_t value) {
  if (json_) {
    text_.push_back(',');
    asl::AppendJsonString(text_, key);
    text_.push_back(':');
  } else {
    text_.push_back(' ');
    text_.append(key);
    text_.push_back('=');
  }
  text_ += std::to_string(value);
  return *this;
}

LogLine& LogLine::Num(std::string_view key, double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  if (json_) {
    text_.push_back(',');
    asl::AppendJsonString(text_, key);
    text_.push_back(':');
  } else {
    text_.push_back(' ');
    text_.append(key);
    text_.push_back('=');
  }
  text_ += buffer;
  return *this;
}

void LogLine::Emit(LogLevel level) {
  spdlog::default_logger_raw()->log(ToSpd(level), std::string_view(text_));
}

}  // namespace switchyard::orchestrator
