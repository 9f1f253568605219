// Versions, aliases, tags and TestState on a real PostgreSQL: the store (version_store) and the
// engine's contract over it.
#include <gtest/gtest.h>

#include <chrono>
#include <pqxx/pqxx>
#include <set>
#include <string>

#include "pg_fixture.hpp"
#include "store/migrate.hpp"
#include "store/version_store.hpp"
#include "switchyard/orchestrator/engine.hpp"

namespace switchyard::orchestrator {
namespace {

using std::chrono::milliseconds;

constexpr const char* kPrefix = "arn:aws:states:us-east-1:000000000000:stateMachine:";

std::string PassMachine(const std::string& value) {
  return R"({"StartAt":"P","States":{"P":{"Type":"Pass","Result":")" + value + R"(","End":true}}})";
}

class VersionsPgTest : public testing::PgTest {
 protected:
  std::unique_ptr<Engine> NewEngine() {
    EngineOptions options;
    options.database_url = url();
    options.poll_interval = milliseconds(200);
    auto engine = Engine::Create(std::move(options));
    EXPECT_EQ(engine->RegisterNative("echo",
                                     [](const std::string& payload, const invoker::NativeContext&) {
                                       return invoker::NativeOutcome{payload, ""};
                                     }),
              "");
    return engine;
  }

  std::string Output(Engine& engine, const std::string& execution_arn) {
    auto done = engine.WaitForExecution(execution_arn, milliseconds(30000));
    EXPECT_TRUE(done.ok());
    EXPECT_EQ(done->status, "SUCCEEDED");
    return done->output.value_or("");
  }
};

TEST_F(VersionsPgTest, VersionNumbersGrowAndAreNeverGivenTwice) {
  auto engine = NewEngine();
  const std::string arn = std::string(kPrefix) + "m";
  ASSERT_TRUE(engine->CreateStateMachine("m", PassMachine("a")).ok());
  auto v1 = engine->PublishStateMachineVersion(arn, "", "first");
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->arn, arn + ":1");
  // The same revision: the same version (idempotent).
  EXPECT_EQ(engine->PublishStateMachineVersion(arn, "", "")->arn, arn + ":1");
  auto updated = engine->UpdateStateMachine(arn, PassMachine("b"));
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(engine->PublishStateMachineVersion(arn, "stale", "").error().error,
            "ConflictException");
  EXPECT_EQ(engine->PublishStateMachineVersion(arn, updated->revision_id, "")->arn, arn + ":2");
  ASSERT_TRUE(engine->DeleteStateMachineVersion(arn + ":2").ok());
  ASSERT_TRUE(engine->UpdateStateMachine(arn, PassMachine("c")).ok());
  EXPECT_EQ(engine->PublishStateMachineVersion(arn, "", "")->arn, arn + ":3");

  // In the store: numbers, descriptions, newest first, the machine's last number.
  pqxx::connection conn(url());
  pqxx::work tx(conn);
  std::vector<store::VersionRow> rows = store::ListVersions(tx, "m", 0, 10);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].version, 3);
  EXPECT_EQ(rows[1].version, 1);
  EXPECT_EQ(rows[1].description, "first");
  EXPECT_EQ(store::ListVersions(tx, "m", 3, 10).size(), 1u);
  EXPECT_EQ(store::CountVersions(tx, "m"), 2);
  EXPECT_EQ(store::GetVersion(tx, "m", 1)->definition, PassMachine("a"));
  EXPECT_FALSE(store::GetVersion(tx, "m", 2).has_value());
  EXPECT_EQ(tx.exec1("SELECT last_version FROM state_machines WHERE name = 'm'")[0].as<int>(), 3);
}

