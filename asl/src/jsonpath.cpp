#include "switchyard/asl/jsonpath.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <regex>
#include <utility>

namespace switchyard::asl {
namespace {

enum class TokenKind { kProperty, kIndex, kSlice, kWildcard, kScan, kFilter };
enum class FunctionKind { kNone, kLength, kSize, kMin, kMax, kAvg, kSum, kStddev, kKeys };

enum class Op {
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kRegex,
  kIn,
  kNin,
  kSubsetOf,
  kAnyOf,
  kNoneOf,
  kSize,
  kEmpty,
  kContains
};

}  // namespace

namespace {

struct Token {
  TokenKind kind = TokenKind::kProperty;
  std::vector<std::string> names;   // kProperty: one name, or several (a merge at the leaf)
  std::vector<int64_t> indices;     // kIndex
  std::optional<int64_t> from, to;  // kSlice
  int filter = -1;                  // kFilter: root node in Impl::filter_nodes
  // Jayway's isUpstreamDefinite(): every token before this one selects at most one node. Type
  // mismatches raise errors only then; otherwise the branch is silently dropped.
  bool upstream_definite = true;
};

// An operand of a filter comparison.
struct Operand {
  enum class Kind { kLiteral, kPath, kRegex };
  Kind kind = Kind::kLiteral;
  Json literal;
  int path = -1;  // index into Impl::sub_paths
  std::shared_ptr<std::regex> regex;
};

struct FilterNode {
  enum class Kind { kOr, kAnd, kNot, kExists, kCompare };
  Kind kind = Kind::kCompare;
  int left = -1, right = -1;  // kOr/kAnd: node indices; kNot: left
  Operand a, b;               // kExists: a (a path); kCompare: a op b
  Op op = Op::kEq;
};

}  // namespace

struct JsonPath::Impl {
  Root root = Root::kInput;
  bool filter_current = false;  // `@`-rooted (only inside filters)
  std::string variable;
  std::vector<Token> tokens;
  FunctionKind function = FunctionKind::kNone;
  bool definite = true;
  bool reference = true;
  std::vector<FilterNode> filter_nodes;
  std::vector<std::unique_ptr<Impl>> sub_paths;
};

namespace {

using Impl = JsonPath::Impl;

std::string Position(std::size_t pos) { return " at position " + std::to_string(pos); }

bool IsVariableChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Bounds on a path's shape, so parsing and evaluating it recurse a bounded number of levels
// whatever the text (a definition may hold a path of hundreds of kilobytes): parentheses, '!'
// and filters inside filters nest at most kMaxFilterNesting deep, and a path has at most
// kMaxPathParts tokens and filter terms in all. Jayway has no such limits, but real paths come
// nowhere near them.
constexpr int kMaxFilterNesting = 100;
constexpr std::size_t kMaxPathParts = 1000;

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  // Parses a whole path (top level, `$`/`$$`/`$name`).
  bool ParseTop(Impl& impl) {
    if (s_.empty()) return Fail("path is empty");
    if (s_[0] != '$') return Fail("path must start with '$'" + Position(0));
    pos_ = 1;
    if (pos_ < s_.size() && s_[pos_] == '$') {
      impl.root = JsonPath::Root::kContext;
      ++pos_;
    } else if (pos_ < s_.size() && IsVariableChar(s_[pos_])) {
      impl.root = JsonPath::Root::kVariable;
      std::size_t start = pos_;
      while (pos_ < s_.size() && IsVariableChar(s_[pos_])) ++pos_;
      impl.variable = std::string(s_.substr(start, pos_ - start));
    }
    if (!ParseTokens(impl, s_.size())) return false;
    if (!Finish(impl)) return false;
    if (parts_ > kMaxPathParts) {
      return Fail("the path has more than " + std::to_string(kMaxPathParts) +
                  " tokens and filter terms");
    }
    return true;
  }

  const std::string& error() const { return error_; }

