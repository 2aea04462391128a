// The OSMO backend on the real OSMO CLI outputs in tests/fixtures/osmo/ (copied from
// NVIDIA/OSMO's skill fixtures): pool choice, status mapping, failure evidence, submit
// through a recording runner, and once end to end through a fake `osmo` script on disk.

#include <cairn/sched/command_runner.hpp>
#include <cairn/sched/names.hpp>
#include <cairn/sched/osmo.hpp>

#include "sched_fakes.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

namespace cairn::sched {
namespace {

using engine::JobKey;
using engine::JobState;
using engine::SubmitRequest;
namespace fs = std::filesystem;

const std::string kFixtures = std::string(CAIRN_SOURCE_DIR) + "/tests/fixtures/osmo/";

using testing::ok_out;
using testing::read_file;
std::string fixture(const std::string& name) {
  return read_file(kFixtures + name);
}

// The osmo CLI's answers per verb ("workflow query", "pool list", ...).
std::string osmo_verb(const std::vector<std::string>& argv) {
  return argv.size() >= 3 ? argv[1] + " " + argv[2] : argv.at(0);
}

void write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

class OsmoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = fs::temp_directory_path() / ("cairn-osmo-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(m_dir);
    fs::create_directories(m_dir);
  }
  void TearDown() override { fs::remove_all(m_dir); }

  OsmoScheduler make(OsmoConfig config = {}) {
    return OsmoScheduler(std::make_unique<testing::FakeRunner>(m_s, "tester", osmo_verb), std::move(config));
  }
  void answer(const std::string& verb, Expected<CommandResult> r) {
    m_s->answers[verb].push_back(std::move(r));
  }
  const std::vector<std::vector<std::string>>& calls() const { return m_s->calls; }

  SubmitRequest request(const std::string& run = "osmo/train.yaml") {
    SubmitRequest r;
    r.key = JobKey{"gr00t", "train", 1};
    r.campaign_dir = m_dir.string();
    r.spec.name = "train";
    r.spec.run = run;
    r.spec.backend = "osmo";
    r.spec.resources.gpus = 4;
    r.spec.resources.gpu_type = "h100";
    return r;
  }

  fs::path m_dir;
  std::shared_ptr<testing::FakeRunner::Shared> m_s = std::make_shared<testing::FakeRunner::Shared>();
};

std::vector<OsmoPool> pools() {
  return *parse_pool_list(fixture("pool_list.json"));
}
std::vector<OsmoNode> nodes() {
  return *parse_resource_list(fixture("resource_list.json"));
}

// ---- parsing -------------------------------------------------------------------------

TEST(OsmoParse, PoolListReadsEveryNodeSet) {
  auto p = pools();
  ASSERT_EQ(p.size(), 5u);
  EXPECT_EQ(p[0].name, "default");
  EXPECT_EQ(p[0].status, "OFFLINE");
  EXPECT_EQ(p[1].name, "h100-east");
  EXPECT_EQ(p[1].quota_free, 8);
  EXPECT_EQ(p[1].quota_limit, 16);
  EXPECT_EQ(p[1].total_free, 12);
  ASSERT_EQ(p[1].platforms.size(), 1u);
  EXPECT_EQ(p[1].platforms[0].first, "x86-h100");
  EXPECT_EQ(p[1].platforms[0].second, "H100 80GB");
}

TEST(OsmoParse, ResourceListReadsFreeGpusPerPoolPlatform) {
  auto n = nodes();
  ASSERT_EQ(n.size(), 6u);
  EXPECT_EQ(n[0].hostname, "osmo-iad1-h100-7e3a2");
  EXPECT_EQ(n[0].gpus, 8);
  EXPECT_EQ(n[0].free_gpus.at("h100-east").at("x86-h100"), 2);
  int best = 0;
  for (const auto& node : n) best = std::max(best, node.free_gpus.at("h100-east").at("x86-h100"));
  EXPECT_EQ(best, 4);
}

TEST(OsmoParse, NotJsonIsAnError) {
  auto p = parse_pool_list("Traceback: something broke");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().exit, ExitCode::unreachable);
}

