#include "store/database.hpp"

#include <cstdlib>
#include <regex>
#include <stdexcept>

namespace switchyard::orchestrator::store {

Database OpenDatabase(const std::optional<std::string>& url,
                      const std::optional<std::filesystem::path>& data_dir) {
  if (url && data_dir) {
    throw std::invalid_argument("give either --database-url or --data-dir, not both");
  }
  Database database;
  if (url) {
    database.url = *url;
    return database;
  }
  if (!data_dir) {
    if (const char* env = std::getenv("SWITCHYARD_DATABASE_URL"); env != nullptr && *env != '\0') {
      database.url = env;
      return database;
    }
  }
  EmbeddedPostgresOptions options;
  options.data_dir = data_dir ? *data_dir : DefaultDataDir();
  database.cluster = EmbeddedPostgres::Start(std::move(options));
  database.url = database.cluster->connection_url();
  return database;
}

std::string RedactUrl(const std::string& url) {
  // postgresql://user:secret@host/db and password=secret (URI query or key=value form).
  static const std::regex kUserInfo(R"(^(postgres(?:ql)?://[^:/?#@]*:)[^@/?#]*@)");
  static const std::regex kParam(R"((password=)[^&\s]*)");
  std::string redacted = std::regex_replace(url, kUserInfo, "$1***@");
  return std::regex_replace(redacted, kParam, "$1***");
}

}  // namespace switchyard::orchestrator::store
