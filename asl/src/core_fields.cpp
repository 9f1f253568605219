// The query-language seam: a state's fields evaluated in its query language (JSONPath paths,
// templates and intrinsics, or JSONata expressions), with each language's checks and error texts,
// so that every state's code is written once for both.

#include "core_internal.hpp"

namespace switchyard::asl {

namespace core_internal {

Status Runner::OpenStage(Stage& stage) {
  if (stage.jsonata) return {};
  auto effective = ApplyInputPath(stage.frame, stage.state, stage.input());
  if (!effective) return std::move(effective).error();
  stage.Replace(std::move(effective).value());
  return {};
}

const Json& Runner::StageContext(Stage& stage) {
  if (!stage.context) {
    stage.context = Context(stage.frame, stage.state, stage.extra.map_value, stage.extra.map_index);
  }
  return *stage.context;
}

Result<std::optional<Json>> Runner::FieldValue(Stage& stage, std::string_view field,
                                               const JsonPath* path, const PayloadTemplate* tmpl,
                                               const std::optional<Json>& raw) {
  if (stage.jsonata) {
    if (!raw) return std::optional<Json>();
    auto value = EvalJsonata(stage, field, *raw);
    if (!value) return std::move(value).error();
    return std::optional<Json>(std::move(value).value());
  }
  if (path != nullptr) {
    // The context object is built only for paths and templates that read it.
    const Json none;
    const Json& context = path->root() == JsonPath::Root::kContext ? StageContext(stage) : none;
    FrameVariables variables(impl_, stage.frame.id);
    Scope scope{&stage.input(), &context, &variables};
    auto value = path->Evaluate(scope);
    if (!value) {
      return RuntimeError(stage.frame,
                          "Invalid path '" + path->text() + "' : " + value.error().cause);
    }
    return std::optional<Json>(std::move(value).value());
  }
  if (tmpl != nullptr) {
    const Json empty = JsonObject();
    const Json& context = tmpl->UsesContext() ? StageContext(stage) : empty;
    FrameVariables variables(impl_, stage.frame.id);
    Scope scope{&stage.input(), &context, &variables};
    auto value = tmpl->Evaluate(scope, random_);
    if (!value) return Prefixed(stage.frame, std::move(value).error());
    return std::optional<Json>(std::move(value).value());
  }
  return std::optional<Json>();
}

Result<std::optional<int64_t>> Runner::IntegerFieldOf(Stage& stage, const IntegerField& field,
                                                      const std::optional<int64_t>& literal,
                                                      const std::optional<JsonPath>& path,
                                                      const std::optional<Json>& raw) {
  if (literal) return std::optional<int64_t>(*literal);
  auto value = FieldValue(stage, field.name, path ? &*path : nullptr, nullptr, raw);
  if (!value) return std::move(value).error();
  if (!*value) return std::optional<int64_t>();
  const Json& v = **value;
  if (stage.jsonata) {
    if (v.IsInt64() && v.GetInt64() >= field.minimum) return std::optional<int64_t>(v.GetInt64());
    if (v.IsDouble() && std::floor(v.GetDouble()) == v.GetDouble() &&
        std::fabs(v.GetDouble()) < 9e15 && v.GetDouble() >= static_cast<double>(field.minimum)) {
      return std::optional<int64_t>(static_cast<int64_t>(v.GetDouble()));
    }
    return UnexpectedType(stage.frame, stage.state, field.name, *raw, "integer", v);
  }
  const std::string path_name(field.path_name);
  switch (field.rule) {
    case PathInteger::kPositive:
      if (v.IsInt64() && v.GetInt64() > 0) return std::optional<int64_t>(v.GetInt64());
      return RuntimeError(stage.frame,
                          "The " + path_name + " field refers to value \"" + ValueText(v) +
                              "\" which is not a valid positive integer: " + path->text());
    case PathInteger::kCount: {
      if (v.IsInt64() && v.GetInt64() >= 0) return std::optional<int64_t>(v.GetInt64());
      if (v.IsString()) {
        // AWS accepts a string holding an integer ("1").
        std::string_view text = JsonView(v);
        int64_t parsed = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
        if (ec == std::errc() && end == text.data() + text.size() && parsed >= 0) {
          return std::optional<int64_t>(parsed);
        }
      }
      return RuntimeError(stage.frame, "The " + path_name + " field refers to value \"" +
                                           ValueText(v) +
                                           "\" which is not a valid integer: " + path->text());
    }
    case PathInteger::kNonNegative: {
      const std::string shown = path->text() + " == " + ValueText(v);
      int64_t seconds = 0;
      if (v.IsInt64()) {
        seconds = v.GetInt64();
      } else if (v.IsUint64()) {
        seconds = INT64_MAX;
      } else if (v.IsDouble() && std::floor(v.GetDouble()) == v.GetDouble() &&
                 std::fabs(v.GetDouble()) < 9e15) {
        seconds = static_cast<int64_t>(v.GetDouble());
      } else {
        return RuntimeError(
            stage.frame,
            "The " + path_name + " parameter cannot be parsed as a long value: " + shown);
      }
      if (seconds < 0) {
        return RuntimeError(
            stage.frame, "The " + path_name + " parameter references a negative value: " + shown);
      }
      return std::optional<int64_t>(seconds);
    }
  }
  return std::optional<int64_t>();
}

Result<std::optional<double>> Runner::PercentageFieldOf(Stage& stage) {
  const State& state = stage.state;
  if (state.tolerated_failure_percentage) {
    return std::optional<double>(*state.tolerated_failure_percentage);
  }
  const std::optional<JsonPath>& path = state.tolerated_failure_percentage_path;
  const std::optional<Json>& raw = state.tolerated_failure_percentage_jsonata;
  auto value =
      FieldValue(stage, "ToleratedFailurePercentage", path ? &*path : nullptr, nullptr, raw);
  if (!value) return std::move(value).error();
  if (!*value) return std::optional<double>();
  const Json& v = **value;
  if (v.IsNumber() && v.GetDouble() >= 0 && v.GetDouble() <= 100) {
    return std::optional<double>(v.GetDouble());
  }
  if (stage.jsonata) {
    return UnexpectedType(stage.frame, state, "ToleratedFailurePercentage", *raw, "number", v);
  }
  return RuntimeError(stage.frame, "The ToleratedFailurePercentagePath field refers to value \"" +
                                       ValueText(v) +
                                       "\" which is not a valid percentage: " + path->text());
}

Result<std::optional<int64_t>> Runner::TimestampFieldOf(Stage& stage) {
  const State& state = stage.state;
  if (state.timestamp && !stage.jsonata) {
    // Far timestamps (past 2262) saturate: the execution's own limit comes first.
    auto parsed = ParseTimestamp(*state.timestamp);
    return std::optional<int64_t>(parsed ? parsed->ToEpochNanos() : now_);
  }
  const std::optional<JsonPath>& path = state.timestamp_path;
  auto value =
      FieldValue(stage, "Timestamp", path ? &*path : nullptr, nullptr, state.timestamp_jsonata);
  if (!value) return std::move(value).error();
  if (!*value && !state.timestamp) return std::optional<int64_t>();
  const Json none;
  const Json& v = state.timestamp ? none : **value;
  std::optional<Timestamp> parsed;
  if (stage.jsonata) {
    const std::string shown = state.timestamp ? *state.timestamp : ValueText(v);
    parsed = ParseTimestamp(shown);
    if (!parsed) {
      return QueryError(stage.frame, state, "Timestamp",
                        "The Timestamp field cannot be parsed as an ISO-8601 extended offset "
                        "date-time format string: " +
                            shown);
    }
  } else {
    if (v.IsString()) parsed = ParseTimestamp(JsonView(v));
    if (!parsed) {
      return RuntimeError(stage.frame,
                          "The TimestampPath parameter does not reference a valid ISO-8601 "
                          "extended offset date-time format string: " +
                              path->text() + " == " + ValueText(v));
    }
  }
  return std::optional<int64_t>(parsed->ToEpochNanos());
}

Result<std::string> Runner::FailTextOf(Stage& stage, bool error) {
  const State& state = stage.state;
  const std::optional<std::string>& literal = error ? state.error : state.cause;
  if (literal) return *literal;
  if (stage.jsonata) {
    const std::optional<Json>& raw = error ? state.error_jsonata : state.cause_jsonata;
    const std::string_view field = error ? "Error" : "Cause";
    auto value = FieldValue(stage, field, nullptr, nullptr, raw);
    if (!value) return std::move(value).error();
    if (!*value) return std::string();
    if (!(*value)->IsString()) {
      return UnexpectedType(stage.frame, state, field, *raw, "string", **value);
    }
    return std::string(JsonView(**value));
  }
  const std::optional<JsonPath>& path = error ? state.error_path : state.cause_path;
  const std::optional<Intrinsic>& intrinsic =
      error ? state.error_path_intrinsic : state.cause_path_intrinsic;
  if (!path && !intrinsic) return std::string();
  FrameVariables variables(impl_, stage.frame.id);
  Scope scope{&stage.input(), &StageContext(stage), &variables};
  if (path) {
    auto value = path->Evaluate(scope);
    if (!value) {
      return RuntimeError(
          stage.frame, "The JSONPath '" + path->text() + "' specified for the field '" +
                           (error ? "ErrorPath" : "CausePath") +
                           "' could not be found in the input '" + DumpJson(stage.input()) + "'");
    }
    return ValueText(*value);
  }
  auto value = intrinsic->Evaluate(scope, random_);
  if (!value) return Prefixed(stage.frame, std::move(value).error());
  return ValueText(*value);
}

Result<Json> Runner::ItemsOf(Stage& stage) {
  const State& state = stage.state;
  const PathField& items_path = state.items_path;
  auto value =
      FieldValue(stage, "Items", items_path.set && items_path.path ? &*items_path.path : nullptr,
                 nullptr, state.items_jsonata);
  if (!value) return std::move(value).error();
  Json items = *value ? std::move(**value) : CopyJson(stage.input());
  if (items.IsArray()) return items;
  if (!stage.jsonata) {
    return RuntimeError(stage.frame,
                        "Map state input must be an array but was: " + DumpJson(items));
  }
  if (state.items_jsonata) {
    return UnexpectedType(stage.frame, state, "Items", *state.items_jsonata, "array", items);
  }
  return QueryError(stage.frame, state, "Items",
                    "Map state input must be an array but was: " + DumpJson(items));
}

Result<Json> Runner::ResultOutput(Stage& stage, Frame& frame, Json* result,
                                  const PathField& result_path, const std::optional<Json>& output,
                                  bool output_path) {
  if (stage.jsonata) {
    if (output) return EvalJsonata(stage, "Output", *output);
    if (result != nullptr) return std::move(*result);
    Json input = std::move(frame.input);
    frame.input = JsonNull();
    return input;
  }
  auto combined = ApplyResultPath(frame, result_path, std::move(frame.input), std::move(*result));
  if (!combined || !output_path) return combined;
  return ApplyOutputPath(frame, stage.state, std::move(combined).value());
}

Result<bool> Runner::Verdict(Stage& stage, const ChoiceRule& rule) {
  if (!stage.jsonata) {
    FrameVariables variables(impl_, stage.frame.id);
    Scope scope{&stage.input(), &StageContext(stage), &variables};
    auto verdict = EvaluateChoiceRule(rule, scope);
    if (!verdict) return Prefixed(stage.frame, std::move(verdict).error());
    return *verdict;
  }
  if (rule.condition.IsBool()) return rule.condition.GetBool();
  auto value = EvalJsonata(stage, "Condition", rule.condition);
  if (!value) return std::move(value).error();
  if (!value->IsBool()) {
    return UnexpectedType(stage.frame, stage.state, "Condition", rule.condition, "boolean", *value);
  }
  return value->GetBool();
}

Result<Json> Runner::StageAssign(Stage& stage, const std::optional<PayloadTemplate>& assign,
                                 const std::optional<Json>& assign_jsonata) {
  auto value = FieldValue(stage, "Assign", nullptr, assign ? &*assign : nullptr, assign_jsonata);
  if (!value) return std::move(value).error();
  if (!*value) return JsonObject();
  return CheckAssigned(stage.frame, std::move(**value));
}

Result<Json> Runner::StageOutput(Stage& stage, const std::optional<Json>& output) {
  if (!stage.jsonata) return ApplyOutputPath(stage.frame, stage.state, stage.TakeInput());
  if (!output) return stage.TakeInput();
  return EvalJsonata(stage, "Output", *output);
}

void Runner::FieldFailed(Stage& stage, Frame& frame, Error error, std::string_view failed_event) {
  if (stage.jsonata) return HandleStateError(frame, stage.state, std::move(error), failed_event);
  FailFrame(frame, std::move(error));
}

}  // namespace core_internal

}  // namespace switchyard::asl
