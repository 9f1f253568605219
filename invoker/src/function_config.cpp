#include "switchyard/invoker/function_config.hpp"

namespace switchyard::invoker {

std::string CheckFunctionConfig(const FunctionConfig& config) {
  if (config.memory_size_mb < 128 || config.memory_size_mb > 10240) {
    return "MemorySize must be between 128 and 10240 MB";
  }
  if (config.timeout_seconds < 1 || config.timeout_seconds > 900) {
    return "Timeout must be between 1 and 900 seconds";
  }
  std::size_t env_bytes = 0;
  for (const auto& [key, value] : config.environment) env_bytes += key.size() + value.size();
  if (env_bytes > 4096) return "Environment variables exceed 4 KB";
  return {};
}

}  // namespace switchyard::invoker
