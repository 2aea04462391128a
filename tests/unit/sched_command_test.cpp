// The generic `command` backend: templates (argv, never a shell string), each preset's
// native output parsed from real-format fixtures, one status call per tick, adoption
// through find, error classification, and an end-to-end run of a fake scheduler CLI
// (a shell script speaking the JSON-lines protocol) through the real ProcessRunner.

#include <cairn/sched/command.hpp>
#include <cairn/sched/command_runner.hpp>
#include <cairn/sched/names.hpp>

#include "sched_fakes.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

namespace cairn::sched {
namespace {

using testing::err_out;
using testing::FakeRunner;
using testing::ok_out;
std::string fixture(const std::string& name) {
  return testing::fixture("command", name);
}

using engine::JobKey;
using engine::JobState;
using engine::JobStatus;
using engine::SubmitRequest;
namespace fs = std::filesystem;

engine::TimePoint at_epoch(double seconds) {
  return engine::TimePoint(
      std::chrono::duration_cast<engine::TimePoint::duration>(std::chrono::duration<double>(seconds)));
}

using Settings = std::map<std::string, std::string>;

struct Harness {
  std::shared_ptr<FakeRunner::Shared> shared = std::make_shared<FakeRunner::Shared>();
  std::unique_ptr<CommandScheduler> sched;
  explicit Harness(const std::map<std::string, std::string>& settings, double now = 1795425600.0) {
    auto cfg = parse_command_config(settings);
    EXPECT_TRUE(cfg) << cfg.error().message;
    if (!cfg) return;
    cfg->now = [now] { return at_epoch(now); };
    sched =
        std::make_unique<CommandScheduler>(std::make_unique<FakeRunner>(shared, "alice"), std::move(*cfg));
  }
  void answer(const std::string& program, Expected<CommandResult> r) {
    shared->answers[program].push_back(std::move(r));
  }
};

SubmitRequest request(std::string campaign, std::string stage = "smoke") {
  SubmitRequest r;
  r.key = JobKey{std::move(campaign), std::move(stage), 1};
  r.campaign_dir = "/home/alice/camp/mol screen";
  r.spec.run = "smoke.sh";
  r.spec.resources.time_seconds = 5400;
  r.spec.resources.cpus = 4;
  r.spec.resources.mem_mb = 8192;
  return r;
}

std::map<std::string, JobStatus> by_id(const std::vector<CommandJob>& jobs) {
  std::map<std::string, JobStatus> out;
  for (const auto& j : jobs) out[j.status.job_id] = j.status;
  return out;
}

// --- templates ---------------------------------------------------------------------------

TEST(CommandTemplate, StringsQuotesAndYamlLists) {
  auto t = parse_command_template("  bjobs -json -o \"jobid stat\" 'a b' x\"y z\"w  {job_ids} ");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(*t, (CommandTemplate{"bjobs", "-json", "-o", "jobid stat", "a b", "xy zw", "{job_ids}"}));

  auto flow = parse_command_template("[qsub, -N, \"{key}\", \"[\", -J, \"{array}\", \"]\"]");
  ASSERT_TRUE(flow) << flow.error().message;
  EXPECT_EQ(*flow, (CommandTemplate{"qsub", "-N", "{key}", "[", "-J", "{array}", "]"}));

  // cairn.yaml keeps a nested list as YAML text; an unquoted `- {key}` is a one-key map.
  auto block = parse_command_template("- my-submit\n- --name\n- {key}\n- \"{run}\"\n");
  ASSERT_TRUE(block) << block.error().message;
  EXPECT_EQ(*block, (CommandTemplate{"my-submit", "--name", "{key}", "{run}"}));

  for (const char* bad : {"qsub 'unterminated", "qsub \"x", "qsub [ -J {array}", "qsub ] x", "qsub [ [ x ] ]",
                          "", "[ x ] qsub"}) {
    EXPECT_FALSE(parse_command_template(bad)) << bad;
  }
}

TEST(CommandTemplate, ValuesStayInsideOneElement) {
  auto t = *parse_command_template(
      "submit --name={key} --campaign {campaign} [ --time {time} ] [ --array {array} ] {job_ids} "
      "--ids={job_ids} "
      "--jsonpath={.metadata.name}");
  const std::string evil = "my camp; rm -rf / $(reboot) `x` \"q\" 'p'";
  auto argv = expand_command_template(t, {{"key", "cairn.x.y.1"}, {"campaign", evil}, {"time", "01:30:00"}},
                                      {"11", "12 13"});
  ASSERT_TRUE(argv) << argv.error().message;
  EXPECT_EQ(*argv, (std::vector<std::string>{"submit", "--name=cairn.x.y.1", "--campaign", evil, "--time",
                                             "01:30:00", "11", "12 13", "--ids=11,12 13",
                                             "--jsonpath={.metadata.name}"}));
  // No ids: {job_ids} expands to nothing, a group with an empty value is dropped.
  auto none = *expand_command_template(*parse_command_template("st [ -j {job_ids} ] {job_ids} x"), {}, {});
  EXPECT_EQ(none, (std::vector<std::string>{"st", "x"}));
}

TEST(CommandTemplate, StateVocabulary) {
  const std::vector<std::pair<std::string, std::optional<JobState>>> cases = {
      {"pending", JobState::pending},
      {"running", JobState::running},
      {"completed", JobState::completed},
      {"failed", JobState::failed},
      {"timeout", JobState::timeout},
      {"out_of_memory", JobState::out_of_memory},
      {"node_fail", JobState::node_fail},
      {"preempted", JobState::preempted},
      {"cancelled", JobState::cancelled},
      {"boot_fail", JobState::boot_fail},
      {"UNKNOWN", JobState::unknown},
      {" Running ", JobState::running},
      {"DONE", std::nullopt},
      {"", std::nullopt}};
  for (const auto& [text, want] : cases) EXPECT_EQ(parse_command_state(text), want) << text;
}

TEST(CommandConfig, PresetsAndErrors) {
  for (const char* p : {"pbs", "lsf"}) {
    auto c = parse_command_config({{"preset", p}});
    ASSERT_TRUE(c) << p << ": " << c.error().message;
    EXPECT_FALSE(c->submit.empty());
    EXPECT_FALSE(c->status.empty());
    EXPECT_FALSE(c->cancel.empty());
  }
  EXPECT_TRUE(parse_command_config({{"preset", "kubernetes"}, {"image", "busybox"}}));
  EXPECT_TRUE(parse_command_config({{"preset", "vastai"}, {"image", "pytorch/pytorch"}, {"offer", "123"}}));
  // A user template overrides the preset's.
  auto over = parse_command_config({{"preset", "pbs"}, {"cancel", "qdel -W force {job_id}"}});
  ASSERT_TRUE(over);
  EXPECT_EQ(over->cancel, (CommandTemplate{"qdel", "-W", "force", "{job_id}"}));

  struct Bad {
    std::map<std::string, std::string> settings;
    std::string says;
  };
  const std::vector<Bad> bad = {
      {{{"preset", "torque"}}, "unknown preset"},
      {{{"preset", "kubernetes"}}, "`image`"},
      {{{"preset", "vastai"}, {"image", "x"}}, "`offer`"},
      {{{"submit", "sub {key}"}, {"status", "st {job_ids}"}}, "no `cancel`"},
      {{{"submit", "sub {nope}"}, {"status", "st"}, {"cancel", "c"}}, "{nope}"},
      {{{"submit", "sub 'x"}, {"status", "st"}, {"cancel", "c"}}, "`submit`"},
      {{{"submit", "s"}, {"status", "st"}, {"cancel", "c"}, {"key", "x"}}, "shadow"},
      {{{"submit", "s"}, {"status", "st"}, {"cancel", "c"}, {"submit_regex", "no group"}}, "group"},
      {{{"submit", "s"}, {"status", "st"}, {"cancel", "c"}, {"timeout", "soon"}}, "timeout"},
  };
  for (const auto& b : bad) {
    auto c = parse_command_config(b.settings);
    ASSERT_FALSE(c) << b.says;
    EXPECT_EQ(c.error().exit, ExitCode::usage);
    EXPECT_NE(c.error().message.find(b.says), std::string::npos) << c.error().message;
  }
  // Extra settings are placeholders.
  auto vars = parse_command_config(
      {{"submit", "sub --queue {queue} {run}"}, {"status", "st"}, {"cancel", "c"}, {"queue", "gpu"}});
  ASSERT_TRUE(vars) << vars.error().message;
  EXPECT_EQ(vars->vars.at("queue"), "gpu");
}

// A refused setting is named, for its line in cairn.yaml: the key at fault, `preset` for
// what a preset needs, none for a template no setting gives; a near-miss preset gets a
// did-you-mean.
TEST(CommandConfig, ErrorsNameTheSetting) {
  const std::vector<std::pair<Settings, std::string>> cases = {
      {{{"preset", "torque"}}, "preset"},
      {{{"preset", "kubernetes"}}, "preset"},
      {{{"submit", "sub {key}"}, {"status", "st {job_ids}"}}, ""},
      {{{"submit", "sub {nope}"}, {"status", "st"}, {"cancel", "c"}}, "submit"},
      {{{"submit", "s"}, {"status", "st 'x"}, {"cancel", "c"}}, "status"},
      {{{"submit", "s"}, {"status", "st"}, {"cancel", "c"}, {"key", "x"}}, "key"},
      {{{"submit", "s"}, {"status", "st"}, {"cancel", "c"}, {"Queue", "x"}}, "Queue"},
      {{{"submit", "s"}, {"status", "st"}, {"cancel", "c"}, {"submit_regex", "no group"}}, "submit_regex"},
      {{{"submit", "s"}, {"status", "st"}, {"cancel", "c"}, {"timeout", "soon"}}, "timeout"}};
  for (const auto& [settings, key] : cases) {
    auto c = parse_command_config(settings);
    ASSERT_FALSE(c) << key;
    EXPECT_EQ(c.error().key, key) << c.error().message;
  }
  EXPECT_EQ(parse_command_config({{"preset", "pbss"}}).error().message,
            "unknown preset `pbss`; did you mean `pbs`?");
  EXPECT_EQ(parse_command_config({{"preset", "torque"}}).error().message,
            "unknown preset `torque`; presets: pbs, lsf, kubernetes, vastai");
}

// --- generic JSON lines ------------------------------------------------------------------

const std::map<std::string, std::string> kGeneric = {
    {"submit",
     "mysched submit --name {key} --dir {dir} --time {time} [ --mem {mem_mb}M ] [ --gpus {gpus} ] {run}"},
    {"status", "mysched status {job_ids}"},
    {"cancel", "mysched cancel {job_id}"},
    {"find", "mysched find {key}"},
    {"logs", "mysched logs {job_id} -n {lines}"}};

TEST(CommandGeneric, StatusJsonLinesOneCallForAllJobs) {
  Harness h(kGeneric);
  h.answer("mysched", ok_out(fixture("generic_status.jsonl")));
  std::vector<std::string> ids = {"j-101", "j-102", "j-103", "j-104", "105",   "j-106",
                                  "j-107", "j-108", "j-109", "j-110", "j-111", "j-999"};
  auto st = h.sched->status(ids);
  ASSERT_TRUE(st) << st.error().message;
  ASSERT_EQ(h.shared->calls.size(), 1u);
  std::vector<std::string> want_argv = {"mysched", "status"};
  want_argv.insert(want_argv.end(), ids.begin(), ids.end());
  EXPECT_EQ(h.shared->calls[0], want_argv);

  EXPECT_EQ(st->count("j-999"), 0u);  // not in the answer: unknown
  const std::vector<std::tuple<std::string, JobState, std::optional<int>>> want = {
      {"j-101", JobState::running, std::nullopt},
      {"j-102", JobState::completed, 0},
      {"j-103", JobState::failed, 3},
      {"j-104", JobState::timeout, 143},
      {"105", JobState::out_of_memory, 137},
      {"j-106", JobState::pending, std::nullopt},
      {"j-107", JobState::failed, 4},
      {"j-108", JobState::preempted, std::nullopt},
      {"j-109", JobState::node_fail, std::nullopt},
      {"j-110", JobState::cancelled, std::nullopt},
      {"j-111", JobState::boot_fail, std::nullopt}};
  for (const auto& [id, state, exit] : want) {
    ASSERT_EQ(st->count(id), 1u) << id;
    EXPECT_EQ(st->at(id).state, state) << id;
    EXPECT_EQ(st->at(id).exit_code, exit) << id;
  }
  EXPECT_NEAR(*st->at("j-101").cost_usd, 0.12, 1e-9);
  EXPECT_NEAR(*st->at("j-102").cpu_hours, 4.0, 1e-9);
  EXPECT_EQ(st->at("j-101").reason, "on node a7");
  EXPECT_FALSE(st->at("j-106").blocked);
  ASSERT_EQ(st->at("j-107").tasks.size(), 2u);
  EXPECT_EQ(st->at("j-107").tasks[1].exit_code, 4);

  // No ids: nothing to ask.
  auto none = h.sched->status({});
  ASSERT_TRUE(none);
  EXPECT_EQ(h.shared->calls.size(), 1u);
}

TEST(CommandGeneric, BlockedMarksAPendingJobThatWaitsOnAHold) {
  auto jobs = parse_command_status("",
                                   "{\"id\": \"a\", \"state\": \"pending\", \"blocked\": true}\n"
                                   "{\"id\": \"b\", \"state\": \"pending\", \"blocked\": \"yes\"}\n"
                                   "{\"id\": \"c\", \"state\": \"running\", \"blocked\": true}\n",
                                   {});
  ASSERT_TRUE(jobs) << jobs.error().message;
  auto st = by_id(*jobs);
  EXPECT_TRUE(st["a"].blocked);
  EXPECT_FALSE(st["b"].blocked);  // only JSON true counts
  EXPECT_FALSE(st["c"].blocked);  // a running job waits on nothing
}

TEST(CommandGeneric, MalformedLinesAreNamed) {
  auto bad = parse_command_status("", fixture("generic_status_bad.jsonl"), {});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("status line 2"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("\"completed\" \"exit_code\""), std::string::npos)
      << bad.error().message;
  EXPECT_NE(bad.error().message.find("not a JSON object"), std::string::npos);

  auto state = parse_command_status("", fixture("generic_status_badstate.jsonl"), {});
  ASSERT_FALSE(state);
  EXPECT_NE(state.error().message.find("status line 1"), std::string::npos);
  EXPECT_NE(state.error().message.find("unknown state \"DONE\""), std::string::npos) << state.error().message;

  auto noid = parse_command_status("", "{\"state\": \"running\"}\n", {});
  ASSERT_FALSE(noid);
  EXPECT_NE(noid.error().message.find("no \"id\""), std::string::npos);

  // Through the scheduler the message names the command too.
  Harness h(kGeneric);
  h.answer("mysched", ok_out(fixture("generic_status_bad.jsonl")));
  auto st = h.sched->status({"j-101"});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message.rfind("mysched: status line 2", 0), 0u) << st.error().message;
}

TEST(CommandGeneric, SubmitArgvKeepsHostileValuesWhole) {
  Harness h(kGeneric);
  h.answer("mysched", ok_out(""));                      // find: nothing
  h.answer("mysched", ok_out("\n  j-555  \nextra\n"));  // submit
  auto req = request("mol screen; rm -rf ~");
  req.spec.resources.gpus = 0;
  auto id = h.sched->submit(req);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, "j-555");
  ASSERT_EQ(h.shared->calls.size(), 2u);
  EXPECT_EQ(h.shared->calls[0],
            (std::vector<std::string>{"mysched", "find", "cairn.mol screen; rm -rf ~.smoke.1"}));
  EXPECT_EQ(h.shared->calls[1],
            (std::vector<std::string>{"mysched", "submit", "--name", "cairn.mol screen; rm -rf ~.smoke.1",
                                      "--dir", "/home/alice/camp/mol screen", "--time", "01:30:00", "--mem",
                                      "8192M", "/home/alice/camp/mol screen/smoke.sh"}));
}

