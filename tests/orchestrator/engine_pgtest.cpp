// The durable engine end to end on a real PostgreSQL: every state type, timers and retries across
// engine restarts, leases, fencing, callbacks, idempotent start, stop, Express vs Standard.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pg_fixture.hpp"
#include "store/execution_store.hpp"
#include "switchyard/asl/json.hpp"
#include "switchyard/orchestrator/engine.hpp"

namespace switchyard::orchestrator {
namespace {

namespace asl = switchyard::asl;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr milliseconds kWait{30000};

std::string Fn(const std::string& name) {
  return "arn:aws:lambda:us-east-1:000000000000:function:" + name;
}

// A machine of two Task states: T1 calls the function `first`, then T2 calls `second`.
std::string TwoTasks(const std::string& first, const std::string& second) {
  return R"({"StartAt": "T1", "States": {
      "T1": {"Type": "Task", "Resource": ")" +
         Fn(first) + R"(", "Next": "T2"},
      "T2": {"Type": "Task", "Resource": ")" +
         Fn(second) + R"(", "End": true}}})";
}

class EnginePgTest : public testing::PgTest {
 protected:
  void SetUp() override {
    testing::PgTest::SetUp();
    url_ = url();
  }

  EngineOptions Options() {
    EngineOptions options;
    options.database_url = url_;
    options.poll_interval = milliseconds(200);
    return options;
  }

  std::unique_ptr<Engine> NewEngine(EngineOptions options) {
    auto engine = Engine::Create(std::move(options));
    RegisterFunctions(*engine);
    return engine;
  }
  std::unique_ptr<Engine> NewEngine() { return NewEngine(Options()); }

  // Native functions every engine of a test gets.
  virtual void RegisterFunctions(Engine& engine) {
    // echo and double return at once: kNonBlocking, called on the thread that starts the
    // node's tasks; the others run on the invoker's threads.
    EXPECT_EQ(engine.RegisterNative(
                  "echo",
                  [](const std::string& payload, const invoker::NativeContext&) {
                    return invoker::NativeOutcome{payload, ""};
                  },
                  60, invoker::NativeMode::kNonBlocking),
              "");
    EXPECT_EQ(engine.RegisterNative(
                  "double",
                  [](const std::string& payload, const invoker::NativeContext&) {
                    auto doc = asl::ParseJson(payload);
                    int64_t n = doc && doc->IsInt64() ? doc->GetInt64() : 0;
                    return invoker::NativeOutcome{std::to_string(2 * n), ""};
                  },
                  60, invoker::NativeMode::kNonBlocking),
              "");
    EXPECT_EQ(engine.RegisterNative(
                  "flaky",
                  [this](const std::string& payload, const invoker::NativeContext& context) {
                    std::lock_guard<std::mutex> lock(mu_);
                    request_ids_.push_back(context.request_id);
                    if (++flaky_calls_ <= flaky_failures_) {
                      return invoker::NativeOutcome{
                          R"({"errorMessage":"not yet","errorType":"Flaky"})", "Flaky"};
                    }
                    return invoker::NativeOutcome{payload, ""};
                  }),
              "");
    EXPECT_EQ(engine.RegisterNative(
                  "capture",
                  [this](const std::string& payload, const invoker::NativeContext&) {
                    auto doc = asl::ParseJson(payload);
                    std::lock_guard<std::mutex> lock(mu_);
                    if (doc && asl::JsonFind(*doc, "token") != nullptr) {
                      tokens_.push_back(std::string(asl::JsonView(*asl::JsonFind(*doc, "token"))));
                    }
                    return invoker::NativeOutcome{"null", ""};
                  }),
              "");
    EXPECT_EQ(engine.RegisterNative("sleep",
                                    [](const std::string& payload, const invoker::NativeContext&) {
                                      std::this_thread::sleep_for(seconds(3));
                                      return invoker::NativeOutcome{payload, ""};
                                    }),
              "");
  }

  std::string Machine(Engine& engine, const std::string& name, const std::string& definition,
                      const std::string& type = "STANDARD") {
    auto created = engine.CreateStateMachine(name, definition, type);
    EXPECT_TRUE(created.ok()) << (created.ok() ? "" : created.error().cause);
    return created.ok() ? created->arn : "";
  }

  ExecutionInfo Run(Engine& engine, const std::string& machine, const std::string& input,
                    const std::string& name = "") {
    auto started = engine.StartExecution(machine, name, input);
    EXPECT_TRUE(started.ok()) << (started.ok() ? "" : started.error().cause);
    if (!started.ok()) return {};
    auto done = engine.WaitForExecution(started->execution_arn, kWait);
    EXPECT_TRUE(done.ok());
    return done.ok() ? *done : ExecutionInfo{};
  }

  // Starts an execution of a Task (echo) then a 100 s Wait, and returns its execution_states row
  // (execution_id, decision_count) once the task's decision wrote it ({0, 0}: it did not come).
  std::pair<int64_t, int64_t> StartTaskThenWait(Engine& engine, const std::string& name,
                                                std::string* execution_arn) {
    std::string machine = Machine(engine, name,
                                  R"({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": ")" +
                                      Fn("echo") + R"(", "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 100, "End": true}}})");
    auto started = engine.StartExecution(machine, name, "{}");
    EXPECT_TRUE(started.ok());
    if (!started.ok()) return {0, 0};
    *execution_arn = started->execution_arn;
    pqxx::connection connection(url_);
    for (int i = 0; i < 1000; ++i) {
      pqxx::nontransaction tx(connection);
      pqxx::result r = tx.exec("SELECT execution_id, decision_count FROM execution_states");
      if (!r.empty()) return {r[0][0].as<int64_t>(), r[0][1].as<int64_t>()};
      std::this_thread::sleep_for(milliseconds(10));
    }
    return {0, 0};
  }

  // Whether a backend of the cluster comes to wait for a lock (within ~10 s).
  bool SomeoneWaitsForALock() {
    pqxx::connection watcher(url_);
    for (int i = 0; i < 1000; ++i) {
      pqxx::nontransaction tx(watcher);
      if (tx.exec("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")[0][0]
              .as<int>() > 0) {
        return true;
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
    return false;
  }

  // The history's event types joined by ' ', after checking ids are 1..n and each previous id
  // is an earlier event.
  std::string History(Engine& engine, const std::string& execution_arn) {
    std::string types;
    std::string token;
    int64_t expected = 1;
    do {
      auto page = engine.GetExecutionHistory(execution_arn, 1000, token);
      EXPECT_TRUE(page.ok());
      if (!page.ok()) return "";
      for (const auto& event : page->events) {
        EXPECT_EQ(event.id, expected) << types;
        EXPECT_LT(event.previous_event_id, event.id);
        ++expected;
        if (!types.empty()) types += ' ';
        types += event.type;
      }
      token = page->next_token;
    } while (!token.empty());
    return types;
  }

  std::string WaitForToken(std::size_t index) {
    for (int i = 0; i < 3000; ++i) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (tokens_.size() > index) return tokens_[index];
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
    return "";
  }

  // An engine shuts down while `definition`'s task calling "block" runs (its lease given back:
  // from work_items, or from the execution's row when `inline_task`); a second engine runs the
  // task again at once and finishes with `history`.
  void ShutdownHandsTheTaskOver(const std::string& definition, bool inline_task,
                                const std::string& history) {
    std::atomic<bool> release{false};
    std::atomic<int> calls{0};
    auto blocking = [&](const std::string& payload, const invoker::NativeContext&) {
      ++calls;
      while (!release) std::this_thread::sleep_for(milliseconds(5));
      return invoker::NativeOutcome{payload, ""};
    };
    std::string arn;
    {
      EngineOptions options = Options();
      options.lease = seconds(60);  // only a release can hand the task over this quickly
      auto engine = NewEngine(options);
      ASSERT_EQ(engine->RegisterNative("block", blocking), "");
      auto started =
          engine->StartExecution(Machine(*engine, "handover", definition), "h1", R"({"h":1})");
      ASSERT_TRUE(started.ok());
      arn = started->execution_arn;
      while (calls == 0) std::this_thread::sleep_for(milliseconds(5));
      {
        pqxx::connection connection(url_);
        pqxx::work tx(connection);
        EXPECT_EQ(tx.exec("SELECT count(*) FROM execution_states WHERE task_owner IS NOT "
                          "NULL")[0][0]
                      .as<int>(),
                  inline_task ? 1 : 0);
      }
      std::thread unblock([&] {
        std::this_thread::sleep_for(milliseconds(200));
        release = true;
      });
      engine->Shutdown();  // the invocation in flight is abandoned, its lease given back
      unblock.join();
    }
    auto engine = NewEngine();
    ASSERT_EQ(engine->RegisterNative("block", blocking), "");
    auto info = engine->WaitForExecution(arn, seconds(20));  // well inside the 60 s lease
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->status, "SUCCEEDED");
    EXPECT_EQ(calls.load(), 2);  // at least once: the second engine ran it again
    EXPECT_EQ(History(*engine, arn), history);
  }

  std::string url_;
  std::mutex mu_;
  int flaky_calls_ = 0;                   // Guarded by mu_.
  int flaky_failures_ = 0;                // Guarded by mu_.
  std::vector<std::string> request_ids_;  // Guarded by mu_.
  std::vector<std::string> tokens_;       // Guarded by mu_.
};

TEST_F(EnginePgTest, PassChoiceSucceedInOneDecision) {
  auto engine = NewEngine();
  std::string machine = Machine(*engine, "pass-choice", R"({
    "StartAt": "P",
    "States": {
      "P": {"Type": "Pass", "Result": {"n": 3}, "ResultPath": "$.r", "Next": "C"},
      "C": {"Type": "Choice", "Choices": [{"Variable": "$.r.n", "NumericGreaterThan": 2,
            "Next": "Big"}], "Default": "Small"},
      "Big": {"Type": "Succeed"},
      "Small": {"Type": "Fail", "Error": "Small"}
    }})");
  ExecutionInfo info = Run(*engine, machine, R"({"a":1})", "first");
  EXPECT_EQ(info.status, "SUCCEEDED");
  EXPECT_EQ(info.output.value_or(""), R"({"a":1,"r":{"n":3}})");
  EXPECT_EQ(info.execution_arn,
            "arn:aws:states:us-east-1:000000000000:execution:pass-choice:first");
  EXPECT_EQ(History(*engine, info.execution_arn),
            "ExecutionStarted PassStateEntered PassStateExited ChoiceStateEntered "
            "ChoiceStateExited SucceedStateEntered SucceedStateExited ExecutionSucceeded");
}

