// Activities, RedriveExecution and retention on a real PostgreSQL, through the Engine API.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pg_fixture.hpp"
#include "switchyard/asl/json.hpp"
#include "switchyard/orchestrator/engine.hpp"

namespace switchyard::orchestrator {
namespace {

namespace asl = switchyard::asl;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr milliseconds kWait{30000};
constexpr const char* kActivityArn = "arn:aws:states:us-east-1:000000000000:activity:";

class ActivitiesPgTest : public testing::PgTest {
 protected:
  EngineOptions Options() {
    EngineOptions options;
    options.database_url = url();
    options.poll_interval = milliseconds(200);
    return options;
  }

  std::unique_ptr<Engine> NewEngine(EngineOptions options) {
    auto engine = Engine::Create(std::move(options));
    EXPECT_EQ(engine->RegisterNative(
                  "flaky",
                  [this](const std::string& payload, const invoker::NativeContext&) {
                    if (++flaky_calls_ <= flaky_failures_) {
                      return invoker::NativeOutcome{
                          R"({"errorMessage":"not yet","errorType":"Flaky"})", "Flaky"};
                    }
                    return invoker::NativeOutcome{payload, ""};
                  }),
              "");
    return engine;
  }
  std::unique_ptr<Engine> NewEngine() { return NewEngine(Options()); }

  std::string Machine(Engine& engine, const std::string& name, const std::string& definition) {
    auto created = engine.CreateStateMachine(name, definition);
    EXPECT_TRUE(created.ok()) << (created.ok() ? "" : created.error().cause);
    return created.ok() ? created->arn : "";
  }

  std::string Activity(Engine& engine, const std::string& name) {
    auto created = engine.CreateActivity(name);
    EXPECT_TRUE(created.ok()) << (created.ok() ? "" : created.error().cause);
    return created.ok() ? created->arn : "";
  }

  ExecutionInfo Wait(Engine& engine, const std::string& execution_arn) {
    auto done = engine.WaitForExecution(execution_arn, kWait);
    EXPECT_TRUE(done.ok());
    return done.ok() ? *done : ExecutionInfo{};
  }

  // The history's event types joined by ' ' (ids checked to be 1..n).
  std::string History(Engine& engine, const std::string& execution_arn) {
    auto page = engine.GetExecutionHistory(execution_arn, 1000);
    EXPECT_TRUE(page.ok());
    if (!page.ok()) return "";
    std::string types;
    int64_t expected = 1;
    for (const auto& event : page->events) {
      EXPECT_EQ(event.id, expected++);
      if (!types.empty()) types += ' ';
      types += event.type;
    }
    return types;
  }

  // The details of the first event of `type`.
  std::string Details(Engine& engine, const std::string& execution_arn, const std::string& type) {
    auto page = engine.GetExecutionHistory(execution_arn, 1000);
    if (!page.ok()) return "";
    for (const auto& event : page->events) {
      if (event.type == type) return event.details;
    }
    return "";
  }

  // Polls until a task of the activity comes (each poll waits up to 1 s).
  ActivityTask Take(Engine& engine, const std::string& activity_arn,
                    const std::string& worker = "worker-1") {
    for (int i = 0; i < 30; ++i) {
      auto task = engine.GetActivityTask(activity_arn, worker, seconds(1));
      EXPECT_TRUE(task.ok());
      if (task.ok() && !task->task_token.empty()) return *task;
    }
    return {};
  }

  std::atomic<int> flaky_calls_{0};
  std::atomic<int> flaky_failures_{0};
};

// ---- activities ------------------------------------------------------------------------------

TEST_F(ActivitiesPgTest, CreateDescribeListDelete) {
  auto engine = NewEngine();
  auto created = engine->CreateActivity("worker-pool", R"([{"key":"team","value":"a"}])");
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->arn, std::string(kActivityArn) + "worker-pool");
  EXPECT_GT(created->creation_date, 0);
  // Idempotent by name with the same tags; other tags are a conflict.
  auto again = engine->CreateActivity("worker-pool", R"([{"key": "team", "value": "a"}])");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->creation_date, created->creation_date);
  EXPECT_EQ(engine->CreateActivity("worker-pool", "[]").error().error, "ActivityAlreadyExists");
  EXPECT_EQ(engine->CreateActivity("bad name").error().error, "InvalidName");
  EXPECT_EQ(engine->CreateActivity(std::string(81, 'a')).error().error, "ValidationException");

