#include "switchyard/orchestrator/cli_jsonata.hpp"

#include <chrono>
#include <string>

#include "switchyard/asl/json.hpp"
#include "switchyard/asl/jsonata_eval.hpp"
#include "switchyard/orchestrator/cli.hpp"

namespace switchyard::orchestrator {

namespace {

// Reads JSON from an inline text or a file; nullopt (with a message on err) when it cannot.
bool LoadJson(const std::optional<std::string>& text, const std::optional<std::string>& file,
              const char* what, std::optional<asl::Json>& value, std::ostream& err) {
  std::string source;
  if (file) {
    std::string error;
    std::optional<std::string> content = ReadTextFile(*file, &error);
    if (!content) {
      err << "switchyard jsonata: " << error << "\n";
      return false;
    }
    source = std::move(*content);
  } else if (text) {
    source = *text;
  } else {
    return true;
  }
  std::string error;
  value = asl::ParseJson(source, &error);
  if (!value) {
    err << "switchyard jsonata: " << what << " is not valid JSON: " << error << "\n";
    return false;
  }
  return true;
}

void Report(std::ostream& out, std::ostream& err, bool json, const std::string& code,
            std::optional<std::size_t> position, const std::string& token,
            const std::string& message) {
  if (json) {
    asl::Json e = asl::JsonObject();
    asl::JsonSet(e, "code", asl::JsonString(code));
    asl::JsonSet(e, "message", asl::JsonString(message));
    if (position) asl::JsonSet(e, "position", asl::JsonInt(static_cast<int64_t>(*position)));
    if (!token.empty()) asl::JsonSet(e, "token", asl::JsonString(token));
    asl::Json o = asl::JsonObject();
    asl::JsonSet(o, "error", std::move(e));
    out << asl::DumpJson(o) << "\n";
    return;
  }
  err << code;
  if (position) err << " at position " << *position;
  err << ": " << message << "\n";
}

}  // namespace

int RunJsonataCommand(const JsonataCliOptions& options, std::ostream& out, std::ostream& err) {
  std::string text;
  if (options.expr_file) {
    std::string error;
    std::optional<std::string> content = ReadTextFile(*options.expr_file, &error);
    if (!content) {
      err << "switchyard jsonata: " << error << "\n";
      return 2;
    }
    text = std::move(*content);
  } else if (options.expression) {
    text = *options.expression;
  } else {
    err << "switchyard jsonata: give an EXPRESSION or --expr-file FILE\n";
    return 2;
  }
  std::optional<asl::Json> input;
  if (!LoadJson(options.input, options.input_file, "the input", input, err)) return 2;
  std::optional<asl::Json> bindings_json;
  if (!LoadJson(options.bindings, options.bindings_file, "the bindings", bindings_json, err)) {
    return 2;
  }
  asl::JsonataBindings bindings;
  if (bindings_json) {
    if (!bindings_json->IsObject()) {
      err << "switchyard jsonata: the bindings must be a JSON object\n";
      return 2;
    }
    for (const auto& m : bindings_json->GetObject()) {
      bindings.emplace_back(std::string(m.name.GetString(), m.name.GetStringLength()), &m.value);
    }
  }

  auto compiled = asl::JsonataExpression::Compile(text);
  if (compiled.index() == 1) {
    const asl::JsonataSyntaxError& e = std::get<1>(compiled);
    Report(out, err, options.json, e.code, e.position, "", e.message);
    return options.json ? 0 : 1;
  }
  const asl::JsonataExpression& expression = std::get<0>(compiled);

  asl::JsonataOptions eval_options;
  if (options.max_depth) eval_options.max_depth = *options.max_depth;
  eval_options.now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  if (options.time_limit_ms) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(*options.time_limit_ms);
    eval_options.interrupted = [deadline] { return std::chrono::steady_clock::now() > deadline; };
  }
  asl::JsonataEvalResult result =
      expression.Evaluate(input ? &*input : nullptr, bindings, eval_options);
  if (!result) {
    const asl::JsonataError& e = result.error();
    Report(out, err, options.json, e.code, e.position, e.token, e.message);
    return options.json ? 0 : 1;
  }
  const asl::JsonataValue& value = result.value();
  if (options.json) {
    asl::Json o = asl::JsonObject();
    if (value) {
      asl::JsonSet(o, "result", asl::CopyJson(*value));
    } else {
      asl::JsonSet(o, "undefined", asl::JsonBool(true));
    }
    out << asl::DumpJson(o) << "\n";
  } else if (value) {
    out << asl::DumpJson(*value) << "\n";
  }
  return 0;
}

}  // namespace switchyard::orchestrator