TEST(CommandGeneric, SubmitAdoptsTheJobFindReports) {
  Harness h(kGeneric);
  h.answer("mysched", ok_out("j-400\nj-401\n"));  // two under the key: the newest is last
  auto id = h.sched->submit(request("c1"));
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, "j-401");
  EXPECT_EQ(h.shared->calls.size(), 1u);  // no submit

  // JSON-lines find answers, filtered by name.
  Harness j(kGeneric);
  j.answer("mysched", ok_out("{\"id\": \"x1\", \"name\": \"cairn.other.smoke.1\"}\n{\"id\": \"x2\", "
                             "\"name\": \"cairn.c1.smoke.1\"}\n"));
  auto id2 = j.sched->find(JobKey{"c1", "smoke", 1});
  ASSERT_TRUE(id2) << id2.error().message;
  EXPECT_EQ(*id2, std::optional<std::string>("x2"));
}

TEST(CommandGeneric, FindWithoutTemplateListsAllAndMatchesName) {
  auto settings = kGeneric;
  settings.erase("find");
  Harness h(settings);
  h.answer("mysched", ok_out(fixture("generic_status.jsonl")));
  auto id = h.sched->find(JobKey{"c", "s", 1});
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, std::optional<std::string>("j-106"));
  EXPECT_EQ(h.shared->calls[0], (std::vector<std::string>{"mysched", "status"}));
  h.answer("mysched", ok_out(fixture("generic_status.jsonl")));
  auto none = h.sched->find(JobKey{"c", "s", 2});
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
}