  auto described = engine->DescribeActivity(created->arn);
  ASSERT_TRUE(described.ok());
  EXPECT_EQ(described->name, "worker-pool");
  EXPECT_EQ(engine->DescribeActivity(std::string(kActivityArn) + "nope").error().error,
            "ActivityDoesNotExist");
  EXPECT_EQ(engine->DescribeActivity("arn:aws:states:us-east-1:000000000000:stateMachine:x")
                .error()
                .error,
            "InvalidArn");
  EXPECT_EQ(engine->GetActivityTask(std::string(kActivityArn) + "nope", "w", milliseconds(10))
                .error()
                .error,
            "ActivityDoesNotExist");
  EXPECT_EQ(engine->GetActivityTask("garbage", "w", milliseconds(10)).error().error, "InvalidArn");

  // Pages by name.
  Activity(*engine, "a-first");
  Activity(*engine, "z-last");
  auto page = engine->ListActivities(2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->activities.size(), 2u);
  EXPECT_EQ(page->activities[0].name, "a-first");
  EXPECT_EQ(page->activities[1].name, "worker-pool");
  ASSERT_FALSE(page->next_token.empty());
  auto rest = engine->ListActivities(2, page->next_token);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->activities.size(), 1u);
  EXPECT_EQ(rest->activities[0].name, "z-last");
  EXPECT_EQ(rest->next_token, "");

  EXPECT_TRUE(engine->DeleteActivity(created->arn).ok());
  EXPECT_EQ(engine->DescribeActivity(created->arn).error().error, "ActivityDoesNotExist");
  EXPECT_TRUE(engine->DeleteActivity(created->arn).ok());  // AWS: deleting twice is fine
}

TEST_F(ActivitiesPgTest, AWorkerTakesTheTaskAndSucceeds) {
  auto engine = NewEngine();
  std::string activity = Activity(*engine, "greeter");
  std::string machine = Machine(*engine, "activity-ok", R"({"StartAt": "Greet", "States": {
      "Greet": {"Type": "Task", "Resource": ")" + activity + R"(",
                "Parameters": {"who.$": "$.name"}, "ResultPath": "$.greeting", "End": true}}})");
  // Nothing is scheduled yet: the poll answers an empty task when its wait ends.
  auto empty = engine->GetActivityTask(activity, "w", milliseconds(300));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->task_token, "");
  EXPECT_EQ(empty->input, "");

  auto started = engine->StartExecution(machine, "one", R"({"name":"ada"})");
  ASSERT_TRUE(started.ok());
  ActivityTask task = Take(*engine, activity, "worker-7");
  ASSERT_FALSE(task.task_token.empty());
  EXPECT_EQ(task.input, R"({"who":"ada"})");
  // Taken once only.
  EXPECT_EQ(engine->GetActivityTask(activity, "w", milliseconds(100))->task_token, "");
  EXPECT_TRUE(engine->SendTaskHeartbeat(task.task_token).ok());
  EXPECT_EQ(engine->SendTaskSuccess(task.task_token, "not json").error().error, "InvalidOutput");
  ASSERT_TRUE(engine->SendTaskSuccess(task.task_token, R"("hello ada")").ok());
  ExecutionInfo info = Wait(*engine, started->execution_arn);
  EXPECT_EQ(info.status, "SUCCEEDED");
  EXPECT_EQ(info.output.value_or(""), R"({"name":"ada","greeting":"hello ada"})");
  EXPECT_EQ(History(*engine, started->execution_arn),
            "ExecutionStarted TaskStateEntered ActivityScheduled ActivityStarted "
            "ActivitySucceeded TaskStateExited ExecutionSucceeded");
  EXPECT_EQ(Details(*engine, started->execution_arn, "ActivityStarted"),
            R"({"workerName":"worker-7"})");
  EXPECT_EQ(Details(*engine, started->execution_arn, "ActivityScheduled"),
            R"({"resource":")" + activity +
                R"(","input":"{\"who\":\"ada\"}","inputDetails":{"truncated":false}})");
  // The task is closed: its token no longer answers.
  EXPECT_EQ(engine->SendTaskSuccess(task.task_token, "{}").error().error, "TaskDoesNotExist");
}