TEST_F(VersionsPgTest, ExecutionsRunTheirVersionAfterTheMachineChanges) {
  auto engine = NewEngine();
  const std::string arn = std::string(kPrefix) + "m";
  ASSERT_TRUE(engine->CreateStateMachine("m", PassMachine("one")).ok());
  const std::string v1 = engine->PublishStateMachineVersion(arn, "", "")->arn;
  ASSERT_TRUE(engine->UpdateStateMachine(arn, PassMachine("two")).ok());
  const std::string v2 = engine->PublishStateMachineVersion(arn, "", "")->arn;
  ASSERT_TRUE(engine->UpdateStateMachine(arn, PassMachine("three")).ok());

  EXPECT_EQ(Output(*engine, engine->StartExecution(v1, "a", "{}")->execution_arn), "\"one\"");
  EXPECT_EQ(Output(*engine, engine->StartExecution(arn, "b", "{}")->execution_arn), "\"three\"");
  auto alias = engine->CreateStateMachineAlias("live", "", {{v2, 100}});
  ASSERT_TRUE(alias.ok());
  auto started = engine->StartExecution(alias->arn, "c", "{}");
  ASSERT_TRUE(started.ok());
  EXPECT_EQ(Output(*engine, started->execution_arn), "\"two\"");
  auto described = engine->DescribeExecution(started->execution_arn);
  EXPECT_EQ(described->state_machine_arn, arn);
  EXPECT_EQ(described->state_machine_version_arn.value_or(""), v2);
  EXPECT_EQ(described->state_machine_alias_arn.value_or(""), alias->arn);
  auto for_execution = engine->DescribeStateMachineForExecution(started->execution_arn);
  EXPECT_EQ(for_execution->machine.definition, PassMachine("two"));

  // A version an alias routes to stays; then weighted routing reaches both.
  EXPECT_EQ(engine->DeleteStateMachineVersion(v2).error().error, "ConflictException");
  ASSERT_TRUE(engine
                  ->UpdateStateMachineAlias(alias->arn, std::nullopt,
                                            std::vector<RoutingEntry>{{v1, 50}, {v2, 50}})
                  .ok());
  std::set<std::string> outputs;
  for (int i = 0; i < 40; ++i) {
    outputs.insert(Output(
        *engine, engine->StartExecution(alias->arn, "w" + std::to_string(i), "{}")->execution_arn));
  }
  EXPECT_EQ(outputs, (std::set<std::string>{"\"one\"", "\"two\""}));
  auto by_alias = engine->ListExecutionsPage(alias->arn, "", 100, "");
  EXPECT_EQ(by_alias->items.size(), 41u);
  auto by_v1 = engine->ListExecutionsPage(v1, "", 5, "");
  EXPECT_EQ(by_v1->items.size(), 5u);
  EXPECT_FALSE(by_v1->next_token.empty());
  EXPECT_EQ(engine->ListExecutionsPage(v1, "", 5, "nonsense").error().error, "InvalidToken");

  // Deleting the machine deletes its versions and aliases.
  ASSERT_TRUE(engine->DeleteStateMachine(arn).ok());
  pqxx::connection conn(url());
  pqxx::work tx(conn);
  EXPECT_TRUE(store::ListAliases(tx, "m").empty());
  EXPECT_EQ(store::CountVersions(tx, "m"), 0);
}

