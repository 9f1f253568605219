#pragma once
// The function invoker: runs functions the way AWS Lambda does. Process runtimes (python3.x,
// nodejs*, provided*) run as child processes that speak the Lambda Runtime API to a loopback
// server; `native` functions are C++ callables registered by the embedder.
//
// Thread model: Invoker is thread-safe. Invoke() blocks the calling thread until the invocation
// ends (it never runs on an internal I/O thread, so orchestrator workers may call it directly);
// InvokeAsync() returns at once and calls its callback exactly once on an invoker-owned thread.
// Internally: one I/O thread serves the Runtime API for every execution environment, one thread
// per environment drains its stdout/stderr, and one thread runs the asynchronous (Event) queue.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "switchyard/invoker/event_queue.hpp"
#include "switchyard/invoker/function_config.hpp"

namespace switchyard::invoker {

inline constexpr std::size_t kMaxSyncPayloadBytes = std::size_t{6} * 1024 * 1024;
inline constexpr std::size_t kMaxAsyncPayloadBytes = std::size_t{1024} * 1024;
inline constexpr std::size_t kLogTailBytes = 4096;

enum class InvocationType { kRequestResponse, kEvent, kDryRun };

// "RequestResponse" | "Event" | "DryRun" → the type; nullopt for anything else.
std::optional<InvocationType> ParseInvocationType(const std::string& text);

struct InvokeRequest {
  std::string function_name;  // "name", "name:qualifier", or a Lambda function ARN
  std::string qualifier;      // optional; "$LATEST" when empty
  std::string payload = "{}";
  InvocationType type = InvocationType::kRequestResponse;
  bool log_tail = false;       // X-Amz-Log-Type: Tail (sync only)
  std::string client_context;  // JSON, delivered as Lambda-Runtime-Client-Context
  std::string trace_id;        // delivered as Lambda-Runtime-Trace-Id
  // The invocation's request id (Lambda-Runtime-Aws-Request-Id, NativeContext::request_id);
  // empty = a new UUID. A caller that may deliver the same invocation again passes a stable id
  // so that the function can deduplicate.
  std::string request_id;
  // The caller's own deadline (e.g. a Task state's TimeoutSeconds). When it passes first the
  // environment is killed and the result is kDeadlineExceeded. nullopt = only the function's
  // timeout applies.
  std::optional<std::chrono::steady_clock::time_point> deadline;
};

enum class InvokeStatus {
  kOk,                // the function ran (or was queued / dry-run); see function_error
  kNotFound,          // 404 ResourceNotFoundException
  kInvalidRequest,    // 400 InvalidRequestContentException / InvalidParameterValueException
  kTooLarge,          // 413 RequestTooLargeException
  kThrottled,         // 429 TooManyRequestsException, "Rate Exceeded."
  kEnvironmentError,  // 502: the execution environment could not be created
  kDeadlineExceeded,  // the caller's deadline passed before the function finished
};

struct InvokeResult {
  InvokeStatus status = InvokeStatus::kOk;
  int status_code = 200;  // 200 sync, 202 Event, 204 DryRun; else the API error's HTTP status
  // kOk: the function's response bytes, or its error JSON when function_error is set.
  // Otherwise the AWS error body {"Type":"User"|"Service","message":...[,"Reason":...]}.
  std::string payload;
  std::string function_error;  // "" | "Unhandled" | "Handled" (X-Amz-Function-Error)
  // With function_error: the error's type (e.g. "Exception", "Sandbox.Timedout",
  // "Runtime.ExitError"). Otherwise the API exception name (e.g. "TooManyRequestsException").
  std::string error_type;
  std::string executed_version;  // X-Amz-Executed-Version
  std::string log_result;        // base64 of the last 4 KB of the log, when log_tail was asked
  std::string request_id;
  // The invoker was abandoning its work (Invoker::AbandonRunning) and killed this invocation's
  // runtime, or refused to start it: nothing about it should be recorded, as after a crash.
  bool abandoned = false;
};

// The outcome a native function returns: a response payload, or an error whose payload is the
// error JSON ({"errorMessage","errorType"}) and whose error_type names it.
struct NativeOutcome {
  std::string payload;
  std::string error_type;  // empty = success
};
struct NativeContext {
  std::string request_id;
  std::string function_name;
  std::chrono::steady_clock::time_point deadline;
};
// Called on the invoking thread (or the async queue's thread). Must be thread-safe if the
// function may run concurrently.
using NativeFunction =
    std::function<NativeOutcome(const std::string& payload, const NativeContext& context)>;

// Where InvokeAsync runs a native function. kMayBlock: on a thread of the invoker's own (the
// function may sleep, wait on I/O or run for long). kNonBlocking: the function promises to
// return at once (it only computes or hands its work on), so InvokeAsync calls it, and the
// completion callback, on the calling thread: no thread wake per invocation. A kNonBlocking
// function that blocks stalls its caller (for the engine, the thread starting tasks).
enum class NativeMode { kMayBlock, kNonBlocking };

// Receives every invocation's complete log (START … REPORT). Called on the invoking thread.
using LogSink = std::function<void(const std::string& function_name, const std::string& request_id,
                                   const std::string& log)>;

// Receives the outcome of every synchronous invocation of a function that exists (the Invoke
// API, Task states, each attempt of an Event invocation): the function's name without qualifier,
// and its result (kOk with or without function_error, kThrottled, kEnvironmentError,
// kDeadlineExceeded). Queued (Event), dry-run and refused requests are not reported. Called on
// the invoking thread; must be thread-safe.
using ResultSink =
    std::function<void(const std::string& function_name, const InvokeResult& result)>;

// An async (Event) invocation's final outcome, as Lambda's destination record describes it.
struct AsyncDelivery {
  std::string destination;  // the configured destination or "dead-letter"
  std::string record;       // destination record JSON (version 1.0), or the original event for DLQ
  std::string request_id;   // the event's
  std::string function_name;  // the function the event was for
  bool success = false;       // the record is an on-success record
};
using AsyncSink = std::function<void(const AsyncDelivery& delivery)>;

// One step of an async (Event) invocation's life, reported as it happens.
struct AsyncProgress {
  std::string request_id;
  std::string function_name;
  int attempt = 0;       // attempts made so far (0 when the event ended without running)
  int max_attempts = 0;  // 1 + MaximumRetryAttempts
  // "succeeded" | "failed" (the function ran and failed) | "not run" (throttled or no
  // environment; does not count as an attempt) | "" (the event ended before running it)
  std::string outcome;
  std::string error_type;  // with "failed" / "not run": why
  // The next attempt's due time on the async clock, when there will be one.
  std::optional<AsyncClock::time_point> retry_at;
  // Set when the event is done: "Success", "RetriesExhausted", "EventAgeExceeded" or
  // "ZeroReservedConcurrency", and where its record went (destination names, "dead-letter").
  std::string final_condition;
  std::vector<std::string> delivered_to;
};
using AsyncProgressSink = std::function<void(const AsyncProgress& progress)>;

// Event invoke configuration (PutFunctionEventInvokeConfig).
struct EventInvokeConfig {
  int maximum_retry_attempts = 2;             // 0–2
  int64_t maximum_event_age_seconds = 21600;  // 60–21600
  std::string on_success;                     // destination name; empty = none
  std::string on_failure;
  // Send failed events to the sink's "dead-letter" destination when the function version has no
  // DeadLetterConfig (FunctionConfig::dead_letter_target_arn, which takes precedence).
  bool dead_letter = false;
};

struct InvokerOptions {
  std::string runtimes_dir;  // holds python/bootstrap.py, node/bootstrap.js; empty = built-in
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  int64_t max_concurrency = 1000;  // environments busy at once, all functions together
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(10)};  // reap idle environments
  std::chrono::milliseconds init_timeout{std::chrono::seconds(10)};  // Lambda's init limit
  LogSink log_sink;                                                  // optional
  ResultSink result_sink;                                            // optional
  AsyncSink async_sink;  // optional; receives destination records and dead letters
  // Optional; called on the async thread after each attempt and when an event is done.
  AsyncProgressSink async_progress;
  // Async retry delays (Lambda: 1 min before the 2nd attempt, 2 min before the 3rd); tests
  // shorten them.
  std::chrono::milliseconds async_retry_base{std::chrono::minutes(1)};
  // The async queue's clock (event age, retry due times); system_clock::now when empty. Must
  // be thread-safe. Function timeouts always use the real steady clock.
  std::function<AsyncClock::time_point()> clock;
  // Where Event invocations wait; an InMemoryEventQueue when null. Shared so that an embedder
  // can keep a handle on its durable queue.
  std::shared_ptr<EventQueue> event_queue;
  // A function's layers (FunctionConfig::layers_dir) are bind-mounted read-only at /opt in a
  // mount namespace of the runtime process's own, as Lambda shows them, when the host allows
  // it (probed once; else, or when false, the process reaches them through the environment
  // variables only: see FunctionConfig::layers_dir).
  bool layers_at_opt = true;
};

