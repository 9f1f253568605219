// Task states: scheduling (Lambda, activities, service integrations, callbacks) and their outcome.

#include "core_internal.hpp"

namespace switchyard::asl {

namespace core_internal {

void Runner::RunTask(Frame& frame, const State& state) {
  Stage stage(frame, state, frame.input);
  if (Status opened = OpenStage(stage); !opened) return FailFrame(frame, std::move(opened).error());
  // The effective input (JSONata: a copy; the input stays $states.input of Output and Assign).
  frame.work = stage.Effective();
  frame.attempts.assign(state.retry.size(), 0);
  frame.retry_count = 0;
  InvokeTask(frame, state);
}

void Runner::InvokeTask(Frame& frame, const State& state) {
  const bool activity = IsActivity(state.resource);
  bool callback = activity || IsCallback(state.resource);
  ClearToken(frame);
  if (callback) {
    uint64_t high = random_.NextU64();
    uint64_t low = random_.NextU64();
    static constexpr char kHex[] = "0123456789abcdef";
    std::string token;
    for (uint64_t part : {high, low}) {
      for (int shift = 60; shift >= 0; shift -= 4) {
        token += kHex[(part >> shift) & 0xF];
      }
    }
    SetToken(frame, std::move(token));
  }
  // Parameters (JSONPath) or Arguments (JSONata), else the effective input.
  Stage stage(frame, state, frame.work);
  auto arguments = FieldValue(stage, "Arguments", nullptr,
                              state.parameters ? &*state.parameters : nullptr, state.arguments);
  if (!arguments) return HandleStateError(frame, state, std::move(arguments).error());
  Json payload;
  if (*arguments) {
    payload = std::move(**arguments);
    // ASL limit: the input a task is scheduled with (its own input is within it already).
    if (auto size_error = CheckSize(frame, payload)) {
      return HandleStateError(frame, state, std::move(*size_error));
    }
  } else {
    payload = CopyJson(frame.work);
  }
  static constexpr IntegerField kTimeout{"TimeoutSeconds", "TimeoutSecondsPath",
                                         PathInteger::kPositive, 1};
  auto timeout = IntegerFieldOf(stage, kTimeout, state.timeout_seconds, state.timeout_seconds_path,
                                state.timeout_seconds_jsonata);
  if (!timeout) return HandleStateError(frame, state, std::move(timeout).error());
  static constexpr IntegerField kHeartbeat{"HeartbeatSeconds", "HeartbeatSecondsPath",
                                           PathInteger::kPositive, 1};
  auto heartbeat = IntegerFieldOf(stage, kHeartbeat, state.heartbeat_seconds,
                                  state.heartbeat_seconds_path, state.heartbeat_seconds_jsonata);
  if (!heartbeat) return HandleStateError(frame, state, std::move(heartbeat).error());
  const int64_t timeout_seconds = timeout->value_or(kDefaultTaskTimeoutSeconds);
  const int64_t heartbeat_seconds = heartbeat->value_or(0);

  SetTask(frame, NextId("task-", frame));
  frame.phase = Phase::kTask;
  bool lambda = IsLegacyLambda(state.resource);
  if (activity) {
    // AWS: ActivityScheduled now; ActivityStarted when a worker takes the task.
    Json details = JsonObject();
    JsonSet(details, "resource", JsonString(state.resource));
    JsonSet(details, "input", JsonString(DumpJson(payload)));
    JsonSet(details, "inputDetails", PayloadDetails());
    if (state.timeout_seconds || state.timeout_seconds_path || state.timeout_seconds_jsonata) {
      JsonSet(details, "timeoutInSeconds", JsonInt(timeout_seconds));
    }
    if (heartbeat_seconds > 0) JsonSet(details, "heartbeatInSeconds", JsonInt(heartbeat_seconds));
    Emit("ActivityScheduled", "activityScheduledEventDetails", std::move(details));
  } else if (lambda) {
    Json details = JsonObject();
    JsonSet(details, "resource", JsonString(state.resource));
    JsonSet(details, "input", JsonString(DumpJson(payload)));
    JsonSet(details, "inputDetails", PayloadDetails());
    if (state.timeout_seconds || state.timeout_seconds_path || state.timeout_seconds_jsonata) {
      JsonSet(details, "timeoutInSeconds", JsonInt(timeout_seconds));
    }
    Emit("LambdaFunctionScheduled", "lambdaFunctionScheduledEventDetails", std::move(details));
    Emit("LambdaFunctionStarted");
  } else {
    auto [type, name] = ResourceTypeAndName(state.resource);
    Json details = JsonObject();
    JsonSet(details, "resourceType", JsonString(type));
    JsonSet(details, "resource", JsonString(name));
    JsonSet(details, "region", JsonString("us-east-1"));
    JsonSet(details, "parameters", JsonString(DumpJson(payload)));
    if (state.timeout_seconds || state.timeout_seconds_path || state.timeout_seconds_jsonata) {
      JsonSet(details, "timeoutInSeconds", JsonInt(timeout_seconds));
    }
    if (heartbeat_seconds > 0) JsonSet(details, "heartbeatInSeconds", JsonInt(heartbeat_seconds));
    Emit("TaskScheduled", "taskScheduledEventDetails", std::move(details));
    Json started = JsonObject();
    JsonSet(started, "resourceType", JsonString(type));
    JsonSet(started, "resource", JsonString(name));
    Emit("TaskStarted", "taskStartedEventDetails", std::move(started));
  }
  Command command;
  command.kind = Command::Kind::kInvokeTask;
  command.task_id = frame.task_id;
  command.resource = state.resource;
  command.payload = std::move(payload);
  command.timeout_seconds = timeout_seconds;
  command.heartbeat_seconds = heartbeat_seconds;
  command.token = frame.token;
  step_.commands.push_back(std::move(command));
}

void Runner::HandleActivityStarted(const Event& event) {
  Frame* frame = impl_.FrameOfId(event.task_id);
  if (frame == nullptr || frame->phase != Phase::kTask || frame->task_id != event.task_id) return;
  if (!IsActivity(StateOf(*frame).resource)) return;
  Json details = JsonObject();
  if (!event.worker_name.empty()) {
    JsonSet(details, "workerName", JsonString(event.worker_name));
  }
  Emit("ActivityStarted", "activityStartedEventDetails", std::move(details));
}

Json Runner::TaskEventDetails(const State& state) {
  Json details = JsonObject();
  if (IsActivity(state.resource)) return details;
  if (!IsLegacyLambda(state.resource)) {
    auto [type, name] = ResourceTypeAndName(state.resource);
    JsonSet(details, "resourceType", JsonString(type));
    JsonSet(details, "resource", JsonString(name));
  }
  return details;
}

void Runner::HandleTaskEvent(const Event& event) {
  Frame* found = !event.task_id.empty() ? impl_.FrameOfId(event.task_id) : impl_.Owner(event.token);
  if (found == nullptr || found->phase != Phase::kTask) return;
  if (!event.task_id.empty() ? found->task_id != event.task_id : found->token != event.token) {
    return;
  }
  Frame& frame = *found;
  int64_t frame_id = frame.id;
  const State& state = StateOf(frame);
  bool lambda = IsLegacyLambda(state.resource);
  const bool activity = IsActivity(state.resource);
  bool is_callback_reply = event.task_id.empty();
  switch (event.kind) {
    case Event::Kind::kHeartbeat:
      return;
    case Event::Kind::kTaskSucceeded: {
      if (!frame.token.empty() && !is_callback_reply) return;  // waits for the callback
      std::string output_text = DumpJson(event.output);
      if (output_text.size() > kMaxPayloadBytes) {
        // AWS records an oversized result as a failed task, which Retry and Catch then see.
        // AWS names a Lambda function by its ARN and a service integration by its service
        // ("lambda" for arn:aws:states:::lambda:invoke).
        std::string task_name = lambda ? state.resource : ResourceTypeAndName(state.resource).first;
        Error error{std::string(kStatesDataLimitExceeded),
                    "The state/task '" + task_name +
                        "' returned a result with a size exceeding the maximum number of "
                        "bytes service limit."};
        Json details = TaskEventDetails(state);
        JsonSet(details, "error", JsonString(error.error));
        JsonSet(details, "cause", JsonString(error.cause));
        Emit(activity ? "ActivityFailed"
             : lambda ? "LambdaFunctionFailed"
                      : "TaskFailed",
             activity ? "activityFailedEventDetails"
             : lambda ? "lambdaFunctionFailedEventDetails"
                      : "taskFailedEventDetails",
             std::move(details));
        ClearTask(frame);
        frame.phase = Phase::kEnter;
        HandleStateError(frame, state, std::move(error));
        break;
      }
      Json details = TaskEventDetails(state);
      JsonSet(details, "output", JsonString(output_text));
      JsonSet(details, "outputDetails", PayloadDetails());
      Emit(activity ? "ActivitySucceeded"
           : lambda ? "LambdaFunctionSucceeded"
                    : "TaskSucceeded",
           activity ? "activitySucceededEventDetails"
           : lambda ? "lambdaFunctionSucceededEventDetails"
                    : "taskSucceededEventDetails",
           std::move(details));
      ClearTask(frame);
      frame.phase = Phase::kEnter;  // provisional; TaskSucceededContinue decides
      TaskSucceededContinue(
          frame, state,
          consumable_ != nullptr ? std::move(consumable_->output) : CopyJson(event.output));
      break;
    }
    case Event::Kind::kTaskFailed:
    case Event::Kind::kTaskTimedOut:
    case Event::Kind::kHeartbeatTimedOut: {
      Error error;
      std::string_view type = activity ? "ActivityFailed"
                              : lambda ? "LambdaFunctionFailed"
                                       : "TaskFailed";
      std::string_view key = activity ? "activityFailedEventDetails"
                             : lambda ? "lambdaFunctionFailedEventDetails"
                                      : "taskFailedEventDetails";
      if (event.kind == Event::Kind::kTaskFailed) {
        error = Error{event.error, event.cause};
      } else {
        error.error = std::string(
            event.kind == Event::Kind::kTaskTimedOut ? kStatesTimeout : kStatesHeartbeatTimeout);
        error.cause = event.cause;
        // AWS records a heartbeat timeout of an activity as ActivityTimedOut too (error
        // States.HeartbeatTimeout).
        type = activity ? "ActivityTimedOut" : lambda ? "LambdaFunctionTimedOut" : "TaskTimedOut";
        key = activity ? "activityTimedOutEventDetails"
              : lambda ? "lambdaFunctionTimedOutEventDetails"
                       : "taskTimedOutEventDetails";
      }
      Json details = TaskEventDetails(state);
      if (!error.error.empty()) JsonSet(details, "error", JsonString(error.error));
      if (!error.cause.empty()) JsonSet(details, "cause", JsonString(error.cause));
      Emit(type, key, std::move(details));
      ClearTask(frame);
      HandleStateError(frame, state, std::move(error));
      break;
    }
    default:
      return;
  }
  Resume(frame_id);
}

void Runner::TaskSucceededContinue(Frame& frame, const State& state, Json result) {
  if (auto size_error = CheckSize(frame, result)) {
    return HandleStateError(frame, state, std::move(*size_error));
  }
  FinishWithResult(frame, state, std::move(result), true);
}

}  // namespace core_internal

}  // namespace switchyard::asl