TEST(OsmoParse, SubmitOutputTextAndJson) {
  EXPECT_EQ(parse_submit_output(fixture("submit_response.txt")).value_or(""), "gr00t-train-1");
  EXPECT_EQ(parse_submit_output(R"({"name": "hello-osmo-3", "overview": "https://x"})").value_or(""),
            "hello-osmo-3");
  EXPECT_FALSE(parse_submit_output("nothing here"));
}

TEST(OsmoParse, SubmitResponseCarriesTheLinks) {
  auto r = parse_submit_response(fixture("submit_response.txt"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, "gr00t-train-1");
  EXPECT_EQ(r->overview, "https://osmo.example.com/workflows/gr00t-train-1");
  EXPECT_EQ(r->dashboard, "https://k8s.example.com/dashboard/gr00t-train-1");
  auto j =
      parse_submit_response(R"({"name": "hello-osmo-3", "overview": "https://x/workflows/hello-osmo-3"})");
  ASSERT_TRUE(j);
  EXPECT_EQ(j->overview, "https://x/workflows/hello-osmo-3");
  EXPECT_EQ(j->dashboard, "");
}

TEST(OsmoParse, OutputsTheYamlDeclares) {
  EXPECT_EQ(workflow_outputs(fixture("workflow_spec_template.yaml")),
            (std::vector<std::string>{"s3://my-bucket/gr00t-train-1-output/"}));
  EXPECT_EQ(workflow_outputs(
                "workflow:\n  name: x\n  tasks:\n  - name: a\n    outputs:\n    - dataset: {name: "
                "trained-model}\n    - url: s3://b/x/\n  - name: b\n    outputs:\n    - url: s3://b/x/\n"),
            (std::vector<std::string>{"dataset trained-model", "s3://b/x/"}));
  EXPECT_TRUE(workflow_outputs("workflow: {name: x, tasks: [{name: a}]}").empty());
  EXPECT_TRUE(workflow_outputs("workflow: [unclosed").empty());
}

TEST(OsmoParse, ResourcesTheYamlTemplatesOrHardCodes) {
  // The fixture: gpu is "{{num_gpu}}", memory a hard-coded 256Gi.
  const auto info = inspect_workflow(fixture("workflow_spec_template.yaml"), "osmo/train.yaml");
  EXPECT_TRUE(info.owns_resources);
  EXPECT_EQ(info.file, "osmo/train.yaml");
  std::map<std::string, std::pair<std::string, std::string>> got;  // resource -> (value, variable)
  for (const auto& b : info.bindings) got[b.resource] = {b.value, b.variable};
  EXPECT_EQ(got["gpus"], (std::pair<std::string, std::string>{"{{num_gpu}}", "num_gpu"}));
  EXPECT_EQ(got["mem"], (std::pair<std::string, std::string>{"256Gi", ""}));
  EXPECT_EQ(got["cpus"], (std::pair<std::string, std::string>{"32", ""}));
  EXPECT_EQ(got["storage"], (std::pair<std::string, std::string>{"500Gi", ""}));
  EXPECT_EQ(info.bindings.front().key.rfind("resources.default.", 0), 0u);
  // A templated memory, quoted or bare as OSMO allows it.
  std::string yaml = fixture("workflow_spec_template.yaml");
  for (const std::string memory : {"\"{{memory}}\"", "{{memory}}", "{{ memory }}"}) {
    std::string variant = yaml;
    variant.replace(variant.find("256Gi"), 5, memory);
    const auto v = inspect_workflow(variant, "osmo/train.yaml");
    bool found = false;
    for (const auto& b : v.bindings) {
      if (b.resource == "mem") {
        found = true;
        EXPECT_EQ(b.variable, "memory") << memory;
      }
    }
    EXPECT_TRUE(found) << memory;
    EXPECT_EQ(v.outputs, (std::vector<std::string>{"s3://my-bucket/gr00t-train-1-output/"})) << memory;
  }
}

TEST(OsmoParse, QueryNamesThePoolAndTheOverview) {
  auto js = parse_workflow_query(fixture("workflow_query_oom.json"));
  ASSERT_TRUE(js);
  EXPECT_EQ(js->pool, "h100-east");
  EXPECT_EQ(js->link, "https://osmo.example.com/workflows/oom-train-1");
}

TEST(OsmoParse, EveryDocumentedStatusMaps) {
  const std::map<std::string, JobState> cases = {
      {"PENDING", JobState::pending},
      {"WAITING", JobState::pending},
      {"SUBMITTING", JobState::pending},
      {"PROCESSING", JobState::pending},
      {"SCHEDULING", JobState::pending},
      {"INITIALIZING", JobState::pending},
      {"RESCHEDULED", JobState::pending},
      {"RUNNING", JobState::running},
      {"COMPLETED", JobState::completed},
      {"FAILED", JobState::failed},
      {"FAILED_CANCELED", JobState::cancelled},
      {"FAILED_EXEC_TIMEOUT", JobState::timeout},
      {"FAILED_QUEUE_TIMEOUT", JobState::failed},
      {"FAILED_SERVER_ERROR", JobState::node_fail},
      {"FAILED_BACKEND_ERROR", JobState::node_fail},
      {"FAILED_IMAGE_PULL", JobState::failed},
      {"FAILED_EVICTED", JobState::failed},
      {"FAILED_PREEMPTED", JobState::preempted},
      {"FAILED_SUBMISSION", JobState::failed},
      {"FAILED_UPSTREAM", JobState::failed},
      {"FAILED_START_ERROR", JobState::failed},
      {"FAILED_START_TIMEOUT", JobState::failed},
      {"running", JobState::running},
      {"SOMETHING_NEW", JobState::unknown},
  };
  for (const auto& [text, state] : cases) EXPECT_EQ(map_osmo_status(text), state) << text;
}

TEST(OsmoParse, QueryOfOomKilledWorkflow) {
  auto js = parse_workflow_query(fixture("workflow_query_oom.json"));
  ASSERT_TRUE(js) << js.error().message;
  EXPECT_EQ(js->job_id, "oom-train-1");
  EXPECT_EQ(js->state, JobState::out_of_memory);
  EXPECT_EQ(js->exit_code, 137);
  ASSERT_EQ(js->tasks.size(), 1u);
  EXPECT_EQ(js->tasks[0].index, "train-group/train");
  EXPECT_EQ(js->tasks[0].exit_code, 137);
  EXPECT_NE(js->tasks[0].reason.find("OOMKilled"), std::string::npos);
  EXPECT_NE(js->reason.find("exit code 137 (OOMKilled)"), std::string::npos);
  ASSERT_TRUE(js->started && js->ended);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(*js->ended - *js->started).count(), 762);
  ASSERT_TRUE(js->submitted);  // queue wait for the Learnings table: submit -> start
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(*js->started - *js->submitted).count(), 90);
}

TEST(OsmoParse, QueryOfRunningWorkflow) {
  auto js = parse_workflow_query(fixture("workflow_query_single_task.json"));
  ASSERT_TRUE(js);
  EXPECT_EQ(js->state, JobState::running);
  EXPECT_FALSE(js->exit_code);
  EXPECT_FALSE(js->ended);
}

TEST(OsmoParse, CompletedWorkflowExitsZero) {
  auto text = fixture("workflow_query_single_task.json");
  for (auto pos = text.find("\"RUNNING\""); pos != std::string::npos; pos = text.find("\"RUNNING\"")) {
    text.replace(pos, 9, "\"COMPLETED\"");
  }
  auto js = parse_workflow_query(text);
  ASSERT_TRUE(js);
  EXPECT_EQ(js->state, JobState::completed);
  EXPECT_EQ(js->exit_code, 0);
  EXPECT_EQ(js->tasks.at(0).exit_code, 0);
}

TEST(OsmoParse, BlockingEvents) {
  EXPECT_NE(blocking_event(fixture("workflow_events_badimage.txt")).find("ImagePullBackOff"),
            std::string::npos);
  EXPECT_NE(blocking_event(fixture("workflow_events_private_image.txt")).find("ErrImagePull"),
            std::string::npos);
  // 32 GPUs requested, 8 per node at most: waiting never helps.
  EXPECT_NE(blocking_event(fixture("workflow_events_pending.txt")).find("max per node 8"), std::string::npos);
  EXPECT_EQ(blocking_event(fixture("workflow_events_oom.txt")), "");
  EXPECT_EQ(blocking_event("2026-05-08T17:01:05Z  Warning  FailedScheduling  0/6 nodes are available: "
                           "6 Insufficient nvidia.com/gpu (requested 4, max per node 8)."),
            "");
  EXPECT_EQ(event_warnings(fixture("workflow_events_oom.txt")).size(), 3u);
}

// ---- pool choice on the real pool list -------------------------------------------

TEST(OsmoPool, PicksTheOnlinePoolWithANodeThatFits) {
  auto c = choose_pool(pools(), nodes(), 4, "h100");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->pool, "h100-east");
  EXPECT_NE(c->reason.find("4 GPU(s) free on one node"), std::string::npos) << c->reason;
  EXPECT_NE(c->reason.find("h100-west (0 GPU(s) free in the pool < 4)"), std::string::npos) << c->reason;
  EXPECT_NE(c->reason.find("default (status OFFLINE)"), std::string::npos) << c->reason;
}