 private:
  bool Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }
  bool Unexpected(std::size_t at) {
    if (at >= s_.size()) return Fail("unexpected end of path" + Position(at));
    return Fail(std::string("unexpected character '") + s_[at] + "'" + Position(at));
  }
  void SkipSpaces(std::size_t end) {
    while (pos_ < end && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }

  bool Finish(Impl& impl) {
    parts_ += impl.tokens.size();
    bool definite = true;
    bool reference = true;
    for (std::size_t i = 0; i < impl.tokens.size(); ++i) {
      Token& token = impl.tokens[i];
      token.upstream_definite = definite;
      bool leaf = i + 1 == impl.tokens.size();
      bool token_definite = false;
      switch (token.kind) {
        case TokenKind::kProperty:
          token_definite = token.names.size() == 1 || leaf;
          if (token.names.size() != 1) reference = false;
          break;
        case TokenKind::kIndex:
          token_definite = token.indices.size() == 1;
          if (!token_definite) reference = false;
          break;
        default:
          reference = false;
          break;
      }
      definite = definite && token_definite;
    }
    impl.definite = definite;
    impl.reference = reference && impl.function == FunctionKind::kNone;
    return true;
  }

  // Parses tokens from pos_ up to `end`.
  bool ParseTokens(Impl& impl, std::size_t end) {
    while (pos_ < end) {
      if (impl.function != FunctionKind::kNone) {
        return Fail("a function must end the path" + Position(pos_));
      }
      char c = s_[pos_];
      if (c == '.') {
        if (pos_ + 1 < end && s_[pos_ + 1] == '.') {
          pos_ += 2;
          if (pos_ >= end) return Fail("path must not end with '..'");
          Token scan;
          scan.kind = TokenKind::kScan;
          impl.tokens.push_back(std::move(scan));
          if (s_[pos_] == '[') {
            if (!ParseBracket(impl, end)) return false;
          } else if (!ParseDotName(impl, end)) {
            return false;
          }
        } else {
          ++pos_;
          if (pos_ >= end) return Fail("path must not end with '.'");
          if (!ParseDotName(impl, end)) return false;
        }
      } else if (c == '[') {
        if (!ParseBracket(impl, end)) return false;
      } else {
        return Unexpected(pos_);
      }
    }
    return true;
  }

  bool ParseDotName(Impl& impl, std::size_t end) {
    std::size_t start = pos_;
    if (s_[pos_] == '*') {
      ++pos_;
      Token token;
      token.kind = TokenKind::kWildcard;
      impl.tokens.push_back(std::move(token));
      return true;
    }
    // Jayway: a dot name runs to the next '.', '[' or '(' (a function call); blanks are refused.
    while (pos_ < end && s_[pos_] != '.' && s_[pos_] != '[' && s_[pos_] != '(') {
      if (s_[pos_] == ' ') {
        return Fail("use bracket notation ['my prop'] for a name with blanks" + Position(pos_));
      }
      ++pos_;
    }
    if (pos_ == start) return Unexpected(pos_);
    std::string_view name = s_.substr(start, pos_ - start);
    if (pos_ < end && s_[pos_] == '(') {
      if (pos_ + 1 >= end || s_[pos_ + 1] != ')') return Unexpected(pos_ + 1);
      static const std::pair<std::string_view, FunctionKind> kFunctions[] = {
          {"length", FunctionKind::kLength}, {"size", FunctionKind::kSize},
          {"min", FunctionKind::kMin},       {"max", FunctionKind::kMax},
          {"avg", FunctionKind::kAvg},       {"sum", FunctionKind::kSum},
          {"stddev", FunctionKind::kStddev}, {"keys", FunctionKind::kKeys}};
      for (const auto& [fname, kind] : kFunctions) {
        if (fname == name) impl.function = kind;
      }
      if (impl.function == FunctionKind::kNone) {
        return Fail("unknown function '" + std::string(name) + "()'" + Position(start));
      }
      if (!impl.tokens.empty() && impl.tokens.back().kind == TokenKind::kScan) {
        return Fail("a function cannot follow '..'" + Position(start));
      }
      pos_ += 2;
      return true;
    }
    Token token;
    token.kind = TokenKind::kProperty;
    token.names.emplace_back(name);
    impl.tokens.push_back(std::move(token));
    return true;
  }

  bool ParseQuoted(std::string& out) {
    char quote = s_[pos_];
    std::size_t start = pos_;
    ++pos_;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      char c = s_[pos_];
      if (c == '\\') {
        if (pos_ + 1 >= s_.size()) break;
        char e = s_[pos_ + 1];
        pos_ += 2;
        switch (e) {
          case 'n':
            out += '\n';
            break;
          case 't':
            out += '\t';
            break;
          case 'r':
            out += '\r';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'u': {
            if (pos_ + 4 > s_.size()) return Fail("bad \\u escape" + Position(pos_ - 2));
            uint32_t cp = 0;
            auto [p, ec] = std::from_chars(s_.data() + pos_, s_.data() + pos_ + 4, cp, 16);
            if (ec != std::errc() || p != s_.data() + pos_ + 4) {
              return Fail("bad \\u escape" + Position(pos_ - 2));
            }
            pos_ += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && pos_ + 6 <= s_.size() && s_[pos_] == '\\' &&
                s_[pos_ + 1] == 'u') {
              uint32_t low = 0;
              auto [p2, ec2] = std::from_chars(s_.data() + pos_ + 2, s_.data() + pos_ + 6, low, 16);
              if (ec2 == std::errc() && p2 == s_.data() + pos_ + 6 && low >= 0xDC00 &&
                  low < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                pos_ += 6;
              }
            }
            AppendUtf8(out, cp);
            break;
          }
          default:
            out += e;
            break;  // \' \" \\ \/
        }
        continue;
      }
      out += c;
      ++pos_;
    }
    if (pos_ >= s_.size()) return Fail("unterminated string starting" + Position(start));
    ++pos_;
    return true;
  }

  // A quoted name in brackets, as AWS reads `$['a\'b']`: a backslash before the enclosing quote
  // yields that quote; any other backslash stays as written (`$['a\"b']` names the key a\"b,
  // as AWS's recorded ESCAPE_SEQUENCES_JSONPATH run shows), and `\\` is kept as two
  // characters but cannot end the name.
  bool ParseQuotedName(std::string& out) {
    const char quote = s_[pos_];
    const std::size_t start = pos_;
    ++pos_;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) {
        const char next = s_[pos_ + 1];
        if (next == quote) {
          out += quote;
        } else {
          out += '\\';
          out += next;
        }
        pos_ += 2;
        continue;
      }
      out += s_[pos_++];
    }
    if (pos_ >= s_.size()) return Fail("unterminated string starting" + Position(start));
    ++pos_;
    return true;
  }

  bool ParseInt(int64_t& out) {
    std::size_t start = pos_;
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    auto [p, ec] = std::from_chars(s_.data() + start, s_.data() + pos_, out);
    if (ec != std::errc() || p != s_.data() + pos_) {
      pos_ = start;
      return Unexpected(start);
    }
    return true;
  }

  bool ParseBracket(Impl& impl, std::size_t end) {
    std::size_t open = pos_;
    ++pos_;
    SkipSpaces(end);
    if (pos_ >= end) return Fail("unterminated '['" + Position(open));
    char c = s_[pos_];
    Token token;
    if (c == '?') {
      ++pos_;
      SkipSpaces(end);
      if (pos_ >= end || s_[pos_] != '(') return Unexpected(pos_);
      ++pos_;
      int node = -1;
      if (!ParseOr(impl, node)) return false;
      SkipSpaces(end);
      if (pos_ >= end || s_[pos_] != ')') return Unexpected(pos_);
      ++pos_;
      SkipSpaces(end);
      if (pos_ >= end || s_[pos_] != ']') return Unexpected(pos_);
      ++pos_;
      token.kind = TokenKind::kFilter;
      token.filter = node;
      impl.tokens.push_back(std::move(token));
      return true;
    }
    if (c == '*') {
      ++pos_;
      SkipSpaces(end);
      if (pos_ >= end || s_[pos_] != ']') return Unexpected(pos_);
      ++pos_;
      token.kind = TokenKind::kWildcard;
      impl.tokens.push_back(std::move(token));
      return true;
    }
    if (c == '\'' || c == '"') {
      token.kind = TokenKind::kProperty;
      while (true) {
        SkipSpaces(end);
        if (pos_ >= end || (s_[pos_] != '\'' && s_[pos_] != '"')) return Unexpected(pos_);
        std::string name;
        if (!ParseQuotedName(name)) return false;
        token.names.push_back(std::move(name));
        SkipSpaces(end);
        if (pos_ < end && s_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < end && s_[pos_] == ']') {
          ++pos_;
          break;
        }
        return Unexpected(pos_);
      }
      impl.tokens.push_back(std::move(token));
      return true;
    }
    if (s_.substr(pos_, 10) == "(@.length-") {
      // Jayway's script form [(@.length-N)]: the Nth element from the end, like [-N].
      pos_ += 10;
      const std::size_t digits = pos_;
      while (pos_ < end && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      int64_t value = 0;
      auto [p, ec] = std::from_chars(s_.data() + digits, s_.data() + pos_, value);
      if (pos_ == digits || ec != std::errc() || p != s_.data() + pos_ || value <= 0) {
        return Unexpected(digits);
      }
      if (pos_ >= end || s_[pos_] != ')') return Unexpected(pos_);
      ++pos_;
      SkipSpaces(end);
      if (pos_ >= end || s_[pos_] != ']') return Unexpected(pos_);
      ++pos_;
      token.kind = TokenKind::kIndex;
      token.indices.push_back(-value);
      impl.tokens.push_back(std::move(token));
      return true;
    }
    if (c == '-' || c == ':' || (c >= '0' && c <= '9')) {
      // An index, a union of indices, or a slice [from:to] (a third ":step" part is ignored, as
      // Jayway does).
      std::optional<int64_t> first;
      if (c != ':') {
        int64_t value = 0;
        if (!ParseInt(value)) return false;
        first = value;
      }
      SkipSpaces(end);
      if (pos_ < end && s_[pos_] == ':') {
        ++pos_;
        token.kind = TokenKind::kSlice;
        token.from = first;
        SkipSpaces(end);
        if (pos_ < end && (s_[pos_] == '-' || (s_[pos_] >= '0' && s_[pos_] <= '9'))) {
          int64_t value = 0;
          if (!ParseInt(value)) return false;
          token.to = value;
        }
        SkipSpaces(end);
        if (pos_ < end && s_[pos_] == ':') {
          ++pos_;
          SkipSpaces(end);
          if (pos_ < end && (s_[pos_] == '-' || (s_[pos_] >= '0' && s_[pos_] <= '9'))) {
            int64_t step = 0;
            if (!ParseInt(step)) return false;
          }
          SkipSpaces(end);
        }
        if (pos_ >= end || s_[pos_] != ']') return Unexpected(pos_);
        ++pos_;
        if (!token.from && !token.to) return Fail("empty slice [:]" + Position(open));
        impl.tokens.push_back(std::move(token));
        return true;
      }
      token.kind = TokenKind::kIndex;
      token.indices.push_back(*first);
      while (pos_ < end && s_[pos_] == ',') {
        ++pos_;
        SkipSpaces(end);
        int64_t value = 0;
        if (!ParseInt(value)) return false;
        token.indices.push_back(value);
        SkipSpaces(end);
      }
      if (pos_ >= end || s_[pos_] != ']') return Unexpected(pos_);
      ++pos_;
      impl.tokens.push_back(std::move(token));
      return true;
    }
    return Unexpected(pos_);
  }

  // ---- Filters: or := and ('||' and)*; and := unary ('&&' unary)*;
  //      unary := '!' unary | '(' or ')' | operand [op operand]
  int AddNode(Impl& impl, FilterNode node) {
    ++parts_;
    impl.filter_nodes.push_back(std::move(node));
    return static_cast<int>(impl.filter_nodes.size() - 1);
  }

  bool ParseOr(Impl& impl, int& out) {
    if (!ParseAnd(impl, out)) return false;
    while (true) {
      SkipSpaces(s_.size());
      if (s_.substr(pos_, 2) != "||") return true;
      pos_ += 2;
      int right = -1;
      if (!ParseAnd(impl, right)) return false;
      FilterNode node;
      node.kind = FilterNode::Kind::kOr;
      node.left = out;
      node.right = right;
      out = AddNode(impl, std::move(node));
    }
  }

  bool ParseAnd(Impl& impl, int& out) {
    if (!ParseUnary(impl, out)) return false;
    while (true) {
      SkipSpaces(s_.size());
      if (s_.substr(pos_, 2) != "&&") return true;
      pos_ += 2;
      int right = -1;
      if (!ParseUnary(impl, right)) return false;
      FilterNode node;
      node.kind = FilterNode::Kind::kAnd;
      node.left = out;
      node.right = right;
      out = AddNode(impl, std::move(node));
    }
  }

  // Counts one level of nesting for as long as it lives.
  struct NestingGuard {
    int& depth;
    explicit NestingGuard(int& d) : depth(d) { ++depth; }
    ~NestingGuard() { --depth; }
    NestingGuard(const NestingGuard&) = delete;
    NestingGuard& operator=(const NestingGuard&) = delete;
  };

  bool ParseUnary(Impl& impl, int& out) {
    NestingGuard guard(nesting_);
    if (nesting_ > kMaxFilterNesting) {
      return Fail("the filter nests more than " + std::to_string(kMaxFilterNesting) +
                  " levels deep" + Position(pos_));
    }
    SkipSpaces(s_.size());
    if (pos_ >= s_.size()) return Unexpected(pos_);
    if (s_[pos_] == '!' && s_.substr(pos_, 2) != "!=") {
      ++pos_;
      int inner = -1;
      if (!ParseUnary(impl, inner)) return false;
      FilterNode node;
      node.kind = FilterNode::Kind::kNot;
      node.left = inner;
      out = AddNode(impl, std::move(node));
      return true;
    }
    if (s_[pos_] == '(') {
      ++pos_;
      if (!ParseOr(impl, out)) return false;
      SkipSpaces(s_.size());
      if (pos_ >= s_.size() || s_[pos_] != ')') return Unexpected(pos_);
      ++pos_;
      return true;
    }
    FilterNode node;
    std::size_t operand_pos = pos_;
    if (!ParseOperand(impl, node.a)) return false;
    SkipSpaces(s_.size());
    static const std::pair<std::string_view, Op> kOps[] = {{"==", Op::kEq},
                                                           {"!=", Op::kNe},
                                                           {"<=", Op::kLe},
                                                           {">=", Op::kGe},
                                                           {"=~", Op::kRegex},
                                                           {"<", Op::kLt},
                                                           {">", Op::kGt},
                                                           {"subsetof", Op::kSubsetOf},
                                                           {"anyof", Op::kAnyOf},
                                                           {"noneof", Op::kNoneOf},
                                                           {"nin", Op::kNin},
                                                           {"in", Op::kIn},
                                                           {"size", Op::kSize},
                                                           {"empty", Op::kEmpty},
                                                           {"contains", Op::kContains}};
    bool found = false;
    for (const auto& [text, op] : kOps) {
      if (s_.substr(pos_, text.size()) != text) continue;
      bool word = text[0] >= 'a' && text[0] <= 'z';
      if (word) {
        std::size_t after = pos_ + text.size();
        if (after < s_.size() && (IsVariableChar(s_[after]))) continue;
      }
      node.op = op;
      pos_ += text.size();
      found = true;
      break;
    }
    if (!found) {
      if (node.a.kind != Operand::Kind::kPath) {
        return Fail("a filter needs a comparison or an existence check of a path" +
                    Position(operand_pos));
      }
      node.kind = FilterNode::Kind::kExists;
      out = AddNode(impl, std::move(node));
      return true;
    }
    SkipSpaces(s_.size());
    if (!ParseOperand(impl, node.b)) return false;
    if (node.op == Op::kRegex && node.b.kind != Operand::Kind::kRegex &&
        node.a.kind != Operand::Kind::kRegex) {
      return Fail("'=~' needs a /regex/" + Position(operand_pos));
    }
    node.kind = FilterNode::Kind::kCompare;
    out = AddNode(impl, std::move(node));
    return true;
  }

  // The end of a path inside a filter: the first blank, operator or unbalanced ')' outside
  // brackets and quotes.
  std::size_t FilterPathEnd(std::size_t start) {
    std::size_t i = start + 1;
    int depth = 0;
    while (i < s_.size()) {
      char c = s_[i];
      if (c == '\'' || c == '"') {
        char quote = c;
        ++i;
        while (i < s_.size() && s_[i] != quote) i += (s_[i] == '\\') ? 2 : 1;
        ++i;
        continue;
      }
      if (c == '[') {
        ++depth;
      } else if (c == ']') {
        if (depth == 0) break;
        --depth;
      } else if (depth == 0) {
        if (c == '(' && i + 1 < s_.size() && s_[i + 1] == ')') {
          i += 2;
          continue;
        }
        if (c == ' ' || c == ')' || c == '=' || c == '!' || c == '<' || c == '>' || c == '&' ||
            c == '|' || c == ',' || c == '(') {
          break;
        }
      }
      ++i;
    }
    return std::min(i, s_.size());
  }

  bool ParseOperand(Impl& impl, Operand& out) {
    SkipSpaces(s_.size());
    if (pos_ >= s_.size()) return Unexpected(pos_);
    char c = s_[pos_];
    if (c == '@' || c == '$') {
      std::size_t start = pos_;
      std::size_t end = FilterPathEnd(start);
      auto sub = std::make_unique<Impl>();
      sub->filter_current = c == '@';
      pos_ = start + 1;
      if (!ParseTokens(*sub, end)) return false;
      Finish(*sub);
      out.kind = Operand::Kind::kPath;
      impl.sub_paths.push_back(std::move(sub));
      out.path = static_cast<int>(impl.sub_paths.size() - 1);
      return true;
    }
    if (c == '\'' || c == '"') {
      std::string text;
      if (!ParseQuoted(text)) return false;
      out.literal = JsonString(text);
      return true;
    }
    if (c == '/') {
      std::size_t start = pos_;
      std::string pattern;
      ++pos_;
      while (pos_ < s_.size() && s_[pos_] != '/') {
        if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) {
          if (s_[pos_ + 1] != '/') pattern += '\\';
          pattern += s_[pos_ + 1];
          pos_ += 2;
          continue;
        }
        pattern += s_[pos_++];
      }
      if (pos_ >= s_.size()) return Fail("unterminated regex" + Position(start));
      ++pos_;
      auto flags = std::regex::ECMAScript;
      while (pos_ < s_.size() && s_[pos_] >= 'a' && s_[pos_] <= 'z') {
        if (s_[pos_] == 'i') flags |= std::regex::icase;
        ++pos_;
      }
      try {
        out.regex = std::make_shared<std::regex>(pattern, flags);
      } catch (const std::regex_error&) {
        return Fail("invalid regex /" + pattern + "/" + Position(start));
      }
      out.kind = Operand::Kind::kRegex;
      return true;
    }
    if (c == '[' || c == '{') {
      // A JSON literal: find its balanced end, then parse it (single quotes allowed inside, as
      // Jayway accepts ['a','b']).
      std::size_t start = pos_;
      int depth = 0;
      std::string text;
      while (pos_ < s_.size()) {
        char d = s_[pos_];
        if (d == '\'' || d == '"') {
          std::string str;
          if (!ParseQuoted(str)) return false;
          Json tmp = JsonString(str);
          text += DumpJson(tmp);
          continue;
        }
        if (d == '[' || d == '{') ++depth;
        if (d == ']' || d == '}') --depth;
        text += d;
        ++pos_;
        if (depth == 0) break;
      }
      std::string error;
      auto parsed = ParseJson(text, &error);
      if (!parsed) return Fail("invalid JSON literal" + Position(start) + ": " + error);
      out.literal = std::move(*parsed);
      return true;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      std::size_t start = pos_;
      ++pos_;
      while (pos_ < s_.size() &&
             ((s_[pos_] >= '0' && s_[pos_] <= '9') || s_[pos_] == '.' || s_[pos_] == 'e' ||
              s_[pos_] == 'E' || s_[pos_] == '+' || s_[pos_] == '-')) {
        ++pos_;
      }
      auto parsed = ParseJson(s_.substr(start, pos_ - start));
      if (!parsed || !parsed->IsNumber()) return Fail("invalid number" + Position(start));
      out.literal = std::move(*parsed);
      return true;
    }
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
      // A bare word. true, false and null are literals; Jayway reads any other word (up to the
      // next operator or ')', trailing spaces dropped) as a string: [?(@.Key == FooBar)].
      const std::size_t start = pos_;
      while (pos_ < s_.size() &&
             std::string_view(")&|=!<>~[]").find(s_[pos_]) == std::string_view::npos) {
        ++pos_;
      }
      std::size_t stop = pos_;
      while (stop > start && (s_[stop - 1] == ' ' || s_[stop - 1] == '\t')) --stop;
      const std::string_view word = s_.substr(start, stop - start);
      if (word == "true" || word == "false") {
        out.literal = JsonBool(word == "true");
      } else if (word == "null") {
        out.literal = JsonNull();
      } else {
        out.literal = JsonString(word);
      }
      return true;
    }
    return Unexpected(pos_);
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::string error_;
  int nesting_ = 0;        // ParseUnary calls under way (parentheses, '!', nested filters)
  std::size_t parts_ = 0;  // tokens and filter terms so far, sub-paths included
};

