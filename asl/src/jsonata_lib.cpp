// PLACEHOLDER owned by the JSONata library work (issue #11): the library replaces this whole file
// with its functions ($formatNumber, $match, $replace, ..., see jsonata_value.hpp) and its
// JavaScript-semantics regex engine. Until then no library function is registered and a regex
// literal compiles to std::regex (ECMAScript grammar, byte offsets).
#include <regex>

#include "jsonata_value.hpp"

namespace switchyard::asl::jsonata {

namespace {

class PlaceholderRegex : public JsonataRegex {
 public:
  explicit PlaceholderRegex(std::regex re) : re_(std::move(re)) {}
  JsonataResult Apply(JsonataCall& /*call*/, JsonataArgs& args) const override {
    if (args.empty() || !args[0].IsString()) return Value();
    const std::string& text = args[0].str();
    std::smatch m;
    if (!std::regex_search(text, m, re_)) return Value();
    auto object = Object::Make();
    object->Set("match", Value::String(m.str(0)));
    object->Set("start", Value::Number(static_cast<double>(m.position(0))));
    object->Set("end", Value::Number(static_cast<double>(m.position(0) + m.length(0))));
    auto groups = Array::Make();
    for (std::size_t i = 1; i < m.size(); ++i) groups->items.push_back(Value::String(m.str(i)));
    object->Set("groups", Value::Arr(groups));
    return Value::Obj(object);
  }

 private:
  std::regex re_;
};

}  // namespace

void RegisterJsonataLibrary(JsonataBuiltinTable& /*table*/) {}

std::variant<std::shared_ptr<const JsonataRegex>, JsonataError> CompileJsonataRegex(
    std::string_view pattern, std::string_view flags) {
  auto syntax = std::regex::ECMAScript;
  if (flags.find('i') != std::string_view::npos) syntax |= std::regex::icase;
  try {
    return std::shared_ptr<const JsonataRegex>(
        std::make_shared<PlaceholderRegex>(std::regex(std::string(pattern), syntax)));
  } catch (const std::regex_error&) {
    return MakeJsonataError("S0301", "Invalid regular expression: /" + std::string(pattern) + "/");
  }
}

}  // namespace switchyard::asl::jsonata
