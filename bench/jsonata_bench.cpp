// Switchyard's side of bench/run_jsonata_bench: compiles each case's expression once (as the
// execution core does when it loads a definition), then answers one line per command on stdin:
//   check NAME            -> "result JSON" | "result undefined" | "error CODE message"
//   round NAME SECONDS    -> evaluates NAME's expression on its input until SECONDS have passed
//                            (checking the clock every batch), then "done COUNT ELAPSED_SECONDS"
//   quit
// Usage: jsonata_bench CASES.json  (as written by bench/run_jsonata_bench).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <variant>

#include "switchyard/asl/json.hpp"
#include "switchyard/asl/jsonata_eval.hpp"

using namespace switchyard::asl;

namespace {

struct Case {
  JsonataExpression expr;
  Json input;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: jsonata_bench CASES.json\n");
    return 2;
  }
  std::ifstream file(argv[1]);
  std::stringstream text;
  text << file.rdbuf();
  std::string error;
  auto doc = ParseJson(text.str(), &error);
  if (!doc || !doc->IsObject() || JsonFind(*doc, "cases") == nullptr) {
    std::fprintf(stderr, "jsonata_bench: bad cases file: %s\n", error.c_str());
    return 2;
  }
  std::map<std::string, Case> cases;
  for (auto& c : JsonFind(*doc, "cases")->GetArray()) {
    const std::string name(JsonView(*JsonFind(c, "name")));
    auto compiled = JsonataExpression::Compile(JsonView(*JsonFind(c, "expr")));
    if (auto* syntax = std::get_if<JsonataSyntaxError>(&compiled)) {
      std::fprintf(stderr, "jsonata_bench: %s does not compile: %s\n", name.c_str(),
                   syntax->message.c_str());
      return 2;
    }
    cases.emplace(name, Case{std::get<JsonataExpression>(std::move(compiled)),
                             CopyJson(*JsonFind(c, "input"))});
  }
  const JsonataOptions options;
  const JsonataBindings bindings;
  std::cout << "ready" << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream words(line);
    std::string cmd, name;
    double seconds = 0;
    words >> cmd >> name >> seconds;
    if (cmd == "quit") break;
    auto it = cases.find(name);
    if (it == cases.end()) {
      std::cout << "error unknown-case " << name << std::endl;
      continue;
    }
    const Case& c = it->second;
    if (cmd == "check") {
      auto result = c.expr.Evaluate(&c.input, bindings, options);
      if (!result.ok()) {
        std::cout << "error " << result.error().code << " " << result.error().message << std::endl;
      } else if (!result.value()) {
        std::cout << "result undefined" << std::endl;
      } else {
        std::cout << "result " << DumpJson(*result.value()) << std::endl;
      }
    } else if (cmd == "round") {
      using Clock = std::chrono::steady_clock;
      uint64_t count = 0;
      uint64_t batch = 1;
      const auto start = Clock::now();
      double elapsed = 0;
      bool failed = false;
      while (elapsed < seconds) {
        for (uint64_t i = 0; i < batch; ++i) {
          auto result = c.expr.Evaluate(&c.input, bindings, options);
          failed = failed || !result.ok();
        }
        count += batch;
        if (batch < 64) batch *= 2;
        elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      }
      if (failed) {
        std::cout << "error evaluation-failed " << name << std::endl;
      } else {
        std::cout << "done " << count << " " << elapsed << std::endl;
      }
    }
  }
  return 0;
}
