// The Slurm backend: parsing and state mapping on real-format fixtures, command lines
// and batching through a recording runner, and (with CAIRN_SLURM_TEST=1, run by
// tests/integration/slurm_cluster.sh) the same backend against a real one-node cluster.

#include <cairn/sched/command_runner.hpp>
#include <cairn/sched/slurm.hpp>

#include <fmt/format.h>

#include "sched_fakes.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

namespace cairn::sched {
namespace {

using testing::err_out;
using testing::FakeRunner;
using testing::ok_out;
using testing::program_of;
std::string fixture(const std::string& name) {
  return testing::fixture("slurm", name);
}

using engine::JobKey;
using engine::JobState;
using engine::JobStatus;
using engine::SubmitRequest;
namespace fs = std::filesystem;

template <class F>
SlurmConfig config(F set) {
  SlurmConfig c;
  set(c);
  return c;
}

engine::TimePoint epoch(std::int64_t seconds) {
  return engine::TimePoint(std::chrono::seconds(seconds));
}

// Counts calls per program and passes them on (the real-cluster tests' call meter).
class CountingRunner : public CommandRunner {
 public:
  CountingRunner(std::unique_ptr<CommandRunner> inner, std::shared_ptr<std::map<std::string, int>> counts)
      : m_inner(std::move(inner)), m_counts(std::move(counts)) {}
  Expected<CommandResult> run(const std::vector<std::string>& argv, std::string_view input,
                              std::chrono::milliseconds timeout) override {
    ++(*m_counts)[program_of(argv)];
    return m_inner->run(argv, input, timeout);
  }

 private:
  std::unique_ptr<CommandRunner> m_inner;
  std::shared_ptr<std::map<std::string, int>> m_counts;
};

std::string arg_with(const std::vector<std::string>& argv, std::string_view prefix) {
  for (const auto& a : argv) {
    if (a.rfind(prefix, 0) == 0) return a;
  }
  return "";
}

// --- pure helpers ------------------------------------------------------------------------

TEST(SlurmState, EveryStateMaps) {
  const std::vector<std::pair<std::string, JobState>> cases = {
      {"PENDING", JobState::pending},     {"CONFIGURING", JobState::pending},
      {"REQUEUED", JobState::pending},    {"RUNNING", JobState::running},
      {"COMPLETING", JobState::running},  {"SUSPENDED", JobState::running},
      {"COMPLETED", JobState::completed}, {"FAILED", JobState::failed},
      {"CANCELLED", JobState::cancelled}, {"CANCELLED by 123", JobState::cancelled},
      {"TIMEOUT", JobState::timeout},     {"OUT_OF_MEMORY", JobState::out_of_memory},
      {"NODE_FAIL", JobState::node_fail}, {"PREEMPTED", JobState::preempted},
      {"BOOT_FAIL", JobState::boot_fail}, {"DEADLINE", JobState::timeout},
      {"PD", JobState::pending},          {"R", JobState::running},
      {"CG", JobState::running},          {"CD", JobState::completed},
      {"OOM", JobState::out_of_memory},   {"RUNNING+", JobState::running},
      {"WHATEVER", JobState::unknown},    {"", JobState::unknown}};
  for (const auto& [text, want] : cases) EXPECT_EQ(map_slurm_state(text), want) << text;
}

TEST(SlurmParse, SqueueFixture) {
  auto rows = parse_squeue(fixture("squeue_mixed.txt"));
  ASSERT_EQ(rows.size(), 11u);
  EXPECT_EQ(rows[1].job_id, "1234_[3-5%2]");
  EXPECT_EQ(rows[1].reason, "JobArrayTaskLimit");
  auto st = aggregate(rows, {"1234", "1235", "1236", "1237", "1238", "1239", "1240", "1242", "9999"});
  EXPECT_EQ(st.count("9999"), 0u);
  EXPECT_EQ(st["1234"].state, JobState::running);  // two tasks run, three wait
  EXPECT_EQ(st["1234"].tasks.size(), 3u);
  EXPECT_EQ(st["1235"].state, JobState::pending);
  EXPECT_NE(st["1235"].reason.find("JobHeldUser"), std::string::npos);
  EXPECT_EQ(st["1236"].state, JobState::running);
  EXPECT_EQ(st["1237"].state, JobState::running);
  EXPECT_EQ(st["1238"].state, JobState::pending);
  EXPECT_EQ(st["1239"].state, JobState::running);
  EXPECT_EQ(st["1240"].state, JobState::pending);
  EXPECT_EQ(st["1242"].state, JobState::pending);
  // Blocked: pending for a reason that will not clear by itself. Waiting one's turn is not.
  EXPECT_TRUE(st["1235"].blocked);   // JobHeldUser
  EXPECT_TRUE(st["1240"].blocked);   // PartitionTimeLimit: asks more time than the partition allows
  EXPECT_FALSE(st["1242"].blocked);  // requeued, waiting for its BeginTime
  EXPECT_FALSE(st["1234"].blocked);  // running
}

TEST(SlurmParse, BlockedReasons) {
  const auto pending = [](const std::string& reason) {
    return aggregate(parse_squeue("5|PENDING|" + reason + "\n"), {"5"})["5"].blocked;
  };
  for (const char* r : {"JobHeldUser", "JobHeldAdmin", "DependencyNeverSatisfied", "PartitionDown",
                        "PartitionInactive", "InvalidQOS", "QOSMaxWallDurationPerJobLimit"}) {
    EXPECT_TRUE(pending(r)) << r;
  }
  for (const char* r :
       {"Priority", "Resources", "BeginTime", "Dependency", "ReqNodeNotAvail, UnavailableNodes:c1",
        "QOSMaxJobsPerUserLimit", "JobArrayTaskLimit", "None"}) {
    EXPECT_FALSE(pending(r)) << r;
  }
  // An array is blocked only when every task still waiting is.
  EXPECT_TRUE(aggregate(parse_squeue("6_[1-4]|PENDING|JobHeldUser\n"), {"6"})["6"].blocked);
  EXPECT_FALSE(
      aggregate(parse_squeue("6_1|PENDING|JobHeldUser\n6_[2-4]|PENDING|Priority\n"), {"6"})["6"].blocked);
}

TEST(SlurmParse, SacctFixtureFinalStates) {
  auto rows = parse_sacct(fixture("sacct_finished.txt"));
  ASSERT_EQ(rows.size(), 22u);
  EXPECT_EQ(rows[0].work_dir, "/home/u/camp/c1");
  EXPECT_EQ(rows[21].work_dir, "");
  auto st = aggregate(
      rows, {"1", "2", "4", "7", "9", "12", "3", "20", "21", "22", "23", "24", "25", "26", "27", "28"});
  struct Want {
    std::string id;
    JobState state;
    std::optional<int> exit;
  };
  const std::vector<Want> want = {
      {"1", JobState::completed, 0},
      {"2", JobState::failed, 3},
      {"4", JobState::failed, 128 + 9},
      {"7", JobState::cancelled, 0},
      {"9", JobState::cancelled, 0},
      {"12", JobState::timeout, 0},
      {"20", JobState::out_of_memory, 128 + 125},
      {"21", JobState::preempted, 128 + 15},
      {"22", JobState::node_fail, 1},
      {"23", JobState::boot_fail, 0},
      {"24", JobState::timeout, 0},
      {"25", JobState::pending, 0},
      {"26", JobState::pending, 0},
      {"27", JobState::pending, std::nullopt},
      {"3", JobState::failed, 4},
      {"28", JobState::out_of_memory, 128 + 125}};  // task 3: the first non-zero exit
  for (const auto& w : want) {
    ASSERT_EQ(st.count(w.id), 1u) << w.id;
    EXPECT_EQ(st[w.id].state, w.state) << w.id << " " << st[w.id].reason;
    EXPECT_EQ(st[w.id].exit_code, w.exit) << w.id;
  }
  EXPECT_NE(st["4"].reason.find("signal 9"), std::string::npos) << st["4"].reason;
  EXPECT_NE(st["24"].reason.find("DEADLINE"), std::string::npos);
  EXPECT_NE(st["7"].reason.find("CANCELLED by 0"), std::string::npos);
  // Array 3: tasks listed in order, the failing one named in the reason.
  ASSERT_EQ(st["3"].tasks.size(), 3u);
  EXPECT_EQ(st["3"].tasks[1].index, "2");
  EXPECT_EQ(st["3"].tasks[1].state, JobState::failed);
  EXPECT_EQ(st["3"].tasks[1].exit_code, 4);
  EXPECT_EQ(st["3"].tasks[0].state, JobState::completed);
  EXPECT_NE(st["3"].reason.find("2 failed"), std::string::npos) << st["3"].reason;
  // cpu_hours = elapsed x AllocCPUS: 3 s x 1 CPU; a day+ on 32 CPUs.
  EXPECT_NEAR(*st["1"].cpu_hours, 3.0 / 3600, 1e-9);
  EXPECT_NEAR(*st["22"].cpu_hours, 93784.0 / 3600 * 32, 1e-6);
  EXPECT_NEAR(*st["28"].cpu_hours, (600 + 3600 + 1800 + 60) / 3600.0 * 2, 1e-9);
  // Times: a queue wait and a run time; arrays from their first start to their last end.
  EXPECT_EQ(st["1"].submitted, epoch(1795400000));
  EXPECT_EQ(st["1"].started, epoch(1795400004));
  EXPECT_EQ(st["1"].ended, epoch(1795400007));
  EXPECT_EQ(st["1"].pool, "amilan");
  EXPECT_EQ(st["21"].pool, "gpu");
  EXPECT_EQ(st["9"].started, std::nullopt);  // cancelled while pending: Start "None"
  EXPECT_EQ(st["9"].ended, epoch(1795400400));
  EXPECT_EQ(st["3"].submitted, epoch(1795400600));
  EXPECT_EQ(st["3"].started, epoch(1795400602));
  EXPECT_EQ(st["3"].ended, epoch(1795400607));
  EXPECT_EQ(st["28"].started, epoch(1795401700));
  EXPECT_EQ(st["28"].ended, epoch(1795405360));
  EXPECT_EQ(st["26"].submitted, epoch(1795401500));
  EXPECT_EQ(st["26"].started, std::nullopt);  // "Unknown"
  EXPECT_EQ(st["26"].ended, std::nullopt);
  // Nodes, in Slurm's hostlist notation; for a job that ended badly only the failed tasks'.
  EXPECT_EQ(st["1"].nodes, "localhost");
  EXPECT_EQ(st["22"].nodes, "node[101-104]");
  EXPECT_EQ(st["3"].nodes, "localhost");
  EXPECT_EQ(st["28"].nodes, "node002,node003,node004");
  EXPECT_EQ(st["9"].nodes, "");  // cancelled while pending: "None assigned"
  EXPECT_EQ(st["26"].nodes, "");
}

TEST(SlurmParse, Times) {
  const std::vector<std::pair<std::string, std::optional<engine::TimePoint>>> cases = {
      {"1795442985", epoch(1795442985)},
      {"Unknown", std::nullopt},
      {"None", std::nullopt},
      {"N/A", std::nullopt},
      {"", std::nullopt},
      {"0", std::nullopt},
      {"2026-11-23T14:09:30", std::nullopt},  // the default format: asked for %s, never parsed
      {"99999999999", std::nullopt},          // past 2262: system_clock cannot hold it (issue 19)
      {"9223372036854775807", std::nullopt}};
  for (const auto& [text, want] : cases) EXPECT_EQ(parse_slurm_time(text), want) << text;
}

// Captured from the test cluster with SLURM_TIME_FORMAT=%s: a held job, an array while
// it runs (squeue's end is then its time limit), a finished job, a job cancelled while
// held (sacct: Start "None") and slurmdbd's placeholder row.
TEST(SlurmParse, TimesFromRealOutput) {
  auto q = aggregate(parse_squeue(fixture("squeue_times.txt")), {"281", "282", "283"});
  EXPECT_EQ(q["283"].state, JobState::pending);
  EXPECT_EQ(q["283"].submitted, epoch(1795442985));
  EXPECT_EQ(q["283"].started, std::nullopt);
  EXPECT_EQ(q["283"].pool, "debug");
  EXPECT_EQ(q["282"].state, JobState::running);
  EXPECT_EQ(q["282"].started, epoch(1795442985));
  EXPECT_EQ(q["282"].ended, std::nullopt);  // a forecast
  EXPECT_EQ(q["281"].state, JobState::completed);
  EXPECT_EQ(q["281"].submitted, epoch(1795442970));
  EXPECT_EQ(q["281"].started, epoch(1795442971));
  EXPECT_EQ(q["281"].ended, epoch(1795442974));
  EXPECT_EQ(q["281"].pool, "debug");
  // A pending job's start (and a running job's end) is the scheduler's forecast.
  auto forecast =
      aggregate(parse_squeue("290|PENDING|Priority|1795442985|1795450000|1795453600|a,b\n"), {"290"});
  EXPECT_EQ(forecast["290"].started, std::nullopt);
  EXPECT_EQ(forecast["290"].ended, std::nullopt);
  EXPECT_EQ(forecast["290"].pool, "a,b");

  auto rows = parse_sacct(fixture("sacct_times.txt"));
  ASSERT_EQ(rows.size(), 7u);
  EXPECT_EQ(rows[6].name, "allocation");
  EXPECT_EQ(rows[6].work_dir, "");
  EXPECT_EQ(rows[6].partition, "");
  auto a = aggregate(rows, {"281", "282", "283", "286"});
  EXPECT_EQ(a["281"].started, epoch(1795442971));
  EXPECT_EQ(a["281"].ended, epoch(1795442974));
  EXPECT_EQ(a["282"].state, JobState::failed);
  EXPECT_EQ(a["282"].ended, epoch(1795442988));
  EXPECT_EQ(a["283"].started, std::nullopt);
  EXPECT_EQ(a["283"].ended, std::nullopt);
  EXPECT_EQ(a["286"].state, JobState::cancelled);
  EXPECT_EQ(a["286"].started, std::nullopt);
  EXPECT_EQ(a["286"].ended, epoch(1795442995));
  // WorkDir is the last field: a '|' in it stays.
  auto odd = parse_sacct("5|n|COMPLETED|0:0|None|00:00:01|1|node1|1|2|3|debug|/w/a|b\n");
  ASSERT_EQ(odd.size(), 1u);
  EXPECT_EQ(odd[0].work_dir, "/w/a|b");
}

TEST(SlurmParse, SinfoAndPartitionChoice) {
  auto local = parse_sinfo(fixture("sinfo_partitions.txt"));
  ASSERT_EQ(local.size(), 2u);
  EXPECT_EQ(local[0].name, "debug");
  EXPECT_EQ(local[0].gpus_per_node, 2);
  EXPECT_EQ(local[1].time_limit_seconds, 86400);

  auto site = parse_sinfo(fixture("sinfo_site.txt"));
  ASSERT_EQ(site.size(), 6u);
  EXPECT_EQ(site[0].name, "amilan");
  EXPECT_EQ(site[0].nodes, 152);
  EXPECT_EQ(site[0].usable_nodes, 150);
  EXPECT_EQ(site[1].gpus_per_node, 3);
  EXPECT_FALSE(site[5].time_limit_seconds.has_value());

  struct Case {
    std::optional<std::int64_t> time;
    std::optional<int> gpus;
    std::string want;  // "" = no fit
  };
  const std::vector<Case> cases = {
      {1800, std::nullopt, "atesting"},  // idle, smallest limit
      {7200, std::nullopt, "ami100"},    // idle with a 1-day limit
      {7200, 3, "ami100"},               // idle GPUs beat busy ones
      {2 * 86400, std::nullopt, "blong"},
      {7200, 4, ""},  // nobody has 4 GPUs per node (maint is down)
      {8 * 86400, std::nullopt, ""},
  };
  for (const auto& c : cases) {
    doc::Resources r;
    r.time_seconds = c.time;
    r.gpus = c.gpus;
    auto choice = choose_partition(site, r);
    if (c.want.empty()) {
      ASSERT_FALSE(choice) << choice->partition;
      EXPECT_NE(choice.error().message.find("maint (not up)"), std::string::npos) << choice.error().message;
    } else {
      ASSERT_TRUE(choice) << choice.error().message;
      EXPECT_EQ(choice->partition, c.want);
      EXPECT_NE(choice->reason.find("partition " + c.want), std::string::npos) << choice->reason;
    }
  }
}

TEST(ShellQuote, Words) {
  const std::vector<std::pair<std::string, std::string>> cases = {{"squeue", "squeue"},
                                                                  {"--jobs=1,2,3", "--jobs=1,2,3"},
                                                                  {"%i|%T|%r", "'%i|%T|%r'"},
                                                                  {"", "''"},
                                                                  {"a b", "'a b'"},
                                                                  {"it's", "'it'\\''s'"},
                                                                  {"$(rm -rf /)", "'$(rm -rf /)'"},
                                                                  {"x;y&&z`w`", "'x;y&&z`w`'"},
                                                                  {"line\nbreak", "'line\nbreak'"}};
  for (const auto& [in, want] : cases) EXPECT_EQ(shell_quote(in), want) << in;
}

// The quoted words survive a real shell exactly: sh -c 'printf "[%s]" <words>'.
TEST(ShellQuote, RoundTripsThroughShell) {
  const std::vector<std::string> words = {"plain", "a b", "it's", "$HOME", "*", "\"q\"", "back\\slash", ""};
  std::string cmd = "printf '[%s]'";
  std::string want;
  for (const auto& w : words) {
    cmd += " " + shell_quote(w);
    want += "[" + w + "]";
  }
  ProcessRunner runner;
  auto r = runner.run({"sh", "-c", cmd}, "", std::chrono::seconds(5));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->out, want);
}

TEST(SshRunner, WrapsAndClassifies) {
  auto shared = std::make_shared<FakeRunner::Shared>();
  SshRunner ssh(std::make_unique<FakeRunner>(shared), SshOptions{"login1", 10, "", 60, "", "ssh"});
  EXPECT_EQ(ssh.wrap({"squeue", "-o", "%i|%T"}),
            (std::vector<std::string>{"ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "login1", "--",
                                      "squeue", "-o", "'%i|%T'"}));
  SshRunner shared_conn(std::make_unique<FakeRunner>(shared),
                        SshOptions{"login1", 5, "/tmp/c-%C", 30, "/etc/cairn/ssh_config", "ssh"});
  auto w = shared_conn.wrap({"true"});
  ASSERT_GE(w.size(), 3u);
  EXPECT_EQ(w[1], "-F");
  EXPECT_EQ(w[2], "/etc/cairn/ssh_config");
  EXPECT_NE(std::find(w.begin(), w.end(), "ControlPath=/tmp/c-%C"), w.end());
  EXPECT_NE(std::find(w.begin(), w.end(), "ControlMaster=auto"), w.end());
  EXPECT_NE(std::find(w.begin(), w.end(), "ConnectTimeout=5"), w.end());

  shared->answers["ssh"].push_back(err_out(255, "ssh: connect to host login1 port 22: Connection refused\n"));
  auto r = ssh.run({"squeue"}, "", std::chrono::seconds(1));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit, ExitCode::unreachable);
  EXPECT_NE(r.error().message.find("Connection refused"), std::string::npos);
  shared->answers["ssh"].push_back(err_out(1, "squeue: error: bad option"));
  auto r2 = ssh.run({"squeue"}, "", std::chrono::seconds(1));
  ASSERT_TRUE(r2);  // the remote command's own failure is the caller's to judge
  EXPECT_EQ(r2->exit, 1);
}