TEST(CommandGeneric, SubmitRegexLogsCancelAndErrors) {
  auto settings = kGeneric;
  settings["submit_regex"] = R"(Submitted batch job (\d+))";
  Harness h(settings);
  h.answer("mysched", ok_out(""));
  h.answer("mysched", ok_out("Submitted batch job 777 on cluster x\n"));
  auto id = h.sched->submit(request("c"));
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, "777");

  h.answer("mysched", ok_out("line a\nline b\n"));
  auto logs = h.sched->log_tail("777", 50);
  ASSERT_TRUE(logs);
  EXPECT_EQ(*logs, "line a\nline b\n");
  EXPECT_EQ(h.shared->calls.back(), (std::vector<std::string>{"mysched", "logs", "777", "-n", "50"}));

  ASSERT_TRUE(h.sched->cancel("777"));
  EXPECT_EQ(h.shared->calls.back(), (std::vector<std::string>{"mysched", "cancel", "777"}));

  h.answer("mysched", err_out(1, "mysched: error: job 778 does not exist\n"));
  auto c = h.sched->cancel("778");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().exit, ExitCode::findings);
  EXPECT_NE(c.error().message.find("does not exist"), std::string::npos);

  h.answer("mysched", err_out(2, "curl: (7) Failed to connect to api.example: Connection refused\n"));
  auto st = h.sched->status({"1"});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().exit, ExitCode::unreachable);

  h.answer("mysched", Expected<CommandResult>(fail("mysched: timed out", ExitCode::unreachable)));
  auto f = h.sched->find(JobKey{"c", "s", 1});
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().exit, ExitCode::unreachable);

  h.answer("mysched", ok_out(""));
  h.answer("mysched", ok_out("nothing useful\n"));
  auto noid = h.sched->submit(request("c"));
  ASSERT_FALSE(noid);
  EXPECT_NE(noid.error().message.find("printed no job id"), std::string::npos) << noid.error().message;
}

// --- PBS ---------------------------------------------------------------------------------

TEST(CommandPbs, QstatJsonStates) {
  auto jobs = parse_command_status("pbs", fixture("pbs_qstat.json"), {});
  ASSERT_TRUE(jobs) << jobs.error().message;
  ASSERT_EQ(jobs->size(), 8u);
  auto st = by_id(*jobs);
  const std::vector<std::tuple<std::string, JobState, std::optional<int>>> want = {
      {"4101.pbs01", JobState::running, std::nullopt},
      {"4102.pbs01", JobState::pending, std::nullopt},
      {"4103.pbs01", JobState::completed, 0},
      {"4104.pbs01", JobState::failed, 3},
      {"4105.pbs01", JobState::timeout, -29},
      {"4106.pbs01", JobState::out_of_memory, 128 + 15},
      {"4107.pbs01", JobState::cancelled, std::nullopt},
      {"4108.pbs01", JobState::pending, std::nullopt}};
  for (const auto& [id, state, exit] : want) {
    ASSERT_EQ(st.count(id), 1u) << id;
    EXPECT_EQ(st[id].state, state) << id << " " << st[id].reason;
    EXPECT_EQ(st[id].exit_code, exit) << id;
  }
  EXPECT_NE(st["4102.pbs01"].reason.find("Insufficient amount of resource"), std::string::npos);
  EXPECT_FALSE(st["4102.pbs01"].blocked);  // queued, waiting for resources
  EXPECT_TRUE(st["4108.pbs01"].blocked);   // job_state H: held
  EXPECT_NEAR(*st["4101.pbs01"].cpu_hours, 903.0 / 3600 * 4, 1e-9);
  EXPECT_EQ(jobs->front().name, "cairn.mol-screen.smoke.1");
  EXPECT_EQ(jobs->front().log_path, "/home/alice/camp/mol-screen/.cairn/cairn.mol-screen.smoke.1.out");
  // The job works in $CAIRN_DIR (it starts in $HOME, PBS_O_WORKDIR is where qsub ran).
  EXPECT_EQ(st["4101.pbs01"].work_dir, "/home/alice/camp/mol-screen");
  EXPECT_EQ(st["4102.pbs01"].work_dir, "");  // no Variable_List: unknown
}

