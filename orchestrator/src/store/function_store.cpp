#include "store/function_store.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "store/pool.hpp"

namespace switchyard::orchestrator::store {
namespace {

using api::AliasRecord;
using api::EventInvokeConfigRecord;
using api::FunctionRecord;
using api::FunctionVersionRecord;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Field(Writer& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
}

std::string VersionJson(const FunctionVersionRecord& v) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  Field(w, "Runtime", v.config.runtime);
  Field(w, "Handler", v.config.handler);
  w.Key("MemorySize");
  w.Int64(v.config.memory_size_mb);
  w.Key("Timeout");
  w.Int64(v.config.timeout_seconds);
  Field(w, "Description", v.config.description);
  Field(w, "Url", v.config.url);
  Field(w, "CodeDir", v.config.code_dir);
  w.Key("Environment");
  w.StartObject();
  for (const auto& [key, value] : v.config.environment) {
    w.Key(key.c_str(), static_cast<rapidjson::SizeType>(key.size()));
    w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  }
  w.EndObject();
  Field(w, "Role", v.role);
  w.Key("CodeSize");
  w.Int64(v.code_size);
  Field(w, "LastModified", v.last_modified);
  Field(w, "RevisionId", v.revision_id);
  Field(w, "CodeLocation", v.code_location);
  Field(w, "SourceRevisionId", v.source_revision_id);
  w.Key("Layers");
  w.StartArray();
  for (const api::LayerRef& layer : v.layers) {
    w.StartObject();
    Field(w, "Arn", layer.arn);
    w.Key("CodeSize");
    w.Int64(layer.code_size);
    Field(w, "CodeSha256", layer.code_sha256);
    w.Key("UnzippedSize");
    w.Int64(layer.unzipped_size);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return buffer.GetString();
}

std::string Str(const rapidjson::Value& object, const char* key) {
  const auto it = object.FindMember(key);
  return it != object.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}
int64_t Int(const rapidjson::Value& object, const char* key) {
  const auto it = object.FindMember(key);
  return it != object.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : 0;
}

FunctionVersionRecord VersionFrom(const std::string& name, const std::string& version,
                                  const std::string& code_sha256, const std::string& json) {
  FunctionVersionRecord v;
  v.version = version;
  v.code_sha256 = code_sha256;
  v.config.function_name = name;
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return v;
  v.config.runtime = Str(doc, "Runtime");
  v.config.handler = Str(doc, "Handler");
  v.config.memory_size_mb = Int(doc, "MemorySize");
  v.config.timeout_seconds = Int(doc, "Timeout");
  v.config.description = Str(doc, "Description");
  v.config.url = Str(doc, "Url");
  v.config.code_dir = Str(doc, "CodeDir");
  if (const auto env = doc.FindMember("Environment");
      env != doc.MemberEnd() && env->value.IsObject()) {
    for (const auto& member : env->value.GetObject()) {
      if (member.value.IsString()) {
        v.config.environment[member.name.GetString()] = member.value.GetString();
      }
    }
  }
  v.role = Str(doc, "Role");
  v.code_size = Int(doc, "CodeSize");
  v.last_modified = Str(doc, "LastModified");
  v.revision_id = Str(doc, "RevisionId");
  v.code_location = Str(doc, "CodeLocation");
  v.source_revision_id = Str(doc, "SourceRevisionId");
  if (const auto layers = doc.FindMember("Layers");
      layers != doc.MemberEnd() && layers->value.IsArray()) {
    for (const auto& layer : layers->value.GetArray()) {
      if (!layer.IsObject()) continue;
      v.layers.push_back({Str(layer, "Arn"), Int(layer, "CodeSize"), Str(layer, "CodeSha256"),
                          Int(layer, "UnzippedSize")});
    }
  }
  return v;
}

std::string WeightsJson(const std::map<std::string, double>& weights) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  for (const auto& [version, weight] : weights) {
    w.Key(version.c_str());
    w.Double(weight);
  }
  w.EndObject();
  return buffer.GetString();
}

std::map<std::string, double> WeightsFrom(const std::string& json) {
  std::map<std::string, double> weights;
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return weights;
  for (const auto& member : doc.GetObject()) {
    if (member.value.IsNumber()) weights[member.name.GetString()] = member.value.GetDouble();
  }
  return weights;
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

// Loads every function named in `names` (all when empty) with its rows, in one transaction.
std::vector<FunctionRecord> Load(pqxx::work& tx, const std::string* only) {
  std::map<std::string, FunctionRecord> records;
  const std::string filter = only ? *only : std::string();
  for (const auto& row :
       tx.exec_params("SELECT name, COALESCE(reserved_concurrency, -1), next_version, serial "
                      "FROM functions WHERE $1 = '' OR name = $1 ORDER BY name",
                      filter)) {
    FunctionRecord& record = records[row[0].as<std::string>()];
    const auto reserved = row[1].as<int64_t>();
    if (reserved >= 0) record.reserved_concurrency = reserved;
    record.next_version = row[2].as<int64_t>();
    record.serial = row[3].as<int64_t>();
  }
  if (records.empty()) return {};
  for (const auto& row : tx.exec_params(
           "SELECT function_name, version, code_sha256, config::text FROM function_versions "
           "WHERE $1 = '' OR function_name = $1",
           filter)) {
    const auto it = records.find(row[0].as<std::string>());
    if (it == records.end()) continue;
    const auto version = row[1].as<std::string>();
    FunctionVersionRecord v =
        VersionFrom(it->first, version, row[2].as<std::string>(), row[3].as<std::string>());
    v.config.reserved_concurrency = it->second.reserved_concurrency;
    if (version == api::kLatestVersion) {
      it->second.latest = std::move(v);
    } else {
      it->second.versions[std::stoll(version)] = std::move(v);
    }
  }
  for (const auto& row :
       tx.exec_params("SELECT function_name, alias, function_version, routing::text, description, "
                      "revision_id FROM function_aliases WHERE $1 = '' OR function_name = $1",
                      filter)) {
    const auto it = records.find(row[0].as<std::string>());
    if (it == records.end()) continue;
    AliasRecord alias;
    alias.name = row[1].as<std::string>();
    alias.function_version = row[2].as<std::string>();
    alias.additional_version_weights = WeightsFrom(row[3].as<std::string>());
    alias.description = row[4].as<std::string>();
    alias.revision_id = row[5].as<std::string>();
    it->second.aliases[alias.name] = std::move(alias);
  }
  for (const auto& row : tx.exec_params(
           "SELECT function_name, qualifier, COALESCE(maximum_retry_attempts, -1), "
           "COALESCE(maximum_event_age_seconds, -1), on_success, on_failure, last_modified "
           "FROM function_event_invoke_configs WHERE $1 = '' OR function_name = $1",
           filter)) {
    const auto it = records.find(row[0].as<std::string>());
    if (it == records.end()) continue;
    EventInvokeConfigRecord config;
    if (row[2].as<int64_t>() >= 0) config.maximum_retry_attempts = row[2].as<int64_t>();
    if (row[3].as<int64_t>() >= 0) config.maximum_event_age_seconds = row[3].as<int64_t>();
    config.on_success = row[4].as<std::string>();
    config.on_failure = row[5].as<std::string>();
    config.last_modified = row[6].as<double>();
    it->second.event_invoke_configs[row[1].as<std::string>()] = std::move(config);
  }
  for (const auto& row :
       tx.exec_params("SELECT function_name, qualifier, requested, last_modified FROM "
                      "function_provisioned_concurrency WHERE $1 = '' OR function_name = $1",
                      filter)) {
    const auto it = records.find(row[0].as<std::string>());
    if (it == records.end()) continue;
    api::ProvisionedConfigRecord config;
    config.requested = row[2].as<int64_t>();
    config.last_modified = row[3].as<std::string>();
    it->second.provisioned[row[1].as<std::string>()] = std::move(config);
  }
  std::vector<FunctionRecord> out;
  out.reserve(records.size());
  for (auto& [name, record] : records) {
    record.latest.config.function_name = name;
    out.push_back(std::move(record));
  }
  return out;
}

std::string NewNodeSuffix() {
  std::random_device random;
  return std::to_string(random());
}

}  // namespace

PgFunctionRegistry::PgFunctionRegistry(const std::string& database_url, std::size_t pool_size)
    : pool_(std::make_unique<ConnectionPool>(database_url, pool_size)) {}

PgFunctionRegistry::~PgFunctionRegistry() = default;

std::optional<FunctionRecord> PgFunctionRegistry::Get(const std::string& function_name) const {
  if (function_name.empty()) return std::nullopt;
  auto records = pool_->Transact([&](pqxx::work& tx) { return Load(tx, &function_name); });
  if (records.empty()) return std::nullopt;
  return std::move(records.front());
}

std::vector<FunctionRecord> PgFunctionRegistry::List() const {
  return pool_->Transact([&](pqxx::work& tx) { return Load(tx, nullptr); });
}

void PgFunctionRegistry::Put(const FunctionRecord& record) {
  const std::string& name = record.latest.config.function_name;
  pool_->Transact([&](pqxx::work& tx) {
    const int64_t reserved =
        record.reserved_concurrency ? *record.reserved_concurrency : int64_t{-1};
    if (record.serial == 0) {
      const pqxx::result inserted = tx.exec_params(
          "INSERT INTO functions (name, reserved_concurrency, next_version) VALUES ($1, "
          "NULLIF($2, -1), $3) ON CONFLICT (name) DO NOTHING RETURNING name",
          name, reserved, record.next_version);
      if (inserted.empty()) throw api::FunctionConflict("function " + name + " already exists");
    } else {
      const pqxx::result updated = tx.exec_params(
          "UPDATE functions SET reserved_concurrency = NULLIF($2, -1), next_version = $3, "
          "serial = serial + 1, updated_at = now() WHERE name = $1 AND serial = $4 RETURNING "
          "name",
          name, reserved, record.next_version, record.serial);
      if (updated.empty()) {
        throw api::FunctionConflict("function " + name + " changed or was deleted meanwhile");
      }
    }
    tx.exec_params("DELETE FROM function_versions WHERE function_name = $1", name);
    tx.exec_params("DELETE FROM function_aliases WHERE function_name = $1", name);
    tx.exec_params("DELETE FROM function_event_invoke_configs WHERE function_name = $1", name);
    tx.exec_params("DELETE FROM function_provisioned_concurrency WHERE function_name = $1", name);
    auto put_version = [&](const FunctionVersionRecord& v) {
      tx.exec_params(
          "INSERT INTO function_versions (function_name, version, code_sha256, config) VALUES "
          "($1, $2, $3, $4::jsonb)",
          name, v.version, v.code_sha256, VersionJson(v));
    };
    put_version(record.latest);
    for (const auto& [number, version] : record.versions) put_version(version);
    for (const auto& [alias_name, alias] : record.aliases) {
      tx.exec_params(
          "INSERT INTO function_aliases (function_name, alias, function_version, routing, "
          "description, revision_id) VALUES ($1, $2, $3, $4::jsonb, $5, $6)",
          name, alias_name, alias.function_version, WeightsJson(alias.additional_version_weights),
          alias.description, alias.revision_id);
    }
    for (const auto& [qualifier, config] : record.event_invoke_configs) {
      tx.exec_params(
          "INSERT INTO function_event_invoke_configs (function_name, qualifier, "
          "maximum_retry_attempts, maximum_event_age_seconds, on_success, on_failure, "
          "last_modified) VALUES ($1, $2, NULLIF($3, -1), NULLIF($4, -1), $5, $6, $7)",
          name, qualifier, config.maximum_retry_attempts.value_or(-1),
          config.maximum_event_age_seconds.value_or(-1), config.on_success, config.on_failure,
          config.last_modified);
    }
    for (const auto& [qualifier, config] : record.provisioned) {
      tx.exec_params(
          "INSERT INTO function_provisioned_concurrency (function_name, qualifier, requested, "
          "last_modified) VALUES ($1, $2, $3, $4)",
          name, qualifier, config.requested, config.last_modified);
    }
    // Packages no version uses any more.
    tx.exec_params(
        "DELETE FROM function_code c WHERE c.function_name = $1 AND NOT EXISTS (SELECT 1 FROM "
        "function_versions v WHERE v.function_name = $1 AND v.code_sha256 = c.code_sha256)",
        name);
  });
}

bool PgFunctionRegistry::Remove(const std::string& function_name) {
  return pool_->Transact([&](pqxx::work& tx) {
    return !tx.exec_params("DELETE FROM functions WHERE name = $1 RETURNING name", function_name)
                .empty();
  });
}

std::map<std::string, int64_t> PgFunctionRegistry::Serials() const {
  return pool_->Transact([&](pqxx::work& tx) {
    std::map<std::string, int64_t> serials;
    for (const auto& row : tx.exec("SELECT name, serial FROM functions")) {
      serials[row[0].as<std::string>()] = row[1].as<int64_t>();
    }
    return serials;
  });
}

void PgFunctionRegistry::PutCode(const std::string& function_name, const std::string& code_sha256,
                                 const std::string& zip) {
  const std::string hex = HexEncode(zip);
  pool_->Transact([&](pqxx::work& tx) {
    tx.exec_params(
        "INSERT INTO function_code (function_name, code_sha256, zip) VALUES ($1, $2, "
        "decode($3, 'hex')) ON CONFLICT DO NOTHING",
        function_name, code_sha256, hex);
  });
}

std::optional<std::string> PgFunctionRegistry::GetCode(const std::string& function_name,
                                                       const std::string& code_sha256) const {
  return pool_->Transact([&](pqxx::work& tx) -> std::optional<std::string> {
    const pqxx::result rows = tx.exec_params(
        "SELECT encode(zip, 'hex') FROM function_code WHERE function_name = $1 AND "
        "code_sha256 = $2",
        function_name, code_sha256);
    if (rows.empty()) return std::nullopt;
    return HexDecode(rows[0][0].as<std::string>());
  });
}

struct PgEventQueue::Impl {
  std::unique_ptr<ConnectionPool> pool;
  std::chrono::milliseconds lease{30000};
  std::atomic<bool> started{false};
  // Empty polls are spaced out (pushes from this node reset the pause); other nodes' pushes and
  // due retries are seen within kIdlePoll.
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;                                // Guarded by mu.
  std::chrono::steady_clock::time_point quiet_until{};  // Guarded by mu.
  std::thread renewer;
};

namespace {
constexpr std::chrono::milliseconds kIdlePoll{100};

double Epoch(invoker::AsyncClock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}
invoker::AsyncClock::time_point FromEpoch(double seconds) {
  return invoker::AsyncClock::time_point(std::chrono::duration_cast<invoker::AsyncClock::duration>(
      std::chrono::duration<double>(seconds)));
}
}  // namespace

PgEventQueue::PgEventQueue(const std::string& database_url, std::string node_id,
                           std::chrono::milliseconds lease)
    : impl_(std::make_unique<Impl>()), node_id_(std::move(node_id)) {
  if (node_id_.empty()) node_id_ = "async-" + NewNodeSuffix();
  impl_->pool = std::make_unique<ConnectionPool>(database_url, 3);
  impl_->lease = lease;
  impl_->renewer = std::thread([this] {
    std::unique_lock lock(impl_->mu);
    while (!impl_->stopping) {
      impl_->cv.wait_for(lock, impl_->lease / 3);
      if (impl_->stopping) break;
      lock.unlock();
      try {
        impl_->pool->Transact([&](pqxx::work& tx) {
          tx.exec_params(
              "UPDATE async_invocations SET lease_until = now() + $2 * interval '1 millisecond' "
              "WHERE lease_owner = $1",
              node_id_, static_cast<int64_t>(impl_->lease.count()));
        });
      } catch (const std::exception& e) {
        spdlog::warn("async queue: cannot renew leases node={}: {}", node_id_, e.what());
      }
      lock.lock();
    }
  });
}

PgEventQueue::~PgEventQueue() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  impl_->renewer.join();
  try {
    impl_->pool->Transact([&](pqxx::work& tx) {
      tx.exec_params(
          "UPDATE async_invocations SET lease_owner = NULL, lease_until = NULL WHERE "
          "lease_owner = $1",
          node_id_);
    });
  } catch (const std::exception& e) {
    spdlog::warn("async queue: cannot release leases node={}: {}", node_id_, e.what());
  }
}