TEST(OsmoPool, TypeMatchesPlatformNameOrDescription) {
  auto c = choose_pool(pools(), nodes(), 8, "GB200");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->pool, "gb200-shared");
  EXPECT_NE(c->reason.find("unverified"), std::string::npos);  // no node of it in resource_list
  c = choose_pool(pools(), nodes(), 2, "L40S");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->pool, "l40s-batch");
}

TEST(OsmoPool, NodeVerifiedPoolsComeFirstThenQuotaHeadroom) {
  // Any type: h100-east is the only pool with node data; it wins over l40s-batch, which
  // has more quota left but unverified per-node capacity.
  auto c = choose_pool(pools(), nodes(), 2, "");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->pool, "h100-east");
  // Without node data the pool with the most quota free wins.
  c = choose_pool(pools(), {}, 2, "");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->pool, "l40s-batch");
}

TEST(OsmoPool, NoSingleNodeHasEnoughGpus) {
  auto c = choose_pool(pools(), nodes(), 8, "h100");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().exit, ExitCode::findings);
  EXPECT_NE(c.error().message.find("h100-east (at most 4 GPU(s) free on one node < 8)"), std::string::npos)
      << c.error().message;
  EXPECT_EQ(c.error().message.find("LOW"), std::string::npos);
}

TEST(OsmoPool, OnlyQuotaBlocksSuggestsLowPriority) {
  auto p = pools();
  p[1].quota_used = 14;  // h100-east: capacity for 4 on one node, but 2 of quota left
  p[1].quota_free = 2;
  auto c = choose_pool(p, nodes(), 4, "h100");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("Only quota blocks h100-east"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("priority: LOW"), std::string::npos);
  // At LOW priority the quota does not bind.
  auto low = choose_pool(p, nodes(), 4, "h100", "LOW");
  ASSERT_TRUE(low) << low.error().message;
  EXPECT_EQ(low->pool, "h100-east");
}

// ---- config --------------------------------------------------------------------------

TEST(OsmoConfigTest, FromSettings) {
  auto c = osmo_config_from({{"pool", "h100-east"}, {"priority", "low"}, {"osmo", "/opt/osmo"}});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->pool, "h100-east");
  EXPECT_EQ(c->priority, "LOW");
  EXPECT_EQ(c->osmo, "/opt/osmo");
  EXPECT_EQ(c->max_attempts, 3);
  // A refused setting is named, for its line in cairn.yaml.
  for (const char* key : {"priority", "max_attempts", "timeout_seconds"}) {
    auto bad = osmo_config_from({{key, "urgent"}});
    ASSERT_FALSE(bad) << key;
    EXPECT_EQ(bad.error().key, key);
    EXPECT_NE(bad.error().message.find("'urgent'"), std::string::npos) << bad.error().message;
  }
}

// ---- the scheduler through a recording runner --------------------------------------