TEST_F(ActivitiesPgTest, ALongPollIsWokenByANewTask) {
  auto engine = NewEngine();
  std::string activity = Activity(*engine, "long-poll");
  std::string machine = Machine(*engine, "activity-poll", R"({"StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": ")" + activity + R"(", "End": true}}})");
  // Another engine (node) polls; the task is scheduled by this one.
  auto poller = NewEngine();
  asl::Result<ActivityTask> got = ActivityTask{};
  std::thread worker([&] { got = poller->GetActivityTask(activity, "remote", seconds(25)); });
  std::this_thread::sleep_for(milliseconds(200));
  auto started = engine->StartExecution(machine, "p", R"({"x":1})");
  ASSERT_TRUE(started.ok());
  worker.join();
  ASSERT_TRUE(got.ok());
  ASSERT_FALSE(got->task_token.empty());
  EXPECT_EQ(got->input, R"({"x":1})");
  ASSERT_TRUE(poller->SendTaskFailure(got->task_token, "Worker.Error", "it broke").ok());
  ExecutionInfo info = Wait(*engine, started->execution_arn);
  EXPECT_EQ(info.status, "FAILED");
  EXPECT_EQ(info.error.value_or(""), "Worker.Error");
  EXPECT_EQ(info.cause.value_or(""), "it broke");
  EXPECT_EQ(History(*engine, started->execution_arn),
            "ExecutionStarted TaskStateEntered ActivityScheduled ActivityStarted ActivityFailed "
            "ExecutionFailed");
}

TEST_F(ActivitiesPgTest, NoWorkerComesAndTheTaskTimesOut) {
  auto engine = NewEngine();
  std::string activity = Activity(*engine, "nobody");
  std::string machine = Machine(*engine, "activity-timeout", R"({"StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": ")" + activity + R"(", "TimeoutSeconds": 1,
            "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Late"}], "End": true},
      "Late": {"Type": "Pass", "End": true}}})");
  auto started = engine->StartExecution(machine, "t", "{}");
  ASSERT_TRUE(started.ok());
  ExecutionInfo info = Wait(*engine, started->execution_arn);
  EXPECT_EQ(info.status, "SUCCEEDED");
  EXPECT_EQ(History(*engine, started->execution_arn),
            "ExecutionStarted TaskStateEntered ActivityScheduled ActivityTimedOut TaskStateExited "
            "PassStateEntered PassStateExited ExecutionSucceeded");
  EXPECT_EQ(Details(*engine, started->execution_arn, "ActivityTimedOut"),
            R"({"error":"States.Timeout"})");
  // The timed-out task is no longer handed out.
  EXPECT_EQ(engine->GetActivityTask(activity, "w", milliseconds(100))->task_token, "");
}