void PgEventQueue::Start() { impl_->started = true; }

void PgEventQueue::Push(invoker::QueuedEvent event) {
  impl_->pool->Transact([&](pqxx::work& tx) {
    if (event.claim == 0) {
      // A new event; the request id makes a repeated push harmless.
      tx.exec_params(
          "INSERT INTO async_invocations (request_id, function_name, qualifier, payload, "
          "attempts, throttle_count, enqueued_at, due_at) VALUES ($1, $2, $3, $4, $5, $6, "
          "to_timestamp($7), to_timestamp($8)) ON CONFLICT (request_id) DO NOTHING",
          event.request_id, event.function_name, event.qualifier, event.payload, event.attempts,
          event.throttle_count, Epoch(event.enqueued_at), Epoch(event.due));
    } else {
      tx.exec_params(
          "UPDATE async_invocations SET attempts = $3, throttle_count = $4, due_at = "
          "to_timestamp($5), lease_owner = NULL, lease_until = NULL WHERE request_id = $1 AND "
          "generation = $2",
          event.request_id, event.claim, event.attempts, event.throttle_count, Epoch(event.due));
    }
  });
  std::lock_guard lock(impl_->mu);
  impl_->quiet_until = {};
}

std::optional<invoker::QueuedEvent> PgEventQueue::PopDue(
    invoker::AsyncClock::time_point now, std::optional<invoker::AsyncClock::time_point>* next_due) {
  next_due->reset();
  if (!impl_->started) return std::nullopt;
  {
    std::lock_guard lock(impl_->mu);
    if (std::chrono::steady_clock::now() < impl_->quiet_until) return std::nullopt;
  }
  std::optional<invoker::QueuedEvent> event;
  try {
    event = impl_->pool->Transact([&](pqxx::work& tx) -> std::optional<invoker::QueuedEvent> {
      const pqxx::result rows = tx.exec_params(
          "WITH next AS (SELECT request_id FROM async_invocations WHERE (lease_owner IS NULL AND "
          "due_at <= to_timestamp($1)) OR (lease_owner IS NOT NULL AND lease_until < now()) "
          "ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED) "
          "UPDATE async_invocations a SET lease_owner = $2, lease_until = now() + $3 * "
          "interval '1 millisecond', generation = a.generation + 1 FROM next WHERE "
          "a.request_id = next.request_id RETURNING a.request_id, a.function_name, a.qualifier, "
          "a.payload, a.attempts, a.throttle_count, extract(epoch from a.enqueued_at)::float8, "
          "extract(epoch from a.due_at)::float8, a.generation",
          Epoch(now), node_id_, static_cast<int64_t>(impl_->lease.count()));
      if (rows.empty()) return std::nullopt;
      const auto& row = rows[0];
      invoker::QueuedEvent e;
      e.request_id = row[0].as<std::string>();
      e.function_name = row[1].as<std::string>();
      e.qualifier = row[2].as<std::string>();
      e.payload = row[3].as<std::string>();
      e.attempts = row[4].as<int>();
      e.throttle_count = row[5].as<int>();
      e.enqueued_at = FromEpoch(row[6].as<double>());
      e.due = FromEpoch(row[7].as<double>());
      e.claim = row[8].as<int64_t>();
      return e;
    });
  } catch (const std::exception& e) {
    spdlog::warn("async queue: cannot claim an event node={}: {}", node_id_, e.what());
  }
  if (!event) {
    std::lock_guard lock(impl_->mu);
    impl_->quiet_until = std::chrono::steady_clock::now() + kIdlePoll;
  }
  return event;
}