TEST_F(OsmoTest, SubmitChoosesPoolPassesSetAndRecordsTheId) {
  const std::string yaml = fixture("workflow_spec_template.yaml");
  const std::string path = (m_dir / "osmo/train.yaml").string();
  write(path, yaml);
  answer("pool list", ok_out(fixture("pool_list.json")));
  answer("resource list", ok_out(fixture("resource_list.json")));
  answer("workflow submit", ok_out(fixture("submit_response.txt")));
  auto s = make();
  auto req = request();
  req.spec.set = {{"num_gpu", "4"}, {"epochs", "10"}};
  auto id = s.submit(req);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, "gr00t-train-1");
  EXPECT_EQ(read_file(path), yaml);  // byte for byte
  ASSERT_EQ(calls().size(), 3u);
  EXPECT_EQ(calls()[0], (std::vector<std::string>{"osmo", "pool", "list", "--format-type", "json"}));
  EXPECT_EQ(calls()[1], (std::vector<std::string>{"osmo", "resource", "list", "--format-type", "json"}));
  EXPECT_EQ(calls()[2],
            (std::vector<std::string>{"osmo", "workflow", "submit", path, "--pool", "h100-east", "--set",
                                      "epochs=10", "--set", "num_gpu=4", "--format-type", "json"}));
  EXPECT_NE(s.last_pool_choice().find("h100-east"), std::string::npos);
  EXPECT_EQ(read_file(OsmoScheduler::state_file(m_dir.string(), req.key)), "gr00t-train-1\n");
  // What the submit returned, for the submit commit: pool and why, links, outputs.
  const auto notes = s.submit_notes("gr00t-train-1");
  ASSERT_EQ(notes.size(), 5u);
  EXPECT_EQ(notes[0], "Pool: h100-east (chosen: " + s.last_pool_choice() + ")");
  EXPECT_EQ(notes[1], "Overview: https://osmo.example.com/workflows/gr00t-train-1");
  EXPECT_EQ(notes[2], "Dashboard: https://k8s.example.com/dashboard/gr00t-train-1");
  EXPECT_EQ(notes[3], "Outputs: s3://my-bucket/gr00t-train-1-output/");
  EXPECT_EQ(notes[4].rfind("Note: osmo/train.yaml hard-codes workflow.name gr00t-train-1: ", 0), 0u)
      << notes[4];
  EXPECT_TRUE(s.submit_notes("other-1").empty());

  // The key is found again, and a second submit adopts instead of submitting.
  auto found = s.find(req.key);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->value_or(""), "gr00t-train-1");
  auto again = make().submit(req);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, "gr00t-train-1");
  EXPECT_EQ(calls().size(), 3u);
}

// A resubmit goes to the same pool, unless that pool is gone.
TEST_F(OsmoTest, AResubmitGoesBackToTheFirstAttemptsPoolWhileItIsOnline) {
  write((m_dir / "osmo/train.yaml").string(), fixture("workflow_spec_template.yaml"));
  // h100-west is ONLINE but has no GPU free: choose_pool would never pick it; the
  // resubmit goes there all the same, and asks for no resource list.
  answer("pool list", ok_out(fixture("pool_list.json")));
  answer("workflow submit", ok_out(fixture("submit_response.txt")));
  auto s = make();
  auto req = request();
  req.key.attempt = 2;
  req.first_pool = "h100-west";
  ASSERT_TRUE(s.submit(req));
  ASSERT_EQ(calls().size(), 2u);
  EXPECT_EQ(calls()[1][5], "h100-west");
  EXPECT_EQ(s.submit_notes("gr00t-train-1").at(0),
            "Pool: h100-west (the pool of the stage's first attempt, as the failure log records it)");
}

TEST_F(OsmoTest, AResubmitWhoseFirstPoolIsOfflineOrGoneChoosesAgainAndSaysWhy) {
  write((m_dir / "osmo/train.yaml").string(), fixture("workflow_spec_template.yaml"));
  for (const auto& [first, why] : std::vector<std::pair<std::string, std::string>>{
           {"default", "the first attempt's pool default is OFFLINE; chosen: pool h100-east for "},
           {"a100-old",
            "the first attempt's pool a100-old is no longer in `osmo pool list`; chosen: pool h100-east "
            "for "}}) {
    m_s->calls.clear();
    answer("pool list", ok_out(fixture("pool_list.json")));
    answer("resource list", ok_out(fixture("resource_list.json")));
    answer("workflow submit", ok_out(fixture("submit_response.txt")));
    fs::remove_all(m_dir / ".cairn");
    auto s = make();
    auto req = request();
    req.key.attempt = 2;
    req.first_pool = first;
    ASSERT_TRUE(s.submit(req)) << first;
    ASSERT_EQ(calls().size(), 3u) << first;
    EXPECT_EQ(calls()[2][5], "h100-east") << first;
    EXPECT_EQ(s.submit_notes("gr00t-train-1").at(0).rfind("Pool: h100-east (" + why, 0), 0u)
        << s.submit_notes("gr00t-train-1").at(0);
  }
}

TEST_F(OsmoTest, StagePoolWinsAndPriorityAndLabelArePassed) {
  write((m_dir / "osmo/train.yaml").string(), fixture("workflow_spec_template.yaml"));
  answer("workflow list", ok_out(R"({"workflows": []})"));
  answer("workflow submit", ok_out(R"({"name": "gr00t-train-2"})"));
  OsmoConfig c;
  c.pool = "l40s-batch";
  c.priority = "LOW";
  c.label_key = "cairn-job";
  auto s = make(c);
  auto req = request();
  req.spec.pool = "h100-east";
  auto id = s.submit(req);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, "gr00t-train-2");
  ASSERT_EQ(calls().size(), 2u);
  EXPECT_EQ(calls()[0],
            (std::vector<std::string>{"osmo", "workflow", "list", "--label", "cairn-job=cairn.gr00t.train.1",
                                      "--count", "1", "--order", "desc", "--format-type", "json"}));
  const auto& argv = calls()[1];
  EXPECT_EQ(argv[5], "h100-east");
  EXPECT_NE(std::find(argv.begin(), argv.end(), "LOW"), argv.end());
  EXPECT_NE(std::find(argv.begin(), argv.end(), "cairn-job=cairn.gr00t.train.1"), argv.end());
}

TEST_F(OsmoTest, FindByLabel) {
  answer("workflow list", ok_out(R"({"workflows": [{"name": "gr00t-train-7", "status": "RUNNING"}]})"));
  OsmoConfig c;
  c.label_key = "cairn-job";
  auto s = make(c);
  auto found = s.find(JobKey{"gr00t", "train", 1});
  ASSERT_TRUE(found);
  EXPECT_EQ(found->value_or(""), "gr00t-train-7");
  // No label, no state file seen: OSMO is asked for the key's workflow name, and has none.
  answer("workflow list", ok_out(R"({"workflows": []})"));
  EXPECT_FALSE(*make().find(JobKey{"gr00t", "train", 1}));
}

// ---- adoption without local state ----------------------------------------------------