TEST_F(EnginePgTest, FailStateFailsTheExecution) {
  auto engine = NewEngine();
  std::string machine = Machine(*engine, "fail", R"({"StartAt": "F", "States": {
      "F": {"Type": "Fail", "Error": "Boom", "Cause": "it broke"}}})");
  ExecutionInfo info = Run(*engine, machine, "{}");
  EXPECT_EQ(info.status, "FAILED");
  EXPECT_EQ(info.error.value_or(""), "Boom");
  EXPECT_EQ(info.cause.value_or(""), "it broke");
  EXPECT_EQ(History(*engine, info.execution_arn),
            "ExecutionStarted FailStateEntered ExecutionFailed");
}

TEST_F(EnginePgTest, TaskRunsANativeFunctionWithAStableInvocationId) {
  auto engine = NewEngine();
  std::string machine = Machine(*engine, "task",
                                R"({"StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": ")" +
                                    Fn("flaky") + R"(", "End": true}}})");
  ExecutionInfo info = Run(*engine, machine, R"({"x":1})", "e1");
  EXPECT_EQ(info.status, "SUCCEEDED");
  EXPECT_EQ(info.output.value_or(""), R"({"x":1})");
  EXPECT_EQ(History(*engine, info.execution_arn),
            "ExecutionStarted TaskStateEntered LambdaFunctionScheduled LambdaFunctionStarted "
            "LambdaFunctionSucceeded TaskStateExited ExecutionSucceeded");
  std::lock_guard<std::mutex> lock(mu_);
  ASSERT_EQ(request_ids_.size(), 1u);
  // The core's task id: a serial per attempt and the frame (here the root, 1).
  EXPECT_EQ(request_ids_[0], info.execution_arn + "/task-2~1");
}

TEST_F(EnginePgTest, ParallelAndMapWithTasks) {
  auto engine = NewEngine();
  std::string machine2 = Machine(*engine, "fanout2",
                                 R"({"StartAt": "Par", "States": {
      "Par": {"Type": "Parallel", "Next": "Map", "ResultPath": "$.par", "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": ")" +
                                     Fn("double") + R"(", "InputPath": "$.n",
                                    "End": true}}},
        {"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": "b", "End": true}}}]},
      "Map": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.doubled",
              "MaxConcurrency": 2,
              "ItemProcessor": {"StartAt": "D", "States": {"D": {"Type": "Task",
                 "Resource": ")" + Fn("double") +
                                     R"(", "End": true}}},
              "End": true}}})");
  ExecutionInfo info = Run(*engine, machine2, R"({"n":5,"items":[1,2,3]})");
  EXPECT_EQ(info.status, "SUCCEEDED") << info.error.value_or("") << info.cause.value_or("");
  EXPECT_EQ(info.output.value_or(""),
            R"({"n":5,"items":[1,2,3],"par":[10,"b"],"doubled":[2,4,6]})");
  std::string history = History(*engine, info.execution_arn);
  EXPECT_NE(history.find("MapIterationSucceeded"), std::string::npos) << history;
}

TEST_F(EnginePgTest, RetryAndCatch) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    flaky_failures_ = 2;
  }
  auto engine = NewEngine();
  std::string machine = Machine(*engine, "retry",
                                R"({"StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": ")" +
                                    Fn("flaky") + R"(",
            "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 1}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught", "ResultPath": "$.err"}],
            "End": true},
      "Caught": {"Type": "Pass", "End": true}}})");
  ExecutionInfo info = Run(*engine, machine, R"({"k":1})");
  EXPECT_EQ(info.status, "SUCCEEDED");
  EXPECT_EQ(
      info.output.value_or(""),
      R"({"k":1,"err":{"Error":"Flaky","Cause":"{\"errorMessage\":\"not yet\",\"errorType\":\"Flaky\"}"}})");
  EXPECT_EQ(History(*engine, info.execution_arn),
            "ExecutionStarted TaskStateEntered LambdaFunctionScheduled LambdaFunctionStarted "
            "LambdaFunctionFailed LambdaFunctionScheduled LambdaFunctionStarted "
            "LambdaFunctionFailed TaskStateExited PassStateEntered PassStateExited "
            "ExecutionSucceeded");
  std::lock_guard<std::mutex> lock(mu_);
  // Two attempts, two invocation ids.
  ASSERT_EQ(request_ids_.size(), 2u);
  EXPECT_NE(request_ids_[0], request_ids_[1]);
}

TEST_F(EnginePgTest, WaitSurvivesAnEngineRestart) {
  std::string arn;
  {
    auto engine = NewEngine();
    std::string machine = Machine(*engine, "wait", R"({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 2, "Next": "Done"},
        "Done": {"Type": "Pass", "Result": "done", "End": true}}})");
    auto started = engine->StartExecution(machine, "w1", "{}");
    ASSERT_TRUE(started.ok());
    arn = started->execution_arn;
    // The engine goes away mid-Wait.
  }
  auto engine = NewEngine();
  auto info = engine->WaitForExecution(arn, kWait);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->status, "SUCCEEDED");
  EXPECT_EQ(info->output.value_or(""), "\"done\"");
  EXPECT_EQ(History(*engine, arn),
            "ExecutionStarted WaitStateEntered WaitStateExited PassStateEntered PassStateExited "
            "ExecutionSucceeded");
}

TEST_F(EnginePgTest, RetryBackoffSurvivesAnEngineRestart) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    flaky_failures_ = 1;
  }
  std::string arn;
  {
    auto engine = NewEngine();
    std::string machine = Machine(*engine, "backoff",
                                  R"({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": ")" +
                                      Fn("flaky") + R"(",
              "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 2, "MaxAttempts": 3}],
              "End": true}}})");
    auto started = engine->StartExecution(machine, "b1", R"({"v":7})");
    ASSERT_TRUE(started.ok());
    arn = started->execution_arn;
    // Wait for the first failure to be recorded, then go away during the backoff.
    for (int i = 0; i < 3000; ++i) {
      if (History(*engine, arn).find("LambdaFunctionFailed") != std::string::npos) break;
      std::this_thread::sleep_for(milliseconds(10));
    }
  }
  auto engine = NewEngine();
  auto info = engine->WaitForExecution(arn, kWait);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->status, "SUCCEEDED");
  EXPECT_EQ(info->output.value_or(""), R"({"v":7})");
  EXPECT_EQ(History(*engine, arn),
            "ExecutionStarted TaskStateEntered LambdaFunctionScheduled LambdaFunctionStarted "
            "LambdaFunctionFailed LambdaFunctionScheduled LambdaFunctionStarted "
            "LambdaFunctionSucceeded TaskStateExited ExecutionSucceeded");
}

