#include "switchyard/invoker/function_config.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <sys/stat.h>
#include <zip.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace switchyard::invoker {

namespace fs = std::filesystem;

namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// Lambda refuses customer variables with these names (configuration-envvars, "reserved").
const std::set<std::string>& ReservedVariables() {
  static const std::set<std::string> reserved = {"_HANDLER",
                                                 "_X_AMZN_TRACE_ID",
                                                 "AWS_DEFAULT_REGION",
                                                 "AWS_REGION",
                                                 "AWS_EXECUTION_ENV",
                                                 "AWS_LAMBDA_FUNCTION_NAME",
                                                 "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                                                 "AWS_LAMBDA_FUNCTION_VERSION",
                                                 "AWS_LAMBDA_INITIALIZATION_TYPE",
                                                 "AWS_LAMBDA_LOG_GROUP_NAME",
                                                 "AWS_LAMBDA_LOG_STREAM_NAME",
                                                 "AWS_ACCESS_KEY",
                                                 "AWS_ACCESS_KEY_ID",
                                                 "AWS_SECRET_ACCESS_KEY",
                                                 "AWS_SESSION_TOKEN",
                                                 "AWS_LAMBDA_RUNTIME_API",
                                                 "LAMBDA_TASK_ROOT",
                                                 "LAMBDA_RUNTIME_DIR"};
  return reserved;
}

bool KnownRuntime(const std::string& runtime) {
  return runtime.rfind("python3", 0) == 0 || runtime.rfind("nodejs", 0) == 0 ||
         runtime.rfind("provided", 0) == 0 || runtime == "native" || runtime == "http";
}

std::string ReadFile(const fs::path& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = path.string() + ": cannot be read";
    return {};
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::string CheckFunctionConfig(const FunctionConfig& config) {
  const std::string& name = config.function_name;
  if (name.empty() || name.size() > 64 || !std::all_of(name.begin(), name.end(), IsNameChar)) {
    return "FunctionName '" + name + "' must be 1-64 characters of [a-zA-Z0-9-_]";
  }
  if (!KnownRuntime(config.runtime)) {
    return "Runtime '" + config.runtime +
           "' is not supported (python3.x, nodejs*, provided*, native, http)";
  }
  const bool needs_handler =
      config.runtime.rfind("python3", 0) == 0 || config.runtime.rfind("nodejs", 0) == 0;
  if (needs_handler && config.handler.empty()) return "Handler is required for " + config.runtime;
  if (config.handler.size() > 128 ||
      std::any_of(config.handler.begin(), config.handler.end(),
                  [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; })) {
    return "Handler must be at most 128 characters without whitespace";
  }
  if (config.runtime == "http" && config.url.empty()) return "Url is required for runtime http";
  if (config.memory_size_mb < kMinMemoryMb || config.memory_size_mb > kMaxMemoryMb) {
    return "MemorySize must be between 128 and 10240 MB";
  }
  if (config.timeout_seconds < 1 || config.timeout_seconds > kMaxTimeoutSeconds) {
    return "Timeout must be between 1 and 900 seconds";
  }
  if (config.reserved_concurrency && *config.reserved_concurrency < 0) {
    return "ReservedConcurrentExecutions must be at least 0";
  }
  std::size_t env_bytes = 0;
  for (const auto& [key, value] : config.environment) {
    if (key.empty() || !std::isalpha(static_cast<unsigned char>(key[0])) ||
        !std::all_of(key.begin(), key.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
        })) {
      return "Environment variable name '" + key + "' must match [a-zA-Z][a-zA-Z0-9_]*";
    }
    if (ReservedVariables().count(key)) {
      return "Environment variable '" + key + "' is reserved";
    }
    env_bytes += key.size() + value.size();
  }
  if (env_bytes > kMaxEnvironmentBytes) return "Environment variables exceed 4 KB";
  return {};
}

