#include "switchyard/invoker/function_config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "invoker_test_util.hpp"

namespace switchyard::invoker {
namespace {

using testing::MakeTempDir;
using testing::WriteFile;

FunctionConfig Valid() {
  FunctionConfig config;
  config.function_name = "hello";
  config.runtime = "python3.12";
  config.handler = "handler.handler";
  return config;
}

TEST(CheckFunctionConfigTest, AcceptsLambdaRanges) {
  FunctionConfig config = Valid();
  config.memory_size_mb = 10240;
  config.timeout_seconds = 900;
  EXPECT_EQ(CheckFunctionConfig(config), "");
}

TEST(CheckFunctionConfigTest, RejectsOutOfRangeValues) {
  FunctionConfig config = Valid();
  config.memory_size_mb = 127;
  EXPECT_EQ(CheckFunctionConfig(config), "MemorySize must be between 128 and 10240 MB");
  config = Valid();
  config.timeout_seconds = 901;
  EXPECT_EQ(CheckFunctionConfig(config), "Timeout must be between 1 and 900 seconds");
  config = Valid();
  config.timeout_seconds = 0;
  EXPECT_EQ(CheckFunctionConfig(config), "Timeout must be between 1 and 900 seconds");
  config = Valid();
  config.reserved_concurrency = -1;
  EXPECT_EQ(CheckFunctionConfig(config), "ReservedConcurrentExecutions must be at least 0");
}

TEST(CheckFunctionConfigTest, RejectsBadNamesRuntimesAndHandlers) {
  FunctionConfig config = Valid();
  config.function_name = "has space";
  EXPECT_EQ(CheckFunctionConfig(config),
            "FunctionName 'has space' must be 1-64 characters of [a-zA-Z0-9-_]");
  config = Valid();
  config.runtime = "cobol";
  EXPECT_EQ(CheckFunctionConfig(config),
            "Runtime 'cobol' is not supported (python3.x, nodejs*, provided*, native, http)");
  config = Valid();
  config.handler = "";
  EXPECT_EQ(CheckFunctionConfig(config), "Handler is required for python3.12");
  config.runtime = "provided.al2023";
  EXPECT_EQ(CheckFunctionConfig(config), "");
}

TEST(CheckFunctionConfigTest, EnforcesEnvironmentRules) {
  FunctionConfig config = Valid();
  config.environment["AWS_REGION"] = "x";
  EXPECT_EQ(CheckFunctionConfig(config), "Environment variable 'AWS_REGION' is reserved");
  config = Valid();
  config.environment["1BAD"] = "x";
  EXPECT_EQ(CheckFunctionConfig(config),
            "Environment variable name '1BAD' must match [a-zA-Z][a-zA-Z0-9_]*");
  config = Valid();
  config.environment["BIG"] = std::string(4094, 'x');  // 3 + 4094 > 4096
  EXPECT_EQ(CheckFunctionConfig(config), "Environment variables exceed 4 KB");
  config.environment["BIG"] = std::string(4093, 'x');
  EXPECT_EQ(CheckFunctionConfig(config), "");
}

TEST(LoadFunctionConfigTest, ReadsFunctionJsonWithDefaults) {
  const std::string root = MakeTempDir();
  WriteFile(root + "/greeter/function.json",
            R"({"Runtime":"python3.11","Handler":"app.main","MemorySize":256,)"
            R"("Environment":{"Variables":{"A":"1","B":"two"}},"Description":"d",)"
            R"("ReservedConcurrentExecutions":4})");
  std::string error;
  auto config = LoadFunctionConfig(root + "/greeter", &error);
  ASSERT_TRUE(config) << error;
  EXPECT_EQ(config->function_name, "greeter");
  EXPECT_EQ(config->code_dir, root + "/greeter");
  EXPECT_EQ(config->runtime, "python3.11");
  EXPECT_EQ(config->handler, "app.main");
  EXPECT_EQ(config->memory_size_mb, 256);
  EXPECT_EQ(config->timeout_seconds, 3);
  EXPECT_EQ(config->environment.at("B"), "two");
  EXPECT_EQ(config->description, "d");
  EXPECT_EQ(config->reserved_concurrency, 4);
}

TEST(LoadFunctionConfigTest, ReportsTheFileAndField) {
  const std::string root = MakeTempDir();
  WriteFile(root + "/f/function.json", R"({"Runtime":"python3.11","Handler":"a.b","Timeout":"3"})");
  std::string error;
  EXPECT_FALSE(LoadFunctionConfig(root + "/f", &error));
  EXPECT_EQ(error, root + "/f/function.json: \"Timeout\" must be an integer");
  WriteFile(root + "/g/function.json",
            R"({"Runtime":"python3.11","Handler":"a.b","Timeout":1000})");
  EXPECT_FALSE(LoadFunctionConfig(root + "/g", &error));
  EXPECT_EQ(error, root + "/g/function.json: Timeout must be between 1 and 900 seconds");
  EXPECT_FALSE(LoadFunctionConfig(root + "/missing", &error));
  EXPECT_EQ(error, root + "/missing/function.json: cannot be read");
}

TEST(LoadFunctionsDirectoryTest, LoadsEveryFolderAndReportsBrokenOnes) {
  const std::string root = MakeTempDir();
  WriteFile(root + "/b/function.json", R"({"Runtime":"nodejs20.x","Handler":"index.handler"})");
  WriteFile(root + "/a/function.json", R"({"Runtime":"provided"})");
  WriteFile(root + "/c/function.json", R"({"Runtime":"python3.11"})");
  WriteFile(root + "/not-a-function/readme.txt", "x");
  std::vector<std::string> errors;
  auto configs = LoadFunctionsDirectory(root, &errors);
  ASSERT_EQ(configs.size(), 2u);
  EXPECT_EQ(configs[0].function_name, "a");
  EXPECT_EQ(configs[1].function_name, "b");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "c: " + root + "/c/function.json: Handler is required for python3.11");
}

TEST(LoadFunctionsDirectoryTest, LoadsTheExamples) {
  std::vector<std::string> errors;
  auto configs = LoadFunctionsDirectory(SWITCHYARD_SOURCE_DIR "/examples/functions", &errors);
  EXPECT_TRUE(errors.empty()) << errors.front();
  std::vector<std::string> names;
  names.reserve(configs.size());
  for (const auto& config : configs) names.push_back(config.function_name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"flaky", "hello", "hello-node", "hello-shell", "slow"}));
}

