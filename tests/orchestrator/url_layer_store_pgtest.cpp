// Function URL configs and layers on PostgreSQL: records round-trip whole, a URL needs its
// function and is unique per qualifier, deleting the function removes its URLs, and layer
// version numbers grow per name and are never reused.
#include <gtest/gtest.h>

#include "pg_fixture.hpp"
#include "store/function_store.hpp"
#include "store/migrate.hpp"
#include "store/url_layer_store.hpp"

namespace switchyard::orchestrator {
namespace {

class UrlLayerStoreTest : public testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    store::Migrate(url());
  }
  void AddFunction(const std::string& name) {
    store::PgFunctionRegistry functions(url());
    api::FunctionRecord record;
    record.latest.config.function_name = name;
    record.latest.config.runtime = "python3.11";
    functions.Put(record);
  }
};

std::string Render(const api::FunctionUrlRecord& r) {
  std::string out = r.function_name + ":" + r.qualifier + " " + r.url_id + " " + r.auth_type + " " +
                    r.invoke_mode + " " + r.creation_time + " " + r.last_modified_time;
  if (r.cors) out += " cors=" + api::CorsJson(*r.cors);
  return out;
}

TEST_F(UrlLayerStoreTest, UrlsRoundTripAndFollowTheirFunction) {
  store::PgUrlRegistry urls(url());
  api::FunctionUrlRecord record;
  record.function_name = "fn";
  record.url_id = "id1";
  record.auth_type = "NONE";
  record.creation_time = "t1";
  record.last_modified_time = "t1";
  EXPECT_FALSE(urls.Insert(record));  // no such function
  AddFunction("fn");
  ASSERT_TRUE(urls.Insert(record));
  api::FunctionUrlRecord duplicate = record;
  duplicate.url_id = "id2";
  EXPECT_FALSE(urls.Insert(duplicate));  // one per qualifier
  api::FunctionUrlRecord alias = record;
  alias.qualifier = "live";
  alias.url_id = "id3";
  alias.auth_type = "AWS_IAM";
  api::CorsConfig cors;
  cors.allow_origins = {"https://a.example"};
  cors.max_age = 5;
  alias.cors = cors;
  ASSERT_TRUE(urls.Insert(alias));
  EXPECT_EQ(Render(*urls.GetById("id3")),
            "fn:live id3 AWS_IAM BUFFERED t1 t1 "
            "cors={\"AllowCredentials\":false,\"AllowOrigins\":[\"https://a.example\"],"
            "\"MaxAge\":5}");
  EXPECT_EQ(Render(*urls.Get("fn", "")), "fn: id1 NONE BUFFERED t1 t1");
  record.auth_type = "AWS_IAM";
  record.last_modified_time = "t2";
  ASSERT_TRUE(urls.Update(record));
  EXPECT_EQ(Render(*urls.Get("fn", "")), "fn: id1 AWS_IAM BUFFERED t1 t2");
  const auto listed = urls.List("fn");
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].qualifier, "");
  EXPECT_EQ(listed[1].qualifier, "live");
  EXPECT_TRUE(urls.Remove("fn", "live"));
  EXPECT_FALSE(urls.Remove("fn", "live"));
  EXPECT_FALSE(urls.GetById("id3"));
  store::PgFunctionRegistry(url()).Remove("fn");
  EXPECT_FALSE(urls.GetById("id1"));
}