TEST_F(ActivitiesPgTest, AWorkerThatDiesMissesItsHeartbeat) {
  auto engine = NewEngine();
  std::string activity = Activity(*engine, "heartbeats");
  std::string machine = Machine(*engine, "activity-heartbeat", R"({"StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": ")" + activity + R"(", "HeartbeatSeconds": 2,
            "End": true}}})");
  // A worker that heartbeats stays alive past HeartbeatSeconds.
  auto alive = engine->StartExecution(machine, "alive", "{}");
  ASSERT_TRUE(alive.ok());
  ActivityTask task = Take(*engine, activity);
  ASSERT_FALSE(task.task_token.empty());
  for (int i = 0; i < 8; ++i) {
    std::this_thread::sleep_for(milliseconds(500));
    ASSERT_TRUE(engine->SendTaskHeartbeat(task.task_token).ok()) << i;
  }
  ASSERT_TRUE(engine->SendTaskSuccess(task.task_token, "{}").ok());
  EXPECT_EQ(Wait(*engine, alive->execution_arn).status, "SUCCEEDED");

  // A worker that takes the task and dies: the heartbeat timeout fails it.
  auto dead = engine->StartExecution(machine, "dead", "{}");
  ASSERT_TRUE(dead.ok());
  ActivityTask lost = Take(*engine, activity);
  ASSERT_FALSE(lost.task_token.empty());
  ExecutionInfo info = Wait(*engine, dead->execution_arn);
  EXPECT_EQ(info.status, "FAILED");
  EXPECT_EQ(info.error.value_or(""), "States.HeartbeatTimeout");
  EXPECT_EQ(History(*engine, dead->execution_arn),
            "ExecutionStarted TaskStateEntered ActivityScheduled ActivityStarted ActivityTimedOut "
            "ExecutionFailed");
  EXPECT_EQ(engine->SendTaskSuccess(lost.task_token, "{}").error().error, "TaskDoesNotExist");
}

TEST_F(ActivitiesPgTest, AScheduledTaskSurvivesAnEngineRestart) {
  std::string activity, execution_arn;
  {
    auto engine = NewEngine();
    activity = Activity(*engine, "durable");
    std::string machine = Machine(*engine, "activity-durable", R"({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": ")" + activity + R"(", "End": true}}})");
    auto started = engine->StartExecution(machine, "d", R"([1,2])");
    ASSERT_TRUE(started.ok());
    execution_arn = started->execution_arn;
  }
  auto engine = NewEngine();
  ActivityTask task = Take(*engine, activity);
  ASSERT_FALSE(task.task_token.empty());
  EXPECT_EQ(task.input, "[1,2]");
  ASSERT_TRUE(engine->SendTaskSuccess(task.task_token, "3").ok());
  ExecutionInfo info = Wait(*engine, execution_arn);
  EXPECT_EQ(info.status, "SUCCEEDED");
  EXPECT_EQ(info.output.value_or(""), "3");
}

TEST_F(ActivitiesPgTest, StoppingTheExecutionWithdrawsItsActivityTask) {
  auto engine = NewEngine();
  std::string activity = Activity(*engine, "withdrawn");
  std::string machine = Machine(*engine, "activity-stop", R"({"StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": ")" + activity + R"(", "End": true}}})");
  auto started = engine->StartExecution(machine, "s", "{}");
  ASSERT_TRUE(started.ok());
  ASSERT_TRUE(engine->StopExecution(started->execution_arn).ok());
  EXPECT_EQ(engine->GetActivityTask(activity, "w", milliseconds(100))->task_token, "");
}

// ---- redrive ---------------------------------------------------------------------------------