// ---- Evaluation ----

// Java's Object.toString() of a json-smart value (Jayway puts it in some messages).
void JavaToString(const Json& v, std::string& out, bool in_json) {
  if (!v.IsObject() || in_json) {
    if (v.IsString() && !in_json) {
      out += JsonView(v);
    } else {
      out += DumpJson(v);  // JSONArray.toString() is its JSON text, as are scalars
    }
    return;
  }
  // Map.toString(), nested maps likewise; iterative, as a value may nest deeply.
  struct Frame {
    const Json* object;
    rapidjson::SizeType next;
  };
  std::vector<Frame> stack;
  out += '{';
  stack.push_back({&v, 0});
  while (!stack.empty()) {
    Frame& top = stack.back();
    if (top.next == top.object->MemberCount()) {
      out += '}';
      stack.pop_back();
      continue;
    }
    const auto& member = *(top.object->MemberBegin() + top.next);
    if (top.next++ > 0) out += ", ";
    out += JsonView(member.name);
    out += '=';
    if (member.value.IsObject()) {
      out += '{';
      stack.push_back({&member.value, 0});
    } else if (member.value.IsString()) {
      out += JsonView(member.value);
    } else {
      out += DumpJson(member.value);
    }
  }
}

std::string JavaClassName(const Json& v) {
  if (v.IsNull()) return "null";
  if (v.IsString()) return "java.lang.String";
  if (v.IsBool()) return "java.lang.Boolean";
  if (v.IsArray()) return "net.minidev.json.JSONArray";
  if (v.IsObject()) return "java.util.LinkedHashMap";
  if (v.IsInt()) return "java.lang.Integer";
  if (v.IsInt64()) return "java.lang.Long";
  if (v.IsUint64()) return "java.math.BigInteger";
  return "java.lang.Double";
}

