#pragma once
// The typed model of a state machine definition, and the parser + validator that builds it.
//
// ParseDefinition() checks every rule of the Amazon States Language (AWS's flavour) and reports
// all problems at once as diagnostics; a definition is usable only when no diagnostic has
// severity kError. Thread model: the model is an immutable value once parsed.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/asl/json.hpp"
#include "switchyard/asl/jsonata_eval.hpp"
#include "switchyard/asl/jsonpath.hpp"
#include "switchyard/asl/template.hpp"

namespace switchyard::asl {

enum class QueryLanguage { kJsonPath, kJsonata };
enum class StateType { kTask, kPass, kChoice, kWait, kSucceed, kFail, kParallel, kMap };
std::string_view StateTypeName(StateType type);  // "Task", "Pass", ...

// ---- Choice rules -------------------------------------------------------------------------
enum class ChoiceOperator {
  kStringEquals,
  kStringEqualsPath,
  kStringLessThan,
  kStringLessThanPath,
  kStringGreaterThan,
  kStringGreaterThanPath,
  kStringLessThanEquals,
  kStringLessThanEqualsPath,
  kStringGreaterThanEquals,
  kStringGreaterThanEqualsPath,
  kStringMatches,
  kNumericEquals,
  kNumericEqualsPath,
  kNumericLessThan,
  kNumericLessThanPath,
  kNumericGreaterThan,
  kNumericGreaterThanPath,
  kNumericLessThanEquals,
  kNumericLessThanEqualsPath,
  kNumericGreaterThanEquals,
  kNumericGreaterThanEqualsPath,
  kBooleanEquals,
  kBooleanEqualsPath,
  kTimestampEquals,
  kTimestampEqualsPath,
  kTimestampLessThan,
  kTimestampLessThanPath,
  kTimestampGreaterThan,
  kTimestampGreaterThanPath,
  kTimestampLessThanEquals,
  kTimestampLessThanEqualsPath,
  kTimestampGreaterThanEquals,
  kTimestampGreaterThanEqualsPath,
  kIsNull,
  kIsPresent,
  kIsNumeric,
  kIsString,
  kIsBoolean,
  kIsTimestamp,
};
std::string_view ChoiceOperatorName(ChoiceOperator op);  // "StringEquals", ...
std::optional<ChoiceOperator> ChoiceOperatorFromName(std::string_view name);

struct ChoiceRule {
  enum class Kind { kComparison, kAnd, kOr, kNot, kCondition };
  Kind kind = Kind::kComparison;
  std::vector<ChoiceRule> children;  // And/Or: the operands; Not: exactly one
  std::optional<JsonPath> variable;  // kComparison
  ChoiceOperator op = ChoiceOperator::kIsPresent;
  Json operand;                          // the literal for non-Path operators
  std::optional<JsonPath> operand_path;  // for *Path operators
  Json condition;                        // kCondition (JSONata): a string "{% ... %}" or bool
  // Only on top-level rules (members of Choices):
  std::string next;
  std::optional<PayloadTemplate> assign;  // JSONPath-mode Assign
  std::optional<Json> assign_jsonata;     // JSONata-mode Assign (raw)
  std::optional<Json> output;             // JSONata-mode Output (raw)
};

// Evaluates one rule against the state's effective input. A Variable path that selects nothing is
// States.Runtime ("Invalid path '$.x': The choice state's condition path references an invalid
// value."); type mismatches are false, not errors. kCondition rules are not evaluated here.
Result<bool> EvaluateChoiceRule(const ChoiceRule& rule, const Scope& scope);

// ---- Retry and Catch ----------------------------------------------------------------------
enum class JitterStrategy { kNone, kFull };

struct Retrier {
  std::vector<std::string> error_equals;
  double interval_seconds = 1;
  int64_t max_attempts = 3;
  double backoff_rate = 2.0;
  std::optional<double> max_delay_seconds;
  JitterStrategy jitter = JitterStrategy::kNone;
};

struct Catcher {
  std::vector<std::string> error_equals;
  std::string next;
  // JSONPath mode. `result_path_set` false means absent (default "$"); set with nullopt path
  // means ResultPath: null.
  bool result_path_set = false;
  std::optional<JsonPath> result_path;
  std::optional<PayloadTemplate> assign;
  // JSONata mode (raw).
  std::optional<Json> output;
  std::optional<Json> assign_jsonata;
};

// ---- States -------------------------------------------------------------------------------
struct StateMachineDef;

// An optional path field that may also be JSON null: absent → `set` false (the default applies),
// null → `set` true with no path.
struct PathField {
  bool set = false;
  std::optional<JsonPath> path;
};

struct State {
  std::string name;
  StateType type = StateType::kPass;
  QueryLanguage query_language = QueryLanguage::kJsonPath;  // effective (state or top level)
  std::string comment;
  std::string next;  // empty when end
  bool end = false;  // Succeed/Fail are terminal without End

  // JSONPath-mode data flow.
  PathField input_path;   // default "$"
  PathField output_path;  // default "$"
  PathField result_path;  // default "$"
  std::optional<PayloadTemplate> parameters;
  std::optional<PayloadTemplate> result_selector;
  std::optional<Json> result;             // Pass
  std::optional<PayloadTemplate> assign;  // JSONPath-mode Assign

