#include "engine/scheduler.hpp"

#include <rapidjson/document.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>

#include "store/queue_store.hpp"
#include "switchyard/orchestrator/engine.hpp"

namespace switchyard::orchestrator {
namespace {

uint64_t Fnv1a(const std::string& text, uint64_t seed) {
  uint64_t hash = 1469598103934665603ULL ^ seed;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

// A UUID-shaped id that is the same on every node for the same schedule and occurrence.
std::string FiringId(const std::string& schedule_arn, double occurrence) {
  const std::string key = schedule_arn + "@" + std::to_string(static_cast<int64_t>(occurrence));
  char text[40];
  const uint64_t high = Fnv1a(key, 0);
  const uint64_t low = Fnv1a(key, 0x9e3779b97f4a7c15ULL);
  std::snprintf(text, sizeof text, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(high >> 32),
                static_cast<unsigned>((high >> 16) & 0xffff), static_cast<unsigned>(high & 0xffff),
                static_cast<unsigned>(low >> 48),
                static_cast<unsigned long long>(low & 0xffffffffffffULL));
  return text;
}

std::string Member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return {};
  const auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

std::optional<double> NumberMember(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return std::nullopt;
  const auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsNumber()) return std::nullopt;
  return it->value.GetDouble();
}

const rapidjson::Value* ObjectMember(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  const auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsObject()) return nullptr;
  return &it->value;
}

struct TargetInfo {
  std::string arn;
  std::string input = "{}";  // AWS's templated Lambda / Step Functions targets take JSON
  int maximum_event_age_seconds = 86400;
  int maximum_retry_attempts = 185;
  std::string dead_letter_arn;
};

TargetInfo ReadTarget(const rapidjson::Value& target) {
  TargetInfo info;
  info.arn = Member(target, "Arn");
  if (target.IsObject() && target.HasMember("Input") && target["Input"].IsString()) {
    info.input = Member(target, "Input");
  }
  if (const rapidjson::Value* retry = ObjectMember(target, "RetryPolicy")) {
    if (auto age = NumberMember(*retry, "MaximumEventAgeInSeconds")) {
      info.maximum_event_age_seconds = static_cast<int>(*age);
    }
    if (auto attempts = NumberMember(*retry, "MaximumRetryAttempts")) {
      info.maximum_retry_attempts = static_cast<int>(*attempts);
    }
  }
  if (const rapidjson::Value* dlq = ObjectMember(target, "DeadLetterConfig")) {
    info.dead_letter_arn = Member(*dlq, "Arn");
  }
  return info;
}

double RandomOffset(int minutes) {
  if (minutes <= 0) return 0;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::floor(std::uniform_real_distribution<double>(0, minutes * 60.0)(rng));
}

}  // namespace

double SchedulerNow() {
  const double wall =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const char* file = std::getenv("SWITCHYARD_TEST_CLOCK_OFFSET_FILE");
  if (file == nullptr || *file == '\0') return wall;
  std::ifstream in(file);
  double offset = 0;
  if (in >> offset && std::isfinite(offset)) return wall + offset;
  return wall;
}

std::string ScheduleArn(const std::string& region, const std::string& account,
                        const std::string& group, const std::string& name) {
  return "arn:aws:scheduler:" + region + ":" + account + ":schedule/" + group + "/" + name;
}

std::optional<ScheduleSpec> ParseScheduleSpec(const std::string& definition, std::string* error) {
  rapidjson::Document doc;
  doc.Parse(definition.c_str(), definition.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    *error = "the definition is not a JSON object";
    return std::nullopt;
  }
  ScheduleSpec spec;
  spec.expression_text = Member(doc, "ScheduleExpression");
  const auto expression = schedule::ParseExpression(spec.expression_text, error);
  if (!expression) return std::nullopt;
  spec.expression = *expression;
  if (std::string zone = Member(doc, "ScheduleExpressionTimezone"); !zone.empty()) {
    spec.timezone = zone;
  }
  spec.zone = schedule::FindZone(spec.timezone);
  if (spec.zone == nullptr) {
    *error = "unknown time zone " + spec.timezone;
    return std::nullopt;
  }
  spec.start_date = NumberMember(doc, "StartDate");
  spec.end_date = NumberMember(doc, "EndDate");
  if (std::string state = Member(doc, "State"); !state.empty()) spec.state = state;
  if (const rapidjson::Value* window = ObjectMember(doc, "FlexibleTimeWindow")) {
    if (Member(*window, "Mode") == "FLEXIBLE") {
      spec.flexible_window_minutes =
          static_cast<int>(NumberMember(*window, "MaximumWindowInMinutes").value_or(0));
    }
  }
  if (std::string action = Member(doc, "ActionAfterCompletion"); !action.empty()) {
    spec.action_after_completion = action;
  }
  const rapidjson::Value* target = ObjectMember(doc, "Target");
  if (target == nullptr) {
    *error = "the definition has no Target";
    return std::nullopt;
  }
  const TargetInfo info = ReadTarget(*target);
  spec.target_arn = info.arn;
  if (target->HasMember("Input")) spec.input = info.input;
  spec.maximum_event_age_seconds = info.maximum_event_age_seconds;
  spec.maximum_retry_attempts = info.maximum_retry_attempts;
  spec.dead_letter_arn = info.dead_letter_arn;
  return spec;
}