std::string UnpackZip(const std::string& zip_path, const std::string& dest_dir) {
  int zip_error = 0;
  zip_t* archive = zip_open(zip_path.c_str(), ZIP_RDONLY, &zip_error);
  if (!archive) {
    zip_error_t err;
    zip_error_init_with_code(&err, zip_error);
    std::string reason = zip_path + ": " + zip_error_strerror(&err);
    zip_error_fini(&err);
    return reason;
  }
  std::error_code ec;
  fs::create_directories(dest_dir, ec);
  const fs::path root = fs::weakly_canonical(dest_dir);
  std::string failure;
  const zip_int64_t count = zip_get_num_entries(archive, 0);
  for (zip_int64_t i = 0; i < count && failure.empty(); ++i) {
    const auto index = static_cast<zip_uint64_t>(i);
    const char* raw_name = zip_get_name(archive, index, 0);
    if (!raw_name) continue;
    const std::string entry = raw_name;
    const fs::path target = (root / entry).lexically_normal();
    const std::string target_text = target.string();
    if (entry.empty() || entry[0] == '/' ||
        target_text.compare(0, root.string().size(), root.string()) != 0 ||
        entry.find("..") != std::string::npos) {
      failure = zip_path;
      failure += ": entry '" + entry + "' escapes the code directory";
      break;
    }
    if (entry.back() == '/') {
      fs::create_directories(target, ec);
      continue;
    }
    fs::create_directories(target.parent_path(), ec);
    zip_file_t* file = zip_fopen_index(archive, index, 0);
    if (!file) {
      failure = zip_path;
      failure += ": cannot read entry '" + entry + "'";
      break;
    }
    std::ofstream out(target, std::ios::binary | std::ios::trunc);
    char buffer[65536];
    zip_int64_t n = 0;
    while ((n = zip_fread(file, buffer, sizeof buffer)) > 0) {
      out.write(buffer, static_cast<std::streamsize>(n));
    }
    zip_fclose(file);
    if (n < 0 || !out) {
      failure = zip_path;
      failure += ": cannot unpack entry '" + entry + "'";
      break;
    }
    out.close();
    zip_uint8_t opsys = 0;
    zip_uint32_t attributes = 0;
    if (zip_file_get_external_attributes(archive, index, 0, &opsys, &attributes) == 0 &&
        opsys == ZIP_OPSYS_UNIX) {
      const auto mode = static_cast<mode_t>((attributes >> 16) & 0777);
      if (mode != 0) chmod(target.c_str(), mode);
    }
  }
  zip_discard(archive);
  return failure;
}