TEST(ProcessRunner, ExitOutputInputTimeout) {
  ProcessRunner runner;
  auto r = runner.run({"sh", "-c", "cat; echo err >&2; exit 3"}, "in put", std::chrono::seconds(5));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->exit, 3);
  EXPECT_EQ(r->out, "in put");
  EXPECT_EQ(r->err, "err\n");
  auto slow = runner.run({"sleep", "5"}, "", std::chrono::milliseconds(200));
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.error().exit, ExitCode::unreachable);
  auto missing = runner.run({"/nonexistent/cairn-no-such-program"}, "", std::chrono::seconds(5));
  EXPECT_TRUE(!missing || missing->exit != 0);
}

// --- the scheduler through a recording runner ---------------------------------------------

class SlurmFake : public ::testing::Test {
 protected:
  SlurmFake() : shared(std::make_shared<FakeRunner::Shared>()) {}
  SlurmScheduler make(SlurmConfig c = {}) { return SlurmScheduler(std::make_unique<FakeRunner>(shared), c); }
  int count(const std::string& program) const {
    int n = 0;
    for (const auto& c : shared->calls) n += program_of(c) == program;
    return n;
  }
  SubmitRequest request() const {
    SubmitRequest r;
    r.key = JobKey{"c1", "smoke", 2};
    r.campaign_dir = "/home/u/camp/c1";
    r.spec.run = "jobs/smoke.sh";
    r.spec.resources.time_seconds = 1800;
    r.spec.resources.cpus = 4;
    r.spec.resources.mem_mb = 8192;
    r.spec.resources.gpus = 1;
    r.spec.resources.partition = "gpu";
    return r;
  }
  std::shared_ptr<FakeRunner::Shared> shared;
};