TEST(CommandPbs, ArraySubjobsBecomeTasks) {
  auto jobs = parse_command_status("pbs", fixture("pbs_qstat_array.json"), {});
  ASSERT_TRUE(jobs) << jobs.error().message;
  ASSERT_EQ(jobs->size(), 1u);
  const auto& a = jobs->front().status;
  EXPECT_EQ(a.job_id, "4200[].pbs01");
  EXPECT_EQ(a.state, JobState::running);
  ASSERT_EQ(a.tasks.size(), 3u);
  EXPECT_EQ(a.tasks[0].state, JobState::completed);
  EXPECT_EQ(a.tasks[1].state, JobState::failed);
  EXPECT_EQ(a.tasks[1].exit_code, 2);
  EXPECT_EQ(a.exit_code, 2);
  EXPECT_NEAR(*a.cpu_hours, 20.0 / 3600, 1e-9);

  // Arrays reach qsub as -J; a backend whose submit cannot take {array} refuses them.
  Harness h(Settings{{"preset", "pbs"}});
  h.answer("qsub", ok_out("4200[].pbs01\n"));
  auto req = request("mol-screen", "sweep");
  req.spec.array = "1-3";
  auto id = h.sched->submit(req);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, "4200[].pbs01");
  const auto qsub = h.shared->calls_to("qsub").at(0);
  EXPECT_EQ(std::vector<std::string>(qsub.end() - 3, qsub.end() - 1),
            (std::vector<std::string>{"-J", "1-3"}));
  Harness l(Settings{{"preset", "lsf"}});
  auto refused = l.sched->submit(req);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("no {array}"), std::string::npos) << refused.error().message;
  EXPECT_TRUE(l.shared->calls_to("bsub").empty());
}

TEST(CommandPbs, SubmitFindStatusLogsCancel) {
  Harness h(Settings{{"preset", "pbs"}});
  h.answer("qselect", ok_out(""));
  h.answer("qsub", ok_out(fixture("pbs_qsub.out")));
  auto req = request("mol-screen");
  req.spec.resources.gpus = 2;
  auto id = h.sched->submit(req);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, "4101.pbs01");
  // Only this user's jobs: qselect lists everyone's by default.
  EXPECT_EQ(h.shared->calls_to("qselect").at(0),
            (std::vector<std::string>{"qselect", "-x", "-u", "alice", "-N", "cairn.mol-screen.smoke.1"}));
  EXPECT_EQ(h.shared->calls_to("id").size(), 1u);
  EXPECT_EQ(h.shared->calls_to("mkdir").at(0),
            (std::vector<std::string>{"mkdir", "-p", "--", "/home/alice/camp/mol screen/.cairn"}));
  EXPECT_EQ(h.shared->calls_to("qsub").at(0),
            (std::vector<std::string>{"qsub", "-N", "cairn.mol-screen.smoke.1", "-j", "oe", "-o",
                                      "/home/alice/camp/mol screen/.cairn/cairn.mol-screen.smoke.1.out", "-v",
                                      "CAIRN_DIR=/home/alice/camp/mol screen", "-l", "walltime=01:30:00",
                                      "-l", "select=1:ncpus=4:mem=8192mb:ngpus=2",
                                      "/home/alice/camp/mol screen/smoke.sh"}));

  // Adoption: qselect knows the key.
  h.answer("qselect", ok_out(fixture("pbs_qselect.out")));
  auto again = h.sched->submit(req);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, "4101.pbs01");
  EXPECT_EQ(h.shared->calls_to("qsub").size(), 1u);

  // qstat complains about an id it forgot and still answers for the rest.
  h.answer("qstat", CommandResult{35, fixture("pbs_qstat.json"), fixture("pbs_qstat_unknown.err")});
  auto st = h.sched->status({"4101.pbs01", "4103.pbs01", "9999.pbs01"});
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(h.shared->calls_to("qstat").size(), 1u);
  EXPECT_EQ(h.shared->calls_to("qstat").at(0),
            (std::vector<std::string>{"qstat", "-x", "-t", "-F", "json", "-f", "4101.pbs01", "4103.pbs01",
                                      "9999.pbs01"}));
  EXPECT_EQ(st->size(), 2u);
  EXPECT_EQ(st->at("4103.pbs01").state, JobState::completed);

  h.answer("qstat", err_out(1, fixture("pbs_qstat_connect.err")));
  auto down = h.sched->status({"4101.pbs01"});
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().exit, ExitCode::unreachable);

  // No logs template: tail the Output_Path qstat reports.
  h.answer("qstat", ok_out(fixture("pbs_qstat.json")));
  h.answer("tail", ok_out("step 10 loss 0.1\n"));
  auto logs = h.sched->log_tail("4101.pbs01", 20);
  ASSERT_TRUE(logs) << logs.error().message;
  EXPECT_EQ(*logs, "step 10 loss 0.1\n");
  EXPECT_EQ(h.shared->calls.back(),
            (std::vector<std::string>{"tail", "-n", "20", "--",
                                      "/home/alice/camp/mol-screen/.cairn/cairn.mol-screen.smoke.1.out"}));

  ASSERT_TRUE(h.sched->cancel("4101.pbs01"));
  EXPECT_EQ(h.shared->calls.back(), (std::vector<std::string>{"qdel", "4101.pbs01"}));

  h.answer("qselect", ok_out(""));
  h.answer("qsub", err_out(168, fixture("pbs_qsub_badqueue.err")));
  auto bad = h.sched->submit(request("other"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().exit, ExitCode::findings);
  EXPECT_NE(bad.error().message.find("Unknown queue"), std::string::npos);
}

// --- LSF ---------------------------------------------------------------------------------

TEST(CommandLsf, BjobsJsonStates) {
  auto jobs = parse_command_status("lsf", fixture("lsf_bjobs.json"), {});
  ASSERT_TRUE(jobs) << jobs.error().message;
  auto st = by_id(*jobs);
  EXPECT_EQ(st.count("99999"), 0u);  // the "is not found" record
  const std::vector<std::tuple<std::string, JobState, std::optional<int>>> want = {
      {"73001", JobState::running, std::nullopt}, {"73002", JobState::pending, std::nullopt},
      {"73003", JobState::completed, 0},          {"73004", JobState::failed, 3},
      {"73005", JobState::timeout, 140},          {"73006", JobState::out_of_memory, 137},
      {"73007", JobState::cancelled, 130},        {"73008", JobState::preempted, 143}};
  for (const auto& [id, state, exit] : want) {
    ASSERT_EQ(st.count(id), 1u) << id;
    EXPECT_EQ(st[id].state, state) << id << " " << st[id].reason;
    EXPECT_EQ(st[id].exit_code, exit) << id;
  }
  EXPECT_NE(st["73002"].reason.find("waiting for scheduling"), std::string::npos);
  EXPECT_EQ(st["73001"].work_dir, "/home/alice/camp/mol screen");  // EXEC_CWD (bsub -cwd)
  EXPECT_EQ(st["73002"].work_dir, "");                             // "-": not started
  EXPECT_NEAR(*st["73001"].cpu_hours, 3610.4 / 3600, 1e-9);
  for (const auto& j : *jobs) {
    if (j.status.job_id == "73003") {
      EXPECT_EQ(j.log_path, "/home/alice/camp/mol-screen/.cairn/lsf-73003.out");
    }
  }

  auto arr = parse_command_status("lsf", fixture("lsf_bjobs_array.json"), {});
  ASSERT_TRUE(arr) << arr.error().message;
  ASSERT_EQ(arr->size(), 1u);
  const auto& a = arr->front();
  EXPECT_EQ(a.name, "cairn.mol-screen.sweep.1");
  EXPECT_EQ(a.status.state, JobState::running);
  ASSERT_EQ(a.status.tasks.size(), 3u);
  EXPECT_EQ(a.status.tasks[1].state, JobState::failed);
  EXPECT_EQ(a.status.exit_code, 2);
}

