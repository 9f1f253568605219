#pragma once
// Function URL configs and Lambda layers on PostgreSQL (migrations/0008_function_urls_layers.sql):
// the durable implementations of api::UrlRegistry and api::LayerRegistry, so that every node on
// one database serves the same URLs and can unpack the same layers. Free of pqxx (pimpl).
// Thread model: thread-safe; each call is one transaction on a small pool of its own. Database
// failures that outlast the pool's retries throw.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/lambda_layers.hpp"
#include "api/lambda_urls.hpp"

namespace switchyard::orchestrator::store {

class ConnectionPool;

class PgUrlRegistry final : public api::UrlRegistry {
 public:
  explicit PgUrlRegistry(const std::string& database_url, std::size_t pool_size = 2);
  ~PgUrlRegistry() override;

  std::optional<api::FunctionUrlRecord> Get(const std::string& function_name,
                                            const std::string& qualifier) const override;
  std::optional<api::FunctionUrlRecord> GetById(const std::string& url_id) const override;
  std::vector<api::FunctionUrlRecord> List(const std::string& function_name) const override;
  // False when the URL exists, or when the function does not (it was deleted meanwhile).
  bool Insert(const api::FunctionUrlRecord& record) override;
  bool Update(const api::FunctionUrlRecord& record) override;
  bool Remove(const std::string& function_name, const std::string& qualifier) override;

 private:
  std::unique_ptr<ConnectionPool> pool_;
};

class PgLayerRegistry final : public api::LayerRegistry {
 public:
  explicit PgLayerRegistry(const std::string& database_url, std::size_t pool_size = 2);
  ~PgLayerRegistry() override;

  // The version number comes from layers.next_version, taken under the row's lock: two nodes
  // publishing the same layer at once get different numbers.
  api::LayerVersionRecord Publish(api::LayerVersionRecord record, const std::string& zip) override;
  std::optional<api::LayerVersionRecord> Get(const std::string& layer_name,
                                             int64_t version) const override;
  std::vector<api::LayerVersionRecord> Versions(const std::string& layer_name) const override;
  std::vector<std::string> Names() const override;
  bool Delete(const std::string& layer_name, int64_t version) override;
  std::optional<std::string> GetZip(const std::string& layer_name, int64_t version) const override;

 private:
  std::unique_ptr<ConnectionPool> pool_;
};

}  // namespace switchyard::orchestrator::store