TEST_F(EnginePgTest, AnExpiredLeaseIsTakenOverAndTheStaleOwnerIsFenced) {
  // A client-only engine starts the execution; a "dead" node claims the task and never
  // finishes it; a worker engine takes it over once the lease expires.
  auto client = NewEngine([&] {
    EngineOptions options = Options();
    options.run_workers = false;
    return options;
  }());
  std::string machine = Machine(*client, "lease",
                                R"({"StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": ")" +
                                    Fn("flaky") + R"(", "End": true}}})");
  auto started = client->StartExecution(machine, "l1", R"({"z":1})");
  ASSERT_TRUE(started.ok());

  pqxx::connection connection(url_);
  std::vector<store::WorkItem> claimed;
  {
    pqxx::work tx(connection);
    claimed = store::ClaimTasks(tx, "dead-node", 300, 10);
    tx.commit();
  }
  ASSERT_EQ(claimed.size(), 1u);
  const store::WorkItem stale = claimed[0];

  auto worker = NewEngine();
  auto info = worker->WaitForExecution(started->execution_arn, kWait);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->status, "SUCCEEDED");
  EXPECT_EQ(History(*worker, started->execution_arn),
            "ExecutionStarted TaskStateEntered LambdaFunctionScheduled LambdaFunctionStarted "
            "LambdaFunctionSucceeded TaskStateExited ExecutionSucceeded");
  {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_EQ(request_ids_.size(), 1u);
  }
  // The dead node wakes up: its commit is refused.
  {
    pqxx::work tx(connection);
    EXPECT_TRUE(store::FenceWork(tx, "dead-node", {stale.work_id}, {stale.generation}).empty());
    EXPECT_TRUE(
        store::RenewLeases(tx, "dead-node", {stale.work_id}, {stale.generation}, 1000).empty());
    tx.commit();
  }
}

TEST_F(EnginePgTest, FencingRefusesAStaleGeneration) {
  auto client = NewEngine([&] {
    EngineOptions options = Options();
    options.run_workers = false;
    return options;
  }());
  std::string machine = Machine(*client, "fence",
                                R"({"StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": ")" +
                                    Fn("echo") + R"(", "End": true}}})");
  ASSERT_TRUE(client->StartExecution(machine, "f1", "{}").ok());
  pqxx::connection connection(url_);
  store::WorkItem first, second;
  {
    pqxx::work tx(connection);
    auto items = store::ClaimTasks(tx, "node-a", 1, 10);
    ASSERT_EQ(items.size(), 1u);
    first = items[0];
    tx.commit();
  }
  std::this_thread::sleep_for(milliseconds(20));
  {
    pqxx::work tx(connection);
    auto items = store::ClaimTasks(tx, "node-a", 10000, 10);  // the same owner, claimed again
    ASSERT_EQ(items.size(), 1u);
    second = items[0];
    tx.commit();
  }
  EXPECT_EQ(second.generation, first.generation + 1);
  pqxx::work tx(connection);
  EXPECT_TRUE(store::FenceWork(tx, "node-a", {first.work_id}, {first.generation}).empty());
  EXPECT_EQ(store::FenceWork(tx, "node-a", {second.work_id}, {second.generation}),
            std::vector<int64_t>{second.work_id});
}

TEST_F(EnginePgTest, CallbackWithTaskToken) {
  auto engine = NewEngine();
  std::string machine = Machine(*engine, "callback", R"({"StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "capture", "Payload": {"token.$": "$$.Task.Token"}},
            "End": true}}})");
  auto started = engine->StartExecution(machine, "c1", "{}");
  ASSERT_TRUE(started.ok());
  std::string token = WaitForToken(0);
  ASSERT_FALSE(token.empty());
  // Callbacks from another engine (node) work too.
  auto other = NewEngine();
  EXPECT_EQ(other->SendTaskHeartbeat(token).error().error, "");
  auto bad = other->SendTaskSuccess(token, "not json");
  EXPECT_EQ(bad.error().error, "InvalidOutput");
  ASSERT_TRUE(other->SendTaskSuccess(token, R"({"ok":true})").ok());
  auto info = engine->WaitForExecution(started->execution_arn, kWait);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->status, "SUCCEEDED");
  EXPECT_EQ(info->output.value_or(""), R"({"ok":true})");
  EXPECT_EQ(History(*engine, started->execution_arn),
            "ExecutionStarted TaskStateEntered TaskScheduled TaskStarted TaskSucceeded "
            "TaskStateExited ExecutionSucceeded");
  // The task is over: its token is gone.
  EXPECT_EQ(other->SendTaskSuccess(token, "{}").error().error, "TaskDoesNotExist");
  EXPECT_EQ(other->SendTaskFailure("nope", "E", "c").error().error, "TaskDoesNotExist");
}

TEST_F(EnginePgTest, CallbackFailureAndHeartbeatTimeout) {
  auto engine = NewEngine();
  // The failure case has a heartbeat long enough that a loaded machine cannot time it out
  // before SendTaskFailure arrives; the silent case times out after 1 s.
  const auto callback_machine = [&](const std::string& name, int heartbeat_seconds) {
    return Machine(*engine, name,
                   R"({"StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "HeartbeatSeconds": )" +
                       std::to_string(heartbeat_seconds) +
                       R"(,
            "Parameters": {"FunctionName": "capture", "Payload": {"token.$": "$$.Task.Token"}},
            "End": true}}})");
  };
  std::string machine = callback_machine("callback-fail", 3600);
  auto failed = engine->StartExecution(machine, "f", "{}");
  ASSERT_TRUE(failed.ok());
  std::string token = WaitForToken(0);
  ASSERT_TRUE(engine->SendTaskFailure(token, "Rejected", "no way").ok());
  auto info = engine->WaitForExecution(failed->execution_arn, kWait);
  EXPECT_EQ(info->status, "FAILED");
  EXPECT_EQ(info->error.value_or(""), "Rejected");
  EXPECT_EQ(info->cause.value_or(""), "no way");

  // Nobody calls back: the heartbeat timeout fails the task.
  machine = callback_machine("callback-silent", 1);
  auto silent = engine->StartExecution(machine, "s", "{}");
  ASSERT_TRUE(silent.ok());
  info = engine->WaitForExecution(silent->execution_arn, kWait);
  EXPECT_EQ(info->status, "FAILED");
  EXPECT_EQ(info->error.value_or(""), "States.HeartbeatTimeout");
}

TEST_F(EnginePgTest, TaskTimeoutIsCaught) {
  auto engine = NewEngine();
  std::string machine = Machine(*engine, "timeout",
                                R"({"StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": ")" +
                                    Fn("sleep") + R"(", "TimeoutSeconds": 1,
            "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Late"}], "End": true},
      "Late": {"Type": "Pass", "Result": "late", "End": true}}})");
  ExecutionInfo info = Run(*engine, machine, "{}");
  EXPECT_EQ(info.status, "SUCCEEDED");
  EXPECT_EQ(info.output.value_or(""), "\"late\"");
}

TEST_F(EnginePgTest, ExecutionTimeoutSeconds) {
  auto engine = NewEngine();
  std::string machine = Machine(*engine, "exec-timeout", R"({"TimeoutSeconds": 1, "StartAt": "W",
      "States": {"W": {"Type": "Wait", "Seconds": 100, "End": true}}})");
  ExecutionInfo info = Run(*engine, machine, "{}");
  EXPECT_EQ(info.status, "TIMED_OUT");
  EXPECT_EQ(History(*engine, info.execution_arn),
            "ExecutionStarted WaitStateEntered ExecutionTimedOut");
}

