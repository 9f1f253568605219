#pragma once
// Every ASL name Switchyard uses, spelled once.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace switchyard::asl {

// Predefined error names (ASL spec "Errors"; AWS adds QueryEvaluationError and Http.Socket).
inline constexpr std::string_view kStatesAll = "States.ALL";
inline constexpr std::string_view kStatesDataLimitExceeded = "States.DataLimitExceeded";
inline constexpr std::string_view kStatesRuntime = "States.Runtime";
inline constexpr std::string_view kStatesTimeout = "States.Timeout";
inline constexpr std::string_view kStatesHeartbeatTimeout = "States.HeartbeatTimeout";
inline constexpr std::string_view kStatesTaskFailed = "States.TaskFailed";
inline constexpr std::string_view kStatesPermissions = "States.Permissions";
inline constexpr std::string_view kStatesResultPathMatchFailure = "States.ResultPathMatchFailure";
inline constexpr std::string_view kStatesParameterPathFailure = "States.ParameterPathFailure";
inline constexpr std::string_view kStatesBranchFailed = "States.BranchFailed";
inline constexpr std::string_view kStatesNoChoiceMatched = "States.NoChoiceMatched";
inline constexpr std::string_view kStatesIntrinsicFailure = "States.IntrinsicFailure";
inline constexpr std::string_view kStatesExceedToleratedFailureThreshold =
    "States.ExceedToleratedFailureThreshold";
inline constexpr std::string_view kStatesItemReaderFailed = "States.ItemReaderFailed";
inline constexpr std::string_view kStatesResultWriterFailed = "States.ResultWriterFailed";
inline constexpr std::string_view kStatesQueryEvaluationError = "States.QueryEvaluationError";
inline constexpr std::string_view kStatesHttpSocket = "States.Http.Socket";

// Validation diagnostic codes, as AWS's ValidateStateMachineDefinition returns them.
inline constexpr std::string_view kDiagSchemaValidationFailed = "SCHEMA_VALIDATION_FAILED";
inline constexpr std::string_view kDiagInvalidJsonDescription = "INVALID_JSON_DESCRIPTION";
inline constexpr std::string_view kDiagMissingTransitionTarget = "MISSING_TRANSITION_TARGET";
inline constexpr std::string_view kDiagUnreachableState = "UNREACHABLE_STATE";
inline constexpr std::string_view kDiagDuplicateStateName = "DUPLICATE_STATE_NAME";
inline constexpr std::string_view kDiagInvalidJsonPath = "INVALID_JSON_PATH";
inline constexpr std::string_view kDiagInvalidReferencePath = "INVALID_REFERENCE_PATH";
inline constexpr std::string_view kDiagInvalidIntrinsicFunction = "INVALID_INTRINSIC_FUNCTION";
inline constexpr std::string_view kDiagInvalidJsonataExpression = "INVALID_JSONATA_EXPRESSION";
inline constexpr std::string_view kDiagUnsupportedJsonataExpression =
    "UNSUPPORTED_JSONATA_EXPRESSION";
inline constexpr std::string_view kDiagNoTerminalState = "NO_TERMINAL_STATE";
inline constexpr std::string_view kDiagInvalidQueryLanguage = "INVALID_QUERY_LANGUAGE";
// Not a diagnostic AWS lists: what its API throws instead of validating at all (a definition
// over 1,048,576 characters). An API layer answers it as that exception.
inline constexpr std::string_view kDiagValidationException = "ValidationException";

// Limits (AWS quotas that define semantics).
inline constexpr std::size_t kMaxPayloadBytes = 262144;  // 256 KiB per input/output
inline constexpr std::size_t kMaxStateNameLength = 80;
inline constexpr std::size_t kMaxVariableBytes = 262144;          // per variable and per Assign
inline constexpr std::size_t kMaxVariablesTotalBytes = 10485760;  // per execution
inline constexpr int kMaxIntrinsicNesting = 10;
inline constexpr int kMaxHistoryEvents = 25000;                   // Standard executions
inline constexpr int64_t kMaxStandardDurationSeconds = 31536000;  // Standard executions: 1 year
inline constexpr int64_t kMaxExpressDurationSeconds = 300;        // Express executions: 5 minutes
inline constexpr std::size_t kMaxDefinitionLength = 1048576;      // characters (UTF-16 units)
inline constexpr std::size_t kMaxExecutionNameLength = 80;

}  // namespace switchyard::asl