std::size_t PgEventQueue::Size() const {
  return impl_->pool->Transact([&](pqxx::work& tx) {
    return tx.exec("SELECT count(*) FROM async_invocations")[0][0].as<std::size_t>();
  });
}

void PgEventQueue::Done(const invoker::QueuedEvent& event) {
  impl_->pool->Transact([&](pqxx::work& tx) {
    tx.exec_params("DELETE FROM async_invocations WHERE request_id = $1 AND generation = $2",
                   event.request_id, event.claim);
  });
}

void PgEventQueue::AddDeadLetter(const DeadLetterRow& row) {
  impl_->pool->Transact([&](pqxx::work& tx) {
    tx.exec_params(
        "INSERT INTO dead_letters (request_id, function_name, destination, record) VALUES ($1, "
        "$2, $3, $4)",
        row.request_id, row.function_name, row.destination, row.record);
  });
}

std::vector<DeadLetterRow> PgEventQueue::DeadLetters(const std::string& function_name) const {
  return impl_->pool->Transact([&](pqxx::work& tx) {
    std::vector<DeadLetterRow> out;
    for (const auto& row : tx.exec_params(
             "SELECT request_id, function_name, destination, record FROM dead_letters WHERE "
             "function_name = $1 ORDER BY dead_letter_id",
             function_name)) {
      out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                     row[3].as<std::string>()});
    }
    return out;
  });
}

}  // namespace switchyard::orchestrator::store