TEST_F(EnginePgTest, StartIsIdempotentByName) {
  auto engine = NewEngine();
  std::string machine = Machine(*engine, "idem", R"({"StartAt": "W", "States": {
      "W": {"Type": "Wait", "Seconds": 100, "End": true}}})");
  auto first = engine->StartExecution(machine, "same", R"({"a":1})");
  ASSERT_TRUE(first.ok());
  auto again = engine->StartExecution(machine, "same", R"({"a":1})");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->execution_arn, first->execution_arn);
  EXPECT_EQ(again->start_date / 1000, first->start_date / 1000);
  auto different = engine->StartExecution(machine, "same", R"({"a":2})");
  ASSERT_FALSE(different.ok());
  EXPECT_EQ(different.error().error, "ExecutionAlreadyExists");
  EXPECT_EQ(different.error().cause, "Execution Already Exists: '" + first->execution_arn + "'");
  // Once closed, even the same input is refused.
  ASSERT_TRUE(engine->StopExecution(first->execution_arn).ok());
  auto closed = engine->StartExecution(machine, "same", R"({"a":1})");
  EXPECT_EQ(closed.error().error, "ExecutionAlreadyExists");
  EXPECT_EQ(History(*engine, first->execution_arn),
            "ExecutionStarted WaitStateEntered ExecutionAborted");

  EXPECT_EQ(engine->StartExecution("nope", "", "{}").error().error, "StateMachineDoesNotExist");
  EXPECT_EQ(engine->StartExecution(machine, "bad name", "{}").error().error, "InvalidName");
  EXPECT_EQ(engine->StartExecution(machine, "", "{").error().error, "InvalidExecutionInput");
}

// StartExecutionAsync answers what StartExecution answers, through its callback.
TEST_F(EnginePgTest, AsyncStartAnswersAsTheBlockingOne) {
  auto engine = NewEngine();
  std::string machine = Machine(*engine, "async", R"({"StartAt": "W", "States": {
      "W": {"Type": "Wait", "Seconds": 100, "End": true}}})");
  auto start = [&](const std::string& arn, const std::string& name, const std::string& input) {
    std::promise<asl::Result<StartExecutionResult>> answered;
    const bool taken = engine->StartExecutionAsync(
        arn, name, input,
        [&](asl::Result<StartExecutionResult> result) { answered.set_value(std::move(result)); });
    EXPECT_TRUE(taken);
    return answered.get_future().get();
  };
  auto first = start(machine, "same", R"({"a":1})");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(engine->DescribeExecution(first->execution_arn)->status, "RUNNING");
  auto again = start(machine, "same", R"({"a":1})");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->execution_arn, first->execution_arn);
  auto blocking = engine->StartExecution(machine, "same", R"({"a":1})");
  ASSERT_TRUE(blocking.ok());
  EXPECT_EQ(blocking->execution_arn, first->execution_arn);
  EXPECT_EQ(start(machine, "same", R"({"a":2})").error().error, "ExecutionAlreadyExists");
  EXPECT_EQ(start("nope", "", "{}").error().error, "StateMachineDoesNotExist");
  EXPECT_EQ(start(machine, "bad name", "{}").error().error, "InvalidName");
  EXPECT_EQ(start(machine, "", "{").error().error, "InvalidExecutionInput");
  // A version ARN is resolved by the blocking call only.
  EXPECT_FALSE(engine->StartExecutionAsync(machine + ":1", "", "{}",
                                           [](asl::Result<StartExecutionResult>) {}));
  // An update through this engine is seen by its next start at once (the machine cache).
  std::string pass = Machine(*engine, "cached", R"({"StartAt": "P", "States": {
      "P": {"Type": "Pass", "Result": "v1", "End": true}}})");
  EXPECT_EQ(Run(*engine, "cached", "{}").output.value_or(""), "\"v1\"");
  ASSERT_TRUE(engine
                  ->UpdateStateMachine(pass, R"({"StartAt": "P", "States": {"P": {"Type": "Pass",
      "Result": "v2", "End": true}}})")
                  .ok());
  EXPECT_EQ(Run(*engine, "cached", "{}").output.value_or(""), "\"v2\"");
  ASSERT_TRUE(engine->DeleteStateMachine(pass).ok());
  EXPECT_EQ(start(pass, "", "{}").error().error, "StateMachineDoesNotExist");
  // After shutdown the callback still comes, with an error.
  engine->Shutdown();
  EXPECT_EQ(start(machine, "", "{}").error().error, "ServiceUnavailable");
}

TEST_F(EnginePgTest, StopAbortsAndClearsTheWork) {
  auto engine = NewEngine();
  std::string machine = Machine(*engine, "stop", R"({"StartAt": "W", "States": {
      "W": {"Type": "Wait", "Seconds": 100, "End": true}}})");
  auto started = engine->StartExecution(machine, "s1", "{}");
  ASSERT_TRUE(started.ok());
  ASSERT_TRUE(engine->StopExecution(started->execution_arn, "Halt", "by test").ok());
  auto info = engine->DescribeExecution(started->execution_arn);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->status, "ABORTED");
  EXPECT_EQ(info->error.value_or(""), "Halt");
  EXPECT_TRUE(info->stop_date.has_value());
  pqxx::connection connection(url_);
  pqxx::work tx(connection);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM work_items")[0][0].as<int>(), 0);
  EXPECT_EQ(engine->StopExecution("arn:aws:states:us-east-1:000000000000:execution:stop:nope")
                .error()
                .error,
            "ExecutionDoesNotExist");
  // Stopping an ended execution changes nothing.
  EXPECT_TRUE(engine->StopExecution(started->execution_arn).ok());
}

TEST_F(EnginePgTest, ExpressRunsInMemoryStandardIsStored) {
  auto engine = NewEngine();
  std::string express = Machine(*engine, "quick",
                                R"({"StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": ")" +
                                    Fn("double") + R"(", "End": true}}})",
                                "EXPRESS");
  auto sync = engine->StartSyncExecution(express, "", "21");
  ASSERT_TRUE(sync.ok());
  EXPECT_EQ(sync->status, "SUCCEEDED");
  EXPECT_EQ(sync->output.value_or(""), "42");
  EXPECT_NE(sync->execution_arn.find(":express:quick:"), std::string::npos);
  // Not stored: Express histories live on the node only.
  EXPECT_EQ(engine->DescribeExecution(sync->execution_arn).error().error, "ExecutionDoesNotExist");
  auto async = engine->StartExecution(express, "a", "1");
  ASSERT_TRUE(async.ok());
  EXPECT_NE(async->execution_arn.find(":express:"), std::string::npos);

  std::string standard = Machine(*engine, "slow", R"({"StartAt": "P", "States": {
      "P": {"Type": "Pass", "End": true}}})");
  EXPECT_EQ(engine->StartSyncExecution(standard, "", "{}").error().error,
            "StateMachineTypeNotSupported");
}

// PostgreSQL text holds no NUL: an error or cause with one (or with the escape byte) is stored
// escaped and comes back intact.
TEST_F(EnginePgTest, ANulInAnErrorOrCauseIsKeptIntact) {
  auto engine = NewEngine();
  std::string machine = Machine(*engine, "nul", R"({"StartAt": "F", "States": {
      "F": {"Type": "Fail", "Error": "Bad\u0000Thing", "Cause": "x\u0000y\u0001z\u0001"}}})");
  ExecutionInfo info = Run(*engine, machine, "{}");
  EXPECT_EQ(info.status, "FAILED");
  EXPECT_EQ(info.error.value_or(""), std::string("Bad\0Thing", 9));
  EXPECT_EQ(info.cause.value_or(""), std::string("x\0y\x01z\x01", 6));
  auto described = engine->DescribeExecution(info.execution_arn);
  ASSERT_TRUE(described.ok());
  EXPECT_EQ(described->error.value_or(""), std::string("Bad\0Thing", 9));
  auto history = engine->GetExecutionHistory(info.execution_arn);
  ASSERT_TRUE(history.ok());
  ASSERT_FALSE(history->events.empty());
  EXPECT_EQ(history->events.back().details,
            R"({"error":"Bad\u0000Thing","cause":"x\u0000y\u0001z\u0001"})");
}

TEST_F(EnginePgTest, StateMachinesAreValidatedAndIdempotent) {
  auto engine = NewEngine();
  const std::string definition =
      R"({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}})";
  ASSERT_TRUE(engine->CreateStateMachine("m", definition).ok());
  EXPECT_TRUE(engine->CreateStateMachine("m", definition).ok());
  EXPECT_EQ(engine
                ->CreateStateMachine("m", R"({"StartAt": "Q", "States": {"Q": {"Type": "Pass",
      "End": true}}})")
                .error()
                .error,
            "StateMachineAlreadyExists");
  auto invalid = engine->CreateStateMachine("bad", R"({"StartAt": "Nowhere", "States": {}})");
  EXPECT_EQ(invalid.error().error, "InvalidDefinition");
  EXPECT_EQ(engine->DescribeStateMachine("none").error().error, "StateMachineDoesNotExist");
  // Running executions keep their definition; new ones run the update.
  ASSERT_TRUE(engine
                  ->UpdateStateMachine("m", R"({"StartAt": "P", "States": {"P": {"Type": "Pass",
      "Result": "v2", "End": true}}})")
                  .ok());
  ExecutionInfo info = Run(*engine, "m", "{}");
  EXPECT_EQ(info.output.value_or(""), "\"v2\"");
  EXPECT_EQ(engine->ListStateMachines().size(), 1u);
}