TEST_F(VersionsPgTest, StartSyncExecutionRunsAVersionOrAnAlias) {
  auto engine = NewEngine();
  const std::string arn = std::string(kPrefix) + "quick";
  ASSERT_TRUE(engine->CreateStateMachine("quick", PassMachine("one"), "EXPRESS").ok());
  const std::string v1 = engine->PublishStateMachineVersion(arn, "", "")->arn;
  ASSERT_TRUE(engine->UpdateStateMachine(arn, PassMachine("two")).ok());
  auto alias = engine->CreateStateMachineAlias("live", "", {{v1, 100}});
  ASSERT_TRUE(alias.ok());

  auto by_version = engine->StartSyncExecution(v1, "v", "{}");
  ASSERT_TRUE(by_version.ok()) << by_version.error().cause;
  EXPECT_EQ(by_version->status + " " + by_version->output.value_or(""), "SUCCEEDED \"one\"");
  EXPECT_EQ(by_version->state_machine_arn, arn);
  EXPECT_EQ(by_version->name, "v");
  auto by_alias = engine->StartSyncExecution(alias->arn, "", "{}");
  ASSERT_TRUE(by_alias.ok()) << by_alias.error().cause;
  EXPECT_EQ(by_alias->output.value_or(""), "\"one\"");
  EXPECT_NE(by_alias->execution_arn.find(":express:quick:"), std::string::npos);
  EXPECT_EQ(engine->StartSyncExecution(arn, "", "{}")->output.value_or(""), "\"two\"");

  // Errors as StartExecution's: no such version or alias, bad name, bad input.
  EXPECT_EQ(engine->StartSyncExecution(arn + ":9", "", "{}").error().error,
            "StateMachineDoesNotExist");
  EXPECT_EQ(engine->StartSyncExecution(arn + ":nope", "", "{}").error().error, "ResourceNotFound");
  EXPECT_EQ(engine->StartSyncExecution(v1, "a b", "{}").error().error, "InvalidName");
  EXPECT_EQ(engine->StartSyncExecution(v1, "", "{").error().error, "InvalidExecutionInput");
  EXPECT_EQ(engine->StartSyncExecution(v1, "", std::string(262145, ' ')).error().error,
            "ValidationException");

  // A version or alias of a Standard machine: the type is refused as for the machine.
  const std::string standard = std::string(kPrefix) + "slow";
  ASSERT_TRUE(engine->CreateStateMachine("slow", PassMachine("s")).ok());
  const std::string standard_v1 = engine->PublishStateMachineVersion(standard, "", "")->arn;
  auto standard_alias = engine->CreateStateMachineAlias("prod", "", {{standard_v1, 100}});
  ASSERT_TRUE(standard_alias.ok());
  for (const std::string& target : {standard, standard_v1, standard_alias->arn}) {
    EXPECT_EQ(engine->StartSyncExecution(target, "", "{}").error().error,
              "StateMachineTypeNotSupported")
        << target;
  }
}

TEST_F(VersionsPgTest, AliasesInTheStore) {
  store::Migrate(url());
  pqxx::connection conn(url());
  pqxx::work tx(conn);
  store::AliasRow row;
  row.state_machine_name = "m";
  row.alias = "prod";
  row.routing = R"([{"stateMachineVersionArn":"x:1","weight":100}])";
  row.description = "d";
  EXPECT_TRUE(store::InsertAlias(tx, row));
  EXPECT_FALSE(store::InsertAlias(tx, row));
  row.routing = R"([{"stateMachineVersionArn":"x:2","weight":100}])";
  row.description = "e";
  EXPECT_TRUE(store::UpdateAlias(tx, row));
  auto got = store::GetAlias(tx, "m", "prod");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->description, "e");
  EXPECT_NE(got->routing.find("x:2"), std::string::npos);
  EXPECT_TRUE(store::DeleteAlias(tx, "m", "prod"));
  EXPECT_FALSE(store::DeleteAlias(tx, "m", "prod"));
  EXPECT_FALSE(store::UpdateAlias(tx, row));

  store::PutTags(tx, "arn:a", {{"k", "v"}, {"j", "w"}});
  store::PutTags(tx, "arn:a", {{"k", "v2"}});
  store::RemoveTags(tx, "arn:a", {"j"});
  EXPECT_EQ(store::ListTags(tx, "arn:a"),
            (std::vector<std::pair<std::string, std::string>>{{"k", "v2"}}));
  store::RemoveAllTags(tx, "arn:a");
  EXPECT_TRUE(store::ListTags(tx, "arn:a").empty());
}