TEST(UnpackZipTest, UnpacksFunctionZipKeepingTheExecutableBit) {
  const std::string root = MakeTempDir();
  WriteFile(root + "/zipped/function.json", R"({"Runtime":"provided"})");
  const std::string script =
      "import zipfile,sys\n"
      "z=zipfile.ZipFile(sys.argv[1],'w')\n"
      "i=zipfile.ZipInfo('bootstrap'); i.external_attr=(0o100755<<16)\n"
      "z.writestr(i,'#!/bin/sh\\necho hi\\n')\n"
      "z.writestr('lib/data.txt','payload')\n"
      "z.close()\n";
  WriteFile(root + "/make_zip.py", script);
  ASSERT_EQ(
      std::system(
          ("/usr/bin/python3 " + root + "/make_zip.py " + root + "/zipped/function.zip").c_str()),
      0);
  std::string error;
  auto config = LoadFunctionConfig(root + "/zipped", &error, root + "/unpacked");
  ASSERT_TRUE(config) << error;
  EXPECT_EQ(config->code_dir, root + "/unpacked/zipped");
  EXPECT_EQ(config->unpacked_root, "");  // the caller's own folder: not ours to remove
  namespace fs = std::filesystem;
  const auto perms = fs::status(config->code_dir + "/bootstrap").permissions();
  EXPECT_NE(perms & fs::perms::owner_exec, fs::perms::none);
  std::ifstream data(config->code_dir + "/lib/data.txt");
  std::string text;
  std::getline(data, text);
  EXPECT_EQ(text, "payload");
}

TEST(UnpackZipTest, RejectsEntriesThatEscape) {
  const std::string root = MakeTempDir();
  WriteFile(root + "/make_zip.py",
            "import zipfile,sys\nz=zipfile.ZipFile(sys.argv[1],'w')\n"
            "z.writestr('../evil.txt','x')\nz.close()\n");
  ASSERT_EQ(std::system(("/usr/bin/python3 " + root + "/make_zip.py " + root + "/bad.zip").c_str()),
            0);
  EXPECT_EQ(UnpackZip(root + "/bad.zip", root + "/out"),
            root + "/bad.zip: entry '../evil.txt' escapes the code directory");
  EXPECT_FALSE(std::filesystem::exists(root + "/evil.txt"));
}

// Without an unpack root the zip goes into a temporary directory of its own, recorded in
// unpacked_root; when the config then fails to load, that directory is removed at once.
TEST(UnpackZipTest, TemporaryUnpackDirectoryIsRecordedAndRemovedOnFailure) {
  namespace fs = std::filesystem;
  const std::string root = MakeTempDir();
  const std::string tmp = root + "/tmp";
  fs::create_directories(tmp);
  ASSERT_EQ(setenv("TMPDIR", tmp.c_str(), 1), 0);  // where LoadFunctionConfig's mkdtemp goes
  WriteFile(root + "/make_zip.py",
            "import zipfile,sys\nz=zipfile.ZipFile(sys.argv[1],'w')\n"
            "z.writestr('app.py','def handler(e, c):\\n    return e\\n')\nz.close()\n");
  WriteFile(root + "/good/function.json", R"({"Runtime":"python3.12","Handler":"app.handler"})");
  WriteFile(root + "/bad/function.json", R"({"Runtime":"python3.12"})");  // no Handler
  for (const char* name : {"good", "bad"}) {
    ASSERT_EQ(std::system(("/usr/bin/python3 " + root + "/make_zip.py " + root + "/" + name +
                           "/function.zip")
                              .c_str()),
              0);
  }

  std::string error;
  auto good = LoadFunctionConfig(root + "/good", &error);
  ASSERT_TRUE(good) << error;
  ASSERT_FALSE(good->unpacked_root.empty());
  EXPECT_EQ(fs::path(good->unpacked_root).parent_path(), fs::path(tmp));
  EXPECT_EQ(good->code_dir, good->unpacked_root + "/good");
  EXPECT_TRUE(fs::exists(good->code_dir + "/app.py"));

  EXPECT_FALSE(LoadFunctionConfig(root + "/bad", &error));
  EXPECT_EQ(error, root + "/bad/function.json: Handler is required for python3.12");
  std::vector<fs::path> left;
  for (const auto& entry : fs::directory_iterator(tmp)) left.push_back(entry.path());
  EXPECT_EQ(left, std::vector<fs::path>{fs::path(good->unpacked_root)});

  FunctionConfig config = *good;
  RemoveUnpackedCode(&config);
  EXPECT_EQ(config.unpacked_root, "");
  EXPECT_FALSE(fs::exists(good->unpacked_root));
  unsetenv("TMPDIR");
  fs::remove_all(root);
}

}  // namespace
}  // namespace switchyard::invoker