TEST_F(UrlLayerStoreTest, LayerVersionsAreNumberedPerNameAndNeverReused) {
  store::PgLayerRegistry layers(url());
  api::LayerVersionRecord record;
  record.layer_name = "deps";
  record.description = "d";
  record.compatible_runtimes = {"python3.11", "python3.12"};
  record.compatible_architectures = {"x86_64"};
  record.code_sha256 = "sha";
  record.code_size = 3;
  record.unzipped_size = 9;
  record.created_date = "c";
  EXPECT_EQ(layers.Publish(record, std::string("z\0p", 3)).version, 1);
  EXPECT_EQ(layers.Publish(record, "zip2").version, 2);
  record.layer_name = "other";
  EXPECT_EQ(layers.Publish(record, "zip3").version, 1);
  EXPECT_EQ(*layers.GetZip("deps", 1), std::string("z\0p", 3));
  const auto got = layers.Get("deps", 2);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->compatible_runtimes, (std::vector<std::string>{"python3.11", "python3.12"}));
  EXPECT_EQ(got->unzipped_size, 9);
  EXPECT_EQ(layers.Names(), (std::vector<std::string>{"deps", "other"}));
  EXPECT_TRUE(layers.Delete("deps", 2));
  EXPECT_FALSE(layers.Delete("deps", 2));
  record.layer_name = "deps";
  EXPECT_EQ(layers.Publish(record, "zip4").version, 3);
  const auto versions = layers.Versions("deps");
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0].version, 3);
  EXPECT_EQ(versions[1].version, 1);
  EXPECT_FALSE(layers.Get("deps", 2));
}

TEST_F(UrlLayerStoreTest, FunctionLayersRoundTripInTheFunctionRecord) {
  store::PgFunctionRegistry functions(url());
  api::FunctionRecord record;
  record.latest.config.function_name = "layered";
  record.latest.layers = {{"arn:aws:lambda:us-east-1:000000000000:layer:a:1", 10, "s1", 100},
                          {"arn:aws:lambda:us-east-1:000000000000:layer:b:2", 20, "s2", 200}};
  functions.Put(record);
  const auto got = functions.Get("layered");
  ASSERT_TRUE(got);
  ASSERT_EQ(got->latest.layers.size(), 2u);
  EXPECT_EQ(got->latest.layers[1].arn, "arn:aws:lambda:us-east-1:000000000000:layer:b:2");
  EXPECT_EQ(got->latest.layers[1].code_size, 20);
  EXPECT_EQ(got->latest.layers[1].code_sha256, "s2");
  EXPECT_EQ(got->latest.layers[1].unzipped_size, 200);
}

TEST_F(UrlLayerStoreTest, ADeletedLayerVersionKeepsItsPackageWhileAFunctionUsesIt) {
  store::PgLayerRegistry layers(url());
  api::LayerVersionRecord record;
  record.layer_name = "kept_layer";
  record.code_sha256 = "sha";
  record.created_date = "c";
  EXPECT_EQ(layers.Publish(record, "zip1").version, 1);
  EXPECT_EQ(layers.Publish(record, "zip2").version, 2);
  // A function names version 1 (a name with '_', which LIKE would treat as a wildcard).
  store::PgFunctionRegistry functions(url());
  api::FunctionRecord function;
  function.latest.config.function_name = "user";
  function.latest.config.runtime = "python3.11";
  function.latest.layers = {
      {"arn:aws:lambda:us-east-1:000000000000:layer:kept_layer:1", 4, "sha", 4}};
  functions.Put(function);
  EXPECT_TRUE(layers.Delete("kept_layer", 1));
  EXPECT_TRUE(layers.Delete("kept_layer", 2));
  EXPECT_FALSE(layers.Delete("kept_layer", 1));
  // Gone for the API ...
  EXPECT_FALSE(layers.Get("kept_layer", 1));
  EXPECT_TRUE(layers.Versions("kept_layer").empty());
  EXPECT_TRUE(layers.Names().empty());
  // ... but the package of the one in use stays for nodes that have not unpacked it.
  EXPECT_EQ(layers.GetZip("kept_layer", 1).value_or("<gone>"), "zip1");
  EXPECT_EQ(layers.GetZip("kept_layer", 2).value_or("<gone>"), "<gone>");
  // Numbers are still never reused.
  EXPECT_EQ(layers.Publish(record, "zip3").version, 3);
  // Once no function uses it, the next deletion clears it away.
  functions.Remove("user");
  EXPECT_TRUE(layers.Delete("kept_layer", 3));
  EXPECT_EQ(layers.GetZip("kept_layer", 1).value_or("<gone>"), "<gone>");
}

}  // namespace
}  // namespace switchyard::orchestrator
