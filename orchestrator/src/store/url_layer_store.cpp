#include "store/url_layer_store.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "store/pool.hpp"

namespace switchyard::orchestrator::store {
namespace {

using api::FunctionUrlRecord;
using api::LayerVersionRecord;

constexpr const char* kUrlColumns =
    "function_name, qualifier, url_id, auth_type, invoke_mode, cors::text, creation_time, "
    "last_modified_time";
constexpr const char* kLayerColumns =
    "layer_name, version, description, license_info, compatible_runtimes::text, "
    "compatible_architectures::text, code_sha256, code_size, unzipped_size, created_date";

FunctionUrlRecord UrlFrom(const pqxx::row& row) {
  FunctionUrlRecord record;
  record.function_name = row[0].as<std::string>();
  record.qualifier = row[1].as<std::string>();
  record.url_id = row[2].as<std::string>();
  record.auth_type = row[3].as<std::string>();
  record.invoke_mode = row[4].as<std::string>();
  if (!row[5].is_null()) {
    rapidjson::Document doc;
    const std::string text = row[5].as<std::string>();
    doc.Parse(text.c_str(), text.size());
    api::CorsConfig cors;
    api::HttpResponse ignored;
    if (!doc.HasParseError() && api::ParseCors(doc, &cors, &ignored)) record.cors = cors;
  }
  record.creation_time = row[6].as<std::string>();
  record.last_modified_time = row[7].as<std::string>();
  return record;
}

std::optional<std::string> CorsText(const FunctionUrlRecord& record) {
  if (!record.cors) return std::nullopt;
  return api::CorsJson(*record.cors);
}

std::string ListJson(const std::vector<std::string>& values) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartArray();
  for (const auto& value : values) {
    w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  }
  w.EndArray();
  return buffer.GetString();
}

std::vector<std::string> ListFrom(const std::string& json) {
  std::vector<std::string> values;
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  if (doc.HasParseError() || !doc.IsArray()) return values;
  for (const auto& item : doc.GetArray()) {
    if (item.IsString()) values.emplace_back(item.GetString(), item.GetStringLength());
  }
  return values;
}

LayerVersionRecord LayerFrom(const pqxx::row& row) {
  LayerVersionRecord record;
  record.layer_name = row[0].as<std::string>();
  record.version = row[1].as<int64_t>();
  record.description = row[2].as<std::string>();
  record.license_info = row[3].as<std::string>();
  record.compatible_runtimes = ListFrom(row[4].as<std::string>());
  record.compatible_architectures = ListFrom(row[5].as<std::string>());
  record.code_sha256 = row[6].as<std::string>();
  record.code_size = row[7].as<int64_t>();
  record.unzipped_size = row[8].as<int64_t>();
  record.created_date = row[9].as<std::string>();
  return record;
}

std::string HexEncode(const std::string& data) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (const char c : data) {
    const auto byte = static_cast<unsigned char>(c);
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 15]);
  }
  return out;
}

std::string HexDecode(const std::string& hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>((nibble(hex[i]) << 4) | nibble(hex[i + 1])));
  }
  return out;
}

}  // namespace

// ---- function URLs ----------------------------------------------------------------------------

PgUrlRegistry::PgUrlRegistry(const std::string& database_url, std::size_t pool_size)
    : pool_(std::make_unique<ConnectionPool>(database_url, pool_size)) {}

PgUrlRegistry::~PgUrlRegistry() = default;

std::optional<FunctionUrlRecord> PgUrlRegistry::Get(const std::string& function_name,
                                                    const std::string& qualifier) const {
  return pool_->Transact([&](pqxx::work& tx) -> std::optional<FunctionUrlRecord> {
    const pqxx::result rows =
        tx.exec_params(std::string("SELECT ") + kUrlColumns +
                           " FROM function_urls WHERE function_name = $1 AND qualifier = $2",
                       function_name, qualifier);
    if (rows.empty()) return std::nullopt;
    return UrlFrom(rows[0]);
  });
}