  // JSONata-mode fields, kept raw ("{% %}" strings anywhere inside).
  std::optional<Json> arguments;
  std::optional<Json> output;
  std::optional<Json> assign_jsonata;

  // Task.
  std::string resource;
  std::optional<int64_t> timeout_seconds;
  std::optional<JsonPath> timeout_seconds_path;
  std::optional<Json> timeout_seconds_jsonata;  // "{% %}" string
  std::optional<int64_t> heartbeat_seconds;
  std::optional<JsonPath> heartbeat_seconds_path;
  std::optional<Json> heartbeat_seconds_jsonata;
  std::optional<Json> credentials;

  std::vector<Retrier> retry;
  std::vector<Catcher> catchers;

  // Choice.
  std::vector<ChoiceRule> choices;
  std::string default_next;

  // Wait (exactly one of these).
  std::optional<int64_t> seconds;
  std::optional<JsonPath> seconds_path;
  std::optional<std::string> timestamp;
  std::optional<JsonPath> timestamp_path;
  std::optional<Json> seconds_jsonata;  // JSONata expression string
  std::optional<Json> timestamp_jsonata;

  // Fail.
  std::optional<std::string> error;
  std::optional<std::string> cause;
  std::optional<JsonPath> error_path;  // or an intrinsic in error_path_intrinsic
  std::optional<JsonPath> cause_path;
  std::optional<Intrinsic> error_path_intrinsic;
  std::optional<Intrinsic> cause_path_intrinsic;
  std::optional<Json> error_jsonata;  // JSONata-mode Error/Cause with "{% %}"
  std::optional<Json> cause_jsonata;

  // Parallel.
  std::vector<StateMachineDef> branches;

  // Map.
  std::shared_ptr<StateMachineDef> item_processor;  // ItemProcessor or legacy Iterator
  bool legacy_iterator = false;
  std::string processor_mode = "INLINE";         // INLINE | DISTRIBUTED
  std::string execution_type;                    // DISTRIBUTED: STANDARD | EXPRESS
  PathField items_path;                          // default "$"
  std::optional<Json> items_jsonata;             // JSONata Items (array or expression)
  std::optional<PayloadTemplate> item_selector;  // or legacy Parameters (in `parameters`)
  std::optional<Json> item_selector_jsonata;
  std::optional<int64_t> max_concurrency;
  std::optional<JsonPath> max_concurrency_path;
  std::optional<Json> max_concurrency_jsonata;
  std::optional<int64_t> tolerated_failure_count;
  std::optional<JsonPath> tolerated_failure_count_path;
  std::optional<double> tolerated_failure_percentage;
  std::optional<JsonPath> tolerated_failure_percentage_path;
  std::optional<Json> tolerated_failure_count_jsonata;
  std::optional<Json> tolerated_failure_percentage_jsonata;
  std::optional<Json> item_reader;  // raw (distributed mode)
  std::optional<Json> item_batcher;
  std::optional<Json> result_writer;
  std::string label;

  // JSONata mode: every "{% ... %}" expression of the state (its fields, Choice rules and
  // catchers), compiled once when the definition is parsed, by its text between "{%" and "%}".
  // Null for a JSONPath state; an expression that does not compile is not in it.
  std::shared_ptr<const std::map<std::string, JsonataExpression, std::less<>>> jsonata_compiled;

  // The raw JSON of the state, as written, without its nested machines (Branches, ItemProcessor,
  // Iterator: see `branches` and `item_processor`), so each level of nesting is copied once.
  std::shared_ptr<const Json> raw;
};

struct StateMachineDef {
  std::string start_at;
  std::string comment;
  std::string version;
  std::optional<int64_t> timeout_seconds;
  QueryLanguage query_language = QueryLanguage::kJsonPath;
  std::vector<State> states;                              // in the order written
  std::map<std::string, std::size_t, std::less<>> index;  // name → position in `states`

  // The state called `name`, or nullptr.
  const State* Find(std::string_view name) const;
};

// ---- Parsing and validation ---------------------------------------------------------------
enum class Severity { kError, kWarning };

struct Diagnostic {
  Severity severity = Severity::kError;
  std::string code;      // names.hpp kDiag*
  std::string location;  // JSON pointer, e.g. "/States/Charge/Retry/0/ErrorEquals"
  std::string message;
};

struct ParseResult {
  std::optional<StateMachineDef> definition;  // set only when there is no error diagnostic
  std::vector<Diagnostic> diagnostics;
  bool ok() const { return definition.has_value(); }
};

// Parses and validates definition text (INVALID_JSON_DESCRIPTION when it is not JSON). A text
// over 1,048,576 characters is not parsed: its one diagnostic has the code ValidationException
// (kDiagValidationException) and AWS's message.
ParseResult ParseDefinition(std::string_view text);
// Parses and validates a definition already parsed as JSON.
ParseResult ParseDefinition(const Json& document);

}  // namespace switchyard::asl
