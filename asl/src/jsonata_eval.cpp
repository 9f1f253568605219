// JSONata evaluation. STUB: the evaluator is being written (issue #11); every evaluation fails.
#include "switchyard/asl/jsonata_eval.hpp"

namespace switchyard::asl {

struct JsonataExpression::Impl {
  std::string text;
  JsonataNode root;
};

std::variant<JsonataExpression, JsonataSyntaxError> JsonataExpression::Compile(
    std::string_view text) {
  JsonataParseResult parsed = ParseJsonata(text);
  if (!parsed) return parsed.error();
  auto impl = std::make_shared<Impl>();
  impl->text = std::string(text);
  impl->root = std::move(parsed).value();
  return JsonataExpression(std::move(impl));
}

JsonataEvalResult JsonataExpression::Evaluate(const Json* /*input*/,
                                              const JsonataBindings& /*bindings*/,
                                              const JsonataOptions& /*options*/) const {
  return JsonataError{"U1000", 0, "", "JSONata evaluation is not implemented yet"};
}

const std::string& JsonataExpression::text() const { return impl_->text; }

}  // namespace switchyard::asl
