// Input: a JSONata expression. Parsing must never crash, hang or overflow the stack, whatever
// the text; a syntax error must come back as an error with a code. An expression that parses is
// then evaluated against a small fixed input with bounded depth and steps: the evaluation must
// end with a value or an error with a code, never a crash, a hang or a stack overflow.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "switchyard/asl/json.hpp"
#include "switchyard/asl/jsonata.hpp"
#include "switchyard/asl/jsonata_eval.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace switchyard::asl;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto error = CheckJsonataSyntax(text);
  if (error && error->code.empty()) std::abort();
  if (error) return 0;
  static const Json input = *ParseJson(
      R"({"a":1,"b":[1,2,{"c":"x","d":[true,null]}],"s":"héllo","o":{"k":{"k":{"k":3}}}})");
  static const Json five = JsonInt(5);
  auto compiled = JsonataExpression::Compile(text);
  if (compiled.index() != 0) std::abort();  // CheckJsonataSyntax accepted it
  JsonataOptions options;
  options.max_depth = 200;
  options.max_steps = 20000;
  const JsonataBindings bindings{{"v", &five}};
  JsonataEvalResult result = std::get<0>(compiled).Evaluate(&input, bindings, options);
  if (!result && result.error().code.empty()) std::abort();
  return 0;
}
