// JSONata 2.0.6 parser: an on-demand tokenizer driven by a Pratt (top-down operator precedence)
// parser, then a post-processing pass that turns `.` chains into paths and attaches predicates,
// bindings, sorts, group-bys and `%` ancestry to their steps, as jsonata's evaluator expects.
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "switchyard/asl/json.hpp"
#include "switchyard/asl/jsonata.hpp"

namespace switchyard::asl {
namespace {

using Kind = JsonataNodeKind;

// Parse errors unwind the recursive descent in one jump; this exception never leaves
// ParseJsonata, which turns it back into a value.
struct ParseFailure {
  JsonataSyntaxError error;
};

[[noreturn]] void Fail(const char* code, std::size_t position, std::string message) {
  throw ParseFailure{JsonataSyntaxError{code, position, std::move(message)}};
}

// Deep enough for any hand-written expression, shallow enough that recursion (also under
// sanitizers) stays far from the stack limit.
constexpr int kMaxDepth = 400;

// ---------------------------------------------------------------------------------------------
// Tokenizer

enum class TokenType { kEnd, kOperator, kName, kVariable, kString, kNumber, kValue, kRegex };

struct Token {
  TokenType type = TokenType::kEnd;
  std::string value;  // operator text, name, decoded string, value word, regex pattern
  double number = 0;
  std::string flags;  // regex flags
  std::size_t position = 0;
};

bool IsOperatorChar(char c) {
  switch (c) {
    case '.':
    case '[':
    case ']':
    case '{':
    case '}':
    case '(':
    case ')':
    case ',':
    case '@':
    case '#':
    case ';':
    case ':':
    case '?':
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
    case '|':
    case '=':
    case '<':
    case '>':
    case '^':
    case '&':
    case '!':
    case '~':
      return true;
    default:
      return false;
  }
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  // The next token. A '/' starts a regex only where an operand is expected (`regex_allowed`);
  // elsewhere it is division. The parser knows which, the text alone does not.
  Token Next(bool regex_allowed) {
    SkipSpaceAndComments();
    Token token;
    token.position = pos_;
    if (pos_ >= text_.size()) return token;
    const char c = text_[pos_];
    if (c == '/' && regex_allowed) return ScanRegex(token);
    if (pos_ + 1 < text_.size()) {
      const std::string_view two = text_.substr(pos_, 2);
      if (two == ".." || two == ":=" || two == "!=" || two == ">=" || two == "<=" || two == "**" ||
          two == "~>") {
        token.type = TokenType::kOperator;
        token.value = std::string(two);
        pos_ += 2;
        return token;
      }
    }
    if (IsOperatorChar(c)) {
      token.type = TokenType::kOperator;
      token.value = std::string(1, c);
      ++pos_;
      return token;
    }
    if (c == '"' || c == '\'') return ScanString(token, c);
    if (IsDigit(c)) return ScanNumber(token);
    if (c == '`') {
      const std::size_t end = text_.find('`', pos_ + 1);
      if (end == std::string_view::npos) {
        Fail("S0105", pos_, "Quoted property name must be terminated with a backquote (`)");
      }
      token.type = TokenType::kName;
      token.value = std::string(text_.substr(pos_ + 1, end - pos_ - 1));
      pos_ = end + 1;
      return token;
    }
    // A name or variable runs to the next space or operator character.
    std::size_t end = pos_;
    while (end < text_.size() && !IsSpace(text_[end]) && !IsOperatorChar(text_[end])) ++end;
    std::string word(text_.substr(pos_, end - pos_));
    pos_ = end;
    if (word[0] == '$') {
      token.type = TokenType::kVariable;
      token.value = word.substr(1);
    } else if (word == "and" || word == "or" || word == "in") {
      token.type = TokenType::kOperator;
      token.value = std::move(word);
    } else if (word == "true" || word == "false" || word == "null") {
      token.type = TokenType::kValue;
      token.value = std::move(word);
    } else {
      token.type = TokenType::kName;
      token.value = std::move(word);
    }
    return token;
  }

 private:
  void SkipSpaceAndComments() {
    for (;;) {
      while (pos_ < text_.size() && IsSpace(text_[pos_])) ++pos_;
      if (pos_ + 1 < text_.size() && text_[pos_] == '/' && text_[pos_ + 1] == '*') {
        const std::size_t end = text_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) Fail("S0106", pos_, "Comment has no closing tag");
        pos_ = end + 2;
        continue;
      }
      return;
    }
  }