std::optional<FunctionConfig> LoadFunctionConfig(const std::string& dir, std::string* error,
                                                 const std::string& unpack_root) {
  std::error_code ec;
  const fs::path folder = fs::absolute(dir, ec).lexically_normal();
  const fs::path json_path = folder / "function.json";
  std::string read_error;
  const std::string text = ReadFile(json_path, &read_error);
  if (!read_error.empty()) {
    *error = read_error;
    return std::nullopt;
  }
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    *error = json_path.string() + ": not a JSON object" +
             (doc.HasParseError()
                  ? std::string(" (") + rapidjson::GetParseError_En(doc.GetParseError()) +
                        " at offset " + std::to_string(doc.GetErrorOffset()) + ")"
                  : std::string());
    return std::nullopt;
  }
  FunctionConfig config;
  std::string folder_name = folder.filename().string();
  if (folder_name.empty()) folder_name = folder.parent_path().filename().string();
  config.function_name = folder_name;
  auto bad = [&](const char* field, const char* expected) {
    *error = json_path.string() + ": \"" + field + "\" must be " + expected;
    return std::nullopt;
  };
  auto string_field = [&](const char* field, std::string* out) {
    if (!doc.HasMember(field)) return true;
    const auto& value = doc[field];
    if (!value.IsString()) return false;
    *out = std::string(value.GetString(), value.GetStringLength());
    return true;
  };
  auto int_field = [&](const char* field, int64_t* out) {
    if (!doc.HasMember(field)) return true;
    const auto& value = doc[field];
    if (!value.IsInt64()) return false;
    *out = value.GetInt64();
    return true;
  };
  std::string zip_file;
  if (!string_field("FunctionName", &config.function_name)) return bad("FunctionName", "a string");
  if (!string_field("Runtime", &config.runtime)) return bad("Runtime", "a string");
  if (!string_field("Handler", &config.handler)) return bad("Handler", "a string");
  if (!string_field("Description", &config.description)) return bad("Description", "a string");
  if (!string_field("Url", &config.url)) return bad("Url", "a string");
  if (!string_field("ZipFile", &zip_file)) return bad("ZipFile", "a string");
  if (!int_field("Timeout", &config.timeout_seconds)) return bad("Timeout", "an integer");
  if (!int_field("MemorySize", &config.memory_size_mb)) return bad("MemorySize", "an integer");
  if (doc.HasMember("ReservedConcurrentExecutions")) {
    const auto& value = doc["ReservedConcurrentExecutions"];
    if (!value.IsInt64()) return bad("ReservedConcurrentExecutions", "an integer");
    config.reserved_concurrency = value.GetInt64();
  }
  if (doc.HasMember("Environment")) {
    const auto& environment = doc["Environment"];
    if (!environment.IsObject()) return bad("Environment", "an object");
    if (environment.HasMember("Variables")) {
      const auto& vars = environment["Variables"];
      if (!vars.IsObject()) return bad("Environment.Variables", "an object");
      for (const auto& member : vars.GetObject()) {
        if (!member.value.IsString()) {
          return bad("Environment.Variables", "an object of strings");
        }
        config.environment[member.name.GetString()] =
            std::string(member.value.GetString(), member.value.GetStringLength());
      }
    }
  }
  if (config.runtime.empty()) return bad("Runtime", "set");

  config.code_dir = folder.string();
  if (zip_file.empty() && fs::exists(folder / "function.zip", ec)) zip_file = "function.zip";
  if (!zip_file.empty()) {
    std::string root = unpack_root;
    if (root.empty()) {
      std::string templ = (fs::temp_directory_path(ec) / "switchyard-fn-XXXXXX").string();
      if (!mkdtemp(templ.data())) {
        *error = json_path.string() + ": cannot create a directory to unpack " + zip_file;
        return std::nullopt;
      }
      root = templ;
      config.unpacked_root = root;
    }
    const fs::path dest = fs::path(root) / config.function_name;
    const std::string unpack_error = UnpackZip((folder / zip_file).string(), dest.string());
    if (!unpack_error.empty()) {
      *error = unpack_error;
      RemoveUnpackedCode(&config);
      return std::nullopt;
    }
    config.code_dir = dest.string();
  }

  const std::string invalid = CheckFunctionConfig(config);
  if (!invalid.empty()) {
    *error = json_path.string() + ": " + invalid;
    RemoveUnpackedCode(&config);
    return std::nullopt;
  }
  return config;
}

void RemoveUnpackedCode(FunctionConfig* config) {
  if (config->unpacked_root.empty()) return;
  std::error_code ignored;
  fs::remove_all(config->unpacked_root, ignored);
  config->unpacked_root.clear();
}

std::vector<FunctionConfig> LoadFunctionsDirectory(const std::string& dir,
                                                   std::vector<std::string>* errors) {
  std::vector<FunctionConfig> configs;
  std::error_code ec;
  std::vector<fs::path> folders;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_directory(ec) && fs::exists(entry.path() / "function.json", ec)) {
      folders.push_back(entry.path());
    }
  }
  if (ec) errors->push_back(dir + ": " + ec.message());
  std::sort(folders.begin(), folders.end());
  for (const auto& folder : folders) {
    std::string error;
    auto config = LoadFunctionConfig(folder.string(), &error);
    if (config) {
      configs.push_back(std::move(*config));
    } else {
      errors->push_back(folder.filename().string() + ": " + error);
    }
  }
  return configs;
}

}  // namespace switchyard::invoker
