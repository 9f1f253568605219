#include "logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>
#include <thread>

#include "switchyard/asl/json.hpp"

namespace switchyard::orchestrator {
namespace {

// How long the writer gathers lines after writing some: a server logging every request then
// writes them together, without a wake-up per line (a line waits at most this long).
constexpr auto kGather = std::chrono::milliseconds(2);
// Lines queued beyond this are written at once; beyond kMaxPending a logging thread waits for
// the writer (a line asked for is a line written, and memory stays bounded).
constexpr std::size_t kFlushBytes = 256 * 1024;
constexpr std::size_t kMaxPending = 4 * 1024 * 1024;

std::atomic<bool> g_json{false};
std::atomic<bool> g_configured{false};  // ConfigureLogging ran: lines go to Writer()

void WriteAll(std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // standard error is gone: nothing to tell anyone
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Where every line goes: one buffer, written to standard error by one thread in as few write
// calls as it can (so a request never waits for the terminal, and a busy server does not pay a
// thread wake-up and a write per line). Before Start and after Stop, Append writes at once.
// Thread-safe.
class LineWriter {
 public:
  void Start() {
    std::lock_guard lock(mu_);
    if (running_) return;
    running_ = true;
    stop_ = false;
    thread_ = std::thread([this] { Loop(); });
  }

  // Writes what is queued and returns to writing each line at once.
  void Stop() {
    std::thread thread;
    {
      std::lock_guard lock(mu_);
      if (!running_) return;
      stop_ = true;
      thread = std::move(thread_);
    }
    wake_.notify_all();
    thread.join();
  }

  // `line` ends with its newline. `urgent` (warnings and errors): written without gathering.
  void Append(std::string_view line, bool urgent) {
    std::unique_lock lock(mu_);
    if (!running_) {
      WriteAll(line);
      return;
    }
    room_.wait(lock, [&] { return pending_.size() < kMaxPending || !running_; });
    if (!running_) {
      WriteAll(line);
      return;
    }
    pending_.append(line);
    const bool notify = idle_ || (urgent && !urgent_) || pending_.size() >= kFlushBytes;
    if (urgent) urgent_ = true;
    if (notify) idle_ = false;
    lock.unlock();
    if (notify) wake_.notify_one();
  }

 private:
  void Loop() {
    std::string out;
    std::unique_lock lock(mu_);
    for (;;) {
      idle_ = true;
      wake_.wait(lock, [&] { return stop_ || !pending_.empty(); });
      idle_ = false;
      if (pending_.empty()) break;  // stopping, all written
      out.swap(pending_);
      urgent_ = false;
      lock.unlock();
      room_.notify_all();
      WriteAll(out);
      out.clear();
      lock.lock();
      // More lines usually follow (a busy server logs every request): gather them.
      wake_.wait_for(lock, kGather,
                     [&] { return stop_ || urgent_ || pending_.size() >= kFlushBytes; });
    }
    running_ = false;
    room_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable wake_;  // the writer waits here
  std::condition_variable room_;  // loggers wait here when pending_ is full
  std::string pending_;           // Guarded by mu_.
  bool running_ = false;          // Guarded by mu_.
  bool stop_ = false;             // Guarded by mu_.
  bool idle_ = false;             // Guarded by mu_. The writer waits with nothing to write.
  bool urgent_ = false;           // Guarded by mu_.
  std::thread thread_;            // Guarded by mu_.
};

// Never destroyed: lines logged while the process exits still have somewhere to go.
LineWriter& Writer() {
  static LineWriter* writer = new LineWriter;
  return *writer;
}

spdlog::level::level_enum ToSpd(LogLevel level) {
  return static_cast<spdlog::level::level_enum>(static_cast<int>(level));
}

// %* : spdlog's free-text message, escaped into "msg" (json) or plain (text). (LogLine's
// structured lines do not go through spdlog: see AppendPrefix.)
class MessageFlag : public spdlog::custom_flag_formatter {
 public:
  explicit MessageFlag(bool json) : json_(json) {}
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    if (json_) {
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

// spdlog's lines (spdlog::info(...) anywhere) formatted on the caller's thread and handed to the
// writer, so they keep their order with LogLine's.
class WriterSink : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    Writer().Append(std::string_view(formatted.data(), formatted.size()),
                    msg.level >= spdlog::level::warn);
  }
  void flush_() override {}
};

// The line's start, as the formatters above write it: "2026-11-27T14:50:01.123Z info " (text)
// or {"time":"2026-11-27T14:50:01.123456Z","level":"info", (json).
void AppendPrefix(std::string& out, LogLevel level, bool json) {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  // The date and time of day change once a second: kept per thread.
  thread_local time_t cached_second = -1;
  thread_local char cached[64];
  if (now.tv_sec != cached_second) {
    std::tm tm{};
    gmtime_r(&now.tv_sec, &tm);
    std::snprintf(cached, sizeof cached, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    cached_second = now.tv_sec;
  }
  const auto level_name = spdlog::level::to_string_view(ToSpd(level));
  char fraction[8];
  const long micros = now.tv_nsec / 1000;
  if (json) {
    out += "{\"time\":\"";
    out += cached;
    fraction[0] = '.';
    long rest = micros;
    for (int i = 6; i >= 1; --i, rest /= 10) fraction[i] = static_cast<char>('0' + rest % 10);
    out.append(fraction, 7);
    out += "Z\",\"level\":\"";
    out.append(level_name.data(), level_name.size());
    out += "\",";
  } else {
    out += cached;
    long millis = micros / 1000;
    fraction[0] = '.';
    for (int i = 3; i >= 1; --i, millis /= 10) fraction[i] = static_cast<char>('0' + millis % 10);
    out.append(fraction, 4);
    out += "Z ";
    out.append(level_name.data(), level_name.size());
    out += ' ';
  }
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
  Writer().Start();
  auto sink = std::make_shared<WriterSink>();
  sink->set_formatter(MakeFormatter(json));
  auto logger = std::make_shared<spdlog::logger>("switchyard", std::move(sink));
  logger->set_level(ToSpd(parsed));
  spdlog::set_default_logger(std::move(logger));
  g_configured = true;
  return {};
}

void StopLogging() { Writer().Stop(); }

bool LogEnabled(LogLevel level) { return spdlog::default_logger_raw()->should_log(ToSpd(level)); }

LogLine::LogLine(std::string_view event) : json_(g_json) {
  text_.reserve(192);
  if (json_) {
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
  if (json_) {
    text_.push_back(',');
    asl::AppendJsonString(text_, key);
    text_.push_back(':');
  } else {
    text_.push_back(' ');
    text_.append(key);
    text_.push_back('=');
  }
  // "%.3f" without snprintf (which costs microseconds, once per request line).
  if (decimals == 3 && value > -1e12 && value < 1e12) {
    const long long thousandths = std::llround(value * 1000);
    const unsigned long long magnitude =
        static_cast<unsigned long long>(thousandths < 0 ? -thousandths : thousandths);
    if (std::signbit(value)) text_.push_back('-');  // as printf: -0.0004 is "-0.000"
    text_ += std::to_string(magnitude / 1000);
    const auto rest = static_cast<unsigned>(magnitude % 1000);
    const char digits[4] = {'.', static_cast<char>('0' + rest / 100),
                            static_cast<char>('0' + rest / 10 % 10),
                            static_cast<char>('0' + rest % 10)};
    text_.append(digits, 4);
    return *this;
  }
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  text_ += buffer;
  return *this;
}

void LogLine::Emit(LogLevel level) {
  if (!LogEnabled(level)) return;
  if (!g_configured) {
    // Not configured (a test, `switchyard run`): spdlog's own logger.
    spdlog::default_logger_raw()->log(ToSpd(level), std::string_view(text_));
    return;
  }
  std::string line;
  line.reserve(text_.size() + 64);
  AppendPrefix(line, level, json_);
  line += text_;
  line += json_ ? "}\n" : "\n";
  Writer().Append(line, level >= LogLevel::kWarn);
}

}  // namespace switchyard::orchestrator