void AppendTokenText(const Token& token, std::string& out) {
  switch (token.kind) {
    case TokenKind::kProperty:
      out += '[';
      for (std::size_t i = 0; i < token.names.size(); ++i) {
        if (i > 0) out += ", ";
        out += '\'';
        out += token.names[i];
        out += '\'';
      }
      out += ']';
      break;
    case TokenKind::kIndex:
      out += '[';
      for (std::size_t i = 0; i < token.indices.size(); ++i) {
        if (i > 0) out += ',';
        out += std::to_string(token.indices[i]);
      }
      out += ']';
      break;
    case TokenKind::kSlice:
      out += '[';
      if (token.from) out += std::to_string(*token.from);
      out += ':';
      if (token.to) out += std::to_string(*token.to);
      out += ']';
      break;
    case TokenKind::kWildcard:
      out += "[*]";
      break;
    case TokenKind::kScan:
      out += "..";
      break;
    case TokenKind::kFilter:
      out += "[?]";
      break;
  }
}

std::string PrefixText(const Impl& impl, std::size_t count) {
  std::string out = impl.filter_current ? "@" : "$";
  for (std::size_t i = 0; i < count && i < impl.tokens.size(); ++i) {
    AppendTokenText(impl.tokens[i], out);
  }
  return out;
}