std::optional<FunctionUrlRecord> PgUrlRegistry::GetById(const std::string& url_id) const {
  return pool_->Transact([&](pqxx::work& tx) -> std::optional<FunctionUrlRecord> {
    const pqxx::result rows = tx.exec_params(
        std::string("SELECT ") + kUrlColumns + " FROM function_urls WHERE url_id = $1", url_id);
    if (rows.empty()) return std::nullopt;
    return UrlFrom(rows[0]);
  });
}

std::vector<FunctionUrlRecord> PgUrlRegistry::List(const std::string& function_name) const {
  return pool_->Transact([&](pqxx::work& tx) {
    std::vector<FunctionUrlRecord> records;
    for (const auto& row :
         tx.exec_params(std::string("SELECT ") + kUrlColumns +
                            " FROM function_urls WHERE function_name = $1 ORDER BY qualifier",
                        function_name)) {
      records.push_back(UrlFrom(row));
    }
    return records;
  });
}

bool PgUrlRegistry::Insert(const FunctionUrlRecord& record) {
  return pool_->Transact([&](pqxx::work& tx) {
    // INSERT ... SELECT: nothing when the function is gone, nothing on a conflict.
    return !tx.exec_params(
                  "INSERT INTO function_urls (function_name, qualifier, url_id, auth_type, "
                  "invoke_mode, cors, creation_time, last_modified_time) SELECT name, $2, $3, $4, "
                  "$5, $6::jsonb, $7, $8 FROM functions WHERE name = $1 ON CONFLICT DO NOTHING "
                  "RETURNING url_id",
                  record.function_name, record.qualifier, record.url_id, record.auth_type,
                  record.invoke_mode, CorsText(record), record.creation_time,
                  record.last_modified_time)
                .empty();
  });
}

bool PgUrlRegistry::Update(const FunctionUrlRecord& record) {
  return pool_->Transact([&](pqxx::work& tx) {
    return !tx.exec_params(
                  "UPDATE function_urls SET auth_type = $2, invoke_mode = $3, cors = $4::jsonb, "
                  "last_modified_time = $5 WHERE url_id = $1 RETURNING url_id",
                  record.url_id, record.auth_type, record.invoke_mode, CorsText(record),
                  record.last_modified_time)
                .empty();
  });
}

bool PgUrlRegistry::Remove(const std::string& function_name, const std::string& qualifier) {
  return pool_->Transact([&](pqxx::work& tx) {
    return !tx.exec_params(
                  "DELETE FROM function_urls WHERE function_name = $1 AND qualifier = $2 "
                  "RETURNING url_id",
                  function_name, qualifier)
                .empty();
  });
}

// ---- layers -----------------------------------------------------------------------------------

PgLayerRegistry::PgLayerRegistry(const std::string& database_url, std::size_t pool_size)
    : pool_(std::make_unique<ConnectionPool>(database_url, pool_size)) {}

PgLayerRegistry::~PgLayerRegistry() = default;

LayerVersionRecord PgLayerRegistry::Publish(LayerVersionRecord record, const std::string& zip) {
  const std::string hex = HexEncode(zip);
  return pool_->Transact([&](pqxx::work& tx) {
    const pqxx::result next = tx.exec_params(
        "INSERT INTO layers (name, next_version) VALUES ($1, 2) ON CONFLICT (name) DO UPDATE SET "
        "next_version = layers.next_version + 1 RETURNING next_version - 1",
        record.layer_name);
    LayerVersionRecord stored = record;
    stored.version = next[0][0].as<int64_t>();
    tx.exec_params(
        "INSERT INTO layer_versions (layer_name, version, description, license_info, "
        "compatible_runtimes, compatible_architectures, code_sha256, code_size, unzipped_size, "
        "created_date, zip) VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8, $9, $10, "
        "decode($11, 'hex'))",
        stored.layer_name, stored.version, stored.description, stored.license_info,
        ListJson(stored.compatible_runtimes), ListJson(stored.compatible_architectures),
        stored.code_sha256, stored.code_size, stored.unzipped_size, stored.created_date, hex);
    return stored;
  });
}

