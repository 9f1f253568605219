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
    return FinishJsonata(frame, state, nullptr, state.next);
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
    return FinishWithResult(frame, state, std::move(result), state.assign, state.next);
  }
  if (!state.input_path.set && !state.parameters && !state.result_path.set) {
    // ResultPath "$" by default: the input is replaced by the result, which is the input.
    Json result = std::move(frame.input);
    frame.input = JsonNull();
    // A pure pass-through: the output is the input, whose text EnterState kept.
    std::string output_text = IsPassThrough(state) ? std::move(frame.input_text) : std::string();
    frame.input_text.clear();
    return FinishWithResult(frame, state, std::move(result), state.assign, state.next,
                            std::move(output_text));
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
    result = std::move(effective).value();
    return FinishWithResult(frame, state, std::move(result), state.assign, state.next);
  }
  if (auto size_error = CheckSize(frame, result)) return FailFrame(frame, *size_error);
  FinishWithResult(frame, state, std::move(result), state.assign, state.next);
}

void Runner::FinishWithResult(Frame& frame, const State& state, Json result,
                              const std::optional<PayloadTemplate>& assign, const std::string& next,
                              std::string output_text) {
  auto assigned = EvalAssign(frame, state, assign, result);
  if (!assigned) return FailFrame(frame, std::move(assigned).error());
  auto combined =
      ApplyResultPath(frame, state.result_path, std::move(frame.input), std::move(result));
  if (!combined) return FailFrame(frame, std::move(combined).error());
  auto output = ApplyOutputPath(frame, state, std::move(combined).value());
  if (!output) return FailFrame(frame, std::move(output).error());
  if (output_text.empty()) {
    std::optional<std::string> text = DumpWithinLimit(*output);
    if (!text) return FailFrame(frame, DepthError(frame));
    output_text = std::move(*text);
  }
  if (output_text.size() > kMaxPayloadBytes) return FailFrame(frame, SizeError(frame));
  CommitAssign(frame, std::move(assigned).value());
  EmitStateExited(state, output_text);
  Transition(frame, state, std::move(output).value(), next, std::move(output_text));
}

void Runner::RunChoice(Frame& frame, const State& state) {
  if (state.query_language == QueryLanguage::kJsonata) return RunChoiceJsonata(frame, state);
  auto effective = ApplyInputPath(frame, state, frame.input);
  if (!effective) return FailFrame(frame, std::move(effective).error());
  Json context = Context(frame, state);
  FrameVariables variables(impl_, frame.id);
  Scope scope{&*effective, &context, &variables};
  const ChoiceRule* matched = nullptr;
  for (const auto& rule : state.choices) {
    auto verdict = EvaluateChoiceRule(rule, scope);
    if (!verdict) return FailFrame(frame, Prefixed(frame, std::move(verdict).error()));
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
    return FailFrame(frame,
                     Error{std::string(kStatesNoChoiceMatched),
                           "An error occurred while executing the state '" + state.name +
                               "' (entered at the event id #" + ToString(frame.entered_event_id) +
                               "). Failed to transition out of the state. The state "
                               "does not point to a next state."});
  }
  auto assigned = EvalAssign(frame, state, state.assign, *effective);
  if (!assigned) return FailFrame(frame, std::move(assigned).error());
  Json all_assigned = std::move(assigned).value();
  if (matched != nullptr && matched->assign) {
    auto rule_assigned = EvalAssign(frame, state, matched->assign, *effective);
    if (!rule_assigned) return FailFrame(frame, std::move(rule_assigned).error());
    for (auto& member : rule_assigned->GetObject()) {
      JsonSet(all_assigned, JsonView(member.name), std::move(member.value));
    }
  }
  auto output = ApplyOutputPath(frame, state, std::move(effective).value());
  if (!output) return FailFrame(frame, std::move(output).error());
  CommitAssign(frame, std::move(all_assigned));
  std::string output_text = DumpJson(*output);
  EmitStateExited(state, output_text);
  frame.state = next;
  frame.input = std::move(output).value();
  frame.input_text = std::move(output_text);
  frame.phase = Phase::kEnter;
}

void Runner::RunSucceed(Frame& frame, const State& state) {
  if (state.query_language == QueryLanguage::kJsonata) {
    Json output;
    if (state.output) {
      auto evaluated = EvalJsonata(frame, state, "Output", *state.output, frame.input, {});
      if (!evaluated) return FailFrame(frame, std::move(evaluated).error());
      output = std::move(evaluated).value();
    } else {
      output = std::move(frame.input);
      frame.input = JsonNull();
    }
    std::optional<std::string> text = DumpWithinLimit(output);
    if (!text) return FailFrame(frame, DepthError(frame));
    if (text->size() > kMaxPayloadBytes) return FailFrame(frame, SizeError(frame));
    EmitStateExited(state, *text);
    return EndFrame(frame, false, std::move(output), "", "", std::move(*text));
  }
  auto effective = ApplyInputPath(frame, state, frame.input);
  if (!effective) return FailFrame(frame, std::move(effective).error());
  auto output = ApplyOutputPath(frame, state, std::move(effective).value());
  if (!output) return FailFrame(frame, std::move(output).error());
  EmitStateExited(state, *output);
  EndFrame(frame, false, std::move(output).value(), "", "");
}