TEST_F(SlurmFake, SubmitBuildsArgvAndParsesClusterSuffix) {
  shared->answers["sbatch"].push_back(ok_out("4242;cairn-test\n"));
  auto s = make();
  auto id = s.submit(request());
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, "4242");
  // No lookup: the tick asked find_all() for the key and published its intent first.
  ASSERT_EQ(shared->calls.size(), 2u);  // mkdir, sbatch
  EXPECT_EQ(count("squeue") + count("sacct"), 0);
  EXPECT_EQ(shared->calls[0], (std::vector<std::string>{"mkdir", "-p", "--", "/home/u/camp/c1/.cairn"}));
  EXPECT_EQ(
      shared->calls[1],
      (std::vector<std::string>{"sbatch", "--parsable", "--export=NONE", "--job-name=cairn.c1.smoke.2",
                                "--chdir=/home/u/camp/c1", "--output=/home/u/camp/c1/.cairn/slurm-%x-%j.out",
                                "--time=00:30:00", "--cpus-per-task=4", "--mem=8192M", "--gres=gpu:1",
                                "--partition=gpu", "/home/u/camp/c1/jobs/smoke.sh"}));
}

TEST_F(SlurmFake, SubmitArrayRetryUsesOnlyFailedIndicesAndOutputDir) {
  shared->answers["sbatch"].push_back(ok_out("77\n"));
  auto s = make(config([](SlurmConfig& c) { c.partition = "debug", c.output_dir = "logs"; }));
  auto req = request();
  req.spec.resources = {};
  req.spec.resources.time_text = "2-00:00:00";
  req.spec.array = "1-20%5";
  req.array = "3,7";
  ASSERT_TRUE(s.submit(req));
  const auto& sb = shared->calls.back();
  EXPECT_EQ(arg_with(sb, "--array="), "--array=3,7");
  EXPECT_EQ(arg_with(sb, "--output="), "--output=/home/u/camp/c1/logs/slurm-%x-%A_%a.out");
  EXPECT_EQ(arg_with(sb, "--time="), "--time=2-00:00:00");
  EXPECT_EQ(arg_with(sb, "--partition="), "--partition=debug");
  EXPECT_EQ(arg_with(sb, "--gres"), "");
  EXPECT_EQ(count("sinfo"), 0);
  EXPECT_EQ(arg_with(sb, "--exclude"), "");
}

TEST_F(SlurmFake, SubmitExcludesTheNodesARetryAvoids) {
  shared->answers["sbatch"].push_back(ok_out("78\n"));
  auto s = make();
  auto req = request();
  req.exclude_nodes = "node[101-104],gpu3";
  ASSERT_TRUE(s.submit(req));
  const auto& sb = shared->calls.back();
  EXPECT_EQ(arg_with(sb, "--exclude="), "--exclude=node[101-104],gpu3");
  EXPECT_EQ(sb.back(), "/home/u/camp/c1/jobs/smoke.sh");  // options before the script
}

TEST_F(SlurmFake, FindLooksAtTheUsersOwnJobsInSqueueThenSacct) {
  shared->answers["squeue"].push_back(ok_out(""));
  shared->answers["sacct"].push_back(ok_out("900|CANCELLED by 0\n901|RUNNING\n"));
  auto s = make();
  auto found = s.find(request().key);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->value_or(""), "901");  // sacct lists by submit time: the newest
  EXPECT_EQ(shared->calls[0], (std::vector<std::string>{"squeue", "--noheader", "--me", "--states=all",
                                                        "--name=cairn.c1.smoke.2", "-o", "%i"}));
  EXPECT_EQ(shared->calls[1], (std::vector<std::string>{"id", "-un"}));
  EXPECT_EQ(arg_with(shared->calls[2], "--user="), "--user=tester");
  EXPECT_EQ(arg_with(shared->calls[2], "--name="), "--name=cairn.c1.smoke.2");
  EXPECT_EQ(arg_with(shared->calls[2], "now-"), "now-30days");

  shared->calls.clear();
  shared->answers["squeue"].push_back(ok_out("555_1\n555_2\n"));
  found = s.find(JobKey{"c1", "arr", 1});
  ASSERT_TRUE(found);
  EXPECT_EQ(found->value_or(""), "555");
  EXPECT_EQ(count("sacct"), 0);
}

TEST_F(SlurmFake, SubmitErrorsAreClassified) {
  const std::vector<std::pair<std::string, ExitCode>> cases = {
      {"sbatch_invalid_partition.err", ExitCode::findings},
      {"sbatch_qos_limit.err", ExitCode::findings},
      {"sbatch_socket_timeout.err", ExitCode::unreachable}};
  for (const auto& [file, want] : cases) {
    shared->answers["sbatch"].push_back(err_out(1, fixture(file)));
    auto s = make();
    auto id = s.submit(request());
    ASSERT_FALSE(id) << file;
    EXPECT_EQ(id.error().exit, want) << file;
  }
  EXPECT_EQ(count("sbatch"), 3);
}

TEST_F(SlurmFake, SubmitChoosesPartitionWithSinfoOnce) {
  shared->answers["sinfo"].push_back(ok_out(fixture("sinfo_partitions.txt")));
  shared->answers["sbatch"].push_back(ok_out("1\n"));
  shared->answers["sbatch"].push_back(ok_out("2\n"));
  auto s = make();
  auto req = request();
  req.spec.resources.partition.clear();
  req.spec.resources.time_seconds = 2 * 3600;
  ASSERT_TRUE(s.submit(req));
  EXPECT_EQ(arg_with(shared->calls.back(), "--partition="), "--partition=long");
  EXPECT_NE(s.last_partition_choice().find("debug (limit 1:00:00 < 02:00:00)"), std::string::npos)
      << s.last_partition_choice();
  req.key.attempt = 3;
  req.spec.resources.time_seconds = 600;
  ASSERT_TRUE(s.submit(req));
  EXPECT_EQ(arg_with(shared->calls.back(), "--partition="), "--partition=debug");
  EXPECT_EQ(count("sinfo"), 1);
  EXPECT_EQ(shared->calls[0], (std::vector<std::string>{"sinfo", "--noheader", "-o", "%P|%a|%l|%G|%D|%t"}));

  req.key.attempt = 4;
  req.spec.resources.gpus = 8;
  auto none = s.submit(req);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().exit, ExitCode::findings);
}

TEST_F(SlurmFake, StatusIsOneSqueueAndOneSacct) {
  shared->answers["squeue"].push_back(ok_out(fixture("squeue_array_expanded.txt")));
  shared->answers["sacct"].push_back(ok_out(fixture("sacct_finished.txt")));
  auto s = make();
  std::vector<std::string> ids = {"1250", "7", "2", "3", "12", "4000"};
  auto st = s.status(ids);
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(count("squeue"), 1);
  EXPECT_EQ(count("sacct"), 1);
  EXPECT_EQ(shared->calls[0],
            (std::vector<std::string>{"env", "SLURM_TIME_FORMAT=%s", "squeue", "--noheader", "--me",
                                      "--array", "--states=all", "-o", "%i|%T|%r|%V|%S|%e|%P|%N|%j|%Z"}));
  EXPECT_EQ(arg_with(shared->calls[1], "SLURM_TIME_FORMAT="), "SLURM_TIME_FORMAT=%s");
  EXPECT_EQ(
      shared->calls[1].back(),
      "JobID,JobName,State,ExitCode,Reason,Elapsed,AllocCPUS,NodeList,Submit,Start,End,Partition,WorkDir");
  EXPECT_EQ(arg_with(shared->calls[1], "--jobs="), "--jobs=2,3,12,4000");  // only those not queued
  EXPECT_EQ(arg_with(shared->calls[1], "-o"), "-o");
  EXPECT_EQ(st->size(), ids.size());
  EXPECT_EQ((*st)["1250"].state, JobState::pending);
  EXPECT_EQ((*st)["1250"].tasks.size(), 3u);
  EXPECT_EQ((*st)["7"].state, JobState::running);  // the queue wins over sacct's CANCELLED row
  EXPECT_EQ((*st)["2"].state, JobState::failed);
  EXPECT_EQ((*st)["2"].exit_code, 3);
  EXPECT_EQ((*st)["3"].state, JobState::failed);
  EXPECT_EQ((*st)["12"].state, JobState::timeout);
  EXPECT_EQ((*st)["4000"].state, JobState::pending);  // just submitted, visible nowhere yet
  EXPECT_TRUE((*st)["4000"].blocked);                 // until seen: the stuck check, never a wait forever
}

// Seen on the real cluster under load: accounting had the first task of an array and
// not yet the others; judging from sacct alone passed the array on its first task.
TEST_F(SlurmFake, StatusTrustsTheControllerWhenAccountingHasFewerTasks) {
  shared->answers["squeue"].push_back(
      ok_out("40_1|COMPLETED|None\n40_2|FAILED|NonZeroExitCode\n40_3|COMPLETED|None\n"));
  shared->answers["sacct"].push_back(
      ok_out("40_1|cairn.c.s.1|COMPLETED|0:0|None|00:00:01|1|node1|1795442985|1795442985|1795442986|debug|/"
             "work/c\n"));
  auto s = make();
  auto st = s.status({"40"});
  ASSERT_TRUE(st) << st.error().message;
  ASSERT_EQ(st->count("40"), 1u);
  EXPECT_EQ((*st)["40"].state, JobState::failed);
  EXPECT_EQ((*st)["40"].tasks.size(), 3u);
}

// Seen on the real cluster: for a second or two after a job ends, squeue (default
// states) no longer lists it while slurmdbd shows only a placeholder row ("allocation",
// no WorkDir; for an array one COMPLETED row although a task failed).
TEST_F(SlurmFake, StatusIgnoresAccountingPlaceholders) {
  shared->answers["squeue"].push_back(ok_out("30_1|COMPLETED|None\n30_2|FAILED|NonZeroExitCode\n"));
  shared->answers["sacct"].push_back(ok_out(
      "30|allocation|COMPLETED|0:0|None|00:00:00|0|None assigned|1795442985|1795442985|1795442988||\n"
      "29|allocation|COMPLETED|0:0|None|00:00:00|0|None assigned|1795442985|1795442985|1795442988||\n"));
  auto s = make();
  auto st = s.status({"30", "29"});
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(count("sacct"), 1);
  ASSERT_EQ(st->count("30"), 1u);
  EXPECT_EQ((*st)["30"].state, JobState::failed);  // the controller's word, not the placeholder's
  ASSERT_EQ((*st)["30"].tasks.size(), 2u);
  EXPECT_EQ(st->count("29"), 0u);  // ended, outcome not recorded yet: unknown

  shared->answers["sacct"].push_back(ok_out("29|allocation|COMPLETED|0:0|None|\n"));
  auto log = s.log_tail("29", 5);
  ASSERT_FALSE(log);
  EXPECT_EQ(log.error().exit, ExitCode::unreachable);
}

