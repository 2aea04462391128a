// The local backend against real processes: scripts run detached, exit records land
// in the state dir, limits are enforced, and a second submit of a key adopts the job.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include <cairn/sched/local.hpp>
#include <cairn/sched/workspace.hpp>

namespace cairn::sched {
namespace {

namespace fs = std::filesystem;
using engine::JobState;
using namespace std::chrono_literals;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class LocalSchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_root = fs::temp_directory_path() / ("cairn-local-" + std::to_string(::getpid()) + "-" +
                                          ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(m_root);
    fs::create_directories(m_root / "campaign" / "scripts");
    LocalOptions o;
    o.kill_grace = 1s;
    m_sched = std::make_unique<LocalScheduler>((m_root / "state").string(), "/repo/one", o);
  }
  void TearDown() override {
    // Leave nothing running behind a failed test.
    for (const auto& id : m_submitted) (void)m_sched->cancel(id);
    fs::remove_all(m_root);
  }

  void script(const std::string& name, const std::string& body, bool executable = true) {
    const fs::path p = m_root / "campaign" / "scripts" / name;
    std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
    if (executable) fs::permissions(p, fs::perms::owner_all, fs::perm_options::add);
  }

  engine::SubmitRequest request(const std::string& stage, const std::string& run, int attempt = 1) {
    engine::SubmitRequest r;
    r.key = {"demo", stage, attempt};
    r.campaign_dir = (m_root / "campaign").string();
    r.spec.name = stage;
    r.spec.run = run;
    return r;
  }

  std::string submit(const engine::SubmitRequest& r) {
    auto id = m_sched->submit(r);
    EXPECT_TRUE(id) << (id ? "" : id.error().message);
    if (!id) return "";
    m_submitted.push_back(*id);
    return *id;
  }

  // Polls until the job is final (the test's only waiting; bounded).
  engine::JobStatus wait_final(const std::string& id, std::chrono::seconds limit = 20s) {
    const auto until = std::chrono::steady_clock::now() + limit;
    for (;;) {
      auto st = m_sched->status({id});
      EXPECT_TRUE(st);
      if (st && st->count(id) && engine::is_final(st->at(id).state)) return st->at(id);
      if (std::chrono::steady_clock::now() > until) {
        ADD_FAILURE() << "job " << id << " did not finish in " << limit.count() << " s";
        return st && st->count(id) ? st->at(id) : engine::JobStatus{};
      }
      std::this_thread::sleep_for(50ms);
    }
  }