struct Hit {
  const Json* node = nullptr;
  Json owned;  // a value Jayway builds (a multi-property merge); used when node is null
  const Json& value() const { return node != nullptr ? *node : owned; }
};

// A filter operand's value: undefined, a node of a document, or a value built for the filter.
struct Value {
  bool defined = false;
  const Json* node = nullptr;
  Json owned;
  const Json& get() const { return node != nullptr ? *node : owned; }
};

class Evaluator {
 public:
  Evaluator(const Impl& impl, const Json& root) : impl_(impl), root_(root) {}

  // Evaluates impl_ from `start`; false with error_ set on a Jayway exception.
  bool Run(const Json& start, std::vector<Hit>& hits) {
    hits_ = &hits;
    return Eval(0, start);
  }

  std::string error_;

 private:
  bool Fail(std::string message) {
    error_ = std::move(message);
    return false;
  }

  bool Eval(std::size_t i, const Json& node) {
    if (i == impl_.tokens.size()) {
      hits_->push_back(Hit{&node, Json()});
      return true;
    }
    const Token& token = impl_.tokens[i];
    bool leaf = i + 1 == impl_.tokens.size();
    switch (token.kind) {
      case TokenKind::kProperty: {
        if (!node.IsObject()) {
          if (!token.upstream_definite) return true;
          std::string message = "Expected to find an object with property ";
          AppendTokenText(token, message);
          message += " in path " + PrefixText(impl_, i) + " but found '" + JavaClassName(node) +
                     "'. This is not a json object according to the JsonProvider: "
                     "'com.jayway.jsonpath.spi.json.JsonSmartJsonProvider'.";
          return Fail(std::move(message));
        }
        if (token.names.size() == 1) {
          const Json* value = JsonFind(node, token.names[0]);
          if (value == nullptr) {
            // AWS returns [] for an indefinite path whose definite prefix is missing
            // ("$.items[*]" on {}), where Jayway itself throws "Missing property".
            if (leaf || !token.upstream_definite || !impl_.definite) return true;
            return Fail("Missing property in path " + PrefixText(impl_, i + 1));
          }
          return Eval(i + 1, *value);
        }
        if (!leaf) {
          return Fail("Multi properties can only be used as path leafs: " +
                      PrefixText(impl_, i + 1));
        }
        Json merged = JsonObject();
        for (const std::string& name : token.names) {
          if (const Json* value = JsonFind(node, name)) {
            JsonSet(merged, name, CopyJson(*value));
          }
        }
        hits_->push_back(Hit{nullptr, std::move(merged)});
        return true;
      }
      case TokenKind::kIndex:
      case TokenKind::kSlice: {
        if (!node.IsArray()) {
          if (!token.upstream_definite) return true;
          if (node.IsNull()) return Fail("The path " + PrefixText(impl_, i) + " is null");
          // Jayway prints the token with the rest of the path after it.
          std::string message = "Filter: ";
          for (std::size_t k = i; k < impl_.tokens.size(); ++k) {
            AppendTokenText(impl_.tokens[k], message);
          }
          message += " can only be applied to arrays. Current context is: ";
          JavaToString(node, message, false);
          return Fail(std::move(message));
        }
        const auto size = static_cast<int64_t>(node.Size());
        if (token.kind == TokenKind::kIndex) {
          for (int64_t index : token.indices) {
            int64_t effective = index < 0 ? size + index : index;
            if (effective < 0 || effective >= size) continue;
            if (!Eval(i + 1, node[static_cast<rapidjson::SizeType>(effective)])) return false;
          }
          return true;
        }
        // Jayway's slices: a negative bound counts from the end; bounds are clamped.
        int64_t from = token.from.value_or(0);
        int64_t to = token.to.value_or(size);
        if (from < 0) from = std::max<int64_t>(0, size + from);
        if (to < 0) to = std::max<int64_t>(0, size + to);
        to = std::min(to, size);
        for (int64_t k = from; k < to; ++k) {
          if (!Eval(i + 1, node[static_cast<rapidjson::SizeType>(k)])) return false;
        }
        return true;
      }
      case TokenKind::kWildcard:
        if (node.IsObject()) {
          for (auto it = node.MemberBegin(); it != node.MemberEnd(); ++it) {
            if (!Eval(i + 1, it->value)) return false;
          }
        } else if (node.IsArray()) {
          for (const Json& element : node.GetArray()) {
            if (!Eval(i + 1, element)) return false;
          }
        }
        return true;
      case TokenKind::kScan:
        return Walk(i + 1, node);
      case TokenKind::kFilter:
        if (node.IsObject()) {
          bool accepted = false;
          if (!Accept(token.filter, node, accepted)) return false;
          return accepted ? Eval(i + 1, node) : true;
        }
        if (node.IsArray()) {
          for (const Json& element : node.GetArray()) {
            bool accepted = false;
            if (!Accept(token.filter, element, accepted)) return false;
            if (accepted && !Eval(i + 1, element)) return false;
          }
          return true;
        }
        if (!token.upstream_definite) return true;
        {
          std::string message =
              "Filter: [?] can not be applied to primitives. Current context is: ";
          JavaToString(node, message, false);
          return Fail(std::move(message));
        }
    }
    return true;
  }

