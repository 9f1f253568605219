// Input: a JSONPath, a newline, then a JSON document. Parsing and evaluating must never crash;
// a reference path must select at most one node, and ResultPath assignment must not crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "switchyard/asl/json.hpp"
#include "switchyard/asl/jsonpath.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace asl = switchyard::asl;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = text.find('\n');
  const std::string_view path_text = text.substr(0, newline);
  auto path = asl::JsonPath::Parse(path_text);
  if (!path.ok()) return 0;
  std::optional<asl::Json> doc;
  if (newline != std::string_view::npos) doc = asl::ParseJson(text.substr(newline + 1));
  if (!doc) doc = asl::JsonObject();
  asl::Scope scope;
  scope.input = &*doc;
  scope.context = &*doc;
  auto result = path->Evaluate(scope);
  (void)result;
  if (path->IsReferencePath() && path->root() == asl::JsonPath::Root::kInput) {
    asl::Json target = asl::CopyJson(*doc);
    (void)path->Assign(target, asl::JsonString("x"));
  }
  (void)path->Normalized();
  return 0;
}