TEST_F(ActivitiesPgTest, RedriveRunsAFailedExecutionFromTheFailedState) {
  auto engine = NewEngine();
  flaky_failures_ = 1;
  std::string machine = Machine(*engine, "redrive-task", R"({"StartAt": "A", "States": {
      "A": {"Type": "Pass", "Result": {"n": 1}, "Next": "B"},
      "B": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:000000000000:function:flaky",
            "Next": "C"},
      "C": {"Type": "Pass", "Parameters": {"done.$": "$.n", "redrives.$": "$$.Execution.RedriveCount"},
            "End": true}}})");
  auto started = engine->StartExecution(machine, "r", "{}");
  ASSERT_TRUE(started.ok());
  ExecutionInfo failed = Wait(*engine, started->execution_arn);
  ASSERT_EQ(failed.status, "FAILED");
  EXPECT_EQ(failed.error.value_or(""), "Flaky");
  auto described = engine->DescribeExecution(started->execution_arn);
  EXPECT_EQ(described->redrive_status, "REDRIVABLE");
  EXPECT_EQ(described->redrive_count, 0);

  auto redriven = engine->RedriveExecution(started->execution_arn, "token-1");
  ASSERT_TRUE(redriven.ok()) << redriven.error().cause;
  ExecutionInfo info = Wait(*engine, started->execution_arn);
  EXPECT_EQ(info.status, "SUCCEEDED");
  EXPECT_EQ(info.output.value_or(""), R"({"done":1,"redrives":1})");
  EXPECT_EQ(info.error, std::nullopt);
  EXPECT_EQ(info.redrive_count, 1);
  EXPECT_EQ(info.redrive_date.value_or(0), *redriven);
  EXPECT_EQ(info.redrive_status, "NOT_REDRIVABLE");
  EXPECT_EQ(info.redrive_status_reason, "Execution is SUCCEEDED and cannot be redriven.");
  EXPECT_EQ(History(*engine, started->execution_arn),
            "ExecutionStarted PassStateEntered PassStateExited TaskStateEntered "
            "LambdaFunctionScheduled LambdaFunctionStarted LambdaFunctionFailed ExecutionFailed "
            "ExecutionRedriven TaskStateEntered LambdaFunctionScheduled LambdaFunctionStarted "
            "LambdaFunctionSucceeded TaskStateExited PassStateEntered PassStateExited "
            "ExecutionSucceeded");
  EXPECT_EQ(Details(*engine, started->execution_arn, "ExecutionRedriven"), R"({"redriveCount":1})");
  // The same client token is the same redrive; another one meets the rules.
  auto same = engine->RedriveExecution(started->execution_arn, "token-1");
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, *redriven);
  auto other = engine->RedriveExecution(started->execution_arn, "token-2");
  EXPECT_EQ(other.error().error, "ExecutionNotRedrivable");
  EXPECT_EQ(other.error().cause, "Execution is SUCCEEDED and cannot be redriven.");
}