TEST_F(SlurmFake, StatusSkipsSacctWhenAllQueued) {
  shared->answers["squeue"].push_back(ok_out("7|RUNNING|None\n8|PENDING|Priority\n"));
  auto s = make();
  auto st = s.status({"7", "8"});
  ASSERT_TRUE(st);
  EXPECT_EQ(count("sacct"), 0);
  EXPECT_EQ((*st)["8"].reason, "PENDING (Priority)");
  auto none = s.status({});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(count("squeue"), 1);
}

TEST_F(SlurmFake, StatusInvalidJobIdIsNotAnOutage) {
  shared->answers["squeue"].push_back(err_out(1, fixture("squeue_invalid_job_id.err")));
  shared->answers["sacct"].push_back(ok_out(""));
  auto s = make();
  auto st = s.status({"4242"});
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ((*st)["4242"].state, JobState::pending);
}

TEST_F(SlurmFake, StatusQueryFailuresAreUnreachableNeverJobFailures) {
  struct Case {
    std::string name;
    std::vector<std::pair<std::string, Expected<CommandResult>>> answers;
  };
  const std::vector<Case> cases = {
      {"squeue socket timeout", {{"squeue", err_out(1, fixture("squeue_socket_timeout.err"))}}},
      {"squeue runner timeout",
       {{"squeue", Expected<CommandResult>(fail("timed out", ExitCode::unreachable))}}},
      {"sacct refused",
       {{"squeue", ok_out("")}, {"sacct", err_out(1, fixture("sacct_connection_refused.err"))}}},
      {"sacct odd failure", {{"squeue", ok_out("")}, {"sacct", err_out(1, "sacct: error: something new\n")}}},
  };
  for (const auto& c : cases) {
    shared->answers.clear();
    for (const auto& [prog, ans] : c.answers) shared->answers[prog].push_back(ans);
    auto s = make();
    auto st = s.status({"1", "2"});
    ASSERT_FALSE(st) << c.name;
    EXPECT_EQ(st.error().exit, ExitCode::unreachable) << c.name;
  }
}

TEST_F(SlurmFake, LogTailReadsEveryTaskFileAndAddsEvidence) {
  shared->answers["sacct"].push_back(
      ok_out("3_1|cairn.c1.arr.1|COMPLETED|0:0|None|/w/c1\n3_2|cairn.c1.arr.1|FAILED|4:0|None|/w/c1\n"));
  shared->answers["tail"].push_back(ok_out("==> a <==\nok\n==> b <==\nboom\n"));
  auto s = make();
  auto t = s.log_tail("3", 20);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(shared->calls[1],
            (std::vector<std::string>{"tail", "-n", "20", "--", "/w/c1/.cairn/slurm-cairn.c1.arr.1-3_1.out",
                                      "/w/c1/.cairn/slurm-cairn.c1.arr.1-3_2.out"}));
  EXPECT_NE(t->find("boom\n"), std::string::npos);
  EXPECT_NE(t->find("[slurm] task 1: state=COMPLETED exit=0:0; task 2: state=FAILED exit=4:0"),
            std::string::npos)
      << *t;

  shared->answers["sacct"].push_back(ok_out(""));
  auto unknown = s.log_tail("99", 5);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().exit, ExitCode::findings);
}

// `cairn logs`: the same files, without the classifier's evidence line, so a refetch
// while the job runs only ever grows.
TEST_F(SlurmFake, OutputIsTheJobsFilesWithoutEvidence) {
  shared->answers["sacct"].push_back(ok_out("5|cairn.c1.run.1|RUNNING|0:0|None|/w/c1\n"));
  shared->answers["tail"].push_back(ok_out("step 1\nstep 2\n"));
  auto s = make();
  auto t = s.output("5", 50);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(shared->calls[1],
            (std::vector<std::string>{"tail", "-n", "50", "--", "/w/c1/.cairn/slurm-cairn.c1.run.1-5.out"}));
  EXPECT_EQ(*t, "step 1\nstep 2\n");
}

TEST_F(SlurmFake, StatusReportsTimesAndPartition) {
  shared->answers["squeue"].push_back(ok_out("7|RUNNING|None|1795442900|1795443000|1795446600|debug|c07\n"));
  shared->answers["sacct"].push_back(ok_out(fixture("sacct_times.txt")));
  auto s = make();
  auto st = s.status({"7", "281"});
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(count("sacct"), 1);
  const JobStatus& done = (*st)["281"];
  EXPECT_EQ(done.state, JobState::completed);
  ASSERT_TRUE(done.submitted && done.started && done.ended);
  EXPECT_EQ(*done.started - *done.submitted, std::chrono::seconds(1));  // the queue wait
  EXPECT_EQ(*done.ended - *done.started, std::chrono::seconds(3));
  EXPECT_EQ(done.pool, "debug");
  EXPECT_EQ((*st)["7"].started, epoch(1795443000));
  EXPECT_EQ((*st)["7"].ended, std::nullopt);
  EXPECT_EQ((*st)["7"].nodes, "c07");  // squeue's %N
  EXPECT_EQ(done.nodes, "localhost");  // sacct's NodeList
}

TEST_F(SlurmFake, SubmitRunsInRemoteDir) {
  shared->answers["sbatch"].push_back(ok_out("88\n"));
  auto s = make();
  auto req = request();
  req.remote_dir = "/scratch/u/c1";
  ASSERT_TRUE(s.submit(req));
  EXPECT_EQ(shared->calls[0], (std::vector<std::string>{"mkdir", "-p", "--", "/scratch/u/c1/.cairn"}));
  const auto& sb = shared->calls.back();
  EXPECT_EQ(arg_with(sb, "--chdir="), "--chdir=/scratch/u/c1");
  EXPECT_EQ(arg_with(sb, "--output="), "--output=/scratch/u/c1/.cairn/slurm-%x-%j.out");
  EXPECT_EQ(sb.back(), "/scratch/u/c1/jobs/smoke.sh");

  // The template's placeholders, or a path relative to who knows what: nothing runs.
  shared->calls.clear();
  for (const char* bad : {"/scratch/alpine/<user>/<remote-name>", "scratch/c1"}) {
    req.remote_dir = bad;
    auto id = s.submit(req);
    ASSERT_FALSE(id) << bad;
    EXPECT_EQ(id.error().exit, ExitCode::findings);
    EXPECT_NE(id.error().message.find("deploy.remote_dir"), std::string::npos) << id.error().message;
  }
  EXPECT_TRUE(shared->calls.empty());
}

TEST_F(SlurmFake, RsyncArgvThroughSsh) {
  auto req = request();
  auto plain = make();
  EXPECT_TRUE(plain.rsync_argv(req).empty());  // nothing declared
  req.spec.sync = {"out/*.dcd", "restart file.coor"};
  EXPECT_TRUE(plain.rsync_argv(req).empty());  // the job wrote into the campaign dir itself

  auto s = make(config([](SlurmConfig& c) {
    c.ssh_host = "u@alpine-login", c.ssh_control_path = "/tmp/cm-%C", c.ssh_config = "/etc/my ssh/it's";
  }));
  req.remote_dir = "/scratch/u/c1";
  EXPECT_EQ(s.rsync_argv(req), (std::vector<std::string>{
                                   "rsync", "-a", "--relative", "-s", "-e",
                                   "ssh -F '/etc/my ssh/it''s' -o BatchMode=yes -o ConnectTimeout=10 "
                                   "-o ControlMaster=auto -o ControlPath=/tmp/cm-%C -o ControlPersist=60",
                                   "u@alpine-login:/scratch/u/c1/./out/*.dcd",
                                   "u@alpine-login:/scratch/u/c1/./restart file.coor", "/home/u/camp/c1/"}));
  req.remote_dir.clear();  // same path on the cluster
  EXPECT_EQ(s.rsync_argv(req).at(6), "u@alpine-login:/home/u/camp/c1/./out/*.dcd");
}

TEST_F(SlurmFake, SyncOutputsClassifiesRsyncFailures) {
  auto s = make(config([](SlurmConfig& c) { c.ssh_host = "login1"; }));
  auto req = request();
  req.remote_dir = "/scratch/u/c1";
  req.spec.sync = {"restart.coor"};
  shared->answers["rsync"].push_back(ok_out(""));
  ASSERT_TRUE(s.sync_outputs("12", req));
  EXPECT_EQ(shared->calls.back().at(0), "rsync");  // run here, not through ssh

  shared->answers["rsync"].push_back(err_out(
      23,
      "rsync: [sender] link_stat \"/scratch/u/c1/./restart.coor\" failed: No such file or directory (2)\n"
      "rsync error: some files/attrs were not transferred (see previous errors) (code 23) at "
      "main.c(1338)\n"));
  auto missing = s.sync_outputs("12", req);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().exit, ExitCode::findings);
  EXPECT_NE(missing.error().message.find("link_stat \"/scratch/u/c1/./restart.coor\""), std::string::npos)
      << missing.error().message;
  EXPECT_NE(missing.error().message.find("job 12"), std::string::npos);

  shared->answers["rsync"].push_back(
      err_out(255,
              "ssh: connect to host login1 port 22: Connection refused\n"
              "rsync: connection unexpectedly closed (0 bytes received so far) [Receiver]\n"));
  auto down = s.sync_outputs("12", req);
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().exit, ExitCode::unreachable);
  EXPECT_NE(down.error().message.find("Connection refused"), std::string::npos);

  shared->answers["rsync"].push_back(Expected<CommandResult>(fail("timed out", ExitCode::unreachable)));
  auto slow = s.sync_outputs("12", req);
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.error().exit, ExitCode::unreachable);
}

