// `switchyard serve`: resolves the database (an URL, or the embedded cluster it starts), migrates
// it, runs until SIGINT or SIGTERM, then shuts down in reverse order.
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <exception>
#include <ostream>

#include "store/database.hpp"
#include "store/migrate.hpp"
#include "switchyard/orchestrator/cli.hpp"

namespace switchyard::orchestrator {

int RunServeCommand(const ServeOptions& options, std::ostream& /*out*/, std::ostream& err) {
  // SIGINT and SIGTERM are blocked in this thread before any other thread exists, so every thread
  // inherits the block and the signal waits for sigwait below instead of killing the process
  // half-way. (Child processes get the default mask back: see store/process.cpp.)
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::optional<std::filesystem::path> data_dir;
  if (options.database.data_dir) data_dir = *options.database.data_dir;
  store::Database database;
  try {
    database = store::OpenDatabase(options.database.database_url, data_dir);
    if (database.cluster) {
      spdlog::info("serve: database=embedded data_dir={} cluster={} url={}",
                   database.cluster->data_dir().string(),
                   database.cluster->started_cluster() ? "started" : "reused", database.url);
    } else {
      spdlog::info("serve: database=external url={}", store::RedactUrl(database.url));
    }
    if (options.no_migrate) {
      spdlog::info("serve: migrations skipped (--no-migrate)");
    } else {
      const std::vector<int> applied = store::Migrate(database.url);
      spdlog::info("serve: migrations applied={} known={}", applied.size(),
                   store::BuiltinMigrations().size());
    }
  } catch (const std::invalid_argument& e) {
    err << "switchyard serve: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    err << "switchyard serve: " << e.what() << "\n";
    return 1;
  }

  // Start the engine (and later the HTTP API) on database.url here; they run on their own
  // threads until the signal below, then shut down before the database does.

  spdlog::info("serve: ready (SIGINT or SIGTERM stops)");
  int signal_number = 0;
  while (sigwait(&stop_signals, &signal_number) != 0) {
  }
  spdlog::info("serve: received {}, shutting down", signal_number == SIGINT ? "SIGINT" : "SIGTERM");

  // Stop the engine here (finish in-flight decisions, release leases), before the database.

  int status = 0;
  if (database.cluster) {
    try {
      database.cluster->Stop();
    } catch (const std::exception& e) {
      err << "switchyard serve: " << e.what() << "\n";
      status = 1;
    }
  }
  spdlog::info("serve: stopped");
  return status;
}

}  // namespace switchyard::orchestrator