  fs::path m_root;
  std::unique_ptr<LocalScheduler> m_sched;
  std::vector<std::string> m_submitted;
};

TEST_F(LocalSchedulerTest, RunsTheScriptInTheCampaignDirWithItsEnvironment) {
  script("smoke.sh",
         "pwd > out.txt; echo \"$CAIRN_CAMPAIGN $CAIRN_STAGE $CAIRN_ATTEMPT\" >> out.txt;"
         "echo \"$CAIRN_OUTPUT_DIR\" >> out.txt; echo hello from smoke");
  const std::string id = submit(request("smoke", "scripts/smoke.sh", 2));
  EXPECT_EQ(id, "cairn.demo.smoke.2");
  const auto js = wait_final(id);
  EXPECT_EQ(js.state, JobState::completed);
  EXPECT_EQ(js.exit_code, 0);
  // Where conditions are checked: the dir recorded at submit, not the tick's cwd.
  EXPECT_EQ(js.work_dir, (m_root / "campaign").string());
  const std::string out = slurp(m_root / "campaign" / "out.txt");
  std::istringstream lines(out);
  std::string cwd, vars, output_dir;
  std::getline(lines, cwd);
  std::getline(lines, vars);
  std::getline(lines, output_dir);
  EXPECT_EQ(fs::canonical(cwd), fs::canonical(m_root / "campaign"));
  EXPECT_EQ(vars, "demo smoke 2");
  EXPECT_EQ(output_dir, m_sched->run_dir(id));
  auto tail = m_sched->log_tail(id, 5);
  ASSERT_TRUE(tail);
  EXPECT_EQ(*tail, "hello from smoke\n");
  ASSERT_TRUE(js.started.has_value());
  ASSERT_TRUE(js.ended.has_value());
  EXPECT_LE(*js.started, *js.ended);
  ASSERT_TRUE(js.submitted.has_value());
  EXPECT_LE(*js.submitted, *js.started);
}

TEST_F(LocalSchedulerTest, ANonExecutableScriptRunsUnderSh) {
  script("plain.sh", "echo plain; exit 0", /*executable=*/false);
  const auto js = wait_final(submit(request("plain", "scripts/plain.sh")));
  EXPECT_EQ(js.state, JobState::completed);
}

TEST_F(LocalSchedulerTest, ANonZeroExitIsAFailureWithItsCode) {
  script("bad.sh", "echo 'FATAL: something broke' >&2; exit 3");
  const std::string id = submit(request("bad", "scripts/bad.sh"));
  const auto js = wait_final(id);
  EXPECT_EQ(js.state, JobState::failed);
  EXPECT_EQ(js.exit_code, 3);
  EXPECT_NE(m_sched->log_tail(id, 10)->find("FATAL: something broke"), std::string::npos);
}

TEST_F(LocalSchedulerTest, AMissingScriptFailsWithExit127AndSaysWhy) {
  const std::string id = submit(request("gone", "scripts/missing.sh"));
  const auto js = wait_final(id);
  EXPECT_EQ(js.state, JobState::failed);
  EXPECT_EQ(js.exit_code, 127);
  EXPECT_NE(m_sched->log_tail(id, 10)->find("missing.sh"), std::string::npos);
}

TEST_F(LocalSchedulerTest, TheWallClockLimitIsEnforcedEvenWhenTermIsIgnored) {
  // The script ignores SIGTERM, so only the SIGKILL after the grace period ends it.
  script("slow.sh", "trap '' TERM; echo started; sleep 30 & wait; sleep 30");
  auto r = request("slow", "scripts/slow.sh");
  r.spec.resources.time_seconds = 1;
  const auto begin = std::chrono::steady_clock::now();
  const std::string id = submit(r);
  const auto js = wait_final(id);
  EXPECT_EQ(js.state, JobState::timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 15s);
  const std::string tail = *m_sched->log_tail(id, 10);
  EXPECT_NE(tail.find("DUE TO TIME LIMIT"), std::string::npos) << tail;
}

TEST_F(LocalSchedulerTest, ArrayTasksEachRunAndTheWorstTaskWins) {
  script("task.sh",
         "echo task $CAIRN_ARRAY_TASK_ID $SLURM_ARRAY_TASK_ID; touch done-$CAIRN_ARRAY_TASK_ID;"
         "[ \"$CAIRN_ARRAY_TASK_ID\" != 3 ] || exit 5");
  auto r = request("ens", "scripts/task.sh");
  r.spec.array = "1-4%2";
  const std::string id = submit(r);
  const auto js = wait_final(id);
  ASSERT_EQ(js.tasks.size(), 4u);
  for (int i = 1; i <= 4; ++i) {
    EXPECT_EQ(js.tasks[static_cast<std::size_t>(i - 1)].index, std::to_string(i));
    EXPECT_TRUE(fs::exists(m_root / "campaign" / ("done-" + std::to_string(i))));
  }
  EXPECT_EQ(js.tasks[2].state, JobState::failed);
  EXPECT_EQ(js.tasks[0].state, JobState::completed);
  EXPECT_EQ(js.state, JobState::failed);
  EXPECT_EQ(js.exit_code, 5);
  const std::string tail = *m_sched->log_tail(id, 5);
  EXPECT_NE(tail.find("==> task 2 <==\ntask 2 2\n"), std::string::npos) << tail;
}

TEST_F(LocalSchedulerTest, ARetryOfSomeIndicesRunsOnlyThose) {
  script("task.sh", "touch redo-$CAIRN_ARRAY_TASK_ID");
  auto r = request("ens", "scripts/task.sh", 2);
  r.spec.array = "1-4";
  r.array = "3";
  const auto js = wait_final(submit(r));
  ASSERT_EQ(js.tasks.size(), 1u);
  EXPECT_EQ(js.tasks[0].index, "3");
  EXPECT_TRUE(fs::exists(m_root / "campaign" / "redo-3"));
  EXPECT_FALSE(fs::exists(m_root / "campaign" / "redo-1"));
}

TEST_F(LocalSchedulerTest, ASecondSubmitOfTheSameKeyAdoptsTheJob) {
  script("count.sh", "echo run >> runs.txt; sleep 1");
  const auto r = request("once", "scripts/count.sh");
  auto found = m_sched->find(r.key);
  ASSERT_TRUE(found);
  EXPECT_FALSE(found->has_value());
  const std::string first = submit(r);
  const std::string second = submit(r);
  EXPECT_EQ(first, second);
  found = m_sched->find(r.key);
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ(**found, first);
  wait_final(first);
  EXPECT_EQ(slurp(m_root / "campaign" / "runs.txt"), "run\n");
}

TEST_F(LocalSchedulerTest, AProcessKilledRightAfterSubmitLeavesAJobTheNextSubmitAdopts) {
  script("count.sh", "echo run >> runs.txt");
  const auto r = request("crash", "scripts/count.sh");
  // A child plays the tick: it submits and dies before it could record anything.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    (void)m_sched->submit(r);
    ::_exit(0);
  }
  int st = 0;
  ::waitpid(child, &st, 0);
  ASSERT_TRUE(WIFEXITED(st));
  const std::string id = submit(r);  // the next tick
  EXPECT_EQ(id, r.key.str());
  wait_final(id);
  EXPECT_EQ(slurp(m_root / "campaign" / "runs.txt"), "run\n");
}

