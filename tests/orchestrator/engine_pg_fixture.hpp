#pragma once
// Temporary: a fresh database per test on a cluster named by SWITCHYARD_TEST_PG (a libpq
// connection string to a maintenance database), with migrations/*.sql applied. Replaced by the
// store's pg_fixture.hpp (throwaway clusters started through the launcher).
#include <pqxx/pqxx>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace testing_pg {

inline std::string FreshDatabase() {
  static std::atomic<int> counter{0};
  const char* base = std::getenv("SWITCHYARD_TEST_PG");
  std::string admin = base != nullptr ? base : "host=/tmp/engine-pg user=postgres dbname=postgres";
  std::string name = "engine_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  {
    pqxx::connection connection(admin);
    pqxx::nontransaction tx(connection);
    tx.exec("DROP DATABASE IF EXISTS " + name);
    tx.exec("CREATE DATABASE " + name);
  }
  std::string url = admin;
  auto at = url.find("dbname=");
  url = (at == std::string::npos ? url : url.substr(0, at)) + " dbname=" + name;
  std::vector<std::filesystem::path> files;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(SWITCHYARD_SOURCE_DIR) + "/migrations")) {
    if (entry.path().extension() == ".sql") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  pqxx::connection connection(url);
  for (const auto& file : files) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    pqxx::work tx(connection);
    tx.exec(text.str());
    tx.commit();
  }
  return url;
}

}  // namespace testing_pg