TEST(CommandLsf, SubmitFindStatus) {
  Harness h(Settings{{"preset", "lsf"}});
  h.answer("bjobs", err_out(255, fixture("lsf_bjobs_notfound.err")));  // find: none
  h.answer("bsub", ok_out(fixture("lsf_bsub.out")));
  auto id = h.sched->submit(request("mol-screen"));
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, "73001");
  EXPECT_EQ(h.shared->calls_to("bjobs").at(0),
            (std::vector<std::string>{"bjobs", "-a", "-json", "-o", "jobid stat job_name", "-J",
                                      "cairn.mol-screen.smoke.1"}));
  EXPECT_EQ(h.shared->calls_to("bsub").at(0),
            (std::vector<std::string>{
                "bsub", "-J", "cairn.mol-screen.smoke.1", "-cwd", "/home/alice/camp/mol screen", "-oo",
                "/home/alice/camp/mol screen/.cairn/cairn.mol-screen.smoke.1.out", "-W", "90", "-n", "4",
                "-R", "rusage[mem=8192]", "/home/alice/camp/mol screen/smoke.sh"}));

  h.answer("bjobs", CommandResult{255, fixture("lsf_bjobs_notfound.err"), ""});  // on stdout, too
  h.answer("bsub", ok_out("Job <73009> is submitted to queue <gpu>.\n"));
  auto other = h.sched->submit(request("mol-screen", "other"));
  ASSERT_TRUE(other) << other.error().message;
  EXPECT_EQ(*other, "73009");

  h.answer("bjobs", ok_out(fixture("lsf_bjobs_find.json")));
  auto adopted = h.sched->submit(request("mol-screen"));
  ASSERT_TRUE(adopted);
  EXPECT_EQ(*adopted, "73001");
  EXPECT_EQ(h.shared->calls_to("bsub").size(), 2u);

  h.answer("bjobs", CommandResult{255, fixture("lsf_bjobs.json"), ""});
  auto st = h.sched->status({"73001", "73005", "99999"});
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->size(), 2u);
  EXPECT_EQ(st->at("73005").state, JobState::timeout);
  EXPECT_EQ(h.shared->calls_to("bjobs").back().back(), "99999");

  h.answer("bjobs", err_out(255, fixture("lsf_lim_down.err")));
  auto down = h.sched->status({"73001"});
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().exit, ExitCode::unreachable);
}

// --- Kubernetes --------------------------------------------------------------------------

TEST(CommandKubernetes, JobListStates) {
  auto jobs = parse_command_status("kubernetes", fixture("kubectl_jobs.json"), {});
  ASSERT_TRUE(jobs) << jobs.error().message;
  ASSERT_EQ(jobs->size(), 6u);
  auto st = by_id(*jobs);
  const std::vector<std::pair<std::string, JobState>> want = {
      {"cairn-mol-screen-smoke-1", JobState::running},  {"cairn-mol-screen-dock-1", JobState::pending},
      {"cairn-mol-screen-prep-1", JobState::completed}, {"cairn-mol-screen-train-2", JobState::failed},
      {"cairn-mol-screen-train-1", JobState::timeout},  {"cairn-mol-screen-held-1", JobState::pending}};
  for (const auto& [id, state] : want) EXPECT_EQ(st[id].state, state) << id << " " << st[id].reason;
  EXPECT_EQ(st["cairn-mol-screen-prep-1"].exit_code, 0);
  EXPECT_NE(st["cairn-mol-screen-train-2"].reason.find("BackoffLimitExceeded"), std::string::npos);
  EXPECT_NE(st["cairn-mol-screen-held-1"].reason.find("suspended"), std::string::npos);
  EXPECT_TRUE(st["cairn-mol-screen-prep-1"].ended.has_value());
  EXPECT_EQ(jobs->front().name, "cairn.mol-screen.smoke.1");  // the annotation, not the DNS name
  EXPECT_EQ(st["cairn-mol-screen-smoke-1"].work_dir, "/work/camp/mol-screen");  // the container's workingDir
}

TEST(CommandKubernetes, SubmitSendsAManifestAndFindsByKey) {
  Harness h(Settings{{"preset", "kubernetes"},
                     {"image", "ghcr.io/example/mol:1.4"},
                     {"namespace", "research"},
                     {"pvc", "camp"}});
  h.answer("kubectl", ok_out(R"({"apiVersion": "v1", "items": [], "kind": "List"})"));
  h.answer("kubectl", ok_out(fixture("kubectl_create.out")));
  auto req = request("Mol_Screen x;y");
  req.spec.resources.gpus = 1;
  auto id = h.sched->submit(req);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, "cairn-mol-screen-smoke-1");
  ASSERT_EQ(h.shared->calls.size(), 2u);
  // find: by the key's label (hashed: the key has a space and a ';'), matched by annotation.
  EXPECT_EQ(h.shared->calls[0],
            (std::vector<std::string>{"kubectl", "--namespace", "research", "get", "jobs", "-l",
                                      "app.kubernetes.io/managed-by=cairn,cairn.dev/key=" +
                                          label_value("cairn.Mol_Screen x;y.smoke.1"),
                                      "-o", "json"}));
  EXPECT_EQ(h.shared->calls[1], (std::vector<std::string>{"kubectl", "--namespace", "research", "create",
                                                          "-f", "-", "-o", "name"}));
  auto manifest = nlohmann::json::parse(h.shared->inputs[1]);
  EXPECT_EQ(manifest["kind"], "Job");
  EXPECT_EQ(manifest["metadata"]["name"], "cairn-mol-screen-x-y-smoke-1");
  EXPECT_EQ(manifest["metadata"]["annotations"]["cairn.dev/key"], "cairn.Mol_Screen x;y.smoke.1");
  EXPECT_EQ(manifest["metadata"]["labels"]["cairn.dev/key"], label_value("cairn.Mol_Screen x;y.smoke.1"));
  EXPECT_EQ(manifest["metadata"]["labels"]["app.kubernetes.io/managed-by"], "cairn");
  EXPECT_EQ(manifest["spec"]["template"]["metadata"]["labels"].count("cairn.dev/key"), 0u);
  EXPECT_EQ(manifest["spec"]["activeDeadlineSeconds"], 5400);
  EXPECT_EQ(manifest["spec"]["backoffLimit"], 0);
  const auto& c = manifest["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["image"], "ghcr.io/example/mol:1.4");
  EXPECT_EQ(c["command"][1], "/home/alice/camp/mol screen/smoke.sh");
  EXPECT_EQ(c["resources"]["limits"]["nvidia.com/gpu"], "1");
  EXPECT_EQ(c["resources"]["limits"]["memory"], "8192Mi");
  EXPECT_EQ(manifest["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"], "camp");

  h.answer("kubectl", ok_out(fixture("kubectl_jobs.json")));
  auto found = h.sched->find(JobKey{"mol-screen", "prep", 1});
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(*found, std::optional<std::string>("cairn-mol-screen-prep-1"));

  ASSERT_TRUE(h.sched->cancel("cairn-mol-screen-prep-1"));
  EXPECT_EQ(h.shared->calls.back(), (std::vector<std::string>{"kubectl", "--namespace", "research", "delete",
                                                              "job", "cairn-mol-screen-prep-1"}));
  auto logs = h.sched->log_tail("cairn-mol-screen-prep-1", 30);
  ASSERT_TRUE(logs);
  EXPECT_EQ(h.shared->calls.back(),
            (std::vector<std::string>{"kubectl", "--namespace", "research", "logs",
                                      "job/cairn-mol-screen-prep-1", "--tail=30", "--all-containers=true"}));

  h.answer("kubectl", err_out(1, fixture("kubectl_unreachable.err")));
  auto down = h.sched->status({"cairn-mol-screen-prep-1"});
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().exit, ExitCode::unreachable);

  // Without a namespace setting the optional group disappears.
  Harness plain(Settings{{"preset", "kubernetes"}, {"image", "busybox"}});
  ASSERT_TRUE(plain.sched->cancel("j"));
  EXPECT_EQ(plain.shared->calls.back(), (std::vector<std::string>{"kubectl", "delete", "job", "j"}));
}

