#pragma once
// A function's configuration, as Lambda names its fields. The runtimes and the environment pool
// that use it arrive with the function invoker (issue 4).
#include <cstdint>
#include <map>
#include <string>

namespace switchyard::invoker {

struct FunctionConfig {
  std::string function_name;
  std::string runtime;   // python3.x | nodejs | provided | http | native
  std::string handler;   // "module.function"
  int64_t memory_size_mb = 128;
  int64_t timeout_seconds = 3;
  std::map<std::string, std::string> environment;
};

// Checks the ranges Lambda enforces (memory 128–10240 MB, timeout 1–900 s, environment ≤ 4 KB).
// Returns an empty string when valid, else the reason.
std::string CheckFunctionConfig(const FunctionConfig& config);

}  // namespace switchyard::invoker
