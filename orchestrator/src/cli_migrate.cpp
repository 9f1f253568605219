// `switchyard migrate`: applies the migrations compiled into the binary to the database
// (--database-url, $SWITCHYARD_DATABASE_URL or the embedded cluster) and exits.
#include <exception>
#include <ostream>

#include "store/database.hpp"
#include "store/migrate.hpp"
#include "switchyard/orchestrator/cli.hpp"

namespace switchyard::orchestrator {

int RunMigrateCommand(const MigrateOptions& options, std::ostream& out, std::ostream& err) {
  std::optional<std::filesystem::path> data_dir;
  if (options.database.data_dir) data_dir = *options.database.data_dir;
  try {
    store::Database database = store::OpenDatabase(options.database.database_url, data_dir);
    const std::vector<int> applied = store::Migrate(database.url);
    const auto& all = store::BuiltinMigrations();
    if (applied.empty()) {
      out << "switchyard migrate: up to date ("
          << (all.empty() ? std::string("no migrations") : "version " + all.back().name) << ")\n";
    } else {
      out << "switchyard migrate: applied";
      for (const int version : applied) {
        for (const auto& migration : all) {
          if (migration.version == version) out << " " << migration.name;
        }
      }
      out << "\n";
    }
    if (database.cluster) database.cluster->Stop();
    return 0;
  } catch (const std::invalid_argument& e) {
    err << "switchyard migrate: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    err << "switchyard migrate: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace switchyard::orchestrator