// Without ssh_host (the tick on the login node, the job in a scratch dir) rsync copies
// locally, and nothing expands the globs for it: the backend does.
TEST_F(SlurmFake, SyncOutputsLocallyExpandsGlobs) {
  const fs::path root = fs::temp_directory_path() / ("cairn-sync-" + std::to_string(getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "scratch/out");
  fs::create_directories(root / "camp");
  for (const char* f : {"out/a.dcd", "out/b.dcd", "out/c.log", "restart.coor"})
    std::ofstream(root / "scratch" / f) << f;
  auto req = request();
  req.campaign_dir = (root / "camp").string();
  req.remote_dir = (root / "scratch").string();
  req.spec.sync = {"out/*.dcd", "restart.coor"};
  auto s = SlurmScheduler(std::make_unique<ProcessRunner>(), {});
  const std::string from = req.remote_dir + "/./";
  EXPECT_EQ(s.rsync_argv(req),
            (std::vector<std::string>{"rsync", "-a", "--relative", from + "out/a.dcd", from + "out/b.dcd",
                                      from + "restart.coor", req.campaign_dir + "/"}));
  if (!ProcessRunner().run({"rsync", "--version"}, "", std::chrono::seconds(10))) {
    fs::remove_all(root);
    GTEST_SKIP() << "rsync is not installed (ci/deps.sh installs it)";
  }
  auto ok = s.sync_outputs("5", req);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_TRUE(fs::exists(root / "camp/out/a.dcd"));
  EXPECT_TRUE(fs::exists(root / "camp/out/b.dcd"));
  EXPECT_TRUE(fs::exists(root / "camp/restart.coor"));
  EXPECT_FALSE(fs::exists(root / "camp/out/c.log"));
  req.spec.sync = {"nothing-*.dat"};
  auto missing = s.sync_outputs("5", req);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().exit, ExitCode::findings);
  EXPECT_NE(missing.error().message.find("nothing-*.dat"), std::string::npos) << missing.error().message;
  fs::remove_all(root);
}

TEST_F(SlurmFake, CancelIsOneJob) {
  auto s = make();
  ASSERT_TRUE(s.cancel("4242"));
  EXPECT_EQ(shared->calls.back(), (std::vector<std::string>{"scancel", "4242"}));
  EXPECT_FALSE(s.cancel("1,2"));
  EXPECT_FALSE(s.cancel(""));
  EXPECT_EQ(count("scancel"), 1);
}

TEST_F(SlurmFake, SshHostWrapsEveryCommand) {
  shared->answers["ssh"].push_back(ok_out("7|RUNNING|None\n"));
  auto s =
      make(config([](SlurmConfig& c) { c.ssh_host = "alpine-login", c.ssh_control_path = "/tmp/cm-%C"; }));
  auto st = s.status({"7"});
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ((*st)["7"].state, JobState::running);
  ASSERT_EQ(shared->calls.size(), 1u);
  const auto& c = shared->calls[0];
  EXPECT_EQ(c.at(0), "ssh");
  EXPECT_NE(std::find(c.begin(), c.end(), "alpine-login"), c.end());
  EXPECT_EQ(c.back(), "'%i|%T|%r|%V|%S|%e|%P|%N|%j|%Z'");
  shared->answers["ssh"].push_back(err_out(255, "ssh: Could not resolve hostname alpine-login\n"));
  auto down = s.status({"7"});
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().exit, ExitCode::unreachable);
}

// Job identity is per user: squeue --me, and sacct (which has no --me and, run as root,
// lists everyone's jobs) --user= the user the commands run as, asked once.
TEST_F(SlurmFake, FindLooksOnlyAtTheUsersOwnJobs) {
  shared->answers["id"].push_back(ok_out("alice\n"));
  shared->answers["sacct"].push_back(ok_out("70|COMPLETED\n"));
  auto s = make();
  const JobKey key{"c1", "smoke", 1, "r0a1b2c3"};
  auto found = s.find(key);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->value_or(""), "70");
  ASSERT_EQ(shared->calls.size(), 3u);
  EXPECT_EQ(arg_with(shared->calls[0], "--me"), "--me");
  EXPECT_EQ(arg_with(shared->calls[0], "--name="), "--name=cairn.r0a1b2c3.c1.smoke.1");
  EXPECT_EQ(shared->calls[1], (std::vector<std::string>{"id", "-un"}));
  EXPECT_EQ(arg_with(shared->calls[2], "--user="), "--user=alice");
  EXPECT_EQ(arg_with(shared->calls[2], "--name="), "--name=cairn.r0a1b2c3.c1.smoke.1");
  ASSERT_TRUE(s.find(JobKey{"c1", "smoke", 2, "r0a1b2c3"}));
  EXPECT_EQ(count("id"), 1);  // asked once per scheduler
  EXPECT_EQ(count("sacct"), 2);

  // No user, no lookup: an unrestricted sacct could adopt someone else's job.
  shared->calls.clear();
  shared->answers["id"].push_back(err_out(1, "id: cannot find name for user ID 4242\n"));
  auto s2 = make();
  auto none = s2.find(key);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().exit, ExitCode::unreachable);
  EXPECT_NE(none.error().message.find("cannot find name for user ID 4242"), std::string::npos)
      << none.error().message;
  EXPECT_EQ(count("sacct"), 0);
  EXPECT_EQ(count("sbatch"), 0);
}

// The tick's one adoption lookup for every key it will submit: one squeue, and one
// sacct (with the user, asked once) for the keys the queue does not show.
TEST_F(SlurmFake, FindAllIsOneSqueueAndAtMostOneSacct) {
  const JobKey a{"c1", "smoke", 1, "r0a1b2c3"};
  const JobKey b{"c2", "smoke", 1, "r0a1b2c3"};
  const JobKey c{"c3", "prod", 2, "r0a1b2c3"};
  shared->answers["squeue"].push_back(
      ok_out("501_1|cairn.r0a1b2c3.c1.smoke.1\n501_[2-4]|cairn.r0a1b2c3.c1.smoke.1\n"));
  shared->answers["sacct"].push_back(
      ok_out("480|cairn.r0a1b2c3.c2.smoke.1\n490|cairn.r0a1b2c3.c2.smoke.1\n"
             "491|cairn.other.c2.smoke.1\n"));
  auto s = make();
  auto found = s.find_all({a, b, c, a});
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(*found, (std::map<std::string, std::string>{{a.str(), "501"}, {b.str(), "490"}}));
  EXPECT_EQ(count("squeue"), 1);
  EXPECT_EQ(count("id"), 1);
  EXPECT_EQ(count("sacct"), 1);
  EXPECT_EQ(shared->calls[0],
            (std::vector<std::string>{"squeue", "--noheader", "--me", "--states=all",
                                      "--name=" + a.str() + "," + b.str() + "," + c.str(), "-o", "%i|%j"}));
  EXPECT_EQ(arg_with(shared->calls[2], "--user="), "--user=tester");
  EXPECT_EQ(arg_with(shared->calls[2], "--name="),
            "--name=" + b.str() + "," + c.str());  // not the queued one

  // All queued: no sacct; nothing asked: no call.
  shared->calls.clear();
  shared->answers["squeue"].push_back(ok_out("77|" + c.str() + "\n"));
  auto queued = s.find_all({c});
  ASSERT_TRUE(queued);
  EXPECT_EQ(queued->at(c.str()), "77");
  EXPECT_EQ(count("sacct"), 0);
  ASSERT_TRUE(s.find_all({}));
  EXPECT_EQ(shared->calls.size(), 1u);

  // A failed lookup is an outage, never "not found".
  shared->answers["squeue"].push_back(err_out(1, fixture("squeue_socket_timeout.err")));
  auto down = s.find_all({a});
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().exit, ExitCode::unreachable);
}

// Through ssh the user is whoever ssh logs in as: `id -un` runs there too.
TEST_F(SlurmFake, FindThroughSshAsksTheRemoteUser) {
  shared->answers["ssh"].push_back(ok_out(""));              // squeue --me
  shared->answers["ssh"].push_back(ok_out("bob\n"));         // id -un
  shared->answers["ssh"].push_back(ok_out("81|RUNNING\n"));  // sacct
  auto s = make(config([](SlurmConfig& c) { c.ssh_host = "login1"; }));
  auto found = s.find(JobKey{"c1", "smoke", 1, "r0a1b2c3"});
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->value_or(""), "81");
  ASSERT_EQ(shared->calls.size(), 3u);
  EXPECT_EQ(shared->calls[1].back(), "-un");
  EXPECT_EQ(arg_with(shared->calls[2], "--user="), "--user=bob");
}

// The pile-up check reads the user's queue from the status pass: one `squeue --me` a
// tick, whatever it asks. Rows as squeue prints them with --array (each pending task of
// an array on a line of its own; an array counts once), other users' jobs never listed.
TEST_F(SlurmFake, QueuedByNameIsReadFromTheStatusPass) {
  std::string rows = "7|RUNNING|None|1795442900|1795443000|1795446600|debug|c07|cairn.r1.c.s.1|/w\n";
  for (int i = 100; i < 160; ++i) {
    rows += fmt::format("{}|PENDING|Priority|1795442900|N/A|N/A|debug||cairn.r1.c.s.worker|/w\n", i);
  }
  for (int t = 1; t <= 40; ++t) {
    rows += fmt::format("300_{}|PENDING|Resources|1795442900|N/A|N/A|debug||cairn.r1.c.s.2|/w\n", t);
  }
  rows += "400|PENDING|Priority|1795442900|N/A|N/A|debug||cairn.other.c.s.1|/w\n";
  rows += "401|PENDING|Priority|1795442900|N/A|N/A|debug||my-own-job|/w\n";
  rows += "402|RUNNING|None|1795442900|1795443000|N/A|debug|c08|cairn.r1.c.s.worker|/w\n";
  shared->answers["squeue"].push_back(ok_out(rows));
  auto s = make();
  ASSERT_TRUE(s.status({"7"}));
  auto q = s.queued_by_name("cairn.r1.");
  ASSERT_TRUE(q) << q.error().message;
  ASSERT_TRUE(*q);
  EXPECT_EQ(**q, (std::map<std::string, int>{{"cairn.r1.c.s.worker", 60}, {"cairn.r1.c.s.2", 1}}));
  EXPECT_EQ(count("squeue"), 1);
  EXPECT_EQ(arg_with(shared->calls[0], "--me"), "--me");

  // Without a status pass (no job in flight), one squeue of its own; a failing one is an
  // outage, never "nothing queued".
  shared->answers["squeue"].push_back(err_out(1, fixture("squeue_socket_timeout.err")));
  auto fresh = make();
  auto down = fresh.queued_by_name("cairn.r1.");
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().exit, ExitCode::unreachable);
}