  Token ScanRegex(Token& token) {
    const std::size_t start = pos_ + 1;
    int depth = 0;  // a '/' inside (...), [...] or {...} does not close the regex
    for (std::size_t i = start; i < text_.size(); ++i) {
      const char c = text_[i];
      const bool escaped = [&] {
        std::size_t backslashes = 0;
        while (i - backslashes > start && text_[i - backslashes - 1] == '\\') ++backslashes;
        return backslashes % 2 == 1;
      }();
      if (c == '/' && depth == 0 && !escaped) {
        if (i == start) Fail("S0301", token.position, "Empty regular expressions are not allowed");
        token.type = TokenType::kRegex;
        token.value = std::string(text_.substr(start, i - start));
        std::size_t f = i + 1;
        while (f < text_.size() && (text_[f] == 'i' || text_[f] == 'm')) ++f;
        token.flags = std::string(text_.substr(i + 1, f - i - 1));
        pos_ = f;
        return token;
      }
      if (!escaped && (c == '(' || c == '[' || c == '{')) ++depth;
      if (!escaped && (c == ')' || c == ']' || c == '}')) --depth;
    }
    Fail("S0302", token.position, "No terminating / in regular expression");
  }

  Token ScanString(Token& token, char quote) {
    std::string out;
    std::size_t i = pos_ + 1;
    while (i < text_.size()) {
      const char c = text_[i];
      if (c == quote) {
        token.type = TokenType::kString;
        token.value = std::move(out);
        pos_ = i + 1;
        return token;
      }
      if (c != '\\') {
        out += c;
        ++i;
        continue;
      }
      if (i + 1 >= text_.size()) break;
      const char e = text_[i + 1];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!ReadHex4(i + 2, cp)) {
            Fail("S0104", i, "The escape sequence \\u must be followed by 4 hex digits");
          }
          i += 6;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            std::uint32_t low = 0;
            if (i + 1 < text_.size() && text_[i] == '\\' && text_[i + 1] == 'u' &&
                ReadHex4(i + 2, low) && low >= 0xDC00 && low <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
              i += 6;
            } else {
              cp = 0xFFFD;  // a lone surrogate has no UTF-8 form
            }
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            cp = 0xFFFD;
          }
          AppendUtf8(out, cp);
          continue;
        }
        default:
          Fail("S0103", i, std::string("Unsupported escape sequence: \\") + e);
      }
      i += 2;
    }
    Fail("S0101", token.position, "String literal must be terminated by a matching quote");
  }

  bool ReadHex4(std::size_t at, std::uint32_t& cp) const {
    if (at + 4 > text_.size()) return false;
    cp = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const int h = HexValue(text_[at + k]);
      if (h < 0) return false;
      cp = cp * 16 + static_cast<std::uint32_t>(h);
    }
    return true;
  }

  // (0|[1-9][0-9]*)(\.[0-9]+)?([Ee][-+]?[0-9]+)?  — so `01` is two numbers and `1..2` a range.
  Token ScanNumber(Token& token) {
    std::size_t i = pos_;
    if (text_[i] == '0') {
      ++i;
    } else {
      while (i < text_.size() && IsDigit(text_[i])) ++i;
    }
    if (i + 1 < text_.size() && text_[i] == '.' && IsDigit(text_[i + 1])) {
      i += 2;
      while (i < text_.size() && IsDigit(text_[i])) ++i;
    }
    if (i < text_.size() && (text_[i] == 'e' || text_[i] == 'E')) {
      std::size_t j = i + 1;
      if (j < text_.size() && (text_[j] == '+' || text_[j] == '-')) ++j;
      if (j < text_.size() && IsDigit(text_[j])) {
        while (j < text_.size() && IsDigit(text_[j])) ++j;
        i = j;
      }
    }
    const std::string_view digits = text_.substr(pos_, i - pos_);
    double value = 0;
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    const bool negative_exponent =
        digits.find("e-") != std::string_view::npos || digits.find("E-") != std::string_view::npos;
    if (ec == std::errc::result_out_of_range && negative_exponent) {
      value = 0;  // underflow: JavaScript reads it as 0
    } else if (ec != std::errc() || !std::isfinite(value)) {
      Fail("S0102", pos_, "Number out of range: " + std::string(digits));
    }
    token.type = TokenType::kNumber;
    token.number = value;
    token.value = std::string(digits);
    pos_ = i;
    return token;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Pratt parser: produces a raw tree in which `.`, `[`, `{`, `@`, `#` and `^` are still kBinary
// nodes (value = the operator); Process() below resolves them.

JsonataNode MakeNode(Kind kind, std::size_t position, std::string value = {}) {
  JsonataNode node;
  node.kind = kind;
  node.position = position;
  node.value = std::move(value);
  return node;
}

JsonataNode MakeBinary(const Token& op, JsonataNode lhs, JsonataNode rhs) {
  JsonataNode node = MakeNode(Kind::kBinary, op.position, op.value);
  node.children.push_back(std::move(lhs));
  node.children.push_back(std::move(rhs));
  return node;
}

std::string Describe(const Token& token) {
  return token.type == TokenType::kEnd ? std::string("(end)") : token.value;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : lexer_(text) {}

  JsonataNode ParseAll() {
    Advance();
    JsonataNode root = Expression(0);
    if (current_.type != TokenType::kEnd) {
      Fail("S0201", current_.position, "Syntax error: " + Describe(current_));
    }
    return root;
  }

 private:
  bool Is(std::string_view op) const {
    return current_.type == TokenType::kOperator && current_.value == op;
  }

  // Consumes the current token (checking it is `expected` when given) and reads the next.
  // `after_operand`: the next token follows an operand, so '/' there is division, not a regex.
  void Advance(std::string_view expected = {}, bool after_operand = false) {
    if (!expected.empty() && !Is(expected)) {
      if (current_.type == TokenType::kEnd) {
        Fail("S0203", current_.position,
             "Expected \"" + std::string(expected) + "\" before end of expression");
      }
      Fail("S0202", current_.position,
           "Expected \"" + std::string(expected) + "\", got \"" + current_.value + "\"");
    }
    current_ = lexer_.Next(!after_operand);
    if (current_.type == TokenType::kOperator && (current_.value == "!" || current_.value == "~")) {
      Fail("S0204", current_.position, "Unknown operator: \"" + current_.value + "\"");
    }
  }

  static int BindingPower(const Token& token) {
    if (token.type != TokenType::kOperator) return 0;
    const std::string& op = token.value;
    if (op == "[" || op == "(" || op == "@" || op == "#") return 80;
    if (op == ".") return 75;
    if (op == "{") return 70;
    if (op == "*" || op == "/" || op == "%") return 60;
    if (op == "+" || op == "-" || op == "&") return 50;
    if (op == "=" || op == "!=" || op == "<" || op == "<=" || op == ">" || op == ">=" ||
        op == "in" || op == "^" || op == "~>") {
      return 40;
    }
    if (op == "and") return 30;
    if (op == "or") return 25;
    if (op == "?") return 20;
    if (op == ":=") return 10;
    return 0;  // ] } ) , ; : | .. ** and anything that only terminates
  }

  JsonataNode Expression(int rbp) {
    const int saved_depth = depth_;
    if (++depth_ > kMaxDepth) {
      Fail("S0201", current_.position, "Syntax error: expression nests too deeply");
    }
    Token token = std::move(current_);
    Advance({}, /*after_operand=*/true);
    JsonataNode left = Nud(token);
    while (rbp < BindingPower(current_)) {
      if (++depth_ > kMaxDepth) {
        Fail("S0201", current_.position, "Syntax error: expression nests too deeply");
      }
      token = std::move(current_);
      Advance();
      left = Led(token, std::move(left));
    }
    depth_ = saved_depth;
    return left;
  }

  JsonataNode Nud(const Token& token) {
    switch (token.type) {
      case TokenType::kEnd:
        Fail("S0207", token.position, "Unexpected end of expression");
      case TokenType::kName:
        return MakeNode(Kind::kName, token.position, token.value);
      case TokenType::kVariable:
        return MakeNode(Kind::kVariable, token.position, token.value);
      case TokenType::kString:
        return MakeNode(Kind::kString, token.position, token.value);
      case TokenType::kValue:
        return MakeNode(Kind::kValue, token.position, token.value);
      case TokenType::kNumber: {
        JsonataNode node = MakeNode(Kind::kNumber, token.position);
        node.number = token.number;
        return node;
      }
      case TokenType::kRegex: {
        JsonataNode node = MakeNode(Kind::kRegex, token.position, token.value);
        node.flags = token.flags;
        return node;
      }
      case TokenType::kOperator:
        break;
    }
    const std::string& op = token.value;
    if (op == "and" || op == "or" || op == "in") {
      return MakeNode(Kind::kName, token.position, op);  // keywords double as field names
    }
    if (op == "-") {
      JsonataNode node = MakeNode(Kind::kNegate, token.position, "-");
      node.children.push_back(Expression(70));
      return node;
    }
    if (op == "*") return MakeNode(Kind::kWildcard, token.position, "*");
    if (op == "**") return MakeNode(Kind::kDescendant, token.position, "**");
    if (op == "%") return MakeNode(Kind::kParent, token.position, "%");
    if (op == "[") {
      JsonataNode node = MakeNode(Kind::kArray, token.position, "[");
      if (!Is("]")) {
        for (;;) {
          JsonataNode item = Expression(0);
          if (Is("..")) {
            Token range = current_;
            Advance("..");
            item = MakeBinary(range, std::move(item), Expression(0));
          }
          node.children.push_back(std::move(item));
          if (!Is(",")) break;
          Advance(",");
        }
      }
      Advance("]", true);
      return node;
    }
    if (op == "{") {
      JsonataNode node = MakeNode(Kind::kObject, token.position, "{");
      ParseObjectBody(node);
      return node;
    }
    if (op == "(") {
      JsonataNode node = MakeNode(Kind::kBlock, token.position, "(");
      while (!Is(")")) {
        node.children.push_back(Expression(0));
        if (!Is(";")) break;
        Advance(";");
      }
      Advance(")", true);
      return node;
    }
    if (op == "|") {
      JsonataNode node = MakeNode(Kind::kTransform, token.position, "|");
      node.children.push_back(Expression(0));
      Advance("|");
      node.children.push_back(Expression(0));
      if (Is(",")) {
        Advance(",");
        node.children.push_back(Expression(0));
      }
      Advance("|", true);
      return node;
    }
    Fail("S0211", token.position, "The symbol " + op + " cannot be used as a unary operator");
  }

  void ParseObjectBody(JsonataNode& node) {
    if (!Is("}")) {
      for (;;) {
        node.children.push_back(Expression(0));
        Advance(":");
        node.children.push_back(Expression(0));
        if (!Is(",")) break;
        Advance(",");
      }
    }
    Advance("}", true);
  }

  JsonataNode Led(const Token& token, JsonataNode left) {
    const std::string& op = token.value;
    if (op == "[") {
      if (Is("]")) {
        // `x[]`: keep singleton arrays; the flag goes on the step under any predicates.
        JsonataNode* step = &left;
        while (step->kind == Kind::kBinary && step->value == "[") step = &step->children[0];
        step->keep_array = true;
        Advance("]", true);
        return left;
      }
      JsonataNode rhs = Expression(0);
      Advance("]", true);
      return MakeBinary(token, std::move(left), std::move(rhs));
    }
    if (op == "{") {
      JsonataNode pairs = MakeNode(Kind::kObject, token.position, "{");
      ParseObjectBody(pairs);
      return MakeBinary(token, std::move(left), std::move(pairs));
    }
    if (op == "(") return ParseCall(token, std::move(left));
    if (op == "?") {
      JsonataNode node = MakeNode(Kind::kCondition, token.position, "?");
      node.children.push_back(std::move(left));
      node.children.push_back(Expression(0));
      if (Is(":")) {
        Advance(":");
        node.children.push_back(Expression(0));
      }
      return node;
    }
    if (op == ":=") {
      if (left.kind != Kind::kVariable) {
        Fail("S0212", left.position, "The left side of := must be a variable name (start with $)");
      }
      JsonataNode node = MakeNode(Kind::kBind, token.position, ":=");
      node.children.push_back(std::move(left));
      node.children.push_back(Expression(10 - 1));  // right-associative
      return node;
    }
    if (op == "@" || op == "#") {
      JsonataNode rhs = Expression(80);
      if (rhs.kind != Kind::kVariable) {
        Fail("S0214", rhs.position,
             "The right side of " + op + " must be a variable name (start with $)");
      }
      return MakeBinary(token, std::move(left), std::move(rhs));
    }
    if (op == "^") {
      JsonataNode sort = MakeNode(Kind::kSort, token.position, "^");
      Advance("(");
      for (;;) {
        JsonataNode term = MakeNode(Kind::kSortTerm, current_.position);
        if (Is("<")) {
          Advance("<");
        } else if (Is(">")) {
          term.descending = true;
          Advance(">");
        }
        term.children.push_back(Expression(0));
        sort.children.push_back(std::move(term));
        if (!Is(",")) break;
        Advance(",");
      }
      Advance(")", true);
      return MakeBinary(token, std::move(left), std::move(sort));
    }
    if (op == "~>") {
      JsonataNode node = MakeNode(Kind::kApply, token.position, "~>");
      node.children.push_back(std::move(left));
      node.children.push_back(Expression(40));
      return node;
    }
    // Plain left-associative infix operators, `.` included.
    return MakeBinary(token, std::move(left), Expression(BindingPower(token)));
  }

  JsonataNode ParseCall(const Token& token, JsonataNode procedure) {
    JsonataNode node = MakeNode(Kind::kFunctionCall, token.position, "(");
    const bool is_lambda = procedure.kind == Kind::kName &&
                           (procedure.value == "function" || procedure.value == "\xCE\xBB");
    node.children.push_back(std::move(procedure));
    if (!Is(")")) {
      for (;;) {
        if (Is("?")) {
          node.kind = Kind::kPartial;
          node.children.push_back(MakeNode(Kind::kPlaceholder, current_.position, "?"));
          Advance("?");
        } else {
          node.children.push_back(Expression(0));
        }
        if (!Is(",")) break;
        Advance(",");
      }
    }
    Advance(")", true);
    if (!is_lambda) return node;

    JsonataNode lambda = MakeNode(Kind::kLambda, node.children[0].position, "function");
    for (std::size_t i = 1; i < node.children.size(); ++i) {
      const JsonataNode& arg = node.children[i];
      if (arg.kind != Kind::kVariable) {
        Fail("S0208", arg.position,
             "Parameter " + std::to_string(i) +
                 " of function definition must be a variable name (start with $)");
      }
      lambda.parameters.push_back(arg.value);
    }
    if (Is("<")) {
      const std::size_t signature_position = current_.position;
      std::string signature = "<";
      int depth = 1;
      while (depth > 0 && !Is("{") && current_.type != TokenType::kEnd) {
        Advance();
        if (Is(">")) {
          --depth;
        } else if (Is("<")) {
          ++depth;
        }
        signature += current_.value;
      }
      Advance(">");
      CheckSignature(signature, signature_position);
      lambda.signature = std::move(signature);
    }
    Advance("{");
    lambda.children.push_back(Expression(0));
    Advance("}", true);
    return lambda;
  }

  // The parts of signature syntax that jsonata rejects at parse time.
  static void CheckSignature(const std::string& signature, std::size_t position) {
    char previous = 0;
    for (std::size_t i = 1; i + 1 < signature.size(); ++i) {
      const char c = signature[i];
      if (c == '(') {
        const std::size_t close = signature.find(')', i);
        if (close != std::string::npos &&
            signature.substr(i, close - i).find('<') != std::string::npos) {
          Fail("S0402", position, "Choice groups containing parameterized types are not supported");
        }
        previous = '(';
        i = close == std::string::npos ? signature.size() : close;
        continue;
      }
      if (c == '<') {
        if (previous != 'a' && previous != 'f') {
          Fail("S0401", position, "Type parameters can only be applied to functions and arrays");
        }
        int depth = 1;
        while (depth > 0 && ++i + 1 < signature.size()) {
          if (signature[i] == '<') ++depth;
          if (signature[i] == '>') --depth;
        }
        previous = '>';
        continue;
      }
      if (c != '?' && c != '+' && c != '-') previous = c;
    }
  }

  Lexer lexer_;
  Token current_;
  int depth_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Post-processing.

// A `%` looking for the step whose input it names: `level` steps back.
struct Slot {
  std::string label;
  int level = 1;
  std::size_t position = 0;
};

struct Processed {
  JsonataNode node;
  std::vector<std::size_t> seeking;  // slots of `%` not yet bound to a step
};

std::string SlotRef(std::size_t index) { return "!" + std::to_string(index); }

std::size_t SlotIndex(const std::string& ref) {
  std::size_t index = 0;
  std::from_chars(ref.data() + 1, ref.data() + ref.size(), index);
  return index;
}

class Processor {
 public:
  JsonataNode Run(JsonataNode raw) {
    Processed result = Process(std::move(raw));
    if (!result.seeking.empty()) {
      Fail("S0217", slots_[result.seeking.front()].position,
           "The object representing the 'parent' cannot be derived from this expression");
    }
    Relabel(result.node);
    return std::move(result.node);
  }

 private:
  // Labels were recorded as slot references; slots bound to one step share a label.
  void Relabel(JsonataNode& node) {
    if (node.kind == Kind::kParent) node.value = slots_[SlotIndex(node.value)].label;
    if (!node.ancestor.empty()) node.ancestor = slots_[SlotIndex(node.ancestor)].label;
    for (JsonataNode& child : node.children) Relabel(child);
    for (JsonataNode& stage : node.stages) Relabel(stage);
    for (JsonataNode& predicate : node.predicates) Relabel(predicate);
    if (node.group) Relabel(*node.group);
  }

  static void Append(std::vector<std::size_t>& to, const std::vector<std::size_t>& from) {
    to.insert(to.end(), from.begin(), from.end());
  }

  static JsonataNode WrapInPath(JsonataNode step) {
    JsonataNode path = MakeNode(Kind::kPath, step.position);
    path.keep_array = step.keep_array;
    path.children.push_back(std::move(step));
    return path;
  }

  // Moves `slot` back over `node`: a name or wildcard step is one level; another `%` adds one.
  void SeekParent(JsonataNode& node, std::size_t slot_index) {
    Slot& slot = slots_[slot_index];
    switch (node.kind) {
      case Kind::kName:
      case Kind::kWildcard:
        if (--slot.level == 0) {
          if (!node.ancestor.empty()) slot.label = slots_[SlotIndex(node.ancestor)].label;
          node.ancestor = SlotRef(slot_index);
          node.tuple = true;
        }
        return;
      case Kind::kParent:
        ++slot.level;
        return;
      case Kind::kBlock:
        if (!node.children.empty()) {
          node.tuple = true;
          SeekParent(node.children.back(), slot_index);
        }
        return;
      case Kind::kPath: {
        node.tuple = true;
        std::size_t i = node.children.size();
        while (i > 0 && slot.level > 0) SeekParent(node.children[--i], slot_index);
        return;
      }
      default:
        Fail("S0217", node.position,
             "The object representing the 'parent' cannot be derived from this expression");
    }
  }

  // Resolves `seeking` against the steps of `path` before `first`; the rest stays seeking.
  void ResolveAncestry(JsonataNode& path, std::size_t first,
                       const std::vector<std::size_t>& seeking,
                       std::vector<std::size_t>& unresolved) {
    for (std::size_t slot_index : seeking) {
      std::size_t i = first;
      while (slots_[slot_index].level > 0) {
        if (i == 0) {
          unresolved.push_back(slot_index);
          break;
        }
        JsonataNode* step = &path.children[--i];
        // Contiguous focus-binding steps act as one.
        while (i > 0 && step->focus && path.children[i - 1].focus) step = &path.children[--i];
        SeekParent(*step, slot_index);
      }
    }
  }

  Processed Process(JsonataNode raw) {
    if (++depth_ > 2 * kMaxDepth) {
      Fail("S0201", raw.position, "Syntax error: expression nests too deeply");
    }
    Processed result = ProcessNode(std::move(raw));
    --depth_;
    return result;
  }

  Processed ProcessChildren(JsonataNode raw) {
    Processed result;
    std::vector<JsonataNode> children = std::move(raw.children);
    raw.children.clear();
    // Like jsonata, a `%` in a lambda body or in the callee of a call is not sought beyond
    // them here: the evaluator reports it when it runs.
    const bool contained =
        raw.kind == Kind::kLambda || raw.kind == Kind::kFunctionCall || raw.kind == Kind::kPartial;
    for (std::size_t i = 0; i < children.size(); ++i) {
      Processed done = Process(std::move(children[i]));
      if (!(contained && i == 0)) Append(result.seeking, done.seeking);
      raw.children.push_back(std::move(done.node));
    }
    result.node = std::move(raw);
    return result;
  }

  Processed ProcessNode(JsonataNode raw) {
    switch (raw.kind) {
      case Kind::kName:
        return {WrapInPath(std::move(raw)), {}};
      case Kind::kParent: {
        const std::size_t index = slots_.size();
        slots_.push_back(Slot{"!" + std::to_string(index), 1, raw.position});
        raw.value = SlotRef(index);
        return {std::move(raw), {index}};
      }
      case Kind::kNegate: {
        Processed result = ProcessChildren(std::move(raw));
        if (result.node.children[0].kind == Kind::kNumber) {
          JsonataNode number = std::move(result.node.children[0]);
          number.number = -number.number;
          number.position = result.node.position;
          result.node = std::move(number);
        }
        return result;
      }
      case Kind::kBinary:
        break;
      default:
        return ProcessChildren(std::move(raw));
    }
    const std::string op = raw.value;
    if (op == ".") return ProcessDot(std::move(raw));
    if (op == "[") return ProcessPredicate(std::move(raw));
    if (op == "{") {
      const std::size_t position = raw.position;
      Processed result = Process(std::move(raw.children[0]));
      if (result.node.group) {
        Fail("S0210", position, "Each step can only have one grouping expression");
      }
      Processed pairs = Process(std::move(raw.children[1]));
      Append(result.seeking, pairs.seeking);
      result.node.group = std::make_unique<JsonataNode>(std::move(pairs.node));
      return result;
    }
    if (op == "@") return ProcessFocus(std::move(raw));
    if (op == "#") return ProcessIndex(std::move(raw));
    if (op == "^") {
      Processed result = Process(std::move(raw.children[0]));
      if (result.node.kind != Kind::kPath) result.node = WrapInPath(std::move(result.node));
      Processed sort = ProcessChildren(std::move(raw.children[1]));
      JsonataNode& path = result.node;
      path.children.push_back(std::move(sort.node));
      if (raw.keep_array) {  // `x^(y)[]`
        path.children.back().keep_array = true;
        path.keep_array = true;
      }
      // A `%` in a sort term names an input of the steps before the sort.
      ResolveAncestry(path, path.children.size() - 1, sort.seeking, result.seeking);
      return result;
    }
    return ProcessChildren(std::move(raw));
  }

  Processed ProcessDot(JsonataNode raw) {
    Processed result = Process(std::move(raw.children[0]));
    // A grouped path groups its own result: further steps go outside it.
    if (result.node.kind != Kind::kPath || result.node.group) {
      result.node = WrapInPath(std::move(result.node));
    }
    JsonataNode& path = result.node;
    const std::size_t first = path.children.size();
    Processed rest = Process(std::move(raw.children[1]));
    if (rest.node.kind == Kind::kPath && !rest.node.group) {
      for (JsonataNode& step : rest.node.children) path.children.push_back(std::move(step));
    } else {
      if (!rest.node.predicates.empty()) {
        rest.node.stages = std::move(rest.node.predicates);
        rest.node.predicates.clear();
      }
      path.children.push_back(std::move(rest.node));
    }
    for (JsonataNode& step : path.children) {
      if (step.kind == Kind::kNumber || step.kind == Kind::kValue) {
        Fail("S0213", step.position,
             "The literal value " + (step.kind == Kind::kValue ? step.value : "number") +
                 " cannot be used as a step within a path expression");
      }
      if (step.kind == Kind::kString) step.kind = Kind::kName;
      if (step.keep_array) path.keep_array = true;
    }
    if (path.children.front().kind == Kind::kArray) path.children.front().cons_array = true;
    if (path.children.back().kind == Kind::kArray) path.children.back().cons_array = true;
    ResolveAncestry(path, first, rest.seeking, result.seeking);
    return result;
  }

  Processed ProcessPredicate(JsonataNode raw) {
    const std::size_t position = raw.position;
    Processed result = Process(std::move(raw.children[0]));
    const bool in_path = result.node.kind == Kind::kPath;
    JsonataNode& step = in_path ? result.node.children.back() : result.node;
    if (step.group) {
      Fail("S0209", position, "A predicate cannot follow a grouping expression in a step");
    }
    Processed predicate = Process(std::move(raw.children[1]));
    // A `%` in the predicate names the input of the step the predicate filters.
    for (std::size_t slot_index : predicate.seeking) {
      if (slots_[slot_index].level == 1) {
        SeekParent(step, slot_index);
      } else {
        --slots_[slot_index].level;
      }
      if (slots_[slot_index].level > 0) result.seeking.push_back(slot_index);
    }
    JsonataNode filter = MakeNode(Kind::kFilter, position);
    filter.children.push_back(std::move(predicate.node));
    (in_path ? step.stages : step.predicates).push_back(std::move(filter));
    if (raw.keep_array) step.keep_array = true;
    if (in_path && step.keep_array) result.node.keep_array = true;
    return result;
  }

  Processed ProcessFocus(JsonataNode raw) {
    const std::size_t position = raw.position;
    Processed result = Process(std::move(raw.children[0]));
    JsonataNode& step = result.node.kind == Kind::kPath ? result.node.children.back() : result.node;
    if (!step.stages.empty() || !step.predicates.empty()) {
      Fail("S0215", position, "A context variable binding must precede any predicates on a step");
    }
    if (step.kind == Kind::kSort) {
      Fail("S0216", position,
           "A context variable binding must precede the 'order-by' clause on a step");
    }
    if (raw.keep_array) step.keep_array = true;
    step.focus = raw.children[1].value;
    step.tuple = true;
    return result;
  }

  Processed ProcessIndex(JsonataNode raw) {
    const std::size_t position = raw.position;
    Processed result = Process(std::move(raw.children[0]));
    if (result.node.kind != Kind::kPath) result.node = WrapInPath(std::move(result.node));
    JsonataNode& step = result.node.children.back();
    if (raw.keep_array) {  // `x#$i[]`
      step.keep_array = true;
      result.node.keep_array = true;
    }
    if (step.stages.empty()) {
      step.index = raw.children[1].value;
    } else {
      step.stages.push_back(MakeNode(Kind::kIndex, position, raw.children[1].value));
    }
    step.tuple = true;
    return result;
  }

  std::vector<Slot> slots_;
  int depth_ = 0;
};

}  // namespace

JsonataParseResult ParseJsonata(std::string_view expression) {
  try {
    Parser parser(expression);
    JsonataNode raw = parser.ParseAll();
    Processor processor;
    return processor.Run(std::move(raw));
  } catch (ParseFailure& failure) {
    return std::move(failure.error);
  }
}

std::optional<JsonataSyntaxError> CheckJsonataSyntax(std::string_view expression) {
  JsonataParseResult result = ParseJsonata(expression);
  if (result.ok()) return std::nullopt;
  return result.error();
}

}  // namespace switchyard::asl
