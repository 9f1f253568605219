// The states that run at once or on a timer: Pass, Choice, Succeed, Fail and Wait.

#include "core_internal.hpp"

namespace switchyard::asl {

namespace core_internal {

bool Runner::IsPassThrough(const State& state) {
  return state.type == StateType::kPass && !state.input_path.set && !state.parameters &&
         !state.result && !state.result_path.set && !state.output_path.set;
}

void Runner::RunPass(Frame& frame, const State& state) {
  if (state.query_language == QueryLanguage::kJsonata) {
    return FinishWithResult(frame, state, std::nullopt);
  }
  // Without an InputPath nothing can fail before the result is known, so the input is not
  // copied when it is not needed (Result) or when it becomes the result as it is.
  if (!state.input_path.set && state.result) {
    Json result = CopyJson(*state.result);
    // When the output is bound to contain the result (no OutputPath, a ResultPath that keeps
    // it), the output's size check gives the same error: no need to measure the result too.
    bool output_contains_result =
        !state.output_path.set && (!state.result_path.set || state.result_path.path);
    if (!output_contains_result || state.assign) {
      if (auto size_error = CheckSize(frame, result)) return FailFrame(frame, *size_error);
    }
    return FinishWithResult(frame, state, std::move(result));
  }
  if (!state.input_path.set && !state.parameters && !state.result_path.set) {
    // ResultPath "$" by default: the input is replaced by the result, which is the input.
    Json result = std::move(frame.input);
    frame.input = JsonNull();
    // A pure pass-through: the output is the input, whose text EnterState kept.
    std::string output_text = IsPassThrough(state) ? std::move(frame.input_text) : std::string();
    frame.input_text.clear();
    return FinishWithResult(frame, state, std::move(result), false, std::move(output_text));
  }
  auto effective = ApplyInputPath(frame, state, frame.input);
  if (!effective) return FailFrame(frame, std::move(effective).error());
  Json result;
  if (state.result) {
    // ASL: a Pass state's Result is its output, whatever Parameters would give.
    result = CopyJson(*state.result);
  } else if (state.parameters) {
    auto parameters = EvalTemplate(frame, state, *state.parameters, *effective);
    if (!parameters) return FailFrame(frame, std::move(parameters).error());
    result = std::move(parameters).value();
  } else {
    // A part of an input already within the limit: no size check needed.
    return FinishWithResult(frame, state, std::move(effective).value());
  }
  if (auto size_error = CheckSize(frame, result)) return FailFrame(frame, *size_error);
  FinishWithResult(frame, state, std::move(result));
}

void Runner::FinishWithResult(Frame& frame, const State& state, std::optional<Json> result,
                              bool select, std::string output_text) {
  Json* result_value = result ? &*result : nullptr;
  Stage stage(frame, state, result_value);
  if (select && state.result_selector) {
    auto selected = FieldValue(stage, "ResultSelector", nullptr, &*state.result_selector, kNoField);
    if (!selected) return HandleStateError(frame, state, std::move(selected).error());
    if (*selected) *result_value = std::move(**selected);
  }
  auto assigned = StageAssign(stage, state.assign, state.assign_jsonata);
  if (!assigned) return FieldFailed(stage, frame, std::move(assigned).error());
  auto output = ResultOutput(stage, frame, result_value, state.result_path, state.output, true);
  if (!output) return FieldFailed(stage, frame, std::move(output).error());
  if (output_text.empty()) {
    std::optional<std::string> text = DumpWithinLimit(*output);
    if (!text) return FailFrame(frame, DepthError(frame));
    output_text = std::move(*text);
  }
  if (output_text.size() > kMaxPayloadBytes) return FieldFailed(stage, frame, SizeError(frame));
  CommitAssign(frame, std::move(assigned).value());
  EmitStateExited(state, output_text);
  Transition(frame, state, std::move(output).value(), state.next, std::move(output_text));
}

void Runner::RunChoice(Frame& frame, const State& state) {
  Stage stage(frame, state, frame.input);
  if (Status opened = OpenStage(stage); !opened) return FailFrame(frame, std::move(opened).error());
  const ChoiceRule* matched = nullptr;
  for (const auto& rule : state.choices) {
    auto verdict = Verdict(stage, rule);
    if (!verdict) return FailFrame(frame, std::move(verdict).error());
    if (*verdict) {
      matched = &rule;
      break;
    }
  }
  std::string next;
  if (matched != nullptr) {
    next = matched->next;
  } else if (!state.default_next.empty()) {
    next = state.default_next;
  } else {
    return FailFrame(
        frame,
        Error{std::string(kStatesNoChoiceMatched),
              Prefix(frame) + "Failed to transition out of the state. The state does not point "
                              "to a next state."});
  }
  // JSONPath: the state's Assign, then the matched rule's. JSONata: a matched rule's Assign and
  // Output take the place of the state's.
  auto assigned =
      StageAssign(stage, state.assign,
                  matched != nullptr && matched->assign_jsonata ? matched->assign_jsonata
                                                                : state.assign_jsonata);
  if (!assigned) return FailFrame(frame, std::move(assigned).error());
  Json all_assigned = std::move(assigned).value();
  if (matched != nullptr && matched->assign) {
    auto rule_assigned = StageAssign(stage, matched->assign, kNoField);
    if (!rule_assigned) return FailFrame(frame, std::move(rule_assigned).error());
    for (auto& member : rule_assigned->GetObject()) {
      JsonSet(all_assigned, JsonView(member.name), std::move(member.value));
    }
  }
  auto output =
      StageOutput(stage, matched != nullptr && matched->output ? matched->output : state.output);
  if (!output) return FailFrame(frame, std::move(output).error());
  std::optional<std::string> text = DumpWithinLimit(*output);
  if (!text) return FailFrame(frame, DepthError(frame));
  if (text->size() > kMaxPayloadBytes) return FailFrame(frame, SizeError(frame));
  CommitAssign(frame, std::move(all_assigned));
  EmitStateExited(state, *text);
  frame.state = next;
  frame.input = std::move(output).value();
  frame.input_text = std::move(*text);
  frame.phase = Phase::kEnter;
}

void Runner::RunSucceed(Frame& frame, const State& state) {
  Stage stage(frame, state, frame.input);
  if (Status opened = OpenStage(stage); !opened) return FailFrame(frame, std::move(opened).error());
  auto output = StageOutput(stage, state.output);
  if (!output) return FailFrame(frame, std::move(output).error());
  std::optional<std::string> text = DumpWithinLimit(*output);
  if (!text) return FailFrame(frame, DepthError(frame));
  if (text->size() > kMaxPayloadBytes) return FailFrame(frame, SizeError(frame));
  EmitStateExited(state, *text);
  EndFrame(frame, false, std::move(output).value(), "", "", std::move(*text));
}

void Runner::RunFail(Frame& frame, const State& state) {
  // A Fail state has no InputPath: its paths and expressions read its input.
  Stage stage(frame, state, frame.input);
  auto error = FailTextOf(stage, true);
  if (!error) return FailFrame(frame, std::move(error).error());
  auto cause = FailTextOf(stage, false);
  if (!cause) return FailFrame(frame, std::move(cause).error());
  EndFrame(frame, true, JsonNull(), std::move(error).value(), std::move(cause).value());
}

void Runner::RunWait(Frame& frame, const State& state) {
  Stage stage(frame, state, frame.input);
  if (Status opened = OpenStage(stage); !opened) return FailFrame(frame, std::move(opened).error());
  int64_t fire_at = now_;
  static constexpr IntegerField kSeconds{"Seconds", "SecondsPath", PathInteger::kNonNegative, 0};
  auto seconds =
      IntegerFieldOf(stage, kSeconds, state.seconds, state.seconds_path, state.seconds_jsonata);
  if (!seconds) return FailFrame(frame, std::move(seconds).error());
  if (*seconds) {
    fire_at = AddSeconds(now_, **seconds);
  } else {
    auto timestamp = TimestampFieldOf(stage);
    if (!timestamp) return FailFrame(frame, std::move(timestamp).error());
    if (*timestamp) fire_at = **timestamp;
  }
  auto assigned = StageAssign(stage, state.assign, state.assign_jsonata);
  if (!assigned) return FailFrame(frame, std::move(assigned).error());
  auto output = StageOutput(stage, state.output);
  if (!output) return FailFrame(frame, std::move(output).error());
  if (auto size_error = CheckSize(frame, *output)) return FailFrame(frame, *size_error);
  CommitAssign(frame, std::move(assigned).value());
  if (fire_at <= now_) {
    EmitStateExited(state, *output);
    Transition(frame, state, std::move(output).value(), state.next);
    return;
  }
  frame.work = std::move(output).value();
  WaitFor(frame, Phase::kWait, "timer-", fire_at);
}

}  // namespace core_internal

}  // namespace switchyard::asl