TEST_F(SlurmFake, StatusReportsTheWorkDirFromTheSamePass) {
  // Queued: squeue's %Z (last, so a '|' or a space in it survives); finished: sacct's WorkDir.
  shared->answers["squeue"].push_back(
      ok_out("7|RUNNING|None|1795442900|1795443000|1795446600|debug|c07|cairn.r1.c.s.1|/scratch/u/a b|c\n"
             "9_1|COMPLETED|None|1795442900|1795443000|1795443100|debug|c07|arr|/scratch/u/arr\n"
             "9_2|RUNNING|None|1795442900|1795443000|1795446600|debug|c08|arr|/scratch/u/arr\n"));
  shared->answers["sacct"].push_back(
      ok_out("12|cairn.r1.c.s.1|COMPLETED|0:0|None|00:00:03|1|c07|1795442985|1795442986|1795442989|debug|/"
             "home/u/camp/c\n"));
  auto s = make();
  auto st = s.status({"7", "9", "12"});
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(count("squeue"), 1);
  EXPECT_EQ(count("sacct"), 1);
  EXPECT_EQ((*st)["7"].work_dir, "/scratch/u/a b|c");
  EXPECT_EQ((*st)["7"].nodes, "c07");
  EXPECT_EQ((*st)["9"].work_dir, "/scratch/u/arr");
  EXPECT_EQ((*st)["12"].work_dir, "/home/u/camp/c");
  // Nothing reported (an older squeue without %Z, a job visible nowhere yet): unknown.
  shared->answers["squeue"].push_back(ok_out("8|PENDING|Priority\n"));
  auto old = s.status({"8", "4000"});
  ASSERT_TRUE(old);
  EXPECT_EQ((*old)["8"].work_dir, "");
  EXPECT_EQ((*old)["4000"].work_dir, "");
}

TEST_F(SlurmFake, AWorkspaceOnlyThroughSshAndItIsOneCall) {
  auto plain = make();
  EXPECT_EQ(plain.workspace(), nullptr);  // the jobs' dirs are this machine's
  EXPECT_TRUE(plain.outputs_are_files());

  auto s = make(config([](SlurmConfig& c) { c.ssh_host = "login1", c.ssh_control_path = "/tmp/cm-%C"; }));
  engine::Workspace* ws = s.workspace();
  ASSERT_NE(ws, nullptr);
  shared->answers["ssh"].push_back(ok_out(
      "cairn-probe dir\ncairn-probe 0 count 1\ncairn-probe 1 command 0\ncairn-probe 2 newest 1 1795442985\n"
      "cairn-probe end\n"));
  const std::vector<engine::Probe> probes = {{engine::Probe::Kind::count, "out.txt"},
                                             {engine::Probe::Kind::command, "grep -q ok out.txt"},
                                             {engine::Probe::Kind::newest, "restart*.chk"}};
  auto a = ws->probe("/scratch/u/c1", probes);
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_EQ(shared->calls.size(), 1u);
  const auto& c = shared->calls[0];
  EXPECT_EQ(c.at(0), "ssh");
  EXPECT_NE(std::find(c.begin(), c.end(), "ControlPath=/tmp/cm-%C"), c.end());  // the shared connection
  auto dashes = std::find(c.begin(), c.end(), "--");
  ASSERT_NE(dashes, c.end());
  EXPECT_EQ(std::vector<std::string>(dashes + 1, c.end()).size(), 6u + 2 * probes.size());
  EXPECT_EQ(*(dashes + 1), "sh");
  EXPECT_EQ(*(dashes + 5), "/scratch/u/c1");
  EXPECT_EQ(c.back(), "'restart*.chk'");
  EXPECT_EQ((*a)[0].count, 1);
  EXPECT_EQ((*a)[1].exit, 0);
  EXPECT_EQ((*a)[2].newest, epoch(1795442985));

  shared->answers["ssh"].push_back(ok_out("cairn-probe nodir\n"));
  auto gone = ws->probe("/scratch/u/gone", probes);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().exit, ExitCode::findings);
  EXPECT_EQ(gone.error().message.rfind("directory /scratch/u/gone does not exist", 0), 0u);
  shared->answers["ssh"].push_back(err_out(255, "ssh: connect to host login1 port 22: Connection refused\n"));
  auto down = ws->probe("/scratch/u/c1", probes);
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().exit, ExitCode::unreachable);
}

// --- the real cluster (tests/integration/slurm_cluster.sh) -------------------------------

class SlurmReal : public ::testing::Test {
 protected:
  static bool enabled() {
    const char* e = std::getenv("CAIRN_SLURM_TEST");
    return e && std::string(e) == "1";
  }
  // CAIRN_SLURM_NODE_DOWN=1: the invocation that runs only SlurmReal.NodeDown*.
  static bool node_down_run() {
    const char* e = std::getenv("CAIRN_SLURM_NODE_DOWN");
    return e && std::string(e) == "1";
  }
  // CAIRN_SLURM_SSH_HOST (and CAIRN_SLURM_SSH_CONFIG, an `ssh -F` file): every Slurm
  // command of sched() goes through ssh to that host, as with backends.slurm.ssh_host.
  static std::string env_or_empty(const char* name) {
    const char* e = std::getenv(name);
    return e ? e : "";
  }
  static bool ssh_run() { return !env_or_empty("CAIRN_SLURM_SSH_HOST").empty(); }
  static bool have_sacct() {
    const char* a = std::getenv("CAIRN_SLURM_ACCOUNTING");
    return !a || std::string(a) == "slurmdbd";
  }
  static void SetUpTestSuite() {
    if (!enabled()) return;
    s_dir = fs::temp_directory_path() / ("cairn-slurm-" + std::to_string(getpid()));
    fs::create_directories(s_dir / "jobs");
    s_campaign = "it" + std::to_string(getpid()) + "x" +
                 std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1000000);
    write("ok.sh", "echo hello from $SLURM_JOB_ID\nsleep 5\necho done\n");  // outlives a slow first status()
    write("exit3.sh", "echo about to fail\nexit 3\n");
    write("array.sh",
          "echo task $SLURM_ARRAY_TASK_ID\nsleep 1\n[ \"$SLURM_ARRAY_TASK_ID\" = 2 ] && exit 4\nexit 0\n");
    write("sleep.sh", "echo sleeping\nsleep 120\n");
    // The slowest case runs alongside the others: Slurm enforces --time=1 (one minute)
    // on its periodic check, so this job ends about 60-90 s after it starts.
    // The node-down case runs alone (it kills whatever runs on the node) and the ssh run
    // repeats a few quick cases: no slow job then.
    if (node_down_run() || ssh_run()) return;
    SlurmScheduler s = sched();
    auto req = request("slow", "sleep.sh");
    req.spec.resources.time_seconds = 60;
    auto id = s.submit(req);
    if (id) s_timeout_id = *id;
  }
  static void TearDownTestSuite() {
    if (!s_dir.empty()) fs::remove_all(s_dir);
  }
  void SetUp() override {
    if (!enabled())
      GTEST_SKIP() << "real-cluster test: run tests/integration/slurm_cluster.sh (CAIRN_SLURM_TEST=1)";
  }
  static void write(const std::string& name, const std::string& body) {
    std::ofstream(s_dir / "jobs" / name) << "#!/bin/bash\n" << body;
    fs::permissions(s_dir / "jobs" / name, fs::perms::owner_all, fs::perm_options::add);
  }
  static SlurmScheduler sched(std::shared_ptr<std::map<std::string, int>> counts = nullptr) {
    if (!counts) counts = std::make_shared<std::map<std::string, int>>();
    return SlurmScheduler(std::make_unique<CountingRunner>(std::make_unique<ProcessRunner>(), counts),
                          config([](SlurmConfig& c) {
                            c.partition = "debug";
                            c.ssh_host = env_or_empty("CAIRN_SLURM_SSH_HOST");
                            c.ssh_config = env_or_empty("CAIRN_SLURM_SSH_CONFIG");
                            if (!c.ssh_host.empty()) c.ssh_control_path = (s_dir / "ssh-%C").string();
                          }));
  }
  static SubmitRequest request(const std::string& stage, const std::string& script) {
    SubmitRequest r;
    r.key = JobKey{s_campaign, stage, 1};
    r.campaign_dir = s_dir.string();
    r.spec.run = "jobs/" + script;
    r.spec.resources.time_seconds = 300;
    r.spec.resources.mem_mb = 100;
    return r;
  }
  // Polls (the test's loop, not the backend's) until the job is final and, with
  // accounting, sacct has caught up (CPU time known), or `limit` passes.
  static JobStatus wait_final(SlurmScheduler& s, const std::string& id, std::chrono::seconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    JobStatus last;
    while (std::chrono::steady_clock::now() < end) {
      auto st = s.status({id});
      if (st && st->count(id)) {
        last = (*st)[id];
        if (is_final(last.state) && (!have_sacct() || last.cpu_hours)) return last;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return last;
  }
  // Polls `done` every half second until it holds or `limit` passes; whether it held.
  template <class F>
  static bool eventually(F done, std::chrono::seconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= end) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return true;
  }
  // Whether squeue still lists the job (it forgets ended jobs after MinJobAge).
  static bool in_squeue(const std::string& id) {
    auto q = ProcessRunner().run({"squeue", "--noheader", "--jobs=" + id, "-o", "%i"}, "",
                                 std::chrono::seconds(30));
    return q && q->exit == 0 && q->out.find(id) != std::string::npos;
  }
  static Expected<std::string> tail_of(SlurmScheduler& s, const std::string& id, int lines) {
    for (int i = 0;; ++i) {
      auto t = s.log_tail(id, lines);
      if (t || t.error().exit != ExitCode::unreachable || i == 20) return t;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
  static inline fs::path s_dir;
  static inline std::string s_campaign;
  static inline std::string s_timeout_id;
};

TEST_F(SlurmReal, CompletedExitZeroWithLogTail) {
  auto s = sched();
  auto id = s.submit(request("ok", "ok.sh"));
  ASSERT_TRUE(id) << id.error().message;
  auto first = s.status({*id});
  ASSERT_TRUE(first) << first.error().message;
  const JobState early = (*first)[*id].state;
  EXPECT_TRUE(early == JobState::pending || early == JobState::running) << to_string(early);
  auto st = wait_final(s, *id, std::chrono::seconds(60));
  EXPECT_EQ(st.state, JobState::completed) << st.reason;
  EXPECT_EQ(st.exit_code, 0);
  // What the engine's `## Learnings` row is made of: queue wait, run time, partition.
  ASSERT_TRUE(st.submitted && st.started && st.ended) << st.reason;
  EXPECT_GE(*st.started, *st.submitted);
  EXPECT_GE(*st.ended - *st.started, std::chrono::seconds(3));  // the script sleeps 5 s
  EXPECT_LT(*st.ended - *st.submitted, std::chrono::minutes(2));
  EXPECT_LT(std::chrono::abs(std::chrono::system_clock::now() - *st.ended),
            std::chrono::minutes(2));  // UTC, not local time
  EXPECT_EQ(st.pool, "debug");
  EXPECT_EQ(st.nodes, "localhost");  // where it ran: what `exclude-node` would avoid
  if (!have_sacct()) GTEST_SKIP() << "no accounting: log_tail needs sacct";
  ASSERT_TRUE(st.cpu_hours.has_value());
  EXPECT_GT(*st.cpu_hours, 0.0);
  auto log = tail_of(s, *id, 5);
  ASSERT_TRUE(log) << log.error().message;
  EXPECT_NE(log->find("hello from " + *id), std::string::npos) << *log;
  EXPECT_NE(log->find("[slurm] state=COMPLETED exit=0:0"), std::string::npos) << *log;
}

// deploy.remote_dir: the job runs and writes there; sync_outputs brings the declared
// outputs back (through ssh and its shared connection when CAIRN_SLURM_SSH_HOST is set).
TEST_F(SlurmReal, RemoteDirAndSyncBack) {
  const fs::path remote = s_dir / "remote dir";
  const fs::path local = s_dir / "local";
  fs::create_directories(remote / "jobs");
  fs::create_directories(local);
  std::ofstream(remote / "jobs/out.sh")
      << "#!/bin/bash\nmkdir -p results\necho a > results/a.txt\n"
      << "echo b > results/b.txt\necho r > restart.coor\necho x > other.txt\n";
  fs::permissions(remote / "jobs/out.sh", fs::perms::owner_all, fs::perm_options::add);
  auto s = sched();
  auto req = request("sync", "out.sh");
  req.campaign_dir = local.string();
  req.remote_dir = remote.string();
  req.spec.sync = {"results/*.txt", "restart.coor"};
  auto id = s.submit(req);
  ASSERT_TRUE(id) << id.error().message;
  auto st = wait_final(s, *id, std::chrono::seconds(60));
  ASSERT_EQ(st.state, JobState::completed) << st.reason;
  EXPECT_TRUE(fs::exists(remote / "restart.coor"));
  EXPECT_TRUE(fs::exists(remote / ".cairn"));  // the job's log went there too
  // Where conditions are checked: Slurm's WorkDir, through the backend's workspace (over
  // ssh when there is one), never the campaign dir.
  EXPECT_EQ(st.work_dir, remote.string());
  LocalWorkspace here;
  engine::Workspace* ws = s.workspace() != nullptr ? s.workspace() : &here;
  EXPECT_EQ(s.workspace() != nullptr, ssh_run());
  auto probe = ws->probe(st.work_dir, {{engine::Probe::Kind::count, "results/*.txt"},
                                       {engine::Probe::Kind::command, "grep -q r restart.coor"},
                                       {engine::Probe::Kind::newest, "restart.coor"}});
  ASSERT_TRUE(probe) << probe.error().message;
  EXPECT_EQ((*probe)[0].count, 2);
  EXPECT_EQ((*probe)[1].exit, 0);
  EXPECT_TRUE((*probe)[2].newest.has_value());
  auto ok = s.sync_outputs(*id, req);
  ASSERT_TRUE(ok) << ok.error().message;
  std::ifstream in(local / "results/b.txt");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "b");
  EXPECT_TRUE(fs::exists(local / "results/a.txt"));
  EXPECT_TRUE(fs::exists(local / "restart.coor"));
  EXPECT_FALSE(fs::exists(local / "other.txt"));  // not declared
  EXPECT_FALSE(fs::exists(local / ".cairn"));
  req.spec.sync = {"never-written.dat"};
  auto missing = s.sync_outputs(*id, req);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().exit, ExitCode::findings) << missing.error().message;
  EXPECT_NE(missing.error().message.find("never-written.dat"), std::string::npos) << missing.error().message;
}