TEST_F(EnginePgTest, ManyExecutionsShareDecisionTransactions) {
  auto engine = NewEngine();
  std::string machine = Machine(*engine, "many",
                                R"({"StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": ")" +
                                    Fn("echo") + R"(", "Next": "W"},
      "W": {"Type": "Wait", "Seconds": 1, "End": true}}})");
  std::vector<std::thread> threads;
  std::vector<std::string> arns(40);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        auto started =
            engine->StartExecution(machine, "m" + std::to_string(t * 10 + i), std::to_string(i));
        if (started.ok()) arns[static_cast<std::size_t>(t * 10 + i)] = started->execution_arn;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& arn : arns) {
    ASSERT_FALSE(arn.empty());
    auto info = engine->WaitForExecution(arn, kWait);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->status, "SUCCEEDED");
    EXPECT_EQ(History(*engine, arn),
              "ExecutionStarted TaskStateEntered LambdaFunctionScheduled LambdaFunctionStarted "
              "LambdaFunctionSucceeded TaskStateExited WaitStateEntered WaitStateExited "
              "ExecutionSucceeded");
  }
}

TEST_F(EnginePgTest, ATaskLongerThanItsLeaseKeepsItThroughRenewals) {
  // Leases are renewed only once they are old enough to need it; a task running for 2.5 leases
  // must still never be taken by the other node nor run twice.
  std::atomic<int> calls{0};
  auto make = [&] {
    EngineOptions options = Options();
    options.lease = milliseconds(2000);  // renewed at 1/2 lease left at worst: 1 s
    auto engine = NewEngine(options);
    EXPECT_EQ(
        engine->RegisterNative("slow",
                               [&calls](const std::string& payload, const invoker::NativeContext&) {
                                 ++calls;
                                 std::this_thread::sleep_for(milliseconds(5000));
                                 return invoker::NativeOutcome{payload, ""};
                               }),
        "");
    return engine;
  };
  auto a = make();
  auto b = make();
  std::string machine = Machine(*a, "long-task",
                                R"({"StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": ")" +
                                    Fn("slow") + R"(", "End": true}}})");
  auto started = a->StartExecution(machine, "long", R"({"n":1})");
  ASSERT_TRUE(started.ok());
  auto info = a->WaitForExecution(started->execution_arn, kWait);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->status, "SUCCEEDED");
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(History(*a, started->execution_arn),
            "ExecutionStarted TaskStateEntered LambdaFunctionScheduled LambdaFunctionStarted "
            "LambdaFunctionSucceeded TaskStateExited ExecutionSucceeded");
}

TEST_F(EnginePgTest, ShutdownGivesLeasesBackAndAnotherEngineFinishes) {
  ShutdownHandsTheTaskOver(R"({"StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": ")" +
                               Fn("block") + R"(", "End": true}}})",
                           false,
                           "ExecutionStarted TaskStateEntered LambdaFunctionScheduled "
                           "LambdaFunctionStarted LambdaFunctionSucceeded TaskStateExited "
                           "ExecutionSucceeded");
}

TEST_F(EnginePgTest, ConcurrentStartsOfOneNameMakeOneExecution) {
  auto engine = NewEngine();
  std::string machine = Machine(*engine, "race", R"({"StartAt": "W", "States": {
      "W": {"Type": "Wait", "Seconds": 100, "End": true}}})");
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<std::string> arns;
  int refused = 0;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto started = engine->StartExecution(machine, "once", t < 6 ? "{}" : R"({"other":1})");
      std::lock_guard<std::mutex> lock(mu);
      if (started.ok()) {
        arns.insert(started->execution_arn);
      } else if (started.error().error == "ExecutionAlreadyExists") {
        ++refused;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  // Whichever input came first made the execution; the other input was refused.
  EXPECT_EQ(arns.size(), 1u);
  EXPECT_TRUE(refused == 2 || refused == 6) << refused;
  auto list = engine->ListExecutions(machine);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 1u);
  EXPECT_EQ(History(*engine, *arns.begin()), "ExecutionStarted WaitStateEntered");
}

TEST_F(EnginePgTest, TheHistoryLimitIsPersistedAsAFailure) {
  auto engine = NewEngine();
  // An endless loop of synchronous states: one decision, stopped by the core at 25,000 events.
  std::string machine = Machine(*engine, "endless", R"({"StartAt": "Loop", "States": {
      "Loop": {"Type": "Pass", "Next": "Again"},
      "Again": {"Type": "Choice", "Choices": [{"Variable": "$.stop", "IsPresent": true,
                "Next": "Done"}], "Default": "Loop"},
      "Done": {"Type": "Succeed"}}})");
  ExecutionInfo info = Run(*engine, machine, "{}");
  EXPECT_EQ(info.status, "FAILED");
  EXPECT_EQ(info.error.value_or(""), "States.Runtime");
  EXPECT_EQ(info.cause.value_or(""),
            "The execution reached the maximum number of history events (25000).");
  std::string history = History(*engine, info.execution_arn);
  EXPECT_EQ(std::count(history.begin(), history.end(), ' ') + 1, 25000);
  EXPECT_TRUE(history.ends_with(" ExecutionFailed")) << history.substr(history.size() - 200);
  auto last = engine->GetExecutionHistory(info.execution_arn, 1, "", /*reverse_order=*/true);
  ASSERT_TRUE(last.ok());
  ASSERT_EQ(last->events.size(), 1u);
  EXPECT_EQ(last->events[0].id, 25000);
  EXPECT_EQ(last->events[0].type, "ExecutionFailed");
}

// An error name PostgreSQL cannot store (a NUL character): the decision that ends the execution
// with it throws, every time.
// A Fail state whose decision cannot commit: the test's trigger refuses the error "Poison".
constexpr const char* kPoisonFail =
    R"("F": {"Type": "Fail", "Error": "Poison", "Cause": "never stored"})";

TEST_F(EnginePgTest, ADecisionThatAlwaysThrowsFailsTheExecutionCleanly) {
  // A task's outcome whose decision throws is not retried every lease forever: after a bounded
  // number of attempts the execution fails with States.Runtime and the reason as its cause.
  EngineOptions options = Options();
  options.lease = milliseconds(300);
  auto engine = NewEngine(options);
  {
    // Fault injection in the database: an execution row that would record the error "Poison"
    // makes the decision's transaction fail, every time.
    pqxx::connection connection(url_);
    pqxx::work tx(connection);
    tx.exec(
        "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN IF NEW.error = 'Poison' THEN "
        "RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql");
    tx.exec(
        "CREATE TRIGGER poison BEFORE INSERT OR UPDATE ON executions FOR EACH ROW EXECUTE "
        "FUNCTION poison()");
    tx.commit();
  }
  std::string task_machine = Machine(*engine, "poison-task",
                                     R"({"StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": ")" +
                                         Fn("flaky") + R"(", "Next": "F"}, )" + kPoisonFail + "}}");
  // A due timer whose decision throws does not hold the other executions' timers up either.
  std::string timer_machine = Machine(*engine, "poison-timer",
                                      R"({"StartAt": "W", "States": {
      "W": {"Type": "Wait", "Seconds": 1, "Next": "F"}, )" +
                                          std::string(kPoisonFail) + "}}");
  std::string healthy = Machine(*engine, "healthy", R"({"StartAt": "W", "States": {
      "W": {"Type": "Wait", "Seconds": 1, "Next": "P"}, "P": {"Type": "Pass", "End": true}}})");

  auto task_run = engine->StartExecution(task_machine, "t1", "{}");
  auto timer_run = engine->StartExecution(timer_machine, "w1", "{}");
  ASSERT_TRUE(task_run.ok() && timer_run.ok());
  std::vector<std::string> healthy_runs;
  for (int i = 0; i < 5; ++i) {
    auto started = engine->StartExecution(healthy, "h" + std::to_string(i), R"({"i":1})");
    ASSERT_TRUE(started.ok());
    healthy_runs.push_back(started->execution_arn);
  }
  for (const auto& arn : healthy_runs) {
    auto info = engine->WaitForExecution(arn, kWait);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->status, "SUCCEEDED") << arn;
  }
  for (const auto& arn : {task_run->execution_arn, timer_run->execution_arn}) {
    auto info = engine->WaitForExecution(arn, kWait);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->status, "FAILED") << arn;
    EXPECT_EQ(info->error.value_or(""), "States.Runtime") << arn;
    EXPECT_NE(info->cause.value_or("").find("could not decide"), std::string::npos)
        << info->cause.value_or("");
  }
  EXPECT_EQ(History(*engine, task_run->execution_arn),
            "ExecutionStarted TaskStateEntered LambdaFunctionScheduled LambdaFunctionStarted "
            "ExecutionFailed");
  EXPECT_EQ(History(*engine, timer_run->execution_arn),
            "ExecutionStarted WaitStateEntered ExecutionFailed");
  {
    // The task ran once per attempt, a bounded number of times, and nothing is left queued.
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_GE(flaky_calls_, 1);
    EXPECT_LE(flaky_calls_, 3);
  }
  std::this_thread::sleep_for(milliseconds(1000));
  {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_LE(flaky_calls_, 3);
  }
  pqxx::connection connection(url_);
  pqxx::work tx(connection);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM work_items")[0][0].as<int64_t>(), 0);
  // Failed outside the core (store::UpdateExecutions), they left the running set as well.
  EXPECT_EQ(tx.exec("SELECT count(*) FROM running_executions")[0][0].as<int64_t>(), 0);
}

