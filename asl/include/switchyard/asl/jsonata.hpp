#pragma once
// JSONata (version 2.0.6, the one AWS Step Functions pins): the expression language of
// JSONata-mode states. This header is the parser's contract: expressions are parsed into an AST
// that a later evaluator walks. Pure, like the rest of asl/.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace switchyard::asl {

// A syntax error as jsonata-js reports it: its code (e.g. "S0201"), the character offset where
// it was detected, and a message.
struct JsonataSyntaxError {
  std::string code;
  std::size_t position = 0;
  std::string message;
};

// Checks that `expression` (the text between "{%" and "%}") is a syntactically valid JSONata
// expression. Returns nullopt when it is, otherwise the first error.
std::optional<JsonataSyntaxError> CheckJsonataSyntax(std::string_view expression);

}  // namespace switchyard::asl