// `exclude-node` reaches sbatch: excluding the one node this cluster has leaves no
// node for the job, which Slurm refuses at submit (a finding, not an outage).
TEST_F(SlurmReal, ExcludedNodeIsHonouredBySlurm) {
  auto s = sched();
  auto req = request("exclude", "ok.sh");
  req.exclude_nodes = "localhost";
  auto id = s.submit(req);
  ASSERT_FALSE(id) << "job " << *id << " was accepted although its only node is excluded";
  EXPECT_EQ(id.error().exit, ExitCode::findings) << id.error().message;
  EXPECT_NE(id.error().message.find("node configuration is not available"), std::string::npos)
      << id.error().message;
}

TEST_F(SlurmReal, FailedWithExitCode) {
  if (!have_sacct()) GTEST_SKIP() << "no accounting: the exit code of a finished job comes from sacct";
  auto s = sched();
  auto id = s.submit(request("exit3", "exit3.sh"));
  ASSERT_TRUE(id) << id.error().message;
  auto st = wait_final(s, *id, std::chrono::seconds(60));
  EXPECT_EQ(st.state, JobState::failed) << st.reason;
  EXPECT_EQ(st.exit_code, 3);
  auto log = tail_of(s, *id, 10);
  ASSERT_TRUE(log) << log.error().message;
  EXPECT_NE(log->find("about to fail"), std::string::npos) << *log;
  EXPECT_NE(log->find("state=FAILED exit=3:0"), std::string::npos) << *log;
}

TEST_F(SlurmReal, ArrayWithOneFailingTask) {
  if (!have_sacct()) GTEST_SKIP() << "no accounting: per-task exit codes come from sacct";
  auto s = sched();
  auto req = request("array", "array.sh");
  req.spec.array = "1-3";
  auto id = s.submit(req);
  ASSERT_TRUE(id) << id.error().message;
  auto st = wait_final(s, *id, std::chrono::seconds(60));
  EXPECT_EQ(st.state, JobState::failed) << st.reason;
  EXPECT_EQ(st.exit_code, 4);
  ASSERT_EQ(st.tasks.size(), 3u) << st.reason;
  EXPECT_EQ(st.tasks[0].state, JobState::completed);
  EXPECT_EQ(st.tasks[1].index, "2");
  EXPECT_EQ(st.tasks[1].state, JobState::failed);
  EXPECT_EQ(st.tasks[1].exit_code, 4);
  EXPECT_EQ(st.tasks[2].state, JobState::completed);
  auto log = tail_of(s, *id, 5);
  ASSERT_TRUE(log) << log.error().message;
  for (const char* t : {"task 1", "task 2", "task 3"}) EXPECT_NE(log->find(t), std::string::npos) << *log;
}

TEST_F(SlurmReal, FindAdoptsAndCancelEndsOneJob) {
  auto s = sched();
  auto req = request("adopt", "sleep.sh");
  auto before = s.find(req.key);
  ASSERT_TRUE(before) << before.error().message;
  EXPECT_FALSE(before->has_value());
  auto first = s.submit(req);
  ASSERT_TRUE(first) << first.error().message;
  // A tick that crashed after sbatch runs again: its find_all (not submit, which makes no
  // lookup of its own) finds the job under its key and adopts it.
  auto found = s.find(req.key);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->value_or(""), *first);
  JobKey never = req.key;
  never.stage = "never-submitted";
  auto all = s.find_all({req.key, never});
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(*all, (std::map<std::string, std::string>{{req.key.str(), *first}}));

  ASSERT_TRUE(s.cancel(*first));
  auto st = wait_final(s, *first, std::chrono::seconds(30));
  EXPECT_EQ(st.state, JobState::cancelled) << st.reason;
  if (have_sacct()) {
    // Gone from squeue past MinJobAge: only sacct still knows it.
    for (int i = 0; i < 40; ++i) {
      auto q = ProcessRunner().run({"squeue", "--noheader", "--states=all", "--jobs=" + *first, "-o", "%i"},
                                   "", std::chrono::seconds(30));
      if (q && q->out.find(*first) == std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    auto after = s.find(req.key);
    ASSERT_TRUE(after);
    EXPECT_EQ(after->value_or(""), *first);
    auto after_all = s.find_all({req.key, never});
    ASSERT_TRUE(after_all) << after_all.error().message;
    EXPECT_EQ(*after_all, (std::map<std::string, std::string>{{req.key.str(), *first}}));
  }
}

// Job identity is per user: another user's job under the very same name (a clone of
// the same repository ticked by someone else) is found neither while it is queued
// (squeue --me) nor once only accounting knows it (sacct --user), although root sees
// every user's jobs by default.
TEST_F(SlurmReal, AnotherUsersJobUnderTheSameNameIsNotAdopted) {
  if (::geteuid() != 0) GTEST_SKIP() << "submitting as another user needs root";
  auto s = sched();
  auto req = request("otheruser", "ok.sh");
  const std::string name = req.key.str();
  ProcessRunner here;
  auto run = [&](const std::vector<std::string>& argv) {
    auto r = here.run(argv, "", std::chrono::seconds(30));
    return r ? *r : CommandResult{-1, "", r.error().message};
  };
  auto other = run({"runuser", "-u", "nobody", "--", "sbatch", "--parsable", "--partition=debug",
                    "--job-name=" + name, "--chdir=/tmp", "--output=/dev/null", "--wrap=sleep 3"});
  ASSERT_EQ(other.exit, 0) << other.err;
  const std::string other_id = other.out.substr(0, other.out.find_first_of(";\n"));
  const auto queued = [&] {
    return run({"squeue", "--noheader", "--states=all", "--name=" + name, "-o", "%i"}).out.find(other_id) !=
           std::string::npos;
  };
  const auto accounted = [&] {
    return run({"sacct", "--noheader", "-X", "--parsable2", "--allusers", "--name=" + name, "-S", "now-1days",
                "-o", "JobID"})
               .out.find(other_id) != std::string::npos;
  };
  ASSERT_TRUE(queued()) << "the other user's job is not in the queue";
  auto while_queued = s.find(req.key);
  ASSERT_TRUE(while_queued) << while_queued.error().message;
  EXPECT_FALSE(while_queued->has_value())
      << "adopted another user's queued job " << while_queued->value_or("");
  if (have_sacct()) {
    // Past MinJobAge the controller forgets it: then only sacct could name it.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(90);
    while ((queued() || !accounted()) && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    ASSERT_FALSE(queued()) << "job " << other_id << " still queued";
    ASSERT_TRUE(accounted()) << "job " << other_id << " not in accounting";
    auto accounted_only = s.find(req.key);
    ASSERT_TRUE(accounted_only) << accounted_only.error().message;
    EXPECT_FALSE(accounted_only->has_value())
        << "adopted another user's ended job " << accounted_only->value_or("");
  }
  auto mine = s.submit(req);
  ASSERT_TRUE(mine) << mine.error().message;
  EXPECT_NE(*mine, other_id);
  auto st = wait_final(s, *mine, std::chrono::seconds(60));
  EXPECT_EQ(st.state, JobState::completed) << st.reason;
}

TEST_F(SlurmReal, StatusOfManyJobsIsOneSqueueAndAtMostOneSacct) {
  auto counts = std::make_shared<std::map<std::string, int>>();
  auto s = sched(counts);
  std::vector<std::string> ids;
  for (const char* stage : {"many1", "many2", "many3"}) {
    auto id = s.submit(request(stage, "exit3.sh"));
    ASSERT_TRUE(id) << id.error().message;
    ids.push_back(*id);
  }
  auto held = request("held", "ok.sh");
  auto hid = s.submit(held);
  ASSERT_TRUE(hid);
  ids.push_back(*hid);
  auto long_one = s.submit(request("many-running", "sleep.sh"));
  ASSERT_TRUE(long_one);
  ids.push_back(*long_one);
  ids.push_back("99999990");  // an id no one knows: reads as just submitted
  wait_final(s, ids[0], std::chrono::seconds(30));
  // Past MinJobAge squeue forgets ended jobs: status() must then ask sacct.
  for (std::size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(eventually([&] { return !in_squeue(ids[i]); }, std::chrono::seconds(60))) << ids[i];
  }
  counts->clear();
  auto st = s.status(ids);
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ((*counts)["squeue"], 1);
  EXPECT_LE((*counts)["sacct"], 1);
  EXPECT_EQ(counts->size(), (*counts)["sacct"] ? 2u : 1u);
  EXPECT_EQ(st->size(), ids.size());
  EXPECT_EQ((*st)["99999990"].state, JobState::pending);
  if (have_sacct()) {
    EXPECT_EQ((*counts)["sacct"], 1);
    EXPECT_EQ((*st)[ids[0]].state, JobState::failed);
    EXPECT_EQ((*st)[ids[0]].exit_code, 3);
  }
  EXPECT_TRUE((*st)[*long_one].state == JobState::running || (*st)[*long_one].state == JobState::pending);

  counts->clear();
  auto lone = s.status({"99999991"});  // squeue rejects a lone unknown id
  ASSERT_TRUE(lone) << lone.error().message;
  EXPECT_EQ((*lone)["99999991"].state, JobState::pending);
  EXPECT_EQ((*counts)["squeue"], 1);
  ASSERT_TRUE(s.cancel(*long_one));
}

TEST_F(SlurmReal, PartitionChoiceAndSubmitErrors) {
  auto counts = std::make_shared<std::map<std::string, int>>();
  SlurmScheduler s(std::make_unique<CountingRunner>(std::make_unique<ProcessRunner>(), counts),
                   SlurmConfig{});
  auto req = request("pick", "ok.sh");
  req.spec.resources.time_seconds = 2 * 3600;  // debug allows one hour
  req.spec.resources.gpus = 1;
  auto id = s.submit(req);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_NE(s.last_partition_choice().find("partition long"), std::string::npos) << s.last_partition_choice();
  EXPECT_NE(s.last_partition_choice().find("debug (limit 1:00:00 < 02:00:00)"), std::string::npos);
  auto st = wait_final(s, *id, std::chrono::seconds(60));
  EXPECT_EQ(st.state, JobState::completed) << st.reason;
  EXPECT_EQ((*counts)["sinfo"], 1);

  auto bad = request("badpart", "ok.sh");
  bad.spec.resources.partition = "nosuch";
  auto e1 = s.submit(bad);
  ASSERT_FALSE(e1);
  EXPECT_EQ(e1.error().exit, ExitCode::findings);
  EXPECT_NE(e1.error().message.find("nvalid partition"), std::string::npos) << e1.error().message;

  auto gpus = request("toomanygpus", "ok.sh");
  gpus.spec.resources.partition = "debug";
  gpus.spec.resources.gpus = 3;
  auto e2 = s.submit(gpus);
  ASSERT_FALSE(e2);
  EXPECT_EQ(e2.error().exit, ExitCode::findings) << e2.error().message;
}

TEST_F(SlurmReal, UnreachableControllerIsNotAJobFailure) {
  // Slurm's own clients, pointed at a controller that is not there.
  class BadPort : public CommandRunner {
   public:
    Expected<CommandResult> run(const std::vector<std::string>& argv, std::string_view input,
                                std::chrono::milliseconds timeout) override {
      std::vector<std::string> a = {"env", "SLURM_CONF=" + (s_dir / "bad.conf").string()};
      a.insert(a.end(), argv.begin(), argv.end());
      return ProcessRunner().run(a, input, timeout);
    }
  };
  std::ifstream in("/etc/slurm/slurm.conf");
  std::ofstream out(s_dir / "bad.conf");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("SlurmctldHost", 0) == 0) line = "SlurmctldHost=localhost(127.0.0.1)\nSlurmctldPort=1";
    if (line.rfind("AccountingStoragePort", 0) == 0) line = "AccountingStoragePort=2";
    out << line << "\n";
  }
  out.close();
  SlurmScheduler s(std::make_unique<BadPort>(),
                   config([](SlurmConfig& c) { c.timeout = std::chrono::seconds(40); }));
  auto st = s.status({"1"});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().exit, ExitCode::unreachable) << st.error().message;
}