TEST_F(EnginePgTest, ClaimTasksNeverClaimsMoreThanItsLimit) {
  // Due items and items whose lease expired are claimed together, within one limit: a node
  // taking over a dead node's work must not run more tasks than it has room for.
  auto engine = NewEngine([&] {
    EngineOptions options = Options();
    options.run_workers = false;  // nothing claims but this test
    return options;
  }());
  pqxx::connection connection(url_);
  auto enqueue = [&](int first) {
    std::vector<store::WorkItem> items;
    for (int i = first; i < first + 3; ++i) {
      store::WorkItem item;
      item.execution_id = 1;
      item.kind = store::kWorkTask;
      item.key = "t" + std::to_string(i);
      item.payload = "{}";
      items.push_back(std::move(item));
    }
    pqxx::work tx(connection);
    store::EnqueueWork(tx, items);
    tx.commit();
  };
  enqueue(0);
  {
    pqxx::work tx(connection);
    EXPECT_EQ(store::ClaimTasks(tx, "dead-node", 1, 10).size(), 3u);
    tx.commit();
  }
  std::this_thread::sleep_for(milliseconds(50));  // the dead node's leases expire
  enqueue(3);
  pqxx::work tx(connection);
  EXPECT_EQ(store::ClaimTasks(tx, "live-node", 1000, 4).size(), 4u);
  EXPECT_EQ(store::ClaimTasks(tx, "live-node", 1000, 4).size(), 2u);
}

TEST_F(EnginePgTest, MillisUntilDueIsNoneOnAnEmptyQueueAndNeverNegative) {
  // An empty queue must answer "nothing waits", not "due now": the claim and timer loops sleep
  // until the poll interval on it (a 0 here made idle engines poll without pause).
  auto engine = NewEngine([&] {
    EngineOptions options = Options();
    options.run_workers = false;  // nothing claims but this test
    return options;
  }());
  pqxx::connection connection(url_);
  {
    pqxx::work tx(connection);
    EXPECT_EQ(store::MillisUntilDue(tx, true), std::nullopt);
    EXPECT_EQ(store::MillisUntilDue(tx, false), std::nullopt);
  }
  std::vector<store::WorkItem> items;
  for (const char* kind : {store::kWorkTask, store::kWorkTimer}) {
    store::WorkItem item;
    item.execution_id = 1;
    item.kind = kind;
    item.key = "k";
    item.payload = "{}";
    item.due_at = 0;  // long overdue
    items.push_back(std::move(item));
  }
  pqxx::work tx(connection);
  store::EnqueueWork(tx, items);
  EXPECT_EQ(store::MillisUntilDue(tx, true), 0);
  EXPECT_EQ(store::MillisUntilDue(tx, false), 0);
}

TEST_F(EnginePgTest, HistoryWrittenBeforeChunksStaysReadableAndPagesExactly) {
  // Migration 0009 writes one history_chunks row per decision; an execution started by an
  // earlier version keeps its first events as history_events rows. Every page, forward or
  // reverse, from every position, reads ids 1..n across both, exactly.
  auto engine = NewEngine([&] {
    EngineOptions options = Options();
    options.run_workers = false;
    return options;
  }());
  constexpr int64_t kExecution = 4242;
  pqxx::connection connection(url_);
  {
    pqxx::work tx(connection);
    for (int id = 1; id <= 3; ++id) {
      tx.exec_params(
          "INSERT INTO history_events (execution_id, event_id, previous_event_id, event_time, "
          "type, details_key, details) VALUES ($1, $2, $3, timestamptz 'epoch' + $2::integer * "
          "interval "
          "'1 second', $4, NULLIF($5, ''), NULLIF($6, ''))",
          kExecution, id, id - 1, "Old" + std::to_string(id), std::string(id == 2 ? "" : "oldKey"),
          std::string(id == 2 ? "" : R"({"o":1})"));
    }
    auto event = [](int64_t id, std::string details_key, std::string details) {
      store::HistoryRow row;
      row.execution_id = kExecution;
      row.event_id = id;
      row.previous_event_id = id - 1;
      row.timestamp = id * 1000000000LL;
      row.type = "New" + std::to_string(id);
      row.details_key = std::move(details_key);
      row.details = std::move(details);
      return row;
    };
    // Three decisions' worth: 4..6, 7, 8..10 (details with spaces, colons and digits, and none).
    store::AppendHistory(tx, {event(4, "k", R"({"a":"x y: 12 z"})"), event(5, "", ""),
                              event(6, "k", R"({"b":"6:6 "})")});
    store::AppendHistory(tx, {event(7, "k", "{}")});
    store::AppendHistory(
        tx, {event(8, "k", R"({"c":"\n"})"), event(9, "k", R"({"d":9})"), event(10, "", "")});
    tx.commit();
  }
  auto render = [](const std::vector<store::HistoryRow>& rows) {
    std::string out;
    for (const auto& row : rows) {
      if (!out.empty()) out += '|';
      out += std::to_string(row.event_id) + "<" + std::to_string(row.previous_event_id) + " " +
             row.type + " " + row.details_key + " " + row.details + " @" +
             std::to_string(row.timestamp / 1000000000LL);
    }
    return out;
  };
  pqxx::work tx(connection);
  const std::string all = render(store::ReadHistory(tx, kExecution, 0, 100, false));
  EXPECT_EQ(all,
            "1<0 Old1 oldKey {\"o\":1} @1|2<1 Old2   @2|3<2 Old3 oldKey {\"o\":1} @3|"
            "4<3 New4 k {\"a\":\"x y: 12 z\"} @4|5<4 New5   @5|6<5 New6 k {\"b\":\"6:6 \"} @6|"
            "7<6 New7 k {} @7|8<7 New8 k {\"c\":\"\\n\"} @8|9<8 New9 k {\"d\":9} @9|"
            "10<9 New10   @10");
  std::vector<store::HistoryRow> every = store::ReadHistory(tx, kExecution, 0, 100, false);
  ASSERT_EQ(every.size(), 10u);
  for (int64_t after = 0; after <= 11; ++after) {
    for (int64_t limit = 1; limit <= 11; ++limit) {
      std::vector<store::HistoryRow> expected;
      for (const auto& row : every) {
        if (row.event_id > after && static_cast<int64_t>(expected.size()) < limit) {
          expected.push_back(row);
        }
      }
      EXPECT_EQ(render(store::ReadHistory(tx, kExecution, after, limit, false)), render(expected))
          << "after " << after << " limit " << limit;
      // Reverse: before `after` (0 = from the end), newest first.
      std::vector<store::HistoryRow> backwards;
      for (auto it = every.rbegin(); it != every.rend(); ++it) {
        if ((after == 0 || it->event_id < after) &&
            static_cast<int64_t>(backwards.size()) < limit) {
          backwards.push_back(*it);
        }
      }
      EXPECT_EQ(render(store::ReadHistory(tx, kExecution, after, limit, true)), render(backwards))
          << "before " << after << " limit " << limit;
    }
  }
  EXPECT_TRUE(store::ReadHistory(tx, kExecution + 1, 0, 10, true).empty());
  EXPECT_TRUE(store::ReadHistory(tx, kExecution, 1LL << 40, 10, false).empty());
}

