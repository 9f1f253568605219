#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "switchyard/orchestrator/cli.hpp"

namespace switchyard::orchestrator {

std::optional<std::string> ReadTextFile(const std::string& path, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<std::string> {
    if (error != nullptr) *error = path + ": " + why;
    return std::nullopt;
  };
  if (path == "-") {
    std::ostringstream buffer;
    buffer << std::cin.rdbuf();
    return buffer.str();
  }
  // A directory opens as a stream on Linux and then fails on the first read (with an exception
  // from libstdc++'s filebuf): refuse it by name first.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return fail(std::strerror(EISDIR));
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(std::strerror(errno));
  std::string text;
  try {
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } catch (const std::exception&) {
    return fail("read error");
  }
  if (in.bad()) return fail("read error");
  return text;
}

}  // namespace switchyard::orchestrator