// Job identity is per repository: keys of two repositories that share a campaign name
// differ in their repo part, and find adopts only the one whose whole key matches, also
// when the key is too long (or has characters) for a label and the label is a hash.
TEST(CommandKubernetes, FindMatchesTheWholeKeyOfItsRepository) {
  const std::string campaign = "cnt-hydrogenation-300k-ensemble-with-a-very-long-descriptive-name";
  const JobKey mine{campaign, "prod", 3, "a1b2c3d4e5f6"};
  const JobKey theirs{campaign, "prod", 3, "f6e5d4c3b2a1"};
  const std::string label = label_value(mine.str());
  ASSERT_GT(mine.str().size(), 63u);
  EXPECT_LE(label.size(), 63u);
  EXPECT_NE(label, label_value(theirs.str()));
  auto job = [&](const std::string& name, const JobKey& key) {
    return nlohmann::json{
        {"kind", "Job"},
        {"metadata",
         {{"name", name},
          {"labels", {{"cairn.dev/key", label_value(key.str())}}},
          {"annotations", {{"cairn.dev/key", key.str()}}}}},
        {"spec", {{"template", {{"spec", {{"containers", {{{"workingDir", "/w/" + name}}}}}}}}}},
        {"status", {{"active", 1}, {"ready", 1}}}};
  };
  // A selector that matched more than it should (or a hash collision) is still checked
  // against the annotation: the other repository's job is never adopted.
  const nlohmann::json list = {{"kind", "List"},
                               {"items", {job("cairn-theirs", theirs), job("cairn-mine", mine)}}};
  Harness h(Settings{{"preset", "kubernetes"}, {"image", "busybox"}});
  h.answer("kubectl", ok_out(list.dump()));
  auto found = h.sched->find(mine);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(*found, std::optional<std::string>("cairn-mine"));
  EXPECT_EQ(h.shared->calls.back().at(4), "app.kubernetes.io/managed-by=cairn,cairn.dev/key=" + label);
  const nlohmann::json only_theirs = {{"kind", "List"}, {"items", {job("cairn-theirs", theirs)}}};
  h.answer("kubectl", ok_out(only_theirs.dump()));
  auto none = h.sched->find(mine);
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(none->has_value());

  // The submitted Job carries that label, a DNS-label name and the whole key.
  h.answer("kubectl", ok_out(R"({"kind": "List", "items": []})"));
  h.answer("kubectl", ok_out("job.batch/x\n"));
  SubmitRequest req = request(campaign, "prod");
  req.key = mine;
  ASSERT_TRUE(h.sched->submit(req));
  auto manifest = nlohmann::json::parse(h.shared->inputs.back());
  EXPECT_EQ(manifest["metadata"]["labels"]["cairn.dev/key"], label);
  EXPECT_EQ(manifest["metadata"]["annotations"]["cairn.dev/key"], mine.str());
  EXPECT_LE(manifest["metadata"]["name"].get<std::string>().size(), 63u);
}

TEST(CommandGeneric, FindAndWorkDirOfTheJsonLinesProtocol) {
  auto settings = kGeneric;
  settings.erase("find");
  Harness h(settings);
  h.answer(
      "mysched",
      ok_out(
          "{\"id\": \"j-1\", \"state\": \"running\", \"name\": \"cairn.r2.c.s.1\", \"work_dir\": \"/b\"}\n"
          "{\"id\": \"j-2\", \"state\": \"running\", \"name\": \"cairn.r1.c.s.1\", \"work_dir\": \"/a\"}\n"));
  auto id = h.sched->find(JobKey{"c", "s", 1, "r1"});
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, std::optional<std::string>("j-2"));
  h.answer("mysched", ok_out("{\"id\": \"j-2\", \"state\": \"completed\", \"work_dir\": \"/scratch/a b\"}\n"
                             "{\"id\": \"j-3\", \"state\": \"completed\"}\n"));
  auto st = h.sched->status({"j-2", "j-3"});
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->at("j-2").work_dir, "/scratch/a b");
  EXPECT_EQ(st->at("j-3").work_dir, "");
}

// Where conditions look: through ssh when commands run there; nowhere for jobs whose
// files no workspace reaches.
TEST(CommandBackend, WorkspaceAndWhetherOutputsAreFiles) {
  Harness plain(kGeneric);
  EXPECT_EQ(plain.sched->workspace(), nullptr);
  EXPECT_TRUE(plain.sched->outputs_are_files());
  EXPECT_TRUE(Harness(Settings{{"preset", "pbs"}}).sched->outputs_are_files());
  EXPECT_TRUE(Harness(Settings{{"preset", "lsf"}}).sched->outputs_are_files());
  EXPECT_FALSE(
      Harness(Settings{{"preset", "vastai"}, {"offer", "1"}, {"image", "i"}}).sched->outputs_are_files());
  EXPECT_FALSE(Harness(Settings{{"preset", "kubernetes"}, {"image", "i"}}).sched->outputs_are_files());
  EXPECT_TRUE(Harness(Settings{{"preset", "kubernetes"}, {"image", "i"}, {"pvc", "camp"}})
                  .sched->outputs_are_files());

  auto settings = Settings{{"preset", "pbs"}, {"ssh_host", "login1"}};
  Harness h(settings);
  engine::Workspace* ws = h.sched->workspace();
  ASSERT_NE(ws, nullptr);
  h.answer("ssh",
           ok_out("cairn-probe dir\ncairn-probe 0 count 2\ncairn-probe 1 command 7\ncairn-probe end\n"));
  auto a = ws->probe("/home/alice/camp/mol screen",
                     {{engine::Probe::Kind::count, "out/*.dcd"}, {engine::Probe::Kind::command, "exit 7"}});
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ((*a)[0].count, 2);
  EXPECT_EQ((*a)[1].exit, 7);
  ASSERT_EQ(h.shared->calls.size(), 1u);
  EXPECT_EQ(h.shared->calls[0].at(0), "ssh");
  EXPECT_NE(std::find(h.shared->calls[0].begin(), h.shared->calls[0].end(), "login1"),
            h.shared->calls[0].end());

  // {user} through ssh is the remote login's, asked once.
  h.answer("ssh", ok_out("bob\n"));
  h.answer("ssh", ok_out(""));
  h.answer("ssh", ok_out(""));
  ASSERT_TRUE(h.sched->find(JobKey{"c", "s", 1, "r1"}));
  ASSERT_TRUE(h.sched->find(JobKey{"c", "s", 2, "r1"}));
  ASSERT_EQ(h.shared->calls.size(), 4u);
  EXPECT_EQ(h.shared->calls[1].back(), "-un");
  const auto& q = h.shared->calls[3];
  EXPECT_EQ(std::vector<std::string>(q.end() - 5, q.end()),
            (std::vector<std::string>{"-x", "-u", "bob", "-N", "cairn.r1.c.s.2"}));
}