TEST_F(VersionsPgTest, TagsNeedAnExistingResource) {
  auto engine = NewEngine();
  const std::string arn = std::string(kPrefix) + "m";
  EXPECT_EQ(engine->TagResource(arn, {{"a", "b"}}).error().error, "ResourceNotFound");
  EXPECT_EQ(engine->TagResource("arn:nope", {{"a", "b"}}).error().error, "InvalidArn");
  ASSERT_TRUE(engine->CreateStateMachine("m", PassMachine("a")).ok());
  ASSERT_TRUE(engine->TagResource(arn, {{"a", "b"}}).ok());
  std::vector<std::pair<std::string, std::string>> many;
  for (int i = 0; i < 50; ++i) many.emplace_back("k" + std::to_string(i), "");
  EXPECT_EQ(engine->TagResource(arn, many).error().error, "TooManyTags");
  EXPECT_EQ(engine->ListTagsForResource(arn)->size(), 1u);
}

TEST_F(VersionsPgTest, TestStateInvokesTheTaskForReal) {
  auto engine = NewEngine();
  auto result = engine->TestState(
      R"({"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:echo",)"
      R"("Parameters":{"x.$":"$.a"},"ResultPath":"$.r","Next":"After"})",
      R"({"a":1})", "DEBUG", "");
  ASSERT_TRUE(result.ok()) << result.error().cause;
  EXPECT_EQ(result->status, "SUCCEEDED");
  EXPECT_EQ(result->next_state.value_or(""), "After");
  EXPECT_EQ(result->output.value_or(""), R"({"a":1,"r":{"x":1}})");
  EXPECT_EQ(result->after_parameters.value_or(""), R"({"x":1})");
  EXPECT_EQ(result->result.value_or(""), R"({"x":1})");
  EXPECT_EQ(engine->TestState(R"({"Type":"Pass"})", "{}", "LOUD", "").error().error,
            "ValidationException");
}