TEST_F(SlurmReal, TimeoutAfterOneMinute) {
  if (node_down_run() || ssh_run()) GTEST_SKIP() << "the node-down and ssh runs submit no slow job";
  ASSERT_FALSE(s_timeout_id.empty()) << "the suite's timeout job was not submitted";
  if (!have_sacct()) GTEST_SKIP() << "no accounting: TIMEOUT is read from sacct";
  auto s = sched();
  auto st = wait_final(s, s_timeout_id, std::chrono::seconds(150));
  EXPECT_EQ(st.state, JobState::timeout) << st.reason;
  auto log = tail_of(s, s_timeout_id, 5);
  ASSERT_TRUE(log) << log.error().message;
  EXPECT_NE(log->find("state=TIMEOUT"), std::string::npos) << *log;
}

// A job held by the user or an admin stays pending with the hold as its reason (the
// engine's stuck detection decides when that is too long), and is adopted like any other.
TEST_F(SlurmReal, HeldJobStaysPendingAndIsAdopted) {
  auto counts = std::make_shared<std::map<std::string, int>>();
  auto s = sched(counts);
  auto req = request("held", "ok.sh");
  const std::string script = (s_dir / "jobs" / "ok.sh").string();
  auto r = ProcessRunner().run({"sbatch", "--parsable", "--hold", "--partition=debug", "--mem=100M",
                                "--job-name=" + req.key.str(), "--output=/dev/null", script},
                               "", std::chrono::seconds(30));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->exit, 0) << r->err;
  const std::string id = r->out.substr(0, r->out.find_first_of(";\n"));
  // The tick's lookup adopts it: one squeue, no sbatch.
  auto adopted = s.find_all({req.key});
  ASSERT_TRUE(adopted) << adopted.error().message;
  EXPECT_EQ(*adopted, (std::map<std::string, std::string>{{req.key.str(), id}}));
  EXPECT_EQ((*counts)["sbatch"], 0);
  // A job submitted after it, not held, starts and ends: the held one had its chance.
  auto control = s.submit(request("held-control", "ok.sh"));
  ASSERT_TRUE(control) << control.error().message;
  EXPECT_TRUE(is_final(wait_final(s, *control, std::chrono::seconds(60)).state));
  auto st = s.status({id});
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ((*st)[id].state, JobState::pending) << (*st)[id].reason;
  // Held by root ("sbatch --hold" as an admin) or by its user.
  EXPECT_NE((*st)[id].reason.find("JobHeld"), std::string::npos) << (*st)[id].reason;
  EXPECT_TRUE((*st)[id].blocked) << "a held job cannot start by itself";
  ASSERT_TRUE(s.cancel(id));
  auto end = wait_final(s, id, std::chrono::seconds(30));
  EXPECT_EQ(end.state, JobState::cancelled) << end.reason;
}

// What Slurm really does when the node under a running job is set DOWN: with the default
// JobRequeue=1 the batch job is requeued (sacct --duplicates keeps the NODE_FAIL run) and
// waits as PENDING (BeginTime); with --no-requeue it ends NODE_FAIL. Runs alone
// (CAIRN_SLURM_NODE_DOWN=1, after the other cases) because it kills everything on the node.
TEST_F(SlurmReal, NodeDownRequeuesOrFailsTheJob) {
  if (!node_down_run()) GTEST_SKIP() << "runs alone with CAIRN_SLURM_NODE_DOWN=1 (it takes the node down)";
  auto s = sched();
  auto id = s.submit(request("nodedown", "sleep.sh"));
  ASSERT_TRUE(id) << id.error().message;
  for (int i = 0; i < 60; ++i) {
    auto st = s.status({*id});
    if (st && (*st)[*id].state == JobState::running) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  auto down =
      ProcessRunner().run({"scontrol", "update", "nodename=localhost", "state=down", "reason=cairn-test"}, "",
                          std::chrono::seconds(30));
  ASSERT_TRUE(down) << down.error().message;
  EXPECT_EQ(down->exit, 0) << down->err;
  // Slurm requeues the job (pending, BeginTime) or fails it once it sees the node down:
  // wait for either, not a guess; what it became is asserted below.
  Expected<std::map<std::string, JobStatus>> st = fail("not polled");
  eventually(
      [&] {
        st = s.status({*id});
        if (!st) return false;
        const JobStatus& js = (*st)[*id];
        return js.state == JobState::node_fail ||
               (js.state == JobState::pending && js.reason.find("BeginTime") != std::string::npos);
      },
      std::chrono::seconds(60));
  // Bring the node back before asserting anything (ReturnToService=2 may have already).
  (void)ProcessRunner().run({"scontrol", "update", "nodename=localhost", "state=resume"}, "",
                            std::chrono::seconds(30));
  ASSERT_TRUE(st) << st.error().message;
  const JobStatus js = (*st)[*id];
  if (js.state == JobState::pending) {
    EXPECT_NE(js.reason.find("BeginTime"), std::string::npos) << js.reason;  // requeued
    if (have_sacct()) {
      auto d = ProcessRunner().run({"sacct", "-X", "-P", "-n", "-D", "-j", *id, "-o", "State"}, "",
                                   std::chrono::seconds(30));
      ASSERT_TRUE(d);
      EXPECT_NE(d->out.find("NODE_FAIL"), std::string::npos) << d->out;
    }
  } else {
    EXPECT_EQ(js.state, JobState::node_fail) << js.reason;
  }
  EXPECT_TRUE(s.cancel(*id));
  std::string node;
  for (int i = 0; i < 120; ++i) {
    auto n = ProcessRunner().run({"sinfo", "--noheader", "-n", "localhost", "-o", "%t"}, "",
                                 std::chrono::seconds(30));
    node = n ? n->out.substr(0, n->out.find('\n')) : n.error().message;
    if (node == "idle" || node == "mix" || node == "alloc") return;
    if (i % 10 == 9) {
      (void)ProcessRunner().run({"scontrol", "update", "nodename=localhost", "state=resume"}, "",
                                std::chrono::seconds(30));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  ADD_FAILURE() << "node localhost is '" << node << "', not back in service after 60 s";
}

}  // namespace
}  // namespace cairn::sched
