// The shared cluster of the ctest `pg` fixture:
//   pg_test_cluster start DIR   starts (or reuses) it and leaves it running;
//   pg_test_cluster stop DIR    stops it and removes DIR.
#include <filesystem>
#include <iostream>
#include <string>

#include "pg_fixture.hpp"

int main(int argc, char** argv) {
  namespace store = switchyard::orchestrator::store;
  if (argc != 3) {
    std::cerr << "usage: pg_test_cluster start|stop DIR\n";
    return 2;
  }
  const std::string command = argv[1];
  try {
    store::EmbeddedPostgresOptions options;
    options.data_dir = argv[2];
    options.database = "postgres";
    options.settings = switchyard::orchestrator::testing::TestClusterSettings();
    if (command == "start") {
      options.stop_when_last = false;
      auto cluster = store::EmbeddedPostgres::Start(options);
      std::cout << cluster->connection_url() << "\n";
      return 0;
    }
    if (command == "stop") {
      if (!std::filesystem::exists(options.data_dir / "pgdata")) return 0;
      store::EmbeddedPostgres::Start(options)->Stop();
      std::filesystem::remove_all(options.data_dir);
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "pg_test_cluster: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "usage: pg_test_cluster start|stop DIR\n";
  return 2;
}