class Invoker {
 public:
  explicit Invoker(InvokerOptions options);
  ~Invoker();  // kills every environment and waits for them; drops queued events

  // The end of a shutdown's grace: kills the runtime processes of the invocations in flight
  // and refuses new ones, all answered with `abandoned` set. An Event invocation so abandoned
  // is neither retried nor sent to a destination here: its durable queue's lease, released
  // when the queue goes, makes another node (or the next start) run it, as after a crash.
  // Irreversible. Thread-safe.
  void AbandonRunning();
  // A shutdown with a grace: no more Event invocations are started; waits until the invocations
  // in flight (Event ones included) have finished or `until` has passed, then AbandonRunning.
  void Drain(std::chrono::steady_clock::time_point until);
  Invoker(const Invoker&) = delete;
  Invoker& operator=(const Invoker&) = delete;

  // Adds or replaces $LATEST of a function. Returns an empty string or the validation error.
  // Replacing retires the function's idle environments.
  std::string RegisterFunction(const FunctionConfig& config);
  // Registers a native function (runtime "native"; config.runtime is forced to it).
  std::string RegisterNative(FunctionConfig config, NativeFunction function,
                             NativeMode mode = NativeMode::kMayBlock);
  // Removes a function with its versions, aliases and settings (Lambda's DeleteFunction). Idle
  // environments stop now; invocations in flight finish, and their environments are not reused.
  // Code unpacked for it goes once nothing uses it. Returns false when no such function exists.
  bool DeleteFunction(const std::string& function_name);
  // Removes the published versions not in `versions` and the aliases not in `aliases` (Lambda's
  // DeleteFunction with a Qualifier, DeleteAlias), with their settings and idle environments:
  // invoking one is then ResourceNotFoundException. No-op for an unknown function.
  void RetainQualifiers(const std::string& function_name, const std::set<std::string>& versions,
                        const std::set<std::string>& aliases);
  // Snapshots $LATEST as the next version number ("1", "2", ...). Returns it, or "" if unknown.
  std::string PublishVersion(const std::string& function_name);
  // Installs a published version under a given number (restoring versions kept elsewhere, e.g.
  // in a database): `config` is that version's configuration and code. Later PublishVersion
  // calls number past it. Returns an empty string or the validation error.
  std::string RegisterVersion(const FunctionConfig& config, const std::string& version);
  // Points alias `alias` at `version`; with `additional_version_weights` (Lambda's
  // RoutingConfig.AdditionalVersionWeights, version -> weight 0..1, at most one entry) each
  // invocation of the alias runs that version with its weight, else `version`. Returns an
  // empty string or the reason.
  std::string CreateAlias(const std::string& function_name, const std::string& alias,
                          const std::string& version,
                          const std::map<std::string, double>& additional_version_weights = {});
  // The event invoke configuration for invocations of `qualifier` ("" or "$LATEST" = the
  // unqualified function, a version number, or an alias name). Invocations of a qualifier
  // without one use the defaults (2 retries, 6 hours).
  void PutEventInvokeConfig(const std::string& function_name, EventInvokeConfig config,
                            const std::string& qualifier = {});
  // Keeps `count` environments of `version` ("" = $LATEST, or a published version number)
  // started and warm (0 = none). Provisioned environments are started by the invoker's
  // maintenance thread (within about 200 ms) and kept from idle reaping.
  void SetProvisionedConcurrency(const std::string& function_name, int count,
                                 const std::string& version = {});
  // Provisioned environments of `version` ("" = $LATEST) that are started and idle or busy.
  int ProvisionedReady(const std::string& function_name, const std::string& version = {}) const;

  bool HasFunction(const std::string& function_name) const;
  std::vector<std::string> FunctionNames() const;

  // Runs one invocation and blocks until it ends. Never throws for function or API errors:
  // they come back in the result.
  InvokeResult Invoke(const InvokeRequest& request);
  // As Invoke, but returns at once; `done` is called exactly once, on an invoker thread.
  void InvokeAsync(InvokeRequest request, std::function<void(InvokeResult)> done);

  // Stops idle environments unused for longer than idle_timeout. Called periodically by the
  // invoker; exposed for tests. Returns how many were stopped.
  int ReapIdle();
  // Number of live execution environments of a function (busy or idle).
  int EnvironmentCount(const std::string& function_name) const;
  // Waits until the async queue is empty and no async invocation runs (tests, shutdown).
  // With an injected clock, retries wait for that clock: advance it or this blocks.
  void DrainAsync();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace switchyard::invoker