// The fixture's YAML with its name made a template variable, as OSMO's own templates
// write it (`name: {{workflow_name}}` with a default in `default-values:`).
std::string templated_name_yaml() {
  std::string yaml = fixture("workflow_spec_template.yaml");
  const std::string hard = "  name: gr00t-train-1\n";
  yaml.replace(yaml.find(hard), hard.size(), "  name: \"{{workflow_name}}\"\n");
  return yaml + "default-values:\n  workflow_name: gr00t-train\n";
}

// `osmo workflow list --format-type json` as the CLI prints it (json.dumps of the
// service's ListEntry rows, src/service/core/workflow/objects.py), for one workflow.
std::string workflow_list(const std::string& name, const std::string& status) {
  return R"({
  "workflows": [
    {
      "user": "user@example.com",
      "name": ")" +
         name + R"(",
      "workflow_uuid": "abc123def4567890abc123def4567890",
      "submit_time": "2026-05-05T18:00:00.000000",
      "start_time": null,
      "end_time": null,
      "queued_time": 12.0,
      "duration": null,
      "status": ")" +
         status + R"(",
      "overview": "https://osmo.example.com/workflows/)" +
         name + R"(",
      "logs": "https://osmo.example.com/api/workflow/)" +
         name + R"(/logs",
      "error_logs": null,
      "grafana_url": null,
      "dashboard_url": null,
      "pool": "h100-east",
      "app_owner": null,
      "app_name": null,
      "app_version": null,
      "priority": "NORMAL"
    }
  ]
}
)";
}

TEST(OsmoParse, TheTemplateVariableTheWorkflowNameIsMadeOf) {
  EXPECT_EQ(workflow_name_variable(templated_name_yaml()).value_or("-"), "workflow_name");
  EXPECT_EQ(workflow_name_variable("workflow:\n  name: {{ run_name }}\n  tasks: []\n").value_or("-"),
            "run_name");
  EXPECT_EQ(workflow_name_variable("workflow:\n  name: gr00t-{{run}}\n").value_or("-"), "run");
  EXPECT_FALSE(workflow_name_variable(fixture("workflow_spec_template.yaml")));  // hard-coded
  EXPECT_FALSE(workflow_name_variable("workflow:\n  name: '{{a}}-{{b}}'\n"));    // which one?
  EXPECT_FALSE(workflow_name_variable("workflow: [unclosed\n"));
}