  // Jayway's deep scan: at every container, first the target token applies to the container
  // when it can (a property token to objects having all its names, an index/slice token to
  // arrays, a wildcard to both, a filter to what it accepts), then the scan descends into the
  // children in document order. Errors are never raised below a scan.
  // Iterative over the data: a scan descends as deep as the value goes.
  bool Walk(std::size_t target, const Json& start) {
    struct Frame {
      const Json* container;
      rapidjson::SizeType next;
    };
    std::vector<Frame> stack;
    const Json* node = &start;
    while (true) {
      if (node != nullptr && (node->IsObject() || node->IsArray())) {
        if (!Visit(target, *node)) return false;
        stack.push_back({node, 0});
      }
      node = nullptr;
      if (stack.empty()) return true;
      Frame& top = stack.back();
      const Json& container = *top.container;
      const rapidjson::SizeType count =
          container.IsObject() ? container.MemberCount() : container.Size();
      if (top.next == count) {
        stack.pop_back();
        continue;
      }
      node = container.IsObject() ? &(container.MemberBegin() + top.next)->value
                                  : &container[top.next];
      ++top.next;
    }
  }

  // The scan's work at one container.
  bool Visit(std::size_t target, const Json& node) {
    const Token& token = impl_.tokens[target];
    bool matches = false;
    switch (token.kind) {
      case TokenKind::kProperty:
        if (node.IsObject()) {
          matches = true;
          if (token.names.size() > 1 || target + 1 == impl_.tokens.size()) {
            for (const std::string& name : token.names) {
              if (JsonFind(node, name) == nullptr) matches = false;
            }
          } else {
            matches = JsonFind(node, token.names[0]) != nullptr;
          }
        }
        break;
      case TokenKind::kIndex:
      case TokenKind::kSlice:
        matches = node.IsArray();
        break;
      case TokenKind::kWildcard:
      case TokenKind::kScan:
        matches = true;
        break;
      case TokenKind::kFilter:
        // The filter is tried on the container itself (an accepted array then has its
        // elements filtered); elements are reached by the descent in Walk.
        if (!Accept(token.filter, node, matches)) return false;
        break;
    }
    return !matches || Eval(target, node);
  }

  bool Accept(int index, const Json& current, bool& out);
  bool Resolve(const Operand& operand, const Json& current, Value& out);

  const Impl& impl_;
  const Json& root_;
  std::vector<Hit>* hits_ = nullptr;
};

bool NumericText(const Json& v, double& out) {
  if (v.IsNumber()) {
    out = v.GetDouble();
    return true;
  }
  if (!v.IsString()) return false;
  std::string_view text = JsonView(v);
  if (text.empty()) return false;
  auto parsed = ParseJson(text);
  if (!parsed || !parsed->IsNumber()) return false;
  out = parsed->GetDouble();
  return true;
}

// Jayway's ValueNode equality: numbers by value (a numeric string equals the number), strings,
// booleans and null by value, arrays and objects structurally.
bool ValueEquals(const Json& a, const Json& b) {
  if (a.IsNumber() && b.IsNumber()) return JsonEquals(a, b);
  if ((a.IsNumber() && b.IsString()) || (a.IsString() && b.IsNumber())) {
    double x = 0;
    double y = 0;
    return NumericText(a, x) && NumericText(b, y) && x == y;
  }
  return JsonEquals(a, b);
}

bool Contains(const Json& list, const Json& value) {
  for (const Json& element : list.GetArray()) {
    if (ValueEquals(element, value)) return true;
  }
  return false;
}

int CompareNumbers(const Json& a, const Json& b) {
  if (a.IsInt64() && b.IsInt64()) {
    return a.GetInt64() < b.GetInt64() ? -1 : a.GetInt64() > b.GetInt64() ? 1 : 0;
  }
  double x = a.GetDouble();
  double y = b.GetDouble();
  return x < y ? -1 : x > y ? 1 : 0;
}

// The number of UTF-16 code units of a UTF-8 string (Java's String.length()).
int64_t JavaLength(std::string_view text) {
  int64_t n = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) n += (c >= 0xF0) ? 2 : 1;
  }
  return n;
}