// The pile-up check's question: the local backend can answer it (only cairn submits
// here), from its run directories; jobs that run or ended are not queued.
TEST_F(LocalSchedulerTest, QueuedByNameAnswersFromTheRunDirectories) {
  auto none = m_sched->queued_by_name("cairn.");
  ASSERT_TRUE(none && *none);  // nothing submitted yet: an answer, and empty
  EXPECT_TRUE((*none)->empty());
  script("count.sh", "echo run >> runs.txt");
  const std::string id = submit(request("q", "scripts/count.sh"));
  wait_final(id);
  auto ended = m_sched->queued_by_name("cairn.demo.");
  ASSERT_TRUE(ended && *ended);
  EXPECT_TRUE((*ended)->empty());
}

TEST_F(LocalSchedulerTest, TwoReposNeverShareJobs) {
  script("count.sh", "echo run >> runs.txt");
  LocalScheduler other((m_root / "state").string(), "/repo/two");
  const auto r = request("same", "scripts/count.sh");
  const std::string id = submit(r);
  wait_final(id);
  EXPECT_FALSE(other.find(r.key)->has_value());
  EXPECT_NE(other.run_dir(id), m_sched->run_dir(id));
  EXPECT_TRUE(other.status({id})->empty());
}

TEST_F(LocalSchedulerTest, AVanishedSupervisorIsReportedAsANodeFailure) {
  script("long.sh", "echo $$ > long.pid; exec sleep 60");
  const std::string id = submit(request("long", "scripts/long.sh"));
  // Wait until it runs, then kill the supervisor and its task as a reboot would.
  const fs::path pid_file = m_root / "campaign" / "long.pid";
  auto written = [&] {
    std::error_code ec;
    const auto size = fs::file_size(pid_file, ec);
    return !ec && size > 0;
  };
  for (int i = 0; i < 200 && !written(); ++i) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(m_sched->status({id})->at(id).state, JobState::running);
  const std::string sup = slurp(m_sched->run_dir(id) + "/supervisor");
  const pid_t pid = std::stoi(sup);
  ASSERT_GT(pid, 1);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  for (int i = 0; i < 100 && ::kill(pid, 0) == 0; ++i) std::this_thread::sleep_for(50ms);
  const pid_t task = std::stoi(slurp(m_root / "campaign" / "long.pid"));
  ASSERT_GT(task, 1);
  ::kill(-task, SIGKILL);
  const auto js = wait_final(id);
  EXPECT_EQ(js.state, JobState::node_fail);
  EXPECT_NE(js.reason.find("supervisor"), std::string::npos) << js.reason;
}

