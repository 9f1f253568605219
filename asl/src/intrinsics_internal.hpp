#pragma once
// Private to switchyard_asl_template: the parsed forms of intrinsic calls, shared by
// intrinsics.cpp and template.cpp so a template can report the field a missing path belongs to.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/asl/json.hpp"
#include "switchyard/asl/jsonpath.hpp"
#include "switchyard/asl/result.hpp"
#include "switchyard/asl/template.hpp"

namespace switchyard::asl {

enum class IntrinsicFunction {
  kFormat,
  kStringToJson,
  kJsonToString,
  kArray,
  kArrayPartition,
  kArrayContains,
  kArrayRange,
  kArrayGetItem,
  kArrayLength,
  kArrayUnique,
  kBase64Encode,
  kBase64Decode,
  kHash,
  kJsonMerge,
  kMathRandom,
  kMathAdd,
  kStringSplit,
  kUuid,
};

// Immutable once parsed; literals are shared so that copying a node is cheap.
struct Intrinsic::Node {
  enum class Kind { kLiteral, kPath, kCall };
  Kind kind = Kind::kLiteral;
  // kLiteral: the value (string, number, boolean or null).
  std::shared_ptr<const Json> literal;
  // kLiteral strings: the text split at its unescaped "{}" placeholders (for States.Format).
  std::vector<std::string> format_pieces;
  // kPath.
  std::optional<JsonPath> path;
  // kCall.
  IntrinsicFunction function = IntrinsicFunction::kArray;
  std::string name;  // "States.Format"
  std::vector<Node> args;
};

// Parses a call (what Intrinsic::Parse does, without the wrapper).
Result<Intrinsic::Node> ParseIntrinsicNode(std::string_view text);

// Evaluates a parsed call. `field` is the template key ("value.$") used in the States.Runtime
// cause when a path argument selects nothing; empty when the caller has no field.
Result<Json> EvaluateIntrinsicNode(const Intrinsic::Node& node, const Scope& scope,
                                   RandomSource& random, std::string_view field);

// States.Runtime cause for a path that selects nothing, in AWS's words.
std::string PathNotFoundCause(const JsonPath& path, std::string_view field, const Scope& scope);

// Evaluates a path for a payload field: the value, or States.Runtime when it selects nothing.
Result<Json> EvaluateFieldPath(const JsonPath& path, std::string_view field, const Scope& scope);

}  // namespace switchyard::asl