// The YAML templates its name: cairn sets that variable to the key's OSMO name (over a
// `set:` value for it), so OSMO can be asked for the key later.
TEST_F(OsmoTest, ATemplatedWorkflowNameIsSetToTheKeysName) {
  const std::string path = (m_dir / "osmo/train.yaml").string();
  write(path, templated_name_yaml());
  auto req = request();
  req.key.repo = "a1b2c3d4";
  const std::string name = osmo_workflow_name(req.key.str());
  answer("workflow submit", ok_out(R"({"name": ")" + name + R"(-1", "overview": "https://o/w"})"));
  OsmoConfig c;
  c.pool = "h100-east";
  auto s = make(c);
  req.spec.set = {{"num_gpu", "4"}, {"workflow_name", "mine"}};
  auto id = s.submit(req);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, name + "-1");
  ASSERT_EQ(calls().size(), 1u);
  EXPECT_EQ(calls()[0], (std::vector<std::string>{"osmo", "workflow", "submit", path, "--pool", "h100-east",
                                                  "--set", "num_gpu=4", "--set", "workflow_name=" + name,
                                                  "--format-type", "json"}));
  for (const auto& note : s.submit_notes(*id)) EXPECT_EQ(note.find("hard-codes"), std::string::npos) << note;
}

// A YAML that names its workflow itself: submitted as is, and the submit commit says once
// what that costs and which key to template.
TEST_F(OsmoTest, AHardCodedWorkflowNameIsSaidInTheSubmitNotes) {
  write((m_dir / "osmo/train.yaml").string(), fixture("workflow_spec_template.yaml"));
  answer("workflow submit", ok_out(fixture("submit_response.txt")));
  OsmoConfig c;
  c.pool = "h100-east";
  auto s = make(c);
  ASSERT_TRUE(s.submit(request()));
  EXPECT_EQ(std::count(calls()[0].begin(), calls()[0].end(), "--set"), 0);
  const auto notes = s.submit_notes("gr00t-train-1");
  const auto it = std::find_if(notes.begin(), notes.end(),
                               [](const std::string& n) { return n.rfind("Note: osmo/train.yaml", 0) == 0; });
  ASSERT_NE(it, notes.end());
  EXPECT_NE(it->find("hard-codes workflow.name gr00t-train-1"), std::string::npos) << *it;
  EXPECT_NE(it->find("name: \"{{workflow_name}}\""), std::string::npos) << *it;
  EXPECT_NE(it->find(osmo_workflow_name(request().key.str())), std::string::npos) << *it;
}

// The crash window on a fresh CI runner: the submit was answered, the tick died before
// its commit, and the runner (with .cairn/) is gone. The next tick's lookup asks OSMO for
// the key's workflow name and adopts the workflow instead of submitting a second one.
TEST_F(OsmoTest, ACrashAfterSubmitIsAdoptedThroughOsmoWithoutTheStateFile) {
  write((m_dir / "osmo/train.yaml").string(), templated_name_yaml());
  auto req = request();
  req.key.repo = "a1b2c3d4";
  const std::string name = osmo_workflow_name(req.key.str());
  answer("workflow submit", ok_out(R"({"name": ")" + name + R"(-1", "overview": "https://o/w"})"));
  OsmoConfig c;
  c.pool = "h100-east";
  ASSERT_TRUE(make(c).submit(req));
  fs::remove_all(m_dir / ".cairn");  // the runner that submitted is gone

  answer("workflow list", ok_out(workflow_list(name + "-1", "PENDING")));
  answer("workflow list", ok_out(R"({"workflows": []})"));
  auto next_tick = make(c);
  auto found = next_tick.find_all({req.key, JobKey{"other", "train", 1, "a1b2c3d4"}});
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_EQ(found->count(req.key.str()), 1u);
  EXPECT_EQ(found->at(req.key.str()), name + "-1");
  EXPECT_EQ(found->size(), 1u);
  ASSERT_EQ(calls().size(), 3u);
  EXPECT_EQ(calls()[1], (std::vector<std::string>{"osmo", "workflow", "list", "--name", name, "--count", "10",
                                                  "--order", "desc", "--format-type", "json"}));
  EXPECT_EQ(calls()[2].at(4), osmo_workflow_name(JobKey{"other", "train", 1, "a1b2c3d4"}.str()));
}

// `--name` matches every name that contains the string: a workflow whose name does not
// hold the key's name (another attempt's, a human's) is never adopted.
TEST_F(OsmoTest, OnlyAWorkflowNamedForTheKeyIsAdopted) {
  const JobKey key{"gr00t", "train", 1, "a1b2c3d4"};
  answer("workflow list", ok_out(workflow_list("gr00t-train-1", "RUNNING")));
  auto found = make().find(key);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_FALSE(*found);
  // A CLI that cannot be run is a lookup that failed, not "no workflow".
  answer("workflow list", CommandResult{1, "", "Connection refused"});
  auto failed = make().find(key);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().exit, ExitCode::unreachable);
}

// The label carries the whole key (repository included) while it is a valid label
// value, else its stable hash form; submit and find use the same one.
TEST_F(OsmoTest, ALongKeysLabelIsItsHashFormInSubmitAndFind) {
  write((m_dir / "osmo/train.yaml").string(), fixture("workflow_spec_template.yaml"));
  answer("workflow list", ok_out(R"({"workflows": []})"));
  answer("workflow submit", ok_out(R"({"name": "gr00t-train-3"})"));
  OsmoConfig c;
  c.pool = "h100-east";
  c.label_key = "cairn-job";
  auto s = make(c);
  auto req = request();
  req.key = JobKey{"gr00t-n1-finetune-on-the-long-horizon-kitchen-tasks", "train", 1, "a1b2c3d4e5f6"};
  ASSERT_GT(req.key.str().size(), 63u);
  auto id = s.submit(req);
  ASSERT_TRUE(id) << id.error().message;
  const std::string label = "cairn-job=" + label_value(req.key.str());
  EXPECT_LE(label.size() - std::string("cairn-job=").size(), 63u);
  EXPECT_EQ(calls()[0].at(4), label);
  EXPECT_NE(std::find(calls()[1].begin(), calls()[1].end(), label), calls()[1].end());
  EXPECT_FALSE(s.outputs_are_files());  // containers and object storage: no Workspace reaches them
}

TEST_F(OsmoTest, CapacityValidationErrorIsAFindingWithTheServiceMessage) {
  write((m_dir / "osmo/train.yaml").string(), fixture("workflow_spec_template.yaml"));
  answer("workflow submit", CommandResult{1, "", fixture("submit_validation_error.txt")});
  OsmoConfig c;
  c.pool = "h100-east";
  auto s = make(c);
  auto id = s.submit(request());
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().exit, ExitCode::findings);
  EXPECT_NE(id.error().message.find("failed capacity validation"), std::string::npos) << id.error().message;
  EXPECT_NE(id.error().message.find("memory 2000Gi 1500Gi"), std::string::npos) << id.error().message;
  EXPECT_FALSE(fs::exists(OsmoScheduler::state_file(m_dir.string(), request().key)));
  // The table, for the engine to size the workflow to one node of the pool.
  auto refusal = s.capacity_refusal(request().key);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->pool, "h100-east");
  ASSERT_EQ(refusal->limits.size(), 4u);
  EXPECT_EQ(refusal->limits[1].resource, "cpus");
  EXPECT_EQ(refusal->limits[1].requested, "300");
  EXPECT_EQ(refusal->limits[1].capacity, "192");
  EXPECT_FALSE(s.capacity_refusal(JobKey{"gr00t", "train", 2}));
}

TEST(OsmoParse, CapacityValidationTable) {
  auto r = parse_capacity_error(fixture("submit_validation_error.txt"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->pool, "h100-east");
  ASSERT_EQ(r->limits.size(), 4u);
  const std::vector<std::tuple<std::string, std::string, std::string, std::string, bool>> want = {
      {"gpus", "gpu", "4", "64", false},
      {"cpus", "cpu", "300", "192", true},
      {"mem", "memory", "2000Gi", "1500Gi", true},
      {"storage", "storage", "2000Gi", "1024Gi", true}};
  for (std::size_t i = 0; i < want.size(); ++i) {
    const auto& l = r->limits[i];
    EXPECT_EQ(std::make_tuple(l.resource, l.name, l.requested, l.capacity, l.over), want[i]) << i;
  }
  // Two tasks: a resource keeps its largest request over the node; units compare as sizes.
  auto two = parse_capacity_error(
      "ERROR: Workflow submission failed capacity validation.\n\nTask: a\n  memory     1T          1500Gi\n"
      "  cpu 8 192\nTask: b\n  memory     1600Gi      1500Gi\n  cpu 0.5 192\n");
  ASSERT_TRUE(two);
  EXPECT_EQ(two->pool, "");
  ASSERT_EQ(two->limits.size(), 2u);
  EXPECT_EQ(two->limits[0].requested, "1600Gi");
  EXPECT_TRUE(two->limits[0].over);
  EXPECT_FALSE(two->limits[1].over);
  // Any other error is no capacity refusal.
  EXPECT_FALSE(parse_capacity_error("ERROR: Pool 'nope' does not exist"));
  EXPECT_FALSE(parse_capacity_error("capacity validation failed, and no table"));
  EXPECT_FALSE(parse_capacity_error(""));
}

TEST_F(OsmoTest, ConnectionFailureIsUnreachable) {
  write((m_dir / "osmo/train.yaml").string(), fixture("workflow_spec_template.yaml"));
  answer("workflow submit",
         CommandResult{1, "",
                       "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='osmo.example.com', "
                       "port=443): Max retries exceeded (Failed to establish a new connection: [Errno 111] "
                       "Connection refused)"});
  answer("workflow query", CommandResult{1, "", "Connection refused"});
  OsmoConfig c;
  c.pool = "h100-east";
  auto s = make(c);
  auto id = s.submit(request());
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().exit, ExitCode::unreachable);
  auto st = s.status({"gr00t-train-1"});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().exit, ExitCode::unreachable);
}