TEST_F(LocalSchedulerTest, CancelStopsARunningJob) {
  script("long.sh", "echo waiting; sleep 60");
  const std::string id = submit(request("long", "scripts/long.sh"));
  for (int i = 0; i < 100; ++i) {
    if (m_sched->status({id})->at(id).state == JobState::running) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(m_sched->cancel(id));
  const auto js = wait_final(id, 10s);
  EXPECT_EQ(js.state, JobState::cancelled);
}

TEST_F(LocalSchedulerTest, UnknownJobsAreAbsentAndUnsafeIdsRejected) {
  auto st = m_sched->status({"cairn.demo.none.1", "../../etc"});
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->empty());
  EXPECT_FALSE(m_sched->log_tail("cairn.demo.none.1", 5));
  EXPECT_FALSE(m_sched->cancel("../x"));
  auto r = request("bad/stage", "scripts/x.sh");
  EXPECT_FALSE(m_sched->submit(r));
}

TEST_F(LocalSchedulerTest, AnInvalidArrayIsAUsageError) {
  auto r = request("arr", "scripts/x.sh");
  r.spec.array = "4-1";
  auto id = m_sched->submit(r);
  ASSERT_FALSE(id);
  EXPECT_NE(id.error().message.find("4-1"), std::string::npos);
}

TEST(LocalStateDir, FollowsCairnStateDirThenXdgThenHome) {
  const char* saved[3] = {std::getenv("CAIRN_STATE_DIR"), std::getenv("XDG_STATE_HOME"), std::getenv("HOME")};
  const std::string keep[3] = {saved[0] ? saved[0] : "", saved[1] ? saved[1] : "", saved[2] ? saved[2] : ""};
  ::setenv("CAIRN_STATE_DIR", "/s/cairn", 1);
  ::setenv("XDG_STATE_HOME", "/x", 1);
  ::setenv("HOME", "/h", 1);
  EXPECT_EQ(default_state_dir(), "/s/cairn");
  ::unsetenv("CAIRN_STATE_DIR");
  EXPECT_EQ(default_state_dir(), "/x/cairn");
  ::unsetenv("XDG_STATE_HOME");
  EXPECT_EQ(default_state_dir(), "/h/.local/state/cairn");
  const char* names[3] = {"CAIRN_STATE_DIR", "XDG_STATE_HOME", "HOME"};
  for (int i = 0; i < 3; ++i) {
    if (saved[i] != nullptr) {
      ::setenv(names[i], keep[i].c_str(), 1);
    } else {
      ::unsetenv(names[i]);
    }
  }
}

TEST(LocalWorkspaceTest, AnswersEveryProbeInTheDirAndNamesAMissingDir) {
  using engine::Probe;
  const fs::path dir = fs::temp_directory_path() / ("cairn-ws-" + std::to_string(::getpid()));
  fs::create_directories(dir / "out");
  for (int i = 0; i < 3; ++i) std::ofstream(dir / "out" / ("r" + std::to_string(i) + ".dcd")) << "x";
  LocalWorkspace ws;
  auto a = ws.probe(dir.string(), {{Probe::Kind::count, "out/*.dcd"},
                                   {Probe::Kind::count, "out/*.coor"},
                                   {Probe::Kind::newest, "out/*.dcd"},
                                   {Probe::Kind::newest, "nothing*"},
                                   {Probe::Kind::command, "test -f out/r1.dcd"},
                                   {Probe::Kind::command, "test -f out/r9.dcd"},
                                   {Probe::Kind::command, "exit 7"}});
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_EQ(a->size(), 7u);
  EXPECT_EQ((*a)[0].count, 3);
  EXPECT_EQ((*a)[1].count, 0);
  EXPECT_TRUE((*a)[2].newest.has_value());
  EXPECT_FALSE((*a)[3].newest.has_value());
  EXPECT_EQ((*a)[4].exit, 0);
  EXPECT_EQ((*a)[5].exit, 1);
  EXPECT_EQ((*a)[6].exit, 7);
  auto gone = ws.probe((dir / "nope").string(), {{Probe::Kind::count, "*"}});
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().exit, ExitCode::findings);
  EXPECT_NE(gone.error().message.find("directory " + (dir / "nope").string() + " does not exist"),
            std::string::npos);
  ws.check_timeout = std::chrono::milliseconds(200);
  EXPECT_FALSE(ws.probe(dir.string(), {{Probe::Kind::command, "sleep 5"}}));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace cairn::sched
