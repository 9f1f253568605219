#pragma once
// Helpers for the invoker tests: temporary function folders and base64 decoding.
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "switchyard/invoker/function_config.hpp"

namespace switchyard::invoker::testing {

inline std::string MakeTempDir() {
  std::string templ = (std::filesystem::temp_directory_path() / "sy-invoker-test-XXXXXX").string();
  if (!mkdtemp(templ.data())) std::abort();
  return templ;
}

inline void WriteFile(const std::string& path, const std::string& text, bool executable = false) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  if (executable) chmod(path.c_str(), 0755);
}

// A function in a fresh folder: `files` maps file names to contents.
inline FunctionConfig MakeFunction(const std::string& root, const std::string& name,
                                   const std::string& runtime, const std::string& handler,
                                   const std::map<std::string, std::string>& files,
                                   int64_t timeout_seconds = 3) {
  FunctionConfig config;
  config.function_name = name;
  config.code_dir = root + "/" + name;
  config.runtime = runtime;
  config.handler = handler;
  config.timeout_seconds = timeout_seconds;
  for (const auto& [file, text] : files) {
    WriteFile(config.code_dir + "/" + file, text, file == "bootstrap");
  }
  return config;
}

inline std::string Base64Decode(const std::string& text) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned bits = 0;
  int count = 0;
  for (const char c : text) {
    if (c == '=') break;
    const auto pos = kAlphabet.find(c);
    if (pos == std::string::npos) continue;
    bits = (bits << 6) | static_cast<unsigned>(pos);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xff);
    }
  }
  return out;
}

}  // namespace switchyard::invoker::testing
