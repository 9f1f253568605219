#include "api/function_registry.hpp"

namespace switchyard::orchestrator::api {

std::optional<FunctionRecord> InMemoryFunctionRegistry::Get(
    const std::string& function_name) const {
  std::lock_guard lock(mu_);
  const auto it = functions_.find(function_name);
  if (it == functions_.end()) return std::nullopt;
  return it->second;
}

std::vector<FunctionRecord> InMemoryFunctionRegistry::List() const {
  std::lock_guard lock(mu_);
  std::vector<FunctionRecord> out;
  out.reserve(functions_.size());
  for (const auto& [name, record] : functions_) out.push_back(record);
  return out;
}

void InMemoryFunctionRegistry::Put(const FunctionRecord& record) {
  std::lock_guard lock(mu_);
  FunctionRecord& stored = functions_[record.latest.config.function_name];
  stored = record;
  ++stored.serial;
}

bool InMemoryFunctionRegistry::Remove(const std::string& function_name) {
  std::lock_guard lock(mu_);
  return functions_.erase(function_name) > 0;
}

}  // namespace switchyard::orchestrator::api