TEST_F(ActivitiesPgTest, RedriveRules) {
  auto engine = NewEngine();
  std::string waiting = Machine(*engine, "redrive-wait", R"({"StartAt": "W", "States": {
      "W": {"Type": "Wait", "Seconds": 100, "End": true}}})");
  auto running = engine->StartExecution(waiting, "running", "{}");
  ASSERT_TRUE(running.ok());
  auto refused = engine->RedriveExecution(running->execution_arn);
  EXPECT_EQ(refused.error().error, "ExecutionNotRedrivable");
  EXPECT_EQ(refused.error().cause, "Execution is RUNNING and cannot be redriven.");
  EXPECT_EQ(engine->RedriveExecution(running->execution_arn + "-nope").error().error,
            "ExecutionDoesNotExist");
  EXPECT_EQ(engine->RedriveExecution("not-an-arn").error().error, "InvalidArn");

  // ABORTED: the stopped Wait runs again.
  std::string short_wait = Machine(*engine, "redrive-short", R"({"StartAt": "W", "States": {
      "W": {"Type": "Wait", "Seconds": 1, "Next": "Done"},
      "Done": {"Type": "Pass", "End": true}}})");
  auto aborted = engine->StartExecution(short_wait, "aborted", R"({"k":"v"})");
  ASSERT_TRUE(aborted.ok());
  ASSERT_TRUE(engine->StopExecution(aborted->execution_arn, "Stopped", "by test").ok());
  EXPECT_EQ(Wait(*engine, aborted->execution_arn).status, "ABORTED");
  ASSERT_TRUE(engine->RedriveExecution(aborted->execution_arn).ok());
  ExecutionInfo info = Wait(*engine, aborted->execution_arn);
  EXPECT_EQ(info.status, "SUCCEEDED");
  EXPECT_EQ(info.output.value_or(""), R"({"k":"v"})");

  // TIMED_OUT: TimeoutSeconds runs again from the redrive.
  std::string slow = Machine(*engine, "redrive-timeout", R"({"TimeoutSeconds": 1,
      "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 30, "End": true}}})");
  auto timed_out = engine->StartExecution(slow, "slow", "{}");
  ASSERT_TRUE(timed_out.ok());
  EXPECT_EQ(Wait(*engine, timed_out->execution_arn).status, "TIMED_OUT");
  ASSERT_TRUE(engine->RedriveExecution(timed_out->execution_arn).ok());
  info = Wait(*engine, timed_out->execution_arn);
  EXPECT_EQ(info.status, "TIMED_OUT");
  EXPECT_EQ(info.redrive_count, 1);
  EXPECT_EQ(History(*engine, timed_out->execution_arn),
            "ExecutionStarted WaitStateEntered ExecutionTimedOut ExecutionRedriven "
            "WaitStateEntered ExecutionTimedOut");

  // A failed Parallel state: redriving only its failed branches is not supported, and said so.
  std::string parallel = Machine(*engine, "redrive-parallel", R"({"StartAt": "P", "States": {
      "P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "Ok", "States": {"Ok": {"Type": "Pass", "End": true}}},
        {"StartAt": "Bad", "States": {"Bad": {"Type": "Fail", "Error": "E"}}}]}}})");
  auto fan = engine->StartExecution(parallel, "fan", "{}");
  ASSERT_TRUE(fan.ok());
  EXPECT_EQ(Wait(*engine, fan->execution_arn).status, "FAILED");
  auto described = engine->DescribeExecution(fan->execution_arn);
  EXPECT_EQ(described->redrive_status, "NOT_REDRIVABLE");
  EXPECT_EQ(described->redrive_status_reason,
            "Redriving the branches or iterations of the Parallel state 'P' is not supported.");
  auto parallel_refused = engine->RedriveExecution(fan->execution_arn);
  EXPECT_EQ(parallel_refused.error().error, "ExecutionNotRedrivable");
  EXPECT_EQ(parallel_refused.error().cause, described->redrive_status_reason);

  // More than 14 days after the end.
  std::string failing = Machine(*engine, "redrive-old", R"({"StartAt": "F", "States": {
      "F": {"Type": "Fail", "Error": "E"}}})");
  auto old = engine->StartExecution(failing, "old", "{}");
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(Wait(*engine, old->execution_arn).status, "FAILED");
  {
    pqxx::connection connection(url());
    pqxx::work tx(connection);
    tx.exec_params(
        "UPDATE executions SET stop_date = now() - interval '15 days' "
        "WHERE execution_arn = $1",
        old->execution_arn);
    tx.commit();
  }
  auto too_old = engine->RedriveExecution(old->execution_arn);
  EXPECT_EQ(too_old.error().error, "ExecutionNotRedrivable");
  EXPECT_EQ(too_old.error().cause, "Execution redrivable period exceeded.");
  EXPECT_EQ(engine->DescribeExecution(old->execution_arn)->redrive_status_reason,
            "Execution redrivable period exceeded.");
}

TEST_F(ActivitiesPgTest, RedriveIsRefusedAtTheHistoryLimit) {
  auto engine = NewEngine();
  std::string machine = Machine(*engine, "redrive-endless", R"({"StartAt": "Loop", "States": {
      "Loop": {"Type": "Pass", "Next": "Again"},
      "Again": {"Type": "Choice", "Choices": [{"Variable": "$.stop", "IsPresent": true,
                "Next": "Done"}], "Default": "Loop"},
      "Done": {"Type": "Succeed"}}})");
  auto started = engine->StartExecution(machine, "endless", "{}");
  ASSERT_TRUE(started.ok());
  EXPECT_EQ(Wait(*engine, started->execution_arn).status, "FAILED");
  auto refused = engine->RedriveExecution(started->execution_arn);
  EXPECT_EQ(refused.error().error, "ExecutionNotRedrivable");
  EXPECT_EQ(refused.error().cause, "Execution history event limit exceeded.");
}

