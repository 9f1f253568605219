// A function's layers at /opt, as Lambda shows them: a private, read-only bind mount in a mount
// namespace of the runtime process's own; and the environment-variable fallback without one.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <filesystem>
#include <string>

#include "invoker_test_util.hpp"
#include "opt_mount.hpp"
#include "switchyard/invoker/invoker.hpp"

namespace switchyard::invoker {
namespace {

using testing::MakeFunction;
using testing::MakeTempDir;
using testing::WriteFile;

// Reads a file and imports modules through /opt (or the fallback's paths), runs a program from
// the layer's bin/, and tries to write under the layers.
constexpr const char* kHandler =
    "import os, subprocess, greeting, sitemod\n"
    "def handler(event, context):\n"
    "    root = os.environ.get('SWITCHYARD_LAYERS_DIR', '')\n"
    "    out = {'word': greeting.WORD, 'site': sitemod.WHERE, 'root': root,\n"
    "           'greeting_file': greeting.__file__,\n"
    "           'pythonpath': os.environ.get('PYTHONPATH', ''),\n"
    "           'path': os.environ.get('PATH', ''),\n"
    "           'ld': os.environ.get('LD_LIBRARY_PATH', ''),\n"
    "           'node': os.environ.get('NODE_PATH', '')}\n"
    "    with open(root + '/data.txt') as f:\n"
    "        out['data'] = f.read()\n"
    "    out['opt_data'] = os.path.exists('/opt/data.txt')\n"
    "    out['tool'] = subprocess.run(['layer-tool'], capture_output=True, text=True).stdout\n"
    "    for target in [root + '/new.txt', root + '/data.txt']:\n"
    "        try:\n"
    "            with open(target, 'a') as f:\n"
    "                f.write('x')\n"
    "            out.setdefault('writes', []).append('ok')\n"
    "        except OSError as e:\n"
    "            out.setdefault('writes', []).append(os.strerror(e.errno))\n"
    "    return out\n";

std::string Str(const rapidjson::Value& object, const char* key) {
  auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsString()) return "<missing>";
  return it->value.GetString();
}

class OptLayersTest : public ::testing::Test {
 protected:
  OptLayersTest() : root_(MakeTempDir()) {
    // What the orchestrator's merge makes of a function's layers (later ones already applied).
    layers_ = root_ + "/merged";
    WriteFile(layers_ + "/python/greeting.py", "WORD = 'from the layer'\n");
    WriteFile(layers_ + "/python/lib/python3.11/site-packages/sitemod.py", "WHERE = 'site'\n");
    WriteFile(layers_ + "/nodejs/node18/node_modules/x.js", "");
    WriteFile(layers_ + "/data.txt", "layer data");
    WriteFile(layers_ + "/bin/layer-tool", "#!/bin/sh\necho tool ran\n", true);
  }
  ~OptLayersTest() override {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }

  // Cold-starts `count` functions on the layers, one after the other: with memory cgroups the
  // first ones exec in waiting stems (stem_pool.hpp), later ones may be spawned directly; each
  // way must mount /opt. Returns the last answer after checking that all agree.
  rapidjson::Document Run(bool at_opt, int count = 1) {
    InvokerOptions options;
    options.layers_at_opt = at_opt;
    Invoker invoker(std::move(options));
    std::string first;
    rapidjson::Document doc;
    for (int i = 0; i < count; ++i) {
      const std::string name = "layered" + std::to_string(i);
      FunctionConfig config =
          MakeFunction(root_, name, "python3.11", "app.handler", {{"app.py", kHandler}}, 10);
      config.layers_dir = layers_;
      EXPECT_EQ(invoker.RegisterFunction(config), "");
      InvokeRequest request;
      request.function_name = name;
      request.payload = "{}";
      const InvokeResult result = invoker.Invoke(request);
      doc.Parse(result.payload.c_str(), result.payload.size());
      EXPECT_TRUE(doc.IsObject() && result.function_error.empty()) << result.payload;
      if (i == 0) first = result.payload;
      EXPECT_EQ(result.payload, first) << "function " << i;
    }
    return doc;
  }

  std::string root_;
  std::string layers_;
};

TEST_F(OptLayersTest, LayersAreMountedReadOnlyAtOptInTheFunctionsOwnNamespace) {
  if (OptMountMode(layers_).empty()) {
    GTEST_SKIP() << "this host allows neither mount nor user namespaces";
  }
  const bool host_had_data = std::filesystem::exists("/opt/data.txt");
  rapidjson::Document doc = Run(true, 4);
  ASSERT_TRUE(doc.IsObject());
  EXPECT_EQ(Str(doc, "root"), "/opt");
  EXPECT_EQ(Str(doc, "data"), "layer data");
  EXPECT_EQ(Str(doc, "word"), "from the layer");
  EXPECT_EQ(Str(doc, "greeting_file"), "/opt/python/greeting.py");
  EXPECT_EQ(Str(doc, "site"), "site");
  EXPECT_EQ(Str(doc, "tool"), "tool ran\n");
  EXPECT_TRUE(doc["opt_data"].GetBool());
  // Lambda's variables, pointing into /opt.
  EXPECT_EQ(Str(doc, "pythonpath"), "/opt/python/lib/python3.11/site-packages:/opt/python");
  EXPECT_EQ(Str(doc, "node"), "/opt/nodejs/node18/node_modules:/opt/nodejs/node_modules");
  EXPECT_EQ(Str(doc, "path"), "/usr/local/bin:/usr/bin/:/bin:/opt/bin");
  EXPECT_EQ(Str(doc, "ld"), "/usr/local/lib:/usr/lib:/lib:/opt/lib");
  // Read-only even for root: neither a new file nor an existing one can be written.
  ASSERT_TRUE(doc["writes"].IsArray());
  EXPECT_EQ(std::string(doc["writes"][0].GetString()), "Read-only file system");
  EXPECT_EQ(std::string(doc["writes"][1].GetString()), "Read-only file system");
  // Nothing leaked: the host's /opt is as it was, and the layer's files are unchanged.
  EXPECT_EQ(std::filesystem::exists("/opt/data.txt"), host_had_data);
  EXPECT_FALSE(std::filesystem::exists(layers_ + "/new.txt"));
  EXPECT_EQ(std::filesystem::file_size(layers_ + "/data.txt"), 10u);
}

TEST_F(OptLayersTest, WithoutANamespaceTheVariablesPointAtTheMergedDirectory) {
  rapidjson::Document doc = Run(false);
  ASSERT_TRUE(doc.IsObject());
  EXPECT_EQ(Str(doc, "root"), layers_);
  EXPECT_EQ(Str(doc, "data"), "layer data");
  EXPECT_EQ(Str(doc, "word"), "from the layer");
  EXPECT_EQ(Str(doc, "greeting_file"), layers_ + "/python/greeting.py");
  EXPECT_EQ(Str(doc, "site"), "site");
  EXPECT_EQ(Str(doc, "tool"), "tool ran\n");
  EXPECT_EQ(Str(doc, "pythonpath"),
            layers_ + "/python/lib/python3.11/site-packages:" + layers_ + "/python");
  EXPECT_EQ(Str(doc, "node"),
            layers_ + "/nodejs/node18/node_modules:" + layers_ + "/nodejs/node_modules");
}

}  // namespace
}  // namespace switchyard::invoker