Result<std::string> Runner::FailField(Frame& frame, const State& state, std::string_view field,
                                      const std::optional<std::string>& literal,
                                      const std::optional<JsonPath>& path,
                                      const std::optional<Intrinsic>& intrinsic) {
  if (literal) return *literal;
  Json context = Context(frame, state);
  FrameVariables variables(impl_, frame.id);
  Scope scope{&frame.input, &context, &variables};
  if (path) {
    auto value = path->Evaluate(scope);
    if (!value) {
      return RuntimeError(frame, "The JSONPath '" + path->text() + "' specified for the field '" +
                                     std::string(field) + "' could not be found in the input '" +
                                     DumpJson(frame.input) + "'");
    }
    return ValueText(*value);
  }
  if (intrinsic) {
    auto value = intrinsic->Evaluate(scope, random_);
    if (!value) return Prefixed(frame, std::move(value).error());
    return ValueText(*value);
  }
  return std::string();
}

void Runner::RunFail(Frame& frame, const State& state) {
  if (state.query_language == QueryLanguage::kJsonata) {
    std::string texts[2];
    const std::optional<std::string>* literals[2] = {&state.error, &state.cause};
    const std::optional<Json>* expressions[2] = {&state.error_jsonata, &state.cause_jsonata};
    for (int i = 0; i < 2; ++i) {
      if (*literals[i]) {
        texts[i] = **literals[i];
      } else if (*expressions[i]) {
        auto value = EvalJsonata(frame, state, i == 0 ? "Error" : "Cause", **expressions[i],
                                 frame.input, {});
        if (!value) return FailFrame(frame, std::move(value).error());
        if (!value->IsString()) {
          return FailFrame(frame, UnexpectedType(frame, state, i == 0 ? "Error" : "Cause",
                                                 **expressions[i], "string", *value));
        }
        texts[i] = std::string(JsonView(*value));
      }
    }
    return EndFrame(frame, true, JsonNull(), std::move(texts[0]), std::move(texts[1]));
  }
  auto error = FailField(frame, state, "ErrorPath", state.error, state.error_path,
                         state.error_path_intrinsic);
  if (!error) return FailFrame(frame, std::move(error).error());
  auto cause = FailField(frame, state, "CausePath", state.cause, state.cause_path,
                         state.cause_path_intrinsic);
  if (!cause) return FailFrame(frame, std::move(cause).error());
  EndFrame(frame, true, JsonNull(), std::move(error).value(), std::move(cause).value());
}

void Runner::RunWait(Frame& frame, const State& state) {
  if (state.query_language == QueryLanguage::kJsonata) return RunWaitJsonata(frame, state);
  auto effective = ApplyInputPath(frame, state, frame.input);
  if (!effective) return FailFrame(frame, std::move(effective).error());
  int64_t fire_at = now_;
  if (state.seconds) {
    fire_at = AddSeconds(now_, *state.seconds);
  } else if (state.timestamp) {
    // Far timestamps (past 2262) saturate: the execution's own limit comes first.
    auto parsed = ParseTimestamp(*state.timestamp);
    fire_at = parsed ? parsed->ToEpochNanos() : now_;
  } else if (state.seconds_path) {
    auto value = EvalPath(frame, state, *state.seconds_path, *effective);
    if (!value) return FailFrame(frame, std::move(value).error());
    std::string shown = state.seconds_path->text() + " == " + ValueText(*value);
    int64_t seconds = 0;
    if (value->IsInt64()) {
      seconds = value->GetInt64();
    } else if (value->IsUint64()) {
      seconds = INT64_MAX;
    } else if (value->IsDouble() && std::floor(value->GetDouble()) == value->GetDouble() &&
               std::fabs(value->GetDouble()) < 9e15) {
      seconds = static_cast<int64_t>(value->GetDouble());
    } else {
      return FailFrame(frame, RuntimeError(frame,
                                           "The SecondsPath parameter cannot be parsed "
                                           "as a long value: " +
                                               shown));
    }
    if (seconds < 0) {
      return FailFrame(frame, RuntimeError(frame,
                                           "The SecondsPath parameter references a "
                                           "negative value: " +
                                               shown));
    }
    fire_at = AddSeconds(now_, seconds);
  } else if (state.timestamp_path) {
    auto value = EvalPath(frame, state, *state.timestamp_path, *effective);
    if (!value) return FailFrame(frame, std::move(value).error());
    std::optional<Timestamp> parsed;
    if (value->IsString()) parsed = ParseTimestamp(JsonView(*value));
    if (!parsed) {
      return FailFrame(frame,
                       RuntimeError(frame,
                                    "The TimestampPath parameter does not "
                                    "reference a valid ISO-8601 extended offset "
                                    "date-time format string: " +
                                        state.timestamp_path->text() + " == " + ValueText(*value)));
    }
    fire_at = parsed->ToEpochNanos();
  }
  auto assigned = EvalAssign(frame, state, state.assign, *effective);
  if (!assigned) return FailFrame(frame, std::move(assigned).error());
  auto output = ApplyOutputPath(frame, state, std::move(effective).value());
  if (!output) return FailFrame(frame, std::move(output).error());
  CommitAssign(frame, std::move(assigned).value());
  if (fire_at <= now_) {
    EmitStateExited(state, *output);
    Transition(frame, state, std::move(output).value(), state.next);
    return;
  }
  frame.work = std::move(output).value();
  frame.phase = Phase::kWait;
  SetTimer(frame, NextId("timer-", frame));
  Command command;
  command.kind = Command::Kind::kStartTimer;
  command.timer_id = frame.timer_id;
  command.fire_at = fire_at;
  step_.commands.push_back(std::move(command));
}