// ---- the running set ---------------------------------------------------------------------------

// ListExecutions' RUNNING filter reads running_executions (migrations/0011), which every status
// change keeps: a start, a stop, a failure, a start that finished at once, a redrive.
TEST_F(ActivitiesPgTest, TheRunningFilterFollowsEveryStatusChange) {
  auto engine = NewEngine();
  flaky_failures_ = 1;
  std::string machine = Machine(*engine, "running-set", R"({"StartAt": "Kind", "States": {
      "Kind": {"Type": "Choice", "Choices": [
                 {"Variable": "$.kind", "StringEquals": "task", "Next": "T"},
                 {"Variable": "$.kind", "StringEquals": "pass", "Next": "Done"}],
               "Default": "W"},
      "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:000000000000:function:flaky",
            "Next": "W"},
      "W": {"Type": "Wait", "Seconds": 100, "End": true},
      "Done": {"Type": "Pass", "End": true}}})");
  auto waiting = engine->StartExecution(machine, "waiting", R"({"kind": "wait"})");
  auto stopped = engine->StartExecution(machine, "stopped", R"({"kind": "wait"})");
  auto done = engine->StartExecution(machine, "done", R"({"kind": "pass"})");
  auto redriven = engine->StartExecution(machine, "redriven", R"({"kind": "task"})");
  ASSERT_TRUE(waiting.ok() && stopped.ok() && done.ok() && redriven.ok());
  ASSERT_TRUE(engine->StopExecution(stopped->execution_arn).ok());
  EXPECT_EQ(Wait(*engine, done->execution_arn).status, "SUCCEEDED");
  EXPECT_EQ(Wait(*engine, redriven->execution_arn).status, "FAILED");
  auto names = [&](const std::string& filter) {
    std::string out;
    auto list = engine->ListExecutions(machine, filter);
    EXPECT_TRUE(list.ok());
    if (!list.ok()) return out;
    for (const auto& info : *list) out += (out.empty() ? "" : " ") + info.name + ":" + info.status;
    return out;
  };
  EXPECT_EQ(names("RUNNING"), "waiting:RUNNING");
  EXPECT_EQ(names("ABORTED"), "stopped:ABORTED");
  EXPECT_EQ(names("FAILED"), "redriven:FAILED");

  ASSERT_TRUE(engine->RedriveExecution(redriven->execution_arn, "t").ok());
  bool waits = false;
  for (int i = 0; i < 200 && !waits; ++i) {
    waits = History(*engine, redriven->execution_arn).ends_with("WaitStateEntered");
    if (!waits) std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_TRUE(waits) << History(*engine, redriven->execution_arn);
  EXPECT_EQ(names("RUNNING"), "redriven:RUNNING waiting:RUNNING");
  EXPECT_EQ(names("FAILED"), "");
  EXPECT_EQ(names(""), "redriven:RUNNING done:SUCCEEDED stopped:ABORTED waiting:RUNNING");

  pqxx::connection connection(url());
  pqxx::work tx(connection);
  // The set holds exactly the executions whose status is RUNNING.
  EXPECT_EQ(tx.exec("SELECT string_agg(e.name, ' ' ORDER BY e.name) FROM running_executions x "
                    "JOIN executions e USING (execution_id)")[0][0]
                .as<std::string>(),
            "redriven waiting");
  EXPECT_EQ(tx.exec("SELECT count(*) FROM running_executions")[0][0].as<int64_t>(), 2);
  // No index of executions names a column an execution's end writes, so that update can stay a
  // HOT update.
  for (const auto& row : tx.exec("SELECT indexdef FROM pg_indexes WHERE tablename = "
                                 "'executions'")) {
    const std::string definition = row[0].as<std::string>();
    EXPECT_EQ(definition.find("status"), std::string::npos) << definition;
    EXPECT_EQ(definition.find("stop_date"), std::string::npos) << definition;
  }
}