// --- Vast.ai -----------------------------------------------------------------------------

TEST(CommandVastai, InstancesStatesAndCost) {
  const double now = 1795425600.0;  // start_date of smoke + 1.5 h
  auto jobs = parse_command_status("vastai", fixture("vastai_instances.json"), at_epoch(now));
  ASSERT_TRUE(jobs) << jobs.error().message;
  ASSERT_EQ(jobs->size(), 6u);
  auto st = by_id(*jobs);
  const std::vector<std::pair<std::string, JobState>> want = {
      {"14820031", JobState::running},   {"14820032", JobState::pending}, {"14820033", JobState::pending},
      {"14820034", JobState::completed}, {"14820035", JobState::failed},  {"14820036", JobState::node_fail}};
  for (const auto& [id, state] : want) EXPECT_EQ(st[id].state, state) << id << " " << st[id].reason;
  ASSERT_TRUE(st["14820031"].cost_usd.has_value());
  EXPECT_NEAR(*st["14820031"].cost_usd, 0.3466666666666667 * (4800.0 / 3600), 1e-9);
  EXPECT_NEAR(*st["14820031"].cpu_hours, 8.0 * 4800.0 / 3600, 1e-9);
  EXPECT_FALSE(st["14820033"].cost_usd.has_value());  // not started: nothing billed yet
  EXPECT_NE(st["14820035"].reason.find("OCI runtime"), std::string::npos);
  EXPECT_EQ(jobs->front().name, "cairn.mol-screen.smoke.1");
}

TEST(CommandVastai, SubmitStatusCancel) {
  Harness h(Settings{
      {"preset", "vastai"}, {"offer", "8412337"}, {"image", "ghcr.io/example/mol:1.4"}, {"disk", "40"}});
  h.answer("vastai", ok_out("[]"));
  h.answer("vastai", ok_out(fixture("vastai_create.json")));
  auto id = h.sched->submit(request("mol-screen"));
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, "14820031");
  EXPECT_EQ(h.shared->calls[0], (std::vector<std::string>{"vastai", "show", "instances", "--raw"}));
  EXPECT_EQ(h.shared->calls[1],
            (std::vector<std::string>{"vastai", "create", "instance", "8412337", "--image",
                                      "ghcr.io/example/mol:1.4", "--disk", "40", "--label",
                                      "cairn.mol-screen.smoke.1", "--onstart",
                                      "/home/alice/camp/mol screen/smoke.sh", "--raw"}));

  h.answer("vastai", ok_out(fixture("vastai_instances.json")));
  auto adopted = h.sched->submit(request("mol-screen", "dock"));
  ASSERT_TRUE(adopted);
  EXPECT_EQ(*adopted, "14820032");

  h.answer("vastai", ok_out(fixture("vastai_instances.json")));
  auto st = h.sched->status({"14820031", "14820034", "1"});
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->size(), 2u);
  EXPECT_TRUE(st->at("14820031").cost_usd.has_value());

  ASSERT_TRUE(h.sched->cancel("14820031"));
  EXPECT_EQ(h.shared->calls.back(), (std::vector<std::string>{"vastai", "destroy", "instance", "14820031"}));

  h.answer("vastai", ok_out("[]"));
  h.answer("vastai", ok_out(fixture("vastai_create_fail.json")));
  auto gone = h.sched->submit(request("mol-screen", "x"));
  ASSERT_FALSE(gone);
  EXPECT_NE(gone.error().message.find("no longer available"), std::string::npos) << gone.error().message;

  h.answer("vastai", err_out(1, fixture("vastai_unreachable.err")));
  auto down = h.sched->status({"14820031"});
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().exit, ExitCode::unreachable);
}

// --- end to end: a fake scheduler CLI through the real ProcessRunner ----------------------

// A tiny batch system in sh: jobs run detached, one directory each under $STATE.
constexpr const char* kFakeCli = R"SH(#!/bin/sh
set -eu
STATE=$(dirname "$0")/state
mkdir -p "$STATE"
cmd=$1; shift
case "$cmd" in
submit)
  name=$1 dir=$2 run=$3
  n=$(($(ls "$STATE" | wc -l) + 1))
  id="fk-$n"
  mkdir "$STATE/$id"
  printf '%s' "$name" > "$STATE/$id/name"
  printf '%s\n' "$@" > "$STATE/$id/argv"
  (
    set +e
    cd "$dir" || exit 1
    sh "$run" > "$STATE/$id/log" 2>&1 &
    echo $! > "$STATE/$id/pid"
    wait $!
    echo $? > "$STATE/$id/exit"
  ) </dev/null >/dev/null 2>&1 &
  while [ ! -s "$STATE/$id/pid" ]; do sleep 0.01; done
  echo "$id"
  ;;
