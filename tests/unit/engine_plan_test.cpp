// plan_step() as a pure function: a Workflow built in code, what the tick observed,
// the policy, and the Action it decides. No Markdown, no ports but the catalog.

#include <cairn/engine/plan.hpp>

#include <functional>
#include <variant>

#include <gtest/gtest.h>

#include <cairn/engine/facts.hpp>
#include <cairn/parse/condition.hpp>
#include <cairn/util/time.hpp>

#include "engine_fakes.hpp"

namespace cairn::engine {
namespace {

using doc::Status;

const TimePoint kNow = *util::parse_time("2026-05-05T20:00:00Z");

doc::Stage stage(std::string name, Status status, std::string job = "", std::string exit = "exit=0",
                 std::string entry = "always") {
  doc::Stage s;
  s.number = "0";
  s.name = std::move(name);
  s.entry = std::move(entry);
  s.exit = std::move(exit);
  s.entry_condition = parse::parse_condition(s.entry, 1);
  s.exit_condition = parse::parse_condition(s.exit, 1);
  s.status = status;
  s.job_id = std::move(job);
  s.started = s.job_id.empty() ? "" : "2026-05-05 19:50Z";
  return s;
}

doc::Workflow campaign(doc::Stage s, std::vector<doc::FailureRow> failures = {}) {
  doc::Workflow wf;
  wf.campaign = "c1";
  wf.status = s.status;
  wf.current_stage = s.name;
  doc::StageSpec spec;
  spec.name = s.name;
  spec.run = "jobs/run.sh";
  spec.expect_seconds = 20 * 60;
  spec.resources.time_seconds = 30 * 60;
  spec.resources.time_text = "00:30:00";
  wf.specs.push_back(spec);
  wf.stages.push_back(std::move(s));
  wf.failures = std::move(failures);
  return wf;
}

JobStatus ended(JobState state, int exit_code, std::string work_dir = "") {
  JobStatus j;
  j.job_id = "7";
  j.state = state;
  j.exit_code = exit_code;
  j.work_dir = std::move(work_dir);
  return j;
}

Classification cls(std::string name, std::string fix, bool transient = false) {
  Classification c;
  c.error_class = std::move(name);
  c.fix = std::move(fix);
  c.transient = transient;
  return c;
}

struct Case {
  std::string name;
  doc::Workflow wf;
  Observed seen;
  std::function<void(const Action&)> check;
};

class PlanTest : public ::testing::TestWithParam<Case> {};

TEST_P(PlanTest, DecidesTheNextAction) {
  testing::FakeCatalog catalog;
  catalog.m_rules.push_back({"timeout", cls("walltime-exceeded", "walltime x2")});
  catalog.m_rules.push_back({"Connection refused", cls("transient-connection", "resubmit", true)});
  const std::vector<HistoryEvent> history;
  const Policy policy{catalog, {}, {}, "r1", 200, kNow, history};
  const Place place{"campaigns/c1/WORKFLOW.md", "/repo/campaigns/c1"};
  const Case& c = GetParam();
  c.check(plan_step(c.wf, place, c.seen, policy));
}

template <class T>
const T& as(const Action& a) {
  EXPECT_TRUE(std::holds_alternative<T>(a)) << "action index " << a.index();
  static const T empty{};
  return std::holds_alternative<T>(a) ? std::get<T>(a) : empty;
}

Observed with_job(JobStatus j, std::map<int, std::string> logs = {}) {
  Observed o;
  o.job = std::move(j);
  o.log_tails = std::move(logs);
  return o;
}

const doc::FailureRow kEscalatedRow{"2026-05-05", "run",      "unclassified", "job 7: frobnicator exploded",
                                    "escalated",  "ESCALATED"};

INSTANTIATE_TEST_SUITE_P(
    Actions, PlanTest,
    ::testing::Values(Case{"ReadySubmitsAttemptOne",
                           campaign(stage("run", Status::ready)),
                           {},
                           [](const Action& a) {
                             const auto& s = as<Submit>(a);
                             EXPECT_EQ(s.request.key.str(), "cairn.r1.c1.run.1");
                             EXPECT_EQ(s.request.campaign_dir, "/repo/campaigns/c1");
                             EXPECT_TRUE(s.recorded_jobs.empty());
                           }},
                      Case{"AClearedStageIsANewAttemptThatNeverAdoptsTheRecordedJob",
                           campaign(stage("run", Status::ready, "7"), {kEscalatedRow}),
                           {},
                           [](const Action& a) {
                             const auto& s = as<Submit>(a);
                             EXPECT_EQ(s.request.key.attempt, 2);
                             EXPECT_EQ(s.recorded_jobs, (std::set<std::string>{"7"}));
                           }},
                      Case{"ALocalKeyInTheJobIdCountsAsAnAttempt",
                           campaign(stage("run", Status::ready, "cairn.r1.c1.run.3")),
                           {},
                           [](const Action& a) { EXPECT_EQ(as<Submit>(a).request.key.attempt, 4); }},
                      Case{"RunningAndReportedRunningIsAHeartbeat",
                           campaign(stage("run", Status::running, "7")),
                           with_job(ended(JobState::running, 0)),
                           [](const Action& a) {
                             const auto& c = as<Commit>(a);
                             ASSERT_EQ(c.moves.size(), 1u);
                             EXPECT_EQ(c.moves[0].transition.to, "running");
                             EXPECT_FALSE(c.again);
                           }},
                      Case{"NotReportedWaits",
                           campaign(stage("run", Status::running, "7")),
                           {},
                           [](const Action& a) {
                             EXPECT_NE(as<Wait>(a).note.find("not reported"), std::string::npos);
                           }},
                      Case{"AFailureFirstNeedsTheLog", campaign(stage("run", Status::running, "7")),
                           with_job(ended(JobState::failed, 3)),
                           [](const Action& a) { EXPECT_EQ(as<Need>(a).log_lines, 200); }},
                      Case{"AnUnknownFailureIsRecordedThenEscalated",
                           campaign(stage("run", Status::running, "7")),
                           with_job(ended(JobState::failed, 3), {{200, "frobnicator exploded\n"}}),
                           [](const Action& a) {
                             const auto& c = as<Commit>(a);
                             ASSERT_EQ(c.moves.size(), 2u);
                             EXPECT_EQ(c.moves[0].transition.to, "failed");
                             ASSERT_EQ(c.moves[0].failures.size(), 1u);
                             EXPECT_EQ(c.moves[0].failures[0].message, "job 7: frobnicator exploded");
                             EXPECT_EQ(c.moves[1].transition.to, "escalated");
                             EXPECT_EQ(c.moves[1].transition.error_class, "unclassified");
                           }},
                      Case{"ATransientFailureGoesBackToReadyWithoutARetry",
                           campaign(stage("run", Status::running, "7")),
                           with_job(ended(JobState::failed, 255),
                                    {{200, "ssh: connect to host login1: Connection refused\n"}}),
                           [](const Action& a) {
                             const auto& c = as<Commit>(a);
                             ASSERT_EQ(c.moves.size(), 2u);
                             EXPECT_EQ(c.moves[1].transition.to, "ready");
                             EXPECT_EQ(c.moves[0].failures[0].action, "resubmit (transient)");
                             bool retries_kept = false;
                             for (const auto& cell : c.moves[1].cells) {
                               if (cell.column == doc::Column::retries) retries_kept = cell.value == "0";
                             }
                             EXPECT_TRUE(retries_kept);
                           }},
                      Case{"AFileClauseNeedsOneProbeOfTheJobsOwnDirectory",
                           campaign(stage("run", Status::running, "7",
                                          "exit=0, `out.txt` exists, `test -s log` exits 0")),
                           with_job(ended(JobState::completed, 0, "/clone-a/campaigns/c1")),
                           [](const Action& a) {
                             const auto& n = as<Need>(a);
                             EXPECT_EQ(n.dir, "/clone-a/campaigns/c1");
                             EXPECT_EQ(n.backend, "local");
                             ASSERT_EQ(n.probes.size(), 2u);
                             EXPECT_EQ(n.probes[0].arg, "out.txt");
                             EXPECT_EQ(n.probes[1].kind, Probe::Kind::command);
                           }},
                      Case{"ProbedAndHoldingIsDone",
                           campaign(stage("run", Status::running, "7", "exit=0, `out.txt` exists")),
                           [] {
                             Observed o = with_job(ended(JobState::completed, 0, "/clone-a/campaigns/c1"));
                             o.probes[{Probe::Kind::count, "out.txt"}] = ProbeAnswer{1, std::nullopt, 0};
                             return o;
                           }(),
                           [](const Action& a) {
                             const auto& c = as<Commit>(a);
                             ASSERT_EQ(c.moves.size(), 1u);
                             EXPECT_EQ(c.moves[0].transition.to, "done");
                             EXPECT_TRUE(c.again);
                           }},
                      Case{"AGoneDirectoryEscalatesAndKeepsTheRow",
                           campaign(stage("run", Status::running, "7", "`out.txt` exists")),
                           [] {
                             Observed o = with_job(ended(JobState::completed, 0, "/gone"));
                             o.probe_error = Error{"directory /gone does not exist", ExitCode::findings};
                             return o;
                           }(),
                           [](const Action& a) {
                             const auto& c = as<Commit>(a);
                             ASSERT_EQ(c.moves.size(), 1u);
                             EXPECT_EQ(c.moves[0].transition.error_class, "workdir-missing");
                             EXPECT_TRUE(c.moves[0].cells.empty());  // the stage row stays running
                           }},
                      Case{"AnUnreachableDirectoryIsRetriedNextTick",
                           campaign(stage("run", Status::running, "7", "`out.txt` exists")),
                           [] {
                             Observed o = with_job(ended(JobState::completed, 0, "/scratch/c1"));
                             o.probe_error = Error{"ssh: connection refused", ExitCode::unreachable};
                             return o;
                           }(),
                           [](const Action& a) { EXPECT_EQ(as<Unreachable>(a).backend, "local"); }},
                      Case{"AnApprovedCancelCancelsAndRecordsTheAttempt",
                           [] {
                             doc::Workflow wf = campaign(stage("run", Status::running, "7"));
                             wf.actions.push_back(
                                 {true, "cairn cancel: job 7 (run): tick this and clear the escalation", 0});
                             return wf;
                           }(),
                           with_job(ended(JobState::pending, 0)),
                           [](const Action& a) {
                             const auto& c = as<Cancel>(a);
                             EXPECT_EQ(c.job, "7");
                             ASSERT_EQ(c.after.failures.size(), 1u);
                             EXPECT_EQ(c.after.transition.to, "ready");
                           }},
                      Case{"APendingGateThatDoesNotHoldWaitsWithoutACommit",
                           campaign(stage("run", Status::pending, "", "exit=0", "approved")),
                           {},
                           [](const Action& a) {
                             EXPECT_NE(as<Wait>(a).note.find("waits"), std::string::npos);
                           }},
                      // What an OSMO submit returns: where it ran, the web page, the outputs.
                      Case{"ADoneJobNamesItsPoolLinkAndOutputs",
                           campaign(stage("run", Status::running, "wf-1")),
                           [] {
                             Observed o = with_job(ended(JobState::completed, 0));
                             o.job->pool = "h100-east";
                             o.job->link = "https://osmo.example.com/workflows/wf-1";
                             o.spec.emplace();
                             o.spec->outputs = {"s3://b/out/", "dataset model"};
                             return o;
                           }(),
                           [](const Action& a) {
                             const auto& c = as<Commit>(a);
                             ASSERT_EQ(c.moves.size(), 1u);
                             const auto& body = c.moves[0].transition.body;
                             ASSERT_EQ(body.size(), 2u);
                             EXPECT_EQ(body[0],
                                       "Job wf-1 completed on h100-east "
                                       "(https://osmo.example.com/workflows/wf-1); exit "
                                       "condition \"exit=0\" holds.");
                             EXPECT_EQ(body[1], "Outputs: s3://b/out/, dataset model.");
                             ASSERT_TRUE(c.moves[0].learning);
                             EXPECT_EQ(c.moves[0].learning->pool, "h100-east");
                             EXPECT_EQ(c.moves[0].learning->job,
                                       "wf-1 https://osmo.example.com/workflows/wf-1");
                             EXPECT_EQ(c.moves[0].learning->pool_failures, "0 failures in 1 run");
                           }},
                      // "Resubmit to the same pool": the first attempt's, as the failure log says.
                      Case{"AResubmitCarriesTheFirstAttemptsPool",
                           campaign(stage("run", Status::ready, "wf-2"),
                                    {{"2026-05-05", "run", "out-of-memory",
                                      "job wf-1: pool h100-east; link https://o/wf-1; OOMKilled", "mem x2",
                                      "RESOLVED"},
                                     {"2026-05-05", "run", "out-of-memory",
                                      "job wf-2: pool l40s-batch; OOMKilled", "mem x2", "RETRYING"}}),
                           {},
                           [](const Action& a) { EXPECT_EQ(as<Submit>(a).request.first_pool, "h100-east"); }},
                      Case{"AFailureRowIsAJobReferenceWithPoolAndLink",
                           campaign(stage("run", Status::running, "wf-1")),
                           [] {
                             Observed o = with_job(ended(JobState::timeout, 1), {{200, "timeout"}});
                             o.job->pool = "h100-east";
                             o.job->link = "https://osmo.example.com/workflows/wf-1";
                             return o;
                           }(),
                           [](const Action& a) {
                             const auto& c = as<Commit>(a);
                             ASSERT_FALSE(c.moves.empty());
                             ASSERT_EQ(c.moves[0].failures.size(), 1u);
                             const std::string& msg = c.moves[0].failures[0].message;
                             EXPECT_EQ(msg.rfind("job wf-1: pool h100-east; link "
                                                 "https://osmo.example.com/workflows/wf-1; ",
                                                 0),
                                       0u)
                                 << msg;
                             const FailureNote note = parse_failure_note(msg);
                             EXPECT_EQ(note.pool, "h100-east");
                             EXPECT_EQ(note.link, "https://osmo.example.com/workflows/wf-1");
                           }}),
    [](const ::testing::TestParamInfo<Case>& p) { return p.param.name; });

// The pool's reliability in the Learnings row, from the campaign's own file: its runs
// there are the failed attempts the Failure log names the pool for, the earlier Learnings
// rows of the pool, and the run that completes now. A submit the pool refused (the row's
// job is still the key: no workflow ran) is not a run; other pools are not counted.
TEST(PoolFailures, CountFailedAndCompletedRunsOfThePoolInThisCampaign) {
  doc::Workflow wf = campaign(
      stage("run", Status::running, "wf-4"),
      {{"2026-05-05", "prep", "out-of-memory", "job wf-1: pool h100-east; link https://o/wf-1; OOMKilled",
        "mem x2", "RESOLVED"},
       {"2026-05-05", "run", "capacity-validation",
        "job cairn.r1.c1.run.1: pool h100-east; submit refused, capacity validation: cpu 300 > node 192",
        "size to one node", "RESOLVED"},
       {"2026-05-06", "run", "node-failure", "job wf-3: pool l40s-batch; node lost", "resubmit", "RESOLVED"},
       {"2026-05-06", "run", "unclassified", "job 12: boom", "escalated", "ESCALATED"}});
  wf.learnings.push_back({"2026-05-05", "prep", "osmo", "h100-east", "1m", "10m", "", "wf-2"});
  wf.learnings.push_back({"2026-05-05", "other", "slurm", "gpu", "1m", "10m", "", "41"});
  EXPECT_EQ(pool_failures(wf, "h100-east"), "1 failure in 3 runs");
  EXPECT_EQ(pool_failures(wf, "l40s-batch"), "1 failure in 2 runs");
  EXPECT_EQ(pool_failures(wf, "gpu"), "0 failures in 2 runs");
  EXPECT_EQ(pool_failures(campaign(stage("run", Status::running, "7")), "h100-east"), "0 failures in 1 run");
  EXPECT_EQ(pool_failures(wf, ""), "");
  wf.failures.push_back(
      {"2026-05-07", "run", "out-of-memory", "job wf-5: pool h100-east; OOMKilled", "", ""});
  EXPECT_EQ(pool_failures(wf, "h100-east"), "2 failures in 4 runs");
}

TEST(Attempts, ComeFromTheFileAndHistoryNeverFromRetries) {
  doc::Workflow wf = campaign(stage("run", Status::ready, "41"), {kEscalatedRow});
  wf.stages[0].retries = 0;  // a clear leaves Retries as it was
  std::vector<HistoryEvent> history;
  EXPECT_EQ(next_attempt(wf, wf.stages[0], history), 2);
  HistoryEvent e;
  e.campaign = "c1";
  e.stage = "run";
  e.from = "running";
  e.to = "failed";
  e.attempt = 5;
  history.push_back(e);
  EXPECT_EQ(next_attempt(wf, wf.stages[0], history), 6);
  EXPECT_EQ(recorded_jobs(wf, wf.stages[0]), (std::set<std::string>{"41", "7"}));
  wf.stages[0].status = Status::running;
  wf.stages[0].job_id = "8";
  EXPECT_EQ(current_attempt(wf, wf.stages[0]), 2);
}

TEST(Attempts, MadeSoFarCountTheRunningJobAndTheEndedOnes) {
  doc::Workflow wf = campaign(stage("run", Status::pending));
  EXPECT_EQ(attempts_made(wf, wf.stages[0], {}), 0);  // never submitted
  wf.stages[0] = stage("run", Status::running, "cairn.c1.run.1");
  EXPECT_EQ(attempts_made(wf, wf.stages[0], {}), 1);
  wf.stages[0].status = Status::done;
  EXPECT_EQ(attempts_made(wf, wf.stages[0], {}), 1);
  wf = campaign(stage("run", Status::running, "8"), {kEscalatedRow});
  EXPECT_EQ(attempts_made(wf, wf.stages[0], {}), 2);  // job 7 failed, job 8 runs
}

// `cairn cancel`: one Move that ends the attempt for good and hands the stage to a human.
TEST(CancelledByHuman, OneTransitionARowAndAnEscalation) {
  doc::Workflow wf = campaign(stage("run", Status::running, "cairn.c1.run.1"));
  const Move m = cancelled_by_human(wf, wf.stages[0], "Ada", "wrong input deck", kNow);
  EXPECT_EQ(subject(m.transition), "c1: run running -> failed [cancelled]");
  EXPECT_EQ(m.transition.attempt, 1);
  ASSERT_EQ(m.failures.size(), 1u);
  EXPECT_EQ(m.failures[0].message, "job cairn.c1.run.1: cancelled by Ada: wrong input deck");
  EXPECT_EQ(m.failures[0].action, "cancelled by a human");
  EXPECT_EQ(m.failures[0].result, "ESCALATED");
  ASSERT_TRUE(m.transition.failure);
  ASSERT_EQ(m.cells.size(), 1u);
  EXPECT_EQ(m.cells[0].value, "failed");
  bool escalated = false;
  for (const auto& s : m.scalars) {
    if (s.key == "escalation_required") escalated = s.value == "true";
    if (s.key == "escalation_reason") {
      EXPECT_EQ(s.value, "cancelled by a human (Ada): wrong input deck");
    }
  }
  EXPECT_TRUE(escalated);
  // The cancelled job is an ended attempt: never adopted again, the next submit is attempt 2.
  wf.failures = m.failures;
  wf.stages[0].status = Status::ready;  // as a clear leaves it
  EXPECT_EQ(next_attempt(wf, wf.stages[0], {}), 2);
  EXPECT_EQ(recorded_jobs(wf, wf.stages[0]).count("cairn.c1.run.1"), 1u);
}

}  // namespace
}  // namespace cairn::engine