TEST_F(EnginePgTest, ASucceededExecutionKeepsNoSnapshotAFailedOneDoes) {
  // Nothing decides a SUCCEEDED execution again (redrive refuses it), so its row drops the
  // snapshot; a FAILED one keeps it for RedriveExecution.
  auto engine = NewEngine();
  std::string pass = Machine(*engine, "no-snapshot", R"({"StartAt": "P", "States": {
      "P": {"Type": "Pass", "End": true}}})");
  std::string fail = Machine(*engine, "keeps-snapshot", R"({"StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": ")" + Fn("echo") + R"(", "Next": "F"},
      "F": {"Type": "Fail", "Error": "E"}}})");
  ExecutionInfo succeeded = Run(*engine, pass, "{}", "s");
  ExecutionInfo failed = Run(*engine, fail, "{}", "f");
  EXPECT_EQ(succeeded.status, "SUCCEEDED");
  EXPECT_EQ(failed.status, "FAILED");
  pqxx::connection connection(url_);
  pqxx::work tx(connection);
  EXPECT_EQ(tx.exec("SELECT string_agg(name || ':' || (snapshot IS NOT NULL)::text, ',' ORDER BY "
                    "name) FROM executions")[0][0]
                .as<std::string>(),
            "f:true,s:false");
  EXPECT_EQ(History(*engine, succeeded.execution_arn),
            "ExecutionStarted PassStateEntered PassStateExited ExecutionSucceeded");
}

// A running execution's snapshot and counts live in execution_states (0010) from its first
// decision after the start until it ends; readers see them there, and an execution whose row
// is missing (written by an earlier version) continues from executions' columns.
TEST_F(EnginePgTest, ARunningExecutionsStateLivesInItsOwnRowUntilItEnds) {
  auto engine = NewEngine();
  std::string machine = Machine(*engine, "states",
                                R"({"StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": ")" +
                                    Fn("echo") + R"(", "Next": "W"},
      "W": {"Type": "Wait", "Seconds": 100, "End": true}}})");
  std::vector<std::string> arns;
  for (const char* name : {"kept", "moved"}) {
    auto started = engine->StartExecution(machine, name, "{}");
    ASSERT_TRUE(started.ok());
    arns.push_back(started->execution_arn);
  }
  const std::string waiting =
      "ExecutionStarted TaskStateEntered LambdaFunctionScheduled LambdaFunctionStarted "
      "LambdaFunctionSucceeded TaskStateExited "
      "WaitStateEntered";
  for (const auto& arn : arns) {
    for (int i = 0; i < 1000 && History(*engine, arn) != waiting; ++i) {
      std::this_thread::sleep_for(milliseconds(10));
    }
    ASSERT_EQ(History(*engine, arn), waiting);
  }
  pqxx::connection connection(url_);
  {
    pqxx::work tx(connection);
    // executions' own columns are as of the start; the live ones are in execution_states.
    EXPECT_EQ(tx.exec("SELECT string_agg(e.name || ':' || s.history_count || ':' || "
                      "(s.history_count > e.history_count)::text || ':' || "
                      "(s.decision_count > e.decision_count)::text || ':' || "
                      "(s.snapshot <> e.snapshot)::text, ',' ORDER BY e.name) FROM executions e "
                      "JOIN execution_states s USING (execution_id)")[0][0]
                  .as<std::string>(),
              "kept:7:true:true:true,moved:7:true:true:true");
    // As an earlier version left it: no row in execution_states, executions' columns current.
    tx.exec(
        "WITH s AS (DELETE FROM execution_states s USING executions e WHERE s.execution_id = "
        "e.execution_id AND e.name = 'moved' RETURNING s.*) UPDATE executions e SET snapshot = "
        "s.snapshot, decision_count = s.decision_count, history_count = s.history_count FROM s "
        "WHERE e.execution_id = s.execution_id");
    tx.commit();
  }
  EXPECT_EQ(History(*engine, arns[1]), waiting);
  for (const auto& arn : arns) {
    ASSERT_TRUE(engine->StopExecution(arn, "Halt", "by test").ok());
    auto info = engine->DescribeExecution(arn);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->status, "ABORTED");
    EXPECT_EQ(History(*engine, arn), waiting + " ExecutionAborted");
  }
  pqxx::work tx(connection);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM execution_states")[0][0].as<int>(), 0);
  EXPECT_EQ(tx.exec("SELECT string_agg(name || ':' || status || ':' || history_count || ':' || "
                    "(snapshot IS NOT NULL)::text, ',' ORDER BY name) FROM executions")[0][0]
                .as<std::string>(),
            "kept:ABORTED:8:true,moved:ABORTED:8:true");
}

// A decision that waited for another's lock on the execution reads the state that one wrote:
// the execution_states row is read after the lock is held, not as of the lock statement's
// snapshot (which predates the wait).
TEST_F(EnginePgTest, ALockThatWaitedReadsTheStateWrittenMeanwhile) {
  auto engine = NewEngine();
  std::string arn;
  auto [id, count] = StartTaskThenWait(*engine, "waited", &arn);
  ASSERT_NE(count, 0);
  pqxx::connection first(url_);
  pqxx::work holder(first);
  ASSERT_EQ(store::LockExecutions(holder, {id}, {id}).size(), 1u);
  holder.exec(
      "UPDATE execution_states SET snapshot = 'written meanwhile', decision_count = "
      "decision_count + 1, history_count = history_count + 1 WHERE execution_id = " +
      std::to_string(id));
  auto waiter = std::async(std::launch::async, [&] {
    pqxx::connection second(url_);
    pqxx::work tx(second);
    std::vector<store::LockedExecution> rows = store::LockExecutions(tx, {id}, {id});
    std::vector<store::LockedExecution> cached =
        store::LockExecutionsCached(tx, {id}, {id}, {count});
    return std::make_pair(rows, cached);
  });
  ASSERT_TRUE(SomeoneWaitsForALock());
  holder.commit();
  auto [rows, cached] = waiter.get();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].snapshot.value_or(""), "written meanwhile");
  EXPECT_EQ(rows[0].decision_count, count + 1);
  ASSERT_EQ(cached.size(), 1u);
  // The cached state (decision count `count`) is stale: the new snapshot is sent.
  EXPECT_FALSE(cached[0].snapshot_cached);
  EXPECT_EQ(cached[0].snapshot.value_or(""), "written meanwhile");
  EXPECT_EQ(cached[0].history_count, rows[0].history_count);
}

// The same through the engine: a stop that waits for the lock another writer of the execution
// holds is decided on the state that writer left, not on the one the node cached or could have
// read before the lock was granted. (A lock and read in one statement reads that older state
// row: FOR UPDATE re-reads only the row it locks.)
TEST_F(EnginePgTest, ADecisionThatWaitedForTheLockDecidesOnTheNewestState) {
  auto engine = NewEngine();
  std::string arn;
  auto [id, count] = StartTaskThenWait(*engine, "reread", &arn);
  ASSERT_NE(count, 0);
  pqxx::connection connection(url_);
  // Another writer of the execution: it holds the lock and writes a decision (the same state,
  // one more decision) while the engine's stop waits for the lock.
  pqxx::work holder(connection);
  holder.exec("SELECT 1 FROM executions WHERE execution_id = " + std::to_string(id) +
              " FOR UPDATE");
  holder.exec(
      "UPDATE execution_states SET decision_count = decision_count + 1 WHERE "
      "execution_id = " +
      std::to_string(id));
  auto stop = std::async(std::launch::async, [&] { return engine->StopExecution(arn).ok(); });
  ASSERT_TRUE(SomeoneWaitsForALock());
  holder.commit();
  EXPECT_TRUE(stop.get());
  auto info = engine->DescribeExecution(arn);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->status, "ABORTED");
  EXPECT_EQ(History(*engine, arn),
            "ExecutionStarted TaskStateEntered LambdaFunctionScheduled LambdaFunctionStarted "
            "LambdaFunctionSucceeded TaskStateExited WaitStateEntered ExecutionAborted");
  pqxx::nontransaction tx(connection);
  // The stop was decided on the state the other writer left (count + 1), not on the one read
  // before the lock (which would have written count + 1 again).
  EXPECT_EQ(tx.exec("SELECT decision_count FROM executions WHERE execution_id = " +
                    std::to_string(id))[0][0]
                .as<int64_t>(),
            count + 2);
}