find)
  for d in "$STATE"/*/; do
    [ -f "$d/name" ] || continue
    if [ "$(cat "$d/name")" = "$1" ]; then basename "$d"; fi
  done
  ;;
status)
  for id in "$@"; do
    d="$STATE/$id"
    [ -d "$d" ] || continue
    if [ -f "$d/cancelled" ]; then
      echo "{\"id\": \"$id\", \"state\": \"cancelled\", \"exit_code\": null, \"reason\": \"scancelled\"}"
    elif [ -f "$d/exit" ]; then
      e=$(cat "$d/exit")
      if [ "$e" = 0 ]; then s=completed; else s=failed; fi
      echo "{\"id\": \"$id\", \"state\": \"$s\", \"exit_code\": $e, \"reason\": \"\", \"cost_usd\": 0.01, \"cpu_hours\": 0.001}"
    else
      echo "{\"id\": \"$id\", \"state\": \"running\", \"exit_code\": null, \"reason\": \"\"}"
    fi
  done
  ;;
cancel)
  d="$STATE/$1"
  [ -d "$d" ] || { echo "fakesched: error: no job $1" >&2; exit 1; }
  touch "$d/cancelled"
  kill "$(cat "$d/pid")" 2>/dev/null || true
  ;;
logs)
  tail -n "$2" "$STATE/$1/log"
  ;;
*)
  echo "fakesched: unknown command $cmd" >&2; exit 2 ;;
esac
)SH";

TEST(CommandEndToEnd, FakeCliThroughProcessRunner) {
  char tmpl[] = "/tmp/cairn-cmd-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const fs::path root(tmpl);
  const fs::path cli = root / "fake sched";  // a space in the program path, too
  { std::ofstream(cli) << kFakeCli; }
  fs::permissions(cli, fs::perms::owner_all);
  const fs::path camp = root / "camp dir";
  fs::create_directories(camp);
  std::ofstream(camp / "ok.sh") << "echo \"hello from $(pwd)\"\necho second\nexit 0\n";
  std::ofstream(camp / "bad.sh") << "echo failing\nexit 7\n";
  std::ofstream(camp / "slow.sh") << "exec sleep 30\n";

  const std::string prog = "'" + cli.string() + "'";
  auto cfg = parse_command_config({{"submit", prog + " submit {key} {dir} {run}"},
                                   {"status", prog + " status {job_ids}"},
                                   {"find", prog + " find {key}"},
                                   {"cancel", prog + " cancel {job_id}"},
                                   {"logs", prog + " logs {job_id} {lines}"},
                                   {"timeout", "20"}});
  ASSERT_TRUE(cfg) << cfg.error().message;
  CommandScheduler sched(std::make_unique<ProcessRunner>(), std::move(*cfg));

  auto make = [&](const std::string& campaign, const std::string& stage, const std::string& run) {
    SubmitRequest r;
    r.key = JobKey{campaign, stage, 1};
    r.campaign_dir = camp.string();
    r.spec.run = run;
    return r;
  };
  const std::string hostile = "camp; touch " + (root / "pwned").string() + " $(id)";
  auto ok = sched.submit(make(hostile, "ok", "ok.sh"));
  ASSERT_TRUE(ok) << ok.error().message;
  auto bad = sched.submit(make("c", "bad", "bad.sh"));
  ASSERT_TRUE(bad) << bad.error().message;
  auto slow = sched.submit(make("c", "slow", "slow.sh"));
  ASSERT_TRUE(slow) << slow.error().message;
  EXPECT_NE(*ok, *bad);

  // The hostile campaign name arrived as one argument, never run by a shell.
  std::ifstream argv_file(root / "state" / *ok / "argv");
  std::string first;
  std::getline(argv_file, first);
  EXPECT_EQ(first, "cairn." + hostile + ".ok.1");
  EXPECT_FALSE(fs::exists(root / "pwned"));

  // Submitting the same key again adopts the job.
  auto again = sched.submit(make(hostile, "ok", "ok.sh"));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(*again, *ok);

  std::map<std::string, JobStatus> st;
  for (int i = 0; i < 100; ++i) {
    auto r = sched.status({*ok, *bad, *slow, "fk-404"});
    ASSERT_TRUE(r) << r.error().message;
    st = *r;
    if (st.count(*ok) && st.count(*bad) && is_final(st[*ok].state) && is_final(st[*bad].state)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(st[*ok].state, JobState::completed);
  EXPECT_EQ(st[*ok].exit_code, 0);
  EXPECT_EQ(st[*bad].state, JobState::failed);
  EXPECT_EQ(st[*bad].exit_code, 7);
  EXPECT_EQ(st[*slow].state, JobState::running);
  EXPECT_EQ(st.count("fk-404"), 0u);
  EXPECT_NEAR(*st[*ok].cost_usd, 0.01, 1e-12);

  auto logs = sched.log_tail(*ok, 1);
  ASSERT_TRUE(logs) << logs.error().message;
  EXPECT_EQ(*logs, "second\n");

  ASSERT_TRUE(sched.cancel(*slow));
  auto after = sched.status({*slow});
  ASSERT_TRUE(after);
  EXPECT_EQ(after->at(*slow).state, JobState::cancelled);

  auto missing = sched.cancel("fk-404");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().exit, ExitCode::findings);
  EXPECT_NE(missing.error().message.find("no job fk-404"), std::string::npos) << missing.error().message;

  std::error_code ec;
  fs::remove_all(root, ec);
}

// ---- issue 19: answers that stopped a whole tick ---------------------------------------

TEST(CommandHardening, LsfOutputPathWithPercentJIsExpandedOnce) {
  // The id itself holds `%J`: replacing in a loop from 0 never ended.
  auto jobs = parse_command_status("lsf", R"({"RECORDS":[{"JOBID":"%J","OUTPUT_FILE":"%J"}]})", {});
  ASSERT_TRUE(jobs) << jobs.error().message;
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ(jobs->front().log_path, "%J");
  auto idx = parse_command_status(
      "lsf", R"({"RECORDS":[{"JOBID":"7%I","JOB_NAME":"n[3]","OUTPUT_FILE":"/o/%J.%I.%I%%J"}]})", {});
  ASSERT_TRUE(idx) << idx.error().message;
  EXPECT_EQ(idx->front().log_path, "/o/7%I.3.3%7%I");
}

TEST(CommandHardening, KubernetesOddTypesAreErrorsNotExceptions) {
  auto not_object = parse_command_status("kubernetes", R"({"items":[1]})", {});
  ASSERT_FALSE(not_object);
  EXPECT_NE(not_object.error().message.find("not a Job object"), std::string::npos)
      << not_object.error().message;
  auto suspend = parse_command_status(
      "kubernetes", R"({"items":[{"metadata":{"name":"j"},"spec":{"suspend":"yes"},"status":{}}]})", {});
  ASSERT_TRUE(suspend) << suspend.error().message;
  EXPECT_EQ(suspend->front().status.state, JobState::pending);
  // Any other type surprise stops at the boundary as an error about this answer.
  for (const char* text :
       {R"({"items":[{"metadata":[]}]})", R"({"items":[{"spec":{"template":{"spec":7}}}]})",
        R"({"items":[{"status":{"conditions":[1, "x"]}}]})"}) {
    auto r = parse_command_status("kubernetes", text, {});
    if (!r) {
      EXPECT_NE(r.error().message.find("kubernetes"), std::string::npos) << text;
    }
  }
}

TEST(CommandHardening, HugeNumbersDoNotOverflow) {
  auto jobs = parse_command_status("", R"({"id":"1","state":"failed","exit_code":1e300})", {});
  ASSERT_TRUE(jobs) << jobs.error().message;
  EXPECT_FALSE(jobs->front().status.exit_code.has_value());
  auto pbs = parse_command_status(
      "pbs",
      R"({"Jobs":{"1.s":{"job_state":"F","Exit_status":-1e300,"resources_used":{"walltime":"99999999999999999:00:00","ncpus":1e300}}}})",
      {});
  ASSERT_TRUE(pbs) << pbs.error().message;
  auto vast =
      parse_command_status("vastai", R"([{"id":5,"actual_status":"running","start_date":1e300}])", {});
  ASSERT_TRUE(vast) << vast.error().message;
  EXPECT_FALSE(vast->front().status.started.has_value());
}

TEST(CommandHardening, SubmitRegexIsRe2) {
  // 15,000 nested groups overflowed std::regex's recursive parser; RE2 refuses it plainly.
  const std::string deep = std::string(15000, '(') + "\\d+" + std::string(15000, ')');
  auto c = parse_command_config({{"preset", "lsf"}, {"submit_regex", deep}});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("submit_regex"), std::string::npos);
  auto no_group = parse_command_config({{"preset", "lsf"}, {"submit_regex", "Job <\\d+>"}});
  ASSERT_FALSE(no_group);
  EXPECT_NE(no_group.error().message.find("(group)"), std::string::npos);
  auto ok = parse_command_config({{"preset", "lsf"}, {"submit_regex", "Job <(\\d+)>"}});
  ASSERT_TRUE(ok) << ok.error().message;
  auto id = submit_id_from(*ok, "bsub", "Job <1234> is submitted to default queue <normal>.\n");
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, "1234");
  EXPECT_FALSE(submit_id_from(*ok, "bsub", "Request aborted\n"));
}

}  // namespace
}  // namespace cairn::sched
