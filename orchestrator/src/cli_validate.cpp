#include <ostream>

#include "switchyard/asl/definition.hpp"
#include "switchyard/asl/json.hpp"
#include "switchyard/orchestrator/cli.hpp"

namespace switchyard::orchestrator {
namespace {

namespace asl = switchyard::asl;

asl::Json DiagnosticsToJson(const std::vector<asl::Diagnostic>& diagnostics) {
  asl::Json list = asl::JsonArray();
  for (const auto& d : diagnostics) {
    asl::Json item = asl::JsonObject();
    asl::JsonSet(item, "severity",
                 asl::JsonString(d.severity == asl::Severity::kError ? "ERROR" : "WARNING"));
    asl::JsonSet(item, "code", asl::JsonString(d.code));
    asl::JsonSet(item, "location", asl::JsonString(d.location));
    asl::JsonSet(item, "message", asl::JsonString(d.message));
    asl::JsonPush(list, std::move(item));
  }
  return list;
}

}  // namespace

int RunValidateCommand(const ValidateOptions& options, std::ostream& out, std::ostream& err) {
  int status = 0;
  for (const std::string& file : options.files) {
    std::string read_error;
    std::optional<std::string> text = ReadTextFile(file, &read_error);
    if (!text) {
      err << "switchyard validate: cannot read " << read_error << "\n";
      status = 2;
      continue;
    }
    const asl::ParseResult parsed = asl::ParseDefinition(*text);
    const std::string shown = file == "-" ? "<stdin>" : file;
    if (options.json) {
      asl::Json doc = asl::JsonObject();
      if (options.files.size() > 1) asl::JsonSet(doc, "file", asl::JsonString(shown));
      asl::JsonSet(doc, "valid", asl::JsonBool(parsed.ok()));
      asl::JsonSet(doc, "diagnostics", DiagnosticsToJson(parsed.diagnostics));
      out << asl::DumpJson(doc) << "\n";
    } else {
      for (const auto& d : parsed.diagnostics) {
        out << shown << ":" << (d.location.empty() ? "/" : d.location) << ": "
            << (d.severity == asl::Severity::kError ? "error" : "warning") << " " << d.code << ": "
            << d.message << "\n";
      }
      if (parsed.ok()) out << shown << ": valid\n";
    }
    if (!parsed.ok() && status == 0) status = 1;
  }
  return status;
}

}  // namespace switchyard::orchestrator
