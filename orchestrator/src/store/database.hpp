#pragma once
// Resolving "which database": an explicit URL, $SWITCHYARD_DATABASE_URL, or the embedded cluster.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "store/embedded_postgres.hpp"

namespace switchyard::orchestrator::store {

struct Database {
  std::string url;
  // Set when the database is the embedded cluster; stopping it (or destroying) leaves the cluster
  // to its other users or stops it.
  std::unique_ptr<EmbeddedPostgres> cluster;
};

// `url` (else $SWITCHYARD_DATABASE_URL when non-empty) names the database; otherwise starts or
// reuses the embedded cluster in `data_dir` (default DefaultDataDir()). Throws
// std::invalid_argument when both a URL and a data dir are given; the launcher's
// std::runtime_error when the cluster cannot start.
Database OpenDatabase(const std::optional<std::string>& url,
                      const std::optional<std::filesystem::path>& data_dir);

// The URL with any password replaced by "***", for logs.
std::string RedactUrl(const std::string& url);

}  // namespace switchyard::orchestrator::store