NextFiring ComputeNextFiring(const ScheduleSpec& spec, double anchor, double from) {
  const bool one_time = spec.expression.kind == schedule::Expression::Kind::kAt;
  double start = from;
  if (!one_time && spec.start_date) start = std::max(start, *spec.start_date);
  const auto to_seconds = [](double t) {
    return schedule::SysSeconds(std::chrono::seconds(static_cast<int64_t>(std::ceil(t))));
  };
  const auto next = schedule::NextOccurrence(
      spec.expression, spec.zone,
      schedule::SysSeconds(std::chrono::seconds(static_cast<int64_t>(std::floor(anchor)))),
      to_seconds(start));
  NextFiring out;
  if (!next) return out;
  const double at = static_cast<double>(next->time_since_epoch().count());
  if (!one_time && spec.end_date && at > *spec.end_date) return out;
  out.next_at = at;
  out.fire_at = at + RandomOffset(spec.flexible_window_minutes);
  return out;
}

store::FiringDecision DecideFiring(const store::ScheduleRow& row, double now,
                                   const std::string& region, const std::string& account) {
  store::FiringDecision decision;
  decision.schedule_arn = ScheduleArn(region, account, row.group_name, row.name);
  std::string error;
  const std::optional<ScheduleSpec> spec = ParseScheduleSpec(row.definition, &error);
  if (!spec || !row.next_at || spec->state != "ENABLED") {
    if (!spec) spdlog::warn("schedule={} unreadable, stopped: {}", decision.schedule_arn, error);
    return decision;  // next_at and fire_at cleared: it fires no more
  }
  const double occurrence = *row.next_at;
  NextFiring next;
  if (now - occurrence > spec->maximum_event_age_seconds) {
    // Older than the window: skipped; continue with the first occurrence inside it.
    const double from = std::max(occurrence + 1, now - spec->maximum_event_age_seconds);
    next = ComputeNextFiring(*spec, row.anchor_at, from);
    spdlog::info("schedule={} occurrence={:.0f} skipped: older than MaximumEventAgeInSeconds={}",
                 decision.schedule_arn, occurrence, spec->maximum_event_age_seconds);
  } else {
    decision.fire = true;
    decision.firing_id = FiringId(decision.schedule_arn, occurrence);
    // The definition as it was when the occurrence fired (its Target is what is delivered).
    decision.target = row.definition;
    next = ComputeNextFiring(*spec, row.anchor_at, occurrence + 1);
  }
  decision.next_at = next.next_at;
  decision.fire_at = next.fire_at;
  if (!next.next_at && spec->action_after_completion == "DELETE") decision.delete_schedule = true;
  return decision;
}