// TestState's newer members: stateName, mock (result / errorOutput), retrierRetryCount, and the
// errorDetails of a handled error; and the refusals of each.
TEST_F(VersionsPgTest, TestStateMocksAStateOfAWholeMachine) {
  auto engine = NewEngine();
  const std::string machine =
      R"({"StartAt":"First","States":{"First":{"Type":"Pass","Next":"Charge"},)"
      R"("Charge":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:)"
      R"(nowhere","ResultSelector":{"paid.$":"$.ok"},"ResultPath":"$.charge",)"
      R"("Retry":[{"ErrorEquals":["Busy"],"MaxAttempts":2,"IntervalSeconds":4}],)"
      R"("Catch":[{"ErrorEquals":["Nope"],"Next":"Sorry"},{"ErrorEquals":["States.ALL"],)"
      R"("Next":"Sorry"}],"Next":"Done"},"Sorry":{"Type":"Fail"},"Done":{"Type":"Succeed"}}})";
  TestStateRequest request;
  request.definition = machine;
  request.state_name = "Charge";
  request.input = R"({"order":1})";
  request.inspection_level = "DEBUG";
  request.mock_result = R"({"ok":true})";
  auto render = [](const asl::Result<TestStateResult>& r) {
    if (!r.ok()) return r.error().error + ": " + r.error().cause;
    return r->status + " next=" + r->next_state.value_or("-") + " out=" + r->output.value_or("-") +
           " err=" + r->error.value_or("-") +
           " catch=" + (r->catch_index ? std::to_string(*r->catch_index) : "-") +
           " retry=" + (r->retry_index ? std::to_string(*r->retry_index) : "-") + "@" +
           (r->retry_backoff_seconds ? std::to_string(*r->retry_backoff_seconds) : "-");
  };
  EXPECT_EQ(
      render(engine->TestState(request)),
      R"(SUCCEEDED next=Done out={"order":1,"charge":{"paid":true}} err=- catch=- retry=-@-)");
  EXPECT_EQ(engine->TestState(request)->result.value_or(""), R"({"ok":true})");

  request.mock_result.reset();
  request.mock_error = "Busy";
  request.mock_cause = "try later";
  EXPECT_EQ(render(engine->TestState(request)),
            "RETRIABLE next=- out=- err=Busy catch=- retry=0@4");
  request.retrier_retry_count = 1;
  EXPECT_EQ(render(engine->TestState(request)),
            "RETRIABLE next=- out=- err=Busy catch=- retry=0@8");
  request.retrier_retry_count = 2;  // retries exhausted: caught by States.ALL
  EXPECT_EQ(render(engine->TestState(request)),
            R"(CAUGHT_ERROR next=Sorry out={"Error":"Busy","Cause":"try later"} err=Busy )"
            "catch=1 retry=-@-");
  request.mock_error = "Nope";
  EXPECT_EQ(render(engine->TestState(request)),
            R"(CAUGHT_ERROR next=Sorry out={"Error":"Nope","Cause":"try later"} err=Nope )"
            "catch=0 retry=-@-");

  // A mocked Map: its result flows through ResultPath; the items are not run.
  TestStateRequest map;
  map.definition =
      R"({"Type":"Map","ItemsPath":"$.xs","ItemProcessor":{"StartAt":"I","States":{"I":)"
      R"({"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:nowhere",)"
      R"("End":true}}},"ResultPath":"$.ys","End":true})";
  map.input = R"({"xs":[1,2]})";
  map.mock_result = "[10,20]";
  EXPECT_EQ(render(engine->TestState(map)),
            R"(SUCCEEDED next=- out={"xs":[1,2],"ys":[10,20]} err=- catch=- retry=-@-)");

  // Refusals.
  request.mock_error.clear();
  request.state_name = "Nowhere";
  EXPECT_EQ(render(engine->TestState(request)),
            "ValidationException: State 'Nowhere' does not exist in the definition");
  request.state_name = "First";
  request.mock_result = "{}";
  EXPECT_EQ(render(engine->TestState(request)),
            "ValidationException: A mock can only be specified for Task, Map, or Parallel states");
  request.state_name = "Charge";
  request.mock_result = "{not json";
  EXPECT_EQ(engine->TestState(request).error().error, "ValidationException");
  request.mock_result = "{}";
  request.field_validation_mode = "LOOSE";
  EXPECT_EQ(engine->TestState(request).error().error, "ValidationException");
  TestStateRequest no_mock;
  no_mock.definition = R"({"Type":"Pass","End":true})";
  no_mock.context = R"({"Execution":{"Name":"x"}})";
  EXPECT_EQ(render(engine->TestState(no_mock)),
            "ValidationException: context may only be specified if a mock is specified in the "
            "same request");
  // context: the state sees the given Context object as it is ($$, $states.context), as AWS
  // records it; AWS's refusals of a context come back as ValidationException.
  TestStateRequest with_context;
  with_context.definition =
      R"({"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":)"
      R"({"Payload.$":"$"},"ResultSelector":{"ctx.$":"$$.Execution.Input","r.$":"$"},"End":true})";
  with_context.input = R"({"x":1})";
  with_context.mock_result = R"({"ok":true})";
  with_context.context = R"({"Execution":{"Input":{"given":true}},"State":{}})";
  EXPECT_EQ(render(engine->TestState(with_context)),
            R"(SUCCEEDED next=- out={"ctx":{"given":true},"r":{"ok":true}} err=- catch=- )"
            "retry=-@-");
  with_context.definition =
      R"({"Type":"Task","QueryLanguage":"JSONata","Resource":"arn:aws:states:::lambda:invoke",)"
      R"("Output":"{% $states.context %}","End":true})";
  EXPECT_EQ(render(engine->TestState(with_context)),
            R"(SUCCEEDED next=- out={"Execution":{"Input":{"given":true}},"State":{}} err=- )"
            "catch=- retry=-@-");
  with_context.context = R"({"Map":{}})";
  EXPECT_EQ(render(engine->TestState(with_context)),
            "ValidationException: Invalid Context object provided: 'Map' field is not supported "
            "when mocking a Context object");
  TestStateRequest not_a_machine;
  not_a_machine.definition = R"({"Type":"Pass","End":true})";
  not_a_machine.state_name = "P";
  EXPECT_EQ(engine->TestState(not_a_machine).error().error, "InvalidDefinition");
}

}  // namespace
}  // namespace switchyard::orchestrator