bool Evaluator::Resolve(const Operand& operand, const Json& current, Value& out) {
  if (operand.kind != Operand::Kind::kPath) {
    out.defined = true;
    out.node = &operand.literal;
    return true;
  }
  const Impl& sub = *impl_.sub_paths[static_cast<std::size_t>(operand.path)];
  Evaluator inner(sub, root_);
  std::vector<Hit> hits;
  const Json& start = sub.filter_current ? current : root_;
  // A path that fails inside a filter is undefined, not an error (Jayway catches
  // PathNotFoundException there).
  if (!inner.Run(start, hits)) return true;
  Json result;
  if (sub.definite) {
    if (hits.empty()) return true;
    if (hits[0].node != nullptr && sub.function == FunctionKind::kNone) {
      out.defined = true;
      out.node = hits[0].node;
      return true;
    }
    result = hits[0].node != nullptr ? CopyJson(*hits[0].node) : std::move(hits[0].owned);
  } else {
    result = JsonArray();
    for (Hit& hit : hits) {
      JsonPush(result, hit.node != nullptr ? CopyJson(*hit.node) : std::move(hit.owned));
    }
  }
  if (sub.function != FunctionKind::kNone) return true;  // functions inside filters: undefined
  out.defined = true;
  out.owned = std::move(result);
  return true;
}

bool Evaluator::Accept(int index, const Json& current, bool& out) {
  const FilterNode& node = impl_.filter_nodes[static_cast<std::size_t>(index)];
  switch (node.kind) {
    case FilterNode::Kind::kOr:
      if (!Accept(node.left, current, out)) return false;
      if (out) return true;
      return Accept(node.right, current, out);
    case FilterNode::Kind::kAnd:
      if (!Accept(node.left, current, out)) return false;
      if (!out) return true;
      return Accept(node.right, current, out);
    case FilterNode::Kind::kNot:
      if (!Accept(node.left, current, out)) return false;
      out = !out;
      return true;
    case FilterNode::Kind::kExists: {
      Value value;
      if (!Resolve(node.a, current, value)) return false;
      out = value.defined;
      return true;
    }
    case FilterNode::Kind::kCompare:
      break;
  }
  out = false;
  if (node.op == Op::kRegex) {
    const Operand& pattern = node.a.kind == Operand::Kind::kRegex ? node.a : node.b;
    const Operand& subject = node.a.kind == Operand::Kind::kRegex ? node.b : node.a;
    Value value;
    if (!Resolve(subject, current, value)) return false;
    if (!value.defined) return true;
    const Json& v = value.get();
    std::string text;
    if (v.IsString()) {
      text = JsonView(v);
    } else if (v.IsNumber() || v.IsBool()) {
      text = DumpJson(v);
    } else {
      return true;
    }
    out = std::regex_match(text, *pattern.regex);
    return true;
  }
  Value left;
  Value right;
  if (!Resolve(node.a, current, left) || !Resolve(node.b, current, right)) return false;
  if (node.op == Op::kNe) {
    out = !(left.defined && right.defined && ValueEquals(left.get(), right.get()));
    return true;
  }
  if (node.op == Op::kNin) {
    out = !(left.defined && right.defined && right.get().IsArray() &&
            Contains(right.get(), left.get()));
    return true;
  }
  if (!left.defined || !right.defined) return true;
  const Json& a = left.get();
  const Json& b = right.get();
  switch (node.op) {
    case Op::kEq:
      out = ValueEquals(a, b);
      break;
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe: {
      int cmp = 0;
      if (a.IsNumber() && b.IsNumber()) {
        cmp = CompareNumbers(a, b);
      } else if (a.IsString() && b.IsString()) {
        int c = JsonView(a).compare(JsonView(b));
        cmp = c < 0 ? -1 : c > 0 ? 1 : 0;
      } else {
        break;
      }
      out = node.op == Op::kLt   ? cmp < 0
            : node.op == Op::kLe ? cmp <= 0
            : node.op == Op::kGt ? cmp > 0
                                 : cmp >= 0;
      break;
    }
    case Op::kIn:
      out = b.IsArray() && Contains(b, a);
      break;
    case Op::kSubsetOf:
      if (!a.IsArray() || !b.IsArray()) break;
      out = true;
      for (const Json& element : a.GetArray()) out = out && Contains(b, element);
      break;
    case Op::kAnyOf:
    case Op::kNoneOf: {
      if (!a.IsArray() || !b.IsArray()) break;
      bool any = false;
      for (const Json& element : a.GetArray()) any = any || Contains(b, element);
      out = node.op == Op::kAnyOf ? any : !any;
      break;
    }
    case Op::kContains:
      if (a.IsString() && b.IsString()) {
        out = JsonView(a).find(JsonView(b)) != std::string_view::npos;
      } else if (a.IsArray()) {
        out = Contains(a, b);
      }
      break;
    case Op::kSize:
      if (!b.IsNumber()) break;
      if (a.IsString()) out = JsonEquals(JsonInt(JavaLength(JsonView(a))), b);
      if (a.IsArray()) out = JsonEquals(JsonInt(static_cast<int64_t>(a.Size())), b);
      break;
    case Op::kEmpty:
      if (!b.IsBool()) break;
      if (a.IsString()) out = JsonView(a).empty() == b.GetBool();
      if (a.IsArray()) out = a.Empty() == b.GetBool();
      if (a.IsObject()) out = a.ObjectEmpty() == b.GetBool();
      break;
    default:
      break;
  }
  return true;
}