// ---- retention -------------------------------------------------------------------------------

TEST_F(ActivitiesPgTest, RetentionPurgesFinishedExecutionsOnly) {
  EngineOptions options = Options();
  options.retention = seconds(1);
  options.retention_interval = std::chrono::hours(1);  // passes are run by the test
  auto engine = NewEngine(options);
  std::string done = Machine(*engine, "retention-done", R"({"StartAt": "P", "States": {
      "P": {"Type": "Pass", "End": true}}})");
  std::string waiting = Machine(*engine, "retention-wait", R"({"StartAt": "W", "States": {
      "W": {"Type": "Wait", "Seconds": 100, "End": true}}})");
  auto finished = engine->StartExecution(done, "old", "{}");
  ASSERT_TRUE(finished.ok());
  EXPECT_EQ(Wait(*engine, finished->execution_arn).status, "SUCCEEDED");
  auto running = engine->StartExecution(waiting, "running", "{}");
  ASSERT_TRUE(running.ok());
  std::this_thread::sleep_for(milliseconds(1500));
  auto recent = engine->StartExecution(done, "recent", "{}");
  ASSERT_TRUE(recent.ok());
  EXPECT_EQ(Wait(*engine, recent->execution_arn).status, "SUCCEEDED");

  // Another node purging (holding the lock): this one leaves it to that node.
  {
    pqxx::connection connection(url());
    pqxx::work tx(connection);
    tx.exec("SELECT pg_advisory_xact_lock(" + std::to_string(0x73795f7265746eLL) + ")");
    EXPECT_EQ(engine->PurgeExpiredExecutions(), 0);
  }
  EXPECT_EQ(engine->PurgeExpiredExecutions(), 1);
  EXPECT_EQ(engine->DescribeExecution(finished->execution_arn).error().error,
            "ExecutionDoesNotExist");
  EXPECT_EQ(engine->GetExecutionHistory(finished->execution_arn).error().error,
            "ExecutionDoesNotExist");
  EXPECT_TRUE(engine->DescribeExecution(running->execution_arn).ok());
  EXPECT_TRUE(engine->DescribeExecution(recent->execution_arn).ok());
  {
    pqxx::connection connection(url());
    pqxx::work tx(connection);
    // The purged execution's history is gone (its id no longer exists), the others' is whole.
    EXPECT_EQ(tx.exec("SELECT count(*) FROM history_chunks WHERE execution_id NOT IN (SELECT "
                      "execution_id FROM executions)")[0][0]
                  .as<int64_t>(),
              0);
    EXPECT_EQ(
        tx.exec("SELECT (SELECT count(*) FROM history_events) + (SELECT "
                "coalesce(sum(last_event_id - first_event_id + 1), 0) FROM history_chunks)")[0][0]
            .as<int64_t>(),
        tx.exec("SELECT sum(history_count) FROM executions")[0][0].as<int64_t>());
  }
}

TEST_F(ActivitiesPgTest, RetentionRunsInTheBackground) {
  EngineOptions options = Options();
  options.retention = seconds(1);
  options.retention_interval = milliseconds(200);
  auto engine = NewEngine(options);
  std::string done = Machine(*engine, "retention-bg", R"({"StartAt": "P", "States": {
      "P": {"Type": "Pass", "End": true}}})");
  auto finished = engine->StartExecution(done, "bg", "{}");
  ASSERT_TRUE(finished.ok());
  EXPECT_EQ(Wait(*engine, finished->execution_arn).status, "SUCCEEDED");
  bool purged = false;
  for (int i = 0; i < 300 && !purged; ++i) {
    std::this_thread::sleep_for(milliseconds(100));
    purged = !engine->DescribeExecution(finished->execution_arn).ok();
  }
  EXPECT_TRUE(purged);
}

}  // namespace
}  // namespace switchyard::orchestrator
