// Which database a command uses: --database-url, $SWITCHYARD_DATABASE_URL, or the embedded cluster.
#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>

#include "store/database.hpp"

namespace switchyard::orchestrator::store {
namespace {

TEST(DatabaseTest, ExplicitUrlWins) {
  setenv("SWITCHYARD_DATABASE_URL", "postgresql:///from_env", 1);
  Database database = OpenDatabase(std::string("postgresql:///given"), std::nullopt);
  EXPECT_EQ(database.url, "postgresql:///given");
  EXPECT_EQ(database.cluster, nullptr);
  unsetenv("SWITCHYARD_DATABASE_URL");
}

TEST(DatabaseTest, EnvironmentUrlWhenNoOptionGiven) {
  setenv("SWITCHYARD_DATABASE_URL", "postgresql:///from_env", 1);
  Database database = OpenDatabase(std::nullopt, std::nullopt);
  EXPECT_EQ(database.url, "postgresql:///from_env");
  EXPECT_EQ(database.cluster, nullptr);
  unsetenv("SWITCHYARD_DATABASE_URL");
}

TEST(DatabaseTest, UrlAndDataDirTogetherAreRefused) {
  try {
    OpenDatabase(std::string("postgresql:///x"), std::filesystem::path("/tmp/x"));
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "give either --database-url or --data-dir, not both");
  }
}

TEST(DatabaseTest, RedactUrlHidesPasswords) {
  EXPECT_EQ(RedactUrl("postgresql://ada:s3cret@db.example:5432/switchyard"),
            "postgresql://ada:***@db.example:5432/switchyard");
  EXPECT_EQ(RedactUrl("postgres://ada@db/x?password=s3cret&sslmode=require"),
            "postgres://ada@db/x?password=***&sslmode=require");
  EXPECT_EQ(RedactUrl("host=db user=ada password=s3cret dbname=x"),
            "host=db user=ada password=*** dbname=x");
  EXPECT_EQ(RedactUrl("postgresql:///switchyard?host=/var/lib/switchyard&port=5432"),
            "postgresql:///switchyard?host=/var/lib/switchyard&port=5432");
}

}  // namespace
}  // namespace switchyard::orchestrator::store