Result<Json> ApplyFunction(FunctionKind function, const Json& value) {
  if (function == FunctionKind::kLength || function == FunctionKind::kSize) {
    if (value.IsArray()) return JsonInt(static_cast<int64_t>(value.Size()));
    if (value.IsObject()) return JsonInt(static_cast<int64_t>(value.MemberCount()));
    if (value.IsString()) return JsonInt(JavaLength(JsonView(value)));
    return Error{"",
                 "Invalid function: length() can only be applied to arrays, objects and "
                 "strings"};
  }
  if (function == FunctionKind::kKeys) {
    if (!value.IsObject()) return Error{"", "Invalid function: keys() needs an object"};
    Json keys = JsonArray();
    for (auto it = value.MemberBegin(); it != value.MemberEnd(); ++it) {
      JsonPush(keys, JsonString(JsonView(it->name)));
    }
    return keys;
  }
  if (!value.IsArray()) return Error{"", "Invalid function: aggregation needs an array"};
  std::vector<double> numbers;
  for (const Json& element : value.GetArray()) {
    if (element.IsNumber()) numbers.push_back(element.GetDouble());
  }
  if (numbers.empty()) {
    return Error{"", "Aggregation function attempted to calculate value using empty array"};
  }
  double result = 0;
  switch (function) {
    case FunctionKind::kMin:
      result = *std::min_element(numbers.begin(), numbers.end());
      break;
    case FunctionKind::kMax:
      result = *std::max_element(numbers.begin(), numbers.end());
      break;
    case FunctionKind::kSum:
    case FunctionKind::kAvg:
    case FunctionKind::kStddev: {
      double sum = 0;
      double squares = 0;
      for (double n : numbers) {
        sum += n;
        squares += n * n;
      }
      const auto count = static_cast<double>(numbers.size());
      if (function == FunctionKind::kSum) {
        result = sum;
      } else if (function == FunctionKind::kAvg) {
        result = sum / count;
      } else {
        result = std::sqrt(squares / count - (sum / count) * (sum / count));
      }
      break;
    }
    default:
      break;
  }
  return JsonDouble(result);
}

}  // namespace

JsonPath::JsonPath() : impl_(std::make_unique<Impl>()) {}
JsonPath::JsonPath(JsonPath&&) noexcept = default;
JsonPath& JsonPath::operator=(JsonPath&&) noexcept = default;
JsonPath::~JsonPath() = default;

// A copy re-parses the text: the compiled form holds move-only JSON literals.
JsonPath::JsonPath(const JsonPath& other) : text_(other.text_), impl_(std::make_unique<Impl>()) {
  if (other.impl_ != nullptr) {
    auto parsed = Parse(other.text_);
    if (parsed.ok()) impl_ = std::move(parsed->impl_);
  }
}

JsonPath& JsonPath::operator=(const JsonPath& other) {
  if (this != &other) {
    JsonPath copy(other);
    *this = std::move(copy);
  }
  return *this;
}

Result<JsonPath> JsonPath::Parse(std::string_view text) {
  JsonPath path;
  path.text_ = std::string(text);
  Parser parser(path.text_);
  if (!parser.ParseTop(*path.impl_)) return Error{"", parser.error()};
  return path;
}

JsonPath::Root JsonPath::root() const { return impl_->root; }
const std::string& JsonPath::variable_name() const { return impl_->variable; }
bool JsonPath::IsReferencePath() const { return impl_->reference; }

std::string JsonPath::Normalized() const { return PrefixText(*impl_, impl_->tokens.size()); }

Result<Json> JsonPath::Evaluate(const Json& root) const {
  Scope scope;
  scope.input = &root;
  return Evaluate(scope);
}

Result<Json> JsonPath::Evaluate(const Scope& scope) const {
  const Json* root = nullptr;
  switch (impl_->root) {
    case Root::kInput:
      root = scope.input;
      break;
    case Root::kContext:
      root = scope.context;
      if (root == nullptr) return Error{"", "The context object is not available"};
      break;
    case Root::kVariable:
      if (scope.variables != nullptr) root = scope.variables->Find(impl_->variable);
      if (root == nullptr) {
        return Error{"", "The variable '" + impl_->variable + "' was not found"};
      }
      break;
  }
  if (root == nullptr) return Error{"", "No input document"};
  Evaluator evaluator(*impl_, *root);
  std::vector<Hit> hits;
  if (!evaluator.Run(*root, hits)) return Error{"", std::move(evaluator.error_)};
  Json result;
  if (impl_->definite) {
    if (hits.empty()) return Error{"", "No results for path: " + Normalized()};
    result = hits[0].node != nullptr ? CopyJson(*hits[0].node) : std::move(hits[0].owned);
  } else {
    result = JsonArray();
    result.Reserve(static_cast<rapidjson::SizeType>(hits.size()), Alloc());
    for (Hit& hit : hits) {
      JsonPush(result, hit.node != nullptr ? CopyJson(*hit.node) : std::move(hit.owned));
    }
  }
  if (impl_->function == FunctionKind::kNone) return result;
  return ApplyFunction(impl_->function, result);
}

bool JsonPath::Assign(Json& root, Json value) const {
  if (!impl_->reference || impl_->root != Root::kInput) return false;
  const std::vector<Token>& tokens = impl_->tokens;
  // All or nothing: check the whole walk first, so that a failed ResultPath leaves `root` as it
  // was (its error message quotes it). Below a missing property only properties can follow,
  // since the objects created there have no elements to index.
  const Json* probe = &root;
  bool missing = false;
  for (const Token& token : tokens) {
    if (missing) {
      if (token.kind != TokenKind::kProperty) return false;
      continue;
    }
    if (token.kind == TokenKind::kProperty) {
      if (!probe->IsObject()) return false;
      const Json* child = JsonFind(*probe, token.names[0]);
      missing = child == nullptr;
      probe = child;
    } else {
      if (!probe->IsArray()) return false;
      const auto size = static_cast<int64_t>(probe->Size());
      const int64_t index = token.indices[0] < 0 ? size + token.indices[0] : token.indices[0];
      if (index < 0 || index >= size) return false;
      probe = &(*probe)[static_cast<rapidjson::SizeType>(index)];
    }
  }
  Json* node = &root;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const Token& token = tokens[i];
    bool last = i + 1 == tokens.size();
    if (token.kind == TokenKind::kProperty) {
      if (!node->IsObject()) return false;
      Json* child = JsonFind(*node, token.names[0]);
      if (last) {
        if (child != nullptr) {
          *child = std::move(value);
        } else {
          node->AddMember(JsonString(token.names[0]), std::move(value), Alloc());
        }
        return true;
      }
      if (child == nullptr) {
        node->AddMember(JsonString(token.names[0]), JsonObject(), Alloc());
        child = &(node->MemberEnd() - 1)->value;
      }
      node = child;
    } else {
      if (!node->IsArray()) return false;
      const auto size = static_cast<int64_t>(node->Size());
      int64_t index = token.indices[0] < 0 ? size + token.indices[0] : token.indices[0];
      if (index < 0 || index >= size) return false;
      Json& element = (*node)[static_cast<rapidjson::SizeType>(index)];
      if (last) {
        element = std::move(value);
        return true;
      }
      node = &element;
    }
  }
  root = std::move(value);
  return true;
}

}  // namespace switchyard::asl