void Runner::RunChoiceJsonata(Frame& frame, const State& state) {
  const ChoiceRule* matched = nullptr;
  for (const auto& rule : state.choices) {
    bool verdict = false;
    if (rule.condition.IsBool()) {
      verdict = rule.condition.GetBool();
    } else {
      auto value = EvalJsonata(frame, state, "Condition", rule.condition, frame.input, {});
      if (!value) return FailFrame(frame, std::move(value).error());
      if (!value->IsBool()) {
        return FailFrame(
            frame, UnexpectedType(frame, state, "Condition", rule.condition, "boolean", *value));
      }
      verdict = value->GetBool();
    }
    if (verdict) {
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
  // A matched rule's Assign and Output take the place of the state's.
  const std::optional<Json>& assign = matched != nullptr && matched->assign_jsonata
                                          ? matched->assign_jsonata
                                          : state.assign_jsonata;
  const std::optional<Json>& output_field =
      matched != nullptr && matched->output ? matched->output : state.output;
  auto assigned = EvalJsonataAssign(frame, state, assign, frame.input, {});
  if (!assigned) return FailFrame(frame, std::move(assigned).error());
  Json output;
  if (output_field) {
    auto evaluated = EvalJsonata(frame, state, "Output", *output_field, frame.input, {});
    if (!evaluated) return FailFrame(frame, std::move(evaluated).error());
    output = std::move(evaluated).value();
  } else {
    output = std::move(frame.input);
    frame.input = JsonNull();
  }
  std::optional<std::string> text = DumpWithinLimit(output);
  if (!text) return FailFrame(frame, DepthError(frame));
  if (text->size() > kMaxPayloadBytes) return FailFrame(frame, SizeError(frame));
  CommitAssign(frame, std::move(assigned).value());
  EmitStateExited(state, *text);
  frame.state = next;
  frame.input = std::move(output);
  frame.input_text = std::move(*text);
  frame.phase = Phase::kEnter;
}

void Runner::RunWaitJsonata(Frame& frame, const State& state) {
  int64_t fire_at = now_;
  if (state.seconds) {
    fire_at = AddSeconds(now_, *state.seconds);
  } else if (state.seconds_jsonata) {
    auto seconds = JsonataInteger(frame, state, "Seconds", *state.seconds_jsonata, frame.input, 0);
    if (!seconds) return FailFrame(frame, std::move(seconds).error());
    fire_at = AddSeconds(now_, *seconds);
  } else if (state.timestamp || state.timestamp_jsonata) {
    std::string text;
    if (state.timestamp) {
      text = *state.timestamp;
    } else {
      auto value =
          EvalJsonata(frame, state, "Timestamp", *state.timestamp_jsonata, frame.input, {});
      if (!value) return FailFrame(frame, std::move(value).error());
      text = ValueText(*value);
    }
    auto parsed = ParseTimestamp(text);
    if (!parsed) {
      return FailFrame(frame, QueryError(frame, state, "Timestamp",
                                         "The Timestamp field cannot be parsed as an ISO-8601 "
                                         "extended offset date-time format string: " +
                                             text));
    }
    fire_at = parsed->ToEpochNanos();
  }
  auto assigned = EvalJsonataAssign(frame, state, state.assign_jsonata, frame.input, {});
  if (!assigned) return FailFrame(frame, std::move(assigned).error());
  Json output;
  if (state.output) {
    auto evaluated = EvalJsonata(frame, state, "Output", *state.output, frame.input, {});
    if (!evaluated) return FailFrame(frame, std::move(evaluated).error());
    output = std::move(evaluated).value();
  } else {
    output = std::move(frame.input);
    frame.input = JsonNull();
  }
  if (auto size_error = CheckSize(frame, output)) return FailFrame(frame, *size_error);
  CommitAssign(frame, std::move(assigned).value());
  if (fire_at <= now_) {
    EmitStateExited(state, output);
    Transition(frame, state, std::move(output), state.next);
    return;
  }
  frame.work = std::move(output);
  frame.phase = Phase::kWait;
  SetTimer(frame, NextId("timer-", frame));
  Command command;
  command.kind = Command::Kind::kStartTimer;
  command.timer_id = frame.timer_id;
  command.fire_at = fire_at;
  step_.commands.push_back(std::move(command));
}

}  // namespace core_internal

}  // namespace switchyard::asl