Scheduler::Scheduler(SchedulerOptions options) : options_(std::move(options)) {
  if (options_.node_id.empty()) {
    options_.node_id = "scheduler-" + std::to_string(::getpid()) + "-" +
                       std::to_string(std::random_device{}() % 100000);
  }
  store_ = std::make_unique<store::ScheduleStore>(options_.database_url);
}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Start() {
  stop_ = false;
  thread_ = std::thread([this] {
    while (!stop_) {
      int handled = 0;
      try {
        handled = RunOnce();
      } catch (const std::exception& e) {
        spdlog::warn("scheduler: round failed node={}: {}", options_.node_id, e.what());
      }
      if (handled > 0) continue;
      const auto until = std::chrono::steady_clock::now() +
                         std::chrono::milliseconds(static_cast<int>(options_.poll_seconds * 1000));
      while (!stop_ && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  });
}

void Scheduler::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

int Scheduler::RunOnce() {
  constexpr int kBatch = 32;
  const double now = SchedulerNow();
  int handled = store_->FireDue(now, kBatch, [&](const store::ScheduleRow& row) {
    return DecideFiring(row, now, options_.region, options_.account_id);
  });
  while (handled < 1000 && DeliverOne()) ++handled;
  return handled;
}

bool Scheduler::DeliverOne() {
  const double now = SchedulerNow();
  const std::optional<store::FiringRow> firing =
      store_->ClaimFiring(options_.node_id, now, options_.lease_seconds);
  if (!firing) return false;
  rapidjson::Document doc;
  doc.Parse(firing->target.c_str(), firing->target.size());
  TargetInfo target;
  if (!doc.HasParseError()) {
    if (const rapidjson::Value* t = ObjectMember(doc, "Target")) target = ReadTarget(*t);
  }
  std::string failure;
  const std::string& arn = target.arn;
  if (arn.rfind("arn:aws:lambda:", 0) == 0) {
    // arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
      const std::size_t colon = arn.find(':', start);
      parts.push_back(arn.substr(start, colon == std::string::npos ? colon : colon - start));
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
    if (parts.size() < 7 || parts[5] != "function") {
      failure = "ValidationException: not a function ARN: " + arn;
    } else {
      const std::string qualifier = parts.size() > 7 ? parts[7] : "";
      if (store_->DeliverToFunction(*firing, parts[6], qualifier, target.input)) {
        spdlog::info("schedule={} firing={} delivered target={}", firing->schedule_arn,
                     firing->firing_id, arn);
        return true;
      }
      failure = "ResourceNotFoundException: Function not found: " + arn;
    }
  } else if (arn.rfind("arn:aws:states:", 0) == 0 && options_.engine != nullptr) {
    auto started = options_.engine->StartExecution(arn, firing->firing_id, target.input);
    if (started.ok() || started.error().error == "ExecutionAlreadyExists") {
      store_->CompleteFiring(*firing);
      spdlog::info("schedule={} firing={} delivered target={}", firing->schedule_arn,
                   firing->firing_id, arn);
      return true;
    }
    failure = started.error().error + ": " + started.error().cause;
  } else if (arn.rfind("arn:aws:sqs:", 0) == 0 && options_.queues != nullptr) {
    // arn:aws:sqs:<region>:<account>:<queue>; a FIFO queue's group id from SqsParameters.
    std::string group;
    if (!doc.HasParseError()) {
      if (const rapidjson::Value* t = ObjectMember(doc, "Target")) {
        if (const rapidjson::Value* sqs = ObjectMember(*t, "SqsParameters")) {
          group = Member(*sqs, "MessageGroupId");
        }
      }
    }
    try {
      // The firing id deduplicates a repeated delivery of one firing on a FIFO queue.
      const auto sent = options_.queues->SendToQueue(arn.substr(arn.rfind(':') + 1), target.input,
                                                     group, firing->firing_id);
      if (sent.error.empty()) {
        store_->CompleteFiring(*firing);
        spdlog::info("schedule={} firing={} delivered target={}", firing->schedule_arn,
                     firing->firing_id, arn);
        return true;
      }
      failure = sent.error + ": " + sent.message;
    } catch (const std::exception& e) {
      failure = e.what();
    }
  } else {
    failure = "target not supported by Switchyard: " + arn;
  }
  const int attempts = firing->attempts + 1;
  if (attempts > target.maximum_retry_attempts ||
      now - firing->occurrence > target.maximum_event_age_seconds) {
    spdlog::warn("schedule={} firing={} dead-lettered dead_letter={}: {}", firing->schedule_arn,
                 firing->firing_id, target.dead_letter_arn, failure);
    if (target.dead_letter_arn.rfind("arn:aws:sqs:", 0) == 0 && options_.queues != nullptr) {
      // EventBridge Scheduler sends the target's input to the dead-letter queue.
      try {
        const std::string& dlq = target.dead_letter_arn;
        const auto sent = options_.queues->SendToQueue(dlq.substr(dlq.rfind(':') + 1), target.input,
                                                       {}, firing->firing_id);
        if (!sent.error.empty()) {
          spdlog::warn("schedule={} firing={} dead-letter queue {}: {} {}", firing->schedule_arn,
                       firing->firing_id, dlq, sent.error, sent.message);
        }
      } catch (const std::exception& e) {
        spdlog::warn("schedule={} firing={} dead-letter queue {}: {}", firing->schedule_arn,
                     firing->firing_id, target.dead_letter_arn, e.what());
      }
    }
    store_->DeadLetterFiring(*firing, arn, target.dead_letter_arn, target.input, failure);
  } else {
    const double backoff = std::min(60.0, std::pow(2.0, std::min(attempts - 1, 6)));
    spdlog::info("schedule={} firing={} attempt={} failed, retry in {}s: {}", firing->schedule_arn,
                 firing->firing_id, attempts, backoff, failure);
    store_->RetryFiring(*firing, attempts, now + backoff);
  }
  return true;
}

}  // namespace switchyard::orchestrator