TEST_F(OsmoTest, MissingYamlAndTooManyAttemptsAreFindings) {
  OsmoConfig c;
  c.pool = "h100-east";
  auto s = make(c);
  auto id = s.submit(request("osmo/nope.yaml"));
  ASSERT_FALSE(id);
  EXPECT_NE(id.error().message.find("does not exist"), std::string::npos);
  write((m_dir / "osmo/train.yaml").string(), "workflow: {}\n");
  auto req = request();
  req.key.attempt = 4;
  id = s.submit(req);
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().exit, ExitCode::findings);
  EXPECT_NE(id.error().message.find("max_attempts 3"), std::string::npos);
  EXPECT_TRUE(calls().empty());
}

TEST_F(OsmoTest, StatusOfOomRunAndItsEvidence) {
  answer("workflow query", ok_out(fixture("workflow_query_oom.json")));
  answer("workflow query", ok_out(fixture("workflow_query_oom.json")));
  answer("workflow logs", ok_out("step=900 loss=1.2\nKilled\n"));
  answer("workflow events", ok_out(fixture("workflow_events_oom.txt")));
  auto s = make();
  auto st = s.status({"oom-train-1"});
  ASSERT_TRUE(st);
  const auto& js = st->at("oom-train-1");
  EXPECT_EQ(js.state, JobState::out_of_memory);
  EXPECT_EQ(js.exit_code, 137);
  EXPECT_EQ(calls().size(), 1u);  // final: no events call
  auto tail = s.log_tail("oom-train-1", 200);
  ASSERT_TRUE(tail) << tail.error().message;
  EXPECT_NE(tail->find("step=900"), std::string::npos);
  EXPECT_NE(tail->find("OOMKilled"), std::string::npos);
  EXPECT_NE(tail->find("Memory cgroup out of memory"), std::string::npos);
  EXPECT_NE(tail->find("exit=137"), std::string::npos);
  EXPECT_EQ(calls()[2], (std::vector<std::string>{"osmo", "workflow", "logs", "oom-train-1", "-n", "200"}));
  EXPECT_EQ(calls()[3], (std::vector<std::string>{"osmo", "workflow", "events", "oom-train-1"}));
}

// `cairn logs`: `osmo workflow logs` alone, no query or events.
TEST_F(OsmoTest, OutputIsTheWorkflowLogsAlone) {
  answer("workflow logs", ok_out("step=900 loss=1.2\n"));
  auto s = make();
  auto out = s.output("train-1", 30);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(*out, "step=900 loss=1.2\n");
  ASSERT_EQ(calls().size(), 1u);
  EXPECT_EQ(calls()[0], (std::vector<std::string>{"osmo", "workflow", "logs", "train-1", "-n", "30"}));
}

TEST_F(OsmoTest, BadImageStuckPendingIsReportedFailed) {
  answer("workflow query", ok_out(fixture("workflow_query_badimage.json")));
  answer("workflow events", ok_out(fixture("workflow_events_badimage.txt")));
  auto st = make().status({"badimage-train-1"});
  ASSERT_TRUE(st);
  const auto& js = st->at("badimage-train-1");
  EXPECT_EQ(js.state, JobState::failed);
  EXPECT_NE(js.reason.find("ImagePullBackOff"), std::string::npos) << js.reason;
  EXPECT_NE(js.reason.find("manifest unknown"), std::string::npos) << js.reason;
  EXPECT_NE(js.reason.find("osmo workflow cancel badimage-train-1"), std::string::npos);
}

TEST_F(OsmoTest, PrivateImageEvidenceCarriesUnauthorized) {
  answer("workflow query", ok_out(fixture("workflow_query_private_image.json")));
  answer("workflow events", ok_out(fixture("workflow_events_private_image.txt")));
  answer("workflow query", ok_out(fixture("workflow_query_private_image.json")));
  answer("workflow logs", ok_out(fixture("workflow_logs_private_image.txt")));
  answer("workflow events", ok_out(fixture("workflow_events_private_image.txt")));
  auto s = make();
  auto st = s.status({"private-image-1"});
  ASSERT_TRUE(st);
  EXPECT_EQ(st->at("private-image-1").state, JobState::failed);
  EXPECT_NE(st->at("private-image-1").reason.find("unauthorized: authentication required"),
            std::string::npos);
  auto tail = s.log_tail("private-image-1", 50);
  ASSERT_TRUE(tail);
  EXPECT_NE(tail->find("container has not started"), std::string::npos);
  EXPECT_NE(tail->find("unauthorized: authentication required"), std::string::npos);
}

TEST_F(OsmoTest, PendingOnQuotaStaysPendingWithTheReason) {
  // Scheduling waits for GPUs a node does have (4 <= 8 per node): waiting helps.
  answer("workflow query", ok_out(fixture("workflow_query_pending.json")));
  answer("workflow events",
         ok_out("2026-05-08T17:01:00Z  Normal   Scheduled         Pod assigned to scheduler\n"
                "2026-05-08T17:01:05Z  Warning  FailedScheduling  0/6 nodes are available: "
                "6 Insufficient nvidia.com/gpu (requested 4, max per node 8).\n"));
  auto st = make().status({"stuck-train-1"});
  ASSERT_TRUE(st);
  const auto& js = st->at("stuck-train-1");
  EXPECT_EQ(js.state, JobState::pending);
  EXPECT_NE(js.reason.find("FailedScheduling"), std::string::npos) << js.reason;
}

