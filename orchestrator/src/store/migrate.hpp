#pragma once
// The migration runner: the schema changes only through migrations/NNNN_name.sql, applied in
// order, each once. The files are compiled into the binary (CMake generates
// migrations_data.cpp from migrations/*.sql), so the binary needs no files at run time.
#include <string>
#include <vector>

namespace switchyard::orchestrator::store {

struct Migration {
  int version = 0;   // NNNN
  std::string name;  // "NNNN_name"
  std::string sql;   // may hold several statements; runs inside one transaction
};

// The migrations compiled into this binary, in version order.
const std::vector<Migration>& BuiltinMigrations();

// Applies the builtin migrations to the database at `url`. See the overload below.
std::vector<int> Migrate(const std::string& url);

// Applies every migration of `migrations` that the database has not recorded yet, in version
// order, each in its own transaction together with its row in schema_migrations (version, name,
// checksum, applied_at). Holds a session advisory lock meanwhile, so many nodes starting at once
// apply each migration exactly once. Returns the versions this call applied (empty: up to date).
// Throws std::runtime_error naming the migration when: versions repeat or are not positive; a
// migration fails (it and the later ones are not applied; earlier ones stay); a recorded
// migration's text differs from the one given (a migration that has landed is never edited).
// Versions the database has but `migrations` lacks (a newer binary ran) are left alone.
// Connection failures propagate as libpqxx exceptions.
std::vector<int> Migrate(const std::string& url, const std::vector<Migration>& migrations);

}  // namespace switchyard::orchestrator::store