// A task decided by a node runs there as the execution's inline task (its lease in
// execution_states, no work item). When its lease expires another node moves it to work_items
// and runs it; the first node's late outcome is refused.
TEST_F(EnginePgTest, AnInlineTaskWhoseLeaseExpiredRunsElsewhereAndTheLateOutcomeIsRefused) {
  std::atomic<bool> release_a{false}, release_b{false};
  std::atomic<int> calls_a{0}, calls_b{0};
  EngineOptions options = Options();
  options.lease = seconds(60);  // no renewal during the test
  auto a = NewEngine(options);
  ASSERT_EQ(a->RegisterNative("hold",
                              [&](const std::string&, const invoker::NativeContext&) {
                                ++calls_a;
                                while (!release_a) std::this_thread::sleep_for(milliseconds(5));
                                return invoker::NativeOutcome{R"("from a")", ""};
                              }),
            "");
  std::string machine = Machine(*a, "inline", TwoTasks("echo", "hold"));
  auto started = a->StartExecution(machine, "i1", "{}");
  ASSERT_TRUE(started.ok());
  for (int i = 0; i < 1000 && calls_a == 0; ++i) std::this_thread::sleep_for(milliseconds(10));
  ASSERT_EQ(calls_a.load(), 1);
  pqxx::connection connection(url_);
  {
    pqxx::work tx(connection);
    EXPECT_EQ(tx.exec("SELECT count(*) FROM execution_states WHERE task_owner IS NOT NULL AND "
                      "task_key IS NOT NULL")[0][0]
                  .as<int>(),
              1);
    EXPECT_EQ(tx.exec("SELECT count(*) FROM work_items WHERE kind = 'task' AND payload LIKE "
                      "'%function:sleep%'")[0][0]
                  .as<int>(),
              0);
    // As if node a had stalled past its lease.
    tx.exec("UPDATE execution_states SET task_until = now() - interval '1 second'");
    tx.commit();
  }
  auto b = NewEngine();
  ASSERT_EQ(b->RegisterNative("hold",
                              [&](const std::string&, const invoker::NativeContext&) {
                                ++calls_b;
                                while (!release_b) std::this_thread::sleep_for(milliseconds(5));
                                return invoker::NativeOutcome{R"("from b")", ""};
                              }),
            "");
  for (int i = 0; i < 1000 && calls_b == 0; ++i) std::this_thread::sleep_for(milliseconds(10));
  ASSERT_EQ(calls_b.load(), 1);
  const std::string running =
      "ExecutionStarted TaskStateEntered LambdaFunctionScheduled LambdaFunctionStarted "
      "LambdaFunctionSucceeded TaskStateExited TaskStateEntered LambdaFunctionScheduled "
      "LambdaFunctionStarted";
  // Node a wakes up and reports: refused, the execution waits for b.
  release_a = true;
  std::this_thread::sleep_for(milliseconds(500));
  auto info = a->DescribeExecution(started->execution_arn);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->status, "RUNNING");
  EXPECT_EQ(History(*a, started->execution_arn), running);
  release_b = true;
  info = b->WaitForExecution(started->execution_arn, kWait);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->status, "SUCCEEDED");
  EXPECT_EQ(info->output.value_or(""), R"("from b")");
  EXPECT_EQ(History(*b, started->execution_arn),
            running + " LambdaFunctionSucceeded TaskStateExited ExecutionSucceeded");
  pqxx::work tx(connection);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM execution_states")[0][0].as<int>(), 0);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM work_items")[0][0].as<int>(), 0);
}

// A node that shuts down gives its inline tasks back: another node runs them at once.
TEST_F(EnginePgTest, ShutdownGivesInlineTasksBack) {
  ShutdownHandsTheTaskOver(TwoTasks("echo", "block"), true,
                           "ExecutionStarted TaskStateEntered LambdaFunctionScheduled "
                           "LambdaFunctionStarted LambdaFunctionSucceeded TaskStateExited "
                           "TaskStateEntered LambdaFunctionScheduled LambdaFunctionStarted "
                           "LambdaFunctionSucceeded TaskStateExited ExecutionSucceeded");
}

// An inline task that times out leaves the execution's row: its late outcome is refused, and
// a node that dies later does not run it again.
TEST_F(EnginePgTest, AnInlineTaskThatTimesOutLeavesTheExecutionsRow) {
  auto engine = NewEngine();
  std::string machine = Machine(*engine, "inline-timeout", R"({"StartAt": "T1", "States": {
      "T1": {"Type": "Task", "Resource": ")" + Fn("echo") + R"(", "Next": "T2"},
      "T2": {"Type": "Task", "Resource": ")" + Fn("sleep") + R"(", "TimeoutSeconds": 1,
             "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "W"}], "End": true},
      "W": {"Type": "Wait", "Seconds": 4, "Next": "Done"},
      "Done": {"Type": "Pass", "Result": "late", "End": true}}})");
  auto started = engine->StartExecution(machine, "t1", "{}");
  ASSERT_TRUE(started.ok());
  pqxx::connection connection(url_);
  bool inline_seen = false;
  std::string waiting;
  for (int i = 0; i < 1000; ++i) {
    {
      pqxx::work tx(connection);
      inline_seen = inline_seen || tx.exec(
                                         "SELECT count(*) FROM execution_states WHERE "
                                         "task_owner IS NOT NULL")[0][0]
                                           .as<int>() == 1;
    }
    waiting = History(*engine, started->execution_arn);
    if (waiting.find("WaitStateEntered") != std::string::npos) break;
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(inline_seen);
  ASSERT_NE(waiting.find("LambdaFunctionTimedOut"), std::string::npos) << waiting;
  ASSERT_NE(waiting.find("WaitStateEntered"), std::string::npos) << waiting;
  {
    pqxx::work tx(connection);
    EXPECT_EQ(
        tx.exec("SELECT count(*) FROM execution_states WHERE task_owner IS NULL")[0][0].as<int>(),
        1);
  }
  auto info = engine->WaitForExecution(started->execution_arn, kWait);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->status, "SUCCEEDED");
  EXPECT_EQ(info->output.value_or(""), "\"late\"");
  // The sleeping invocation returned during the Wait: nothing of it was recorded.
  EXPECT_EQ(History(*engine, started->execution_arn),
            waiting + " WaitStateExited PassStateEntered PassStateExited ExecutionSucceeded");
}

TEST_F(EnginePgTest, ANodeWhoseSlotsAreAllBusyStillLeasesTheNextTaskToItself) {
  // One slot: T1's outcome frees it in the same decision that schedules T2, so T2 is leased to
  // this node inline (execution_states) rather than queued in work_items for a later claim.
  // (T1, the start's task, is a work item leased by the start.)
  EngineOptions options = Options();
  options.max_tasks_in_flight = 1;
  auto engine = NewEngine(options);
  std::string machine = Machine(*engine, "one-slot", TwoTasks("echo", "sleep"));
  auto started = engine->StartExecution(machine, "s1", R"({"n": 1})");
  ASSERT_TRUE(started.ok());
  pqxx::connection connection(url_);
  int queued_tasks = 0;
  bool inline_t2 = false;
  for (int i = 0; i < 500 && !inline_t2; ++i) {
    {
      pqxx::work tx(connection);
      queued_tasks += tx.exec(
                            "SELECT count(*) FROM work_items WHERE kind = 'task' AND payload LIKE "
                            "'%function:sleep%'")[0][0]
                          .as<int>();
      inline_t2 = !tx.exec(
                         "SELECT 1 FROM execution_states WHERE task_owner IS NOT NULL AND "
                         "task_payload LIKE '%function:sleep%'")
                       .empty();
    }
    if (!inline_t2) std::this_thread::sleep_for(milliseconds(5));
  }
  EXPECT_TRUE(inline_t2);
  EXPECT_EQ(queued_tasks, 0);
  auto info = engine->WaitForExecution(started->execution_arn, kWait);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->status, "SUCCEEDED");
  EXPECT_EQ(info->output.value_or(""), R"({"n":1})");
}

}  // namespace
}  // namespace switchyard::orchestrator