TEST_F(OsmoTest, PendingBeyondAnyNodeIsReportedFailed) {
  answer("workflow query", ok_out(fixture("workflow_query_pending.json")));
  answer("workflow events", ok_out(fixture("workflow_events_pending.txt")));
  auto st = make().status({"stuck-train-1"});
  ASSERT_TRUE(st);
  const auto& js = st->at("stuck-train-1");
  EXPECT_EQ(js.state, JobState::failed);
  EXPECT_NE(js.reason.find("Insufficient nvidia.com/gpu (requested 32, max per node 8)"), std::string::npos);
}

TEST_F(OsmoTest, StatusAsksOncePerWorkflowAndSkipsUnknownIds) {
  answer("workflow query", ok_out(fixture("workflow_query_single_task.json")));
  answer("workflow query", CommandResult{1, "", "Workflow nope-1 not found"});
  auto st = make().status({"gr00t-train-1", "nope-1"});
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->size(), 1u);
  EXPECT_EQ(st->at("gr00t-train-1").state, JobState::running);
  EXPECT_EQ(calls().size(), 2u);
}

TEST_F(OsmoTest, Cancel) {
  answer("workflow cancel", ok_out("Cancel job for workflow gr00t-train-1 is submitted!\n"));
  answer("workflow cancel", ok_out("Workflow cancelation failed for workflow x-1: not found\n"));
  auto s = make();
  EXPECT_TRUE(s.cancel("gr00t-train-1"));
  EXPECT_EQ(calls()[0], (std::vector<std::string>{"osmo", "workflow", "cancel", "gr00t-train-1"}));
  EXPECT_FALSE(s.cancel("x-1"));
  EXPECT_FALSE(s.cancel(""));
}

// ---- end to end: a fake `osmo` program run by the real ProcessRunner ----------------

TEST_F(OsmoTest, EndToEndThroughAFakeOsmoScript) {
  const std::string yaml = fixture("workflow_spec_template.yaml");
  const std::string spec = (m_dir / "osmo/train.yaml").string();
  write(spec, yaml);
  const std::string script = (m_dir / "bin/osmo").string();
  const std::string log = (m_dir / "osmo-calls.log").string();
  write(script,
        "#!/bin/sh\n"
        "echo \"$*\" >> '" +
            log +
            "'\n"
            "F='" +
            kFixtures +
            "'\n"
            "case \"$1 $2\" in\n"
            "  'pool list') cat \"$F/pool_list.json\" ;;\n"
            "  'resource list') cat \"$F/resource_list.json\" ;;\n"
            "  'workflow submit') cat \"$F/submit_response.txt\" ;;\n"
            "  'workflow query') cat \"$F/workflow_query_oom.json\" ;;\n"
            "  'workflow logs') echo 'Workflow '$3' has logs:'; echo 'Killed' ;;\n"
            "  'workflow events') echo 'Workflow '$3' has events:'; cat \"$F/workflow_events_oom.txt\" ;;\n"
            "  'workflow cancel') echo \"Cancel job for workflow $3 is submitted!\" ;;\n"
            "  *) echo \"unknown: $*\" >&2; exit 2 ;;\n"
            "esac\n");
  ::chmod(script.c_str(), 0755);
  OsmoConfig c;
  c.osmo = script;
  OsmoScheduler s(std::make_unique<ProcessRunner>(), c);
  auto req = request();
  req.spec.set = {{"num_gpu", "4"}};
  auto id = s.submit(req);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, "gr00t-train-1");
  EXPECT_EQ(read_file(spec), yaml);
  auto st = s.status({*id});
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->at(*id).state, JobState::out_of_memory);
  auto tail = s.log_tail(*id, 200);
  ASSERT_TRUE(tail);
  EXPECT_NE(tail->find("OOMKilled"), std::string::npos);
  EXPECT_TRUE(s.cancel(*id));
  const std::string calls_text = read_file(log);
  EXPECT_NE(
      calls_text.find("workflow submit " + spec + " --pool h100-east --set num_gpu=4 --format-type json"),
      std::string::npos)
      << calls_text;
  EXPECT_NE(calls_text.find("workflow cancel gr00t-train-1"), std::string::npos);
}

// ---- issue 19 ------------------------------------------------------------------------

TEST(OsmoHardening, HugeNumbersInEventsAndListsDoNotThrowOrOverflow) {
  const std::string events =
      "2026-05-09T09:00:01Z Warning FailedScheduling pod/x 0/4 nodes are available (requested "
      "99999999999999999999, max per node 8)\n";
  EXPECT_NE(blocking_event(events).find("99999999999999999999"), std::string::npos);
  EXPECT_EQ(blocking_event(
                "2026-05-09T09:00:01Z Warning FailedScheduling pod/x (requested 0008, max per node 8)\n"),
            "");
  auto nodes = parse_resource_list(
      R"({"resources":[{"hostname":"n","exposed_fields":{"node":"n","pool/platform":["p/x"],"gpu":1e300},"usage_fields":{"gpu":-1e300}}]})");
  EXPECT_TRUE(nodes) << nodes.error().message;
}

TEST(OsmoHardening, TimesOutsideTheClockAreNoTimes) {
  auto js = parse_workflow_query(
      R"({"name":"w","status":"RUNNING","submit_time":"9999-12-31T23:59:59.000000","start_time":"0001-01-01T00:00:00.5","groups":[]})");
  ASSERT_TRUE(js) << js.error().message;
  EXPECT_FALSE(js->submitted.has_value());
  EXPECT_FALSE(js->started.has_value());
}

}  // namespace
}  // namespace cairn::sched