std::optional<LayerVersionRecord> PgLayerRegistry::Get(const std::string& layer_name,
                                                       int64_t version) const {
  return pool_->Transact([&](pqxx::work& tx) -> std::optional<LayerVersionRecord> {
    const pqxx::result rows =
        tx.exec_params(std::string("SELECT ") + kLayerColumns +
                           " FROM layer_versions WHERE layer_name = $1 AND version = $2 AND "
                           "version > 0",
                       layer_name, version);
    if (rows.empty()) return std::nullopt;
    return LayerFrom(rows[0]);
  });
}

std::vector<LayerVersionRecord> PgLayerRegistry::Versions(const std::string& layer_name) const {
  return pool_->Transact([&](pqxx::work& tx) {
    std::vector<LayerVersionRecord> records;
    for (const auto& row :
         tx.exec_params(std::string("SELECT ") + kLayerColumns +
                            " FROM layer_versions WHERE layer_name = $1 AND version > 0 "
                            "ORDER BY version DESC",
                        layer_name)) {
      records.push_back(LayerFrom(row));
    }
    return records;
  });
}

std::vector<std::string> PgLayerRegistry::Names() const {
  return pool_->Transact([&](pqxx::work& tx) {
    std::vector<std::string> names;
    for (const auto& row :
         tx.exec("SELECT DISTINCT layer_name FROM layer_versions WHERE version > 0 ORDER BY "
                 "layer_name")) {
      names.push_back(row[0].as<std::string>());
    }
    return names;
  });
}

// Whether a function version names the layer version whose ARN ends in `suffix` (an SQL
// expression: ':layer:<name>:<version>'; region and account are the server's, so the suffix
// identifies it).
namespace {
std::string Referenced(const std::string& suffix) {
  return "EXISTS (SELECT 1 FROM function_versions fv, jsonb_array_elements(CASE WHEN "
         "jsonb_typeof(fv.config->'Layers') = 'array' THEN fv.config->'Layers' ELSE '[]'::jsonb "
         "END) AS l WHERE right(l->>'Arn', length(" +
         suffix + ")) = " + suffix + ")";
}
}  // namespace

bool PgLayerRegistry::Delete(const std::string& layer_name, int64_t version) {
  // Lambda keeps a deleted version's content for the functions that use it. A version some
  // function version still names is kept under its negated number (invisible to Get, Versions
  // and Names; GetZip still finds it), so that a node that never unpacked it can start those
  // functions; kept versions that nothing names any more go now.
  return pool_->Transact([&](pqxx::work& tx) {
    bool existed =
        !tx.exec_params(
               "UPDATE layer_versions SET version = -version WHERE "
               "layer_name = $1 AND version = $2 AND version > 0 AND " +
                   Referenced("$3::text") + " RETURNING version",
               layer_name, version, ":layer:" + layer_name + ":" + std::to_string(version))
             .empty();
    if (!existed) {
      existed = !tx.exec_params(
                       "DELETE FROM layer_versions WHERE layer_name = $1 AND version = $2 AND "
                       "version > 0 RETURNING version",
                       layer_name, version)
                     .empty();
    }
    tx.exec("DELETE FROM layer_versions lv WHERE lv.version < 0 AND NOT " +
            Referenced("(':layer:' || lv.layer_name || ':' || (-lv.version)::text)"));
    return existed;
  });
}

std::optional<std::string> PgLayerRegistry::GetZip(const std::string& layer_name,
                                                   int64_t version) const {
  return pool_->Transact([&](pqxx::work& tx) -> std::optional<std::string> {
    const pqxx::result rows = tx.exec_params(
        "SELECT encode(zip, 'hex') FROM layer_versions WHERE layer_name = $1 AND version IN "
        "($2, -$2::bigint) ORDER BY version DESC LIMIT 1",
        layer_name, version);
    if (rows.empty()) return std::nullopt;
    return HexDecode(rows[0][0].as<std::string>());
  });
}

}  // namespace switchyard::orchestrator::store
