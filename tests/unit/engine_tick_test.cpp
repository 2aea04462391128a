#include <cairn/engine/tick.hpp>

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <cairn/engine/cadence.hpp>
#include <cairn/parse/workflow_file.hpp>
#include <cairn/util/time.hpp>

#include "engine_fakes.hpp"

namespace cairn::engine {
namespace {

using testing::FakeBackends;
using testing::FakeCatalog;
using testing::FakeClock;
using testing::FakeScheduler;
using testing::FakeStore;
using testing::FakeWorkspace;

struct StageRow {
  std::string name;
  std::string entry;
  std::string exit;
  std::string status = "pending";
  std::string job = "—";
  std::string started = "—";
  std::string retries = "0";
  std::string completed = "—";
};

// A campaign file with a `stages:` block for every row that has a script.
std::string workflow(const std::string& campaign, const std::vector<StageRow>& rows,
                     const std::string& extra_frontmatter = "", const std::string& failures = "",
                     const std::string& cap = "0", const std::string& spent = "0") {
  // The upkeep fields as cairn keeps them: from the first stage not done.
  const auto open =
      std::find_if(rows.begin(), rows.end(), [](const StageRow& r) { return r.status != "done"; });
  const std::string status = open == rows.end() ? "done" : open->status;
  const std::string current = open == rows.end() ? rows.back().name : open->name;
  std::string s = "---\ncampaign: " + campaign +
                  "\nproject: demo\ncreated: 2026-05-05\nlast_tick: \"\"\nstatus: " + status +
                  "\n"
                  "current_stage: " +
                  current +
                  "\nescalation_required: false\nescalation_reason: \"\"\n"
                  "budget: {backend: local, cap_usd: " +
                  cap + ", spent_usd: " + spent +
                  "}\n"
                  "notify: {on_advance: false, on_escalate: true}\nstages:\n";
  for (const auto& r : rows) {
    s += "  " + r.name + ":\n    run: jobs/" + r.name +
         ".sh\n    resources: {time: \"00:30:00\"}\n    expect: 20m\n";
  }
  s += extra_frontmatter;
  s += "---\n\n# Demo\n\n## Stages\n\n"
       "| # | Name | Entry condition | Exit condition | Status | JobID | Started | Completed | Retries |\n"
       "|---|------|-----------------|----------------|--------|-------|---------|-----------|---------|\n";
  int n = 0;
  for (const auto& r : rows) {
    s += "| " + std::to_string(n++) + " | " + r.name + " | " + r.entry + " | " + r.exit + " | " + r.status +
         " | " + r.job + " | " + r.started + " | " + r.completed + " | " + r.retries + " |\n";
  }
  s += "\n## Action queue\n\n- [ ] Check the smoke output by hand.\n\n## Failure log\n\n"
       "| Date | Stage | Error class | Error msg | Action taken | Result |\n"
       "|------|-------|-------------|-----------|--------------|--------|\n" +
       failures + "\n## Lessons learned\n\n(none yet)\n\n## References\n\n- AGENTS.md\n";
  return s;
}

Classification cls(std::string name, std::string fix, bool transient = false, bool destructive = false) {
  Classification c;
  c.error_class = std::move(name);
  c.fix = std::move(fix);
  c.safe_to_retry = true;
  c.transient = transient;
  c.destructive = destructive;
  return c;
}

class TickTest : public ::testing::Test {
 protected:
  TickTest() : m_backends(m_sched) {
    m_catalog.m_rules.push_back({"timeout", cls("walltime-exceeded", "walltime x2")});
    m_catalog.m_rules.push_back({"Socket timed out", cls("transient-connection", "resubmit", true)});
    m_catalog.m_rules.push_back({"NaN", cls("numerical-blowup", "reduce timestep", false, true)});
    m_catalog.m_rules.push_back({"node_fail", cls("node-failure", "resubmit")});
  }

  void add(const std::string& campaign, std::string text) {
    m_inputs.push_back(
        {"campaigns/" + campaign + "/WORKFLOW.md", "/repo/campaigns/" + campaign, std::move(text)});
  }

  // Campaign c1 whose stage smoke ran job 7 until it ended NODE_FAIL on `nodes`; with
  // `exclude`, the catalog's fix for that is "exclude node" (not "resubmit").
  void add_node_failure(const std::string& nodes, bool exclude) {
    if (exclude)
      m_catalog.m_rules.insert(m_catalog.m_rules.begin(), {"node_fail", cls("node-failure", "exclude node")});
    add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 19:50Z"}}));
    m_sched.finish("7", JobState::node_fail, 1, "", "NODE_FAIL");
    m_sched.job("7").nodes = nodes;
  }

  // Adds `line` (e.g. "checkpoint: restart/*.chk") to the first stage spec of campaign `i`.
  void add_spec_line(const std::string& line, std::size_t i = 0) {
    auto& text = m_inputs[i].text;
    const std::string at = "    expect: 20m\n";
    text.insert(text.find(at) + at.size(), "    " + line + "\n");
  }

  TickReport run(TickOptions opts = {}) {
    if (!m_no_force) opts.force = true;
    TickReport r = tick(Ports{m_backends, m_store, m_clock, m_ws, m_catalog}, m_inputs, opts, m_history);
    // Next tick reads what this one committed (level-triggered from HEAD).
    for (auto& in : m_inputs) {
      auto it = m_store.m_files.find(in.path);
      if (it != m_store.m_files.end()) in.text = it->second;
    }
    return r;
  }

  const doc::Workflow& wf(std::size_t i = 0) {
    m_parsed = *parse::WorkflowFile::parse(m_inputs[i].path, m_inputs[i].text);
    return m_parsed->workflow();
  }

  std::vector<std::string> subjects() const {
    std::vector<std::string> out;
    for (const auto& c : m_store.m_commits)
      out.push_back(c.request.message.substr(0, c.request.message.find('\n')));
    return out;
  }

  FakeScheduler m_sched;
  FakeBackends m_backends;
  FakeStore m_store;
  FakeClock m_clock;
  FakeWorkspace m_ws;
  FakeCatalog m_catalog;
  std::vector<CampaignInput> m_inputs;
  std::optional<parse::WorkflowFile> m_parsed;
  bool m_no_force = false;
  std::vector<HistoryEvent> m_history;
};

TEST_F(TickTest, PendingBecomesReadyAndIsSubmittedInOneTick) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0"}}));
  auto r = run();
  ASSERT_EQ(r.campaigns.size(), 1u);
  EXPECT_EQ(subjects(), (std::vector<std::string>{"c1: smoke pending -> ready",
                                                  "c1: smoke intent: submit cairn.c1.smoke.1",
                                                  "c1: smoke ready -> running"}));
  // The intent was published (after its commit, before the submit).
  EXPECT_EQ(m_store.m_publishes, (std::vector<std::size_t>{2}));
  EXPECT_NE(m_store.m_commits[1].request.message.find("Cairn-Intent: submit cairn.c1.smoke.1\n"),
            std::string::npos);
  ASSERT_EQ(m_sched.submitted().size(), 1u);
  EXPECT_EQ(m_sched.submitted()[0].key.str(), "cairn.c1.smoke.1");
  EXPECT_EQ(m_sched.submitted()[0].campaign_dir, "/repo/campaigns/c1");
  EXPECT_EQ(m_sched.submitted()[0].spec.run, "jobs/smoke.sh");
  const auto& w = wf();
  EXPECT_EQ(w.stages[0].status, doc::Status::running);
  EXPECT_EQ(w.stages[0].job_id, "4242");
  EXPECT_EQ(w.stages[0].started, "2026-05-05 20:00Z");
  EXPECT_EQ(w.status, doc::Status::running);
  EXPECT_EQ(w.current_stage, "smoke");
  EXPECT_EQ(w.last_tick, "2026-05-05T20:00:00Z");
  // cairn keeps one item of its own; the human's item is untouched.
  ASSERT_EQ(w.actions.size(), 2u);
  EXPECT_EQ(w.actions[0].text, "Check the smoke output by hand.");
  EXPECT_NE(w.actions[1].text.find("cairn: job 4242 (smoke) submitted 20:00Z"), std::string::npos);
}

TEST_F(TickTest, PendingStaysPendingWhileEntryConditionFails) {
  add("c1", workflow("c1", {{"smoke", "`input.pdb` exists", "exit=0"}}));
  auto r = run();
  EXPECT_TRUE(m_store.m_commits.empty());
  EXPECT_NE(r.campaigns[0].note.find("input.pdb"), std::string::npos);
  m_ws.m_files["input.pdb"] = 1;
  run();
  EXPECT_EQ(m_sched.submitted().size(), 1u);
}

TEST_F(TickTest, StillRunningIsAHeartbeatThatChangesNoStatus) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "4242", "2026-05-05 19:50Z"}}));
  m_sched.set_running("4242");
  run();
  ASSERT_EQ(subjects(), (std::vector<std::string>{"c1: smoke running -> running"}));
  EXPECT_EQ(wf().stages[0].status, doc::Status::running);
  EXPECT_TRUE(m_sched.submitted().empty());
}

TEST_F(TickTest, CompletionAdvancesToTheNextStageInTheSameTick) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0, `out.dat` exists, no FATAL in log", "running", "7",
                             "2026-05-05 19:50Z"},
                            {"prod", "stage smoke done", "exit=0"}}));
  m_sched.finish("7", JobState::completed, 0, "all good\n");
  m_ws.m_files["out.dat"] = 1;
  run();
  EXPECT_EQ(subjects(), (std::vector<std::string>{"c1: smoke running -> done", "c1: prod pending -> ready",
                                                  "c1: prod intent: submit cairn.c1.prod.1",
                                                  "c1: prod ready -> running"}));
  EXPECT_EQ(wf().stages[0].completed, "2026-05-05 20:00Z");
  EXPECT_EQ(m_sched.submitted().at(0).key.str(), "cairn.c1.prod.1");
}

TEST_F(TickTest, LastStageDoneFinishesTheCampaign) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 19:50Z"}}));
  m_sched.finish("7", JobState::completed, 0);
  run();
  EXPECT_EQ(subjects(), (std::vector<std::string>{"c1: smoke running -> done"}));
  EXPECT_TRUE(wf().actions.back().checked);
  EXPECT_EQ(wf().status, doc::Status::done);
  EXPECT_EQ(campaign_cadence(wf()), kIdleCadence);
}

TEST_F(TickTest, ExitConditionNotMetFailsTheStage) {
  add("c1",
      workflow("c1", {{"smoke", "always", "exit=0, no NaN in log", "running", "7", "2026-05-05 19:50Z"}}));
  m_sched.finish("7", JobState::completed, 0, "step 100 energy NaN\n");
  run();
  // NaN is catalogued as destructive: failed, then escalated.
  EXPECT_EQ(subjects(), (std::vector<std::string>{"c1: smoke running -> failed [numerical-blowup]",
                                                  "c1: smoke failed -> escalated [numerical-blowup]"}));
  EXPECT_TRUE(wf().escalation_required);
  EXPECT_NE(wf().escalation_reason.find("destructive"), std::string::npos);
}

TEST_F(TickTest, WalltimeFailureAppliesTheCataloguedFixOnce) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 19:50Z"}}));
  m_sched.finish("7", JobState::timeout, -1, "", "wall-clock limit reached");
  run();
  EXPECT_EQ(subjects(), (std::vector<std::string>{"c1: smoke running -> failed [walltime-exceeded]",
                                                  "c1: smoke failed -> ready [walltime-exceeded]"}));
  const auto& w = wf();
  EXPECT_EQ(w.stages[0].status, doc::Status::ready);
  EXPECT_EQ(w.stages[0].retries, 1);
  ASSERT_NE(w.spec("smoke"), nullptr);
  EXPECT_EQ(w.spec("smoke")->resources.time_seconds, 3600);
  ASSERT_EQ(w.failures.size(), 1u);
  EXPECT_EQ(w.failures[0].error_class, "walltime-exceeded");
  EXPECT_EQ(w.failures[0].result, "RETRYING");
  EXPECT_FALSE(w.escalation_required);
  // The failure commit carries the failure-log row.
  EXPECT_NE(m_store.m_commits[0].request.message.find("| 2026-05-05 | smoke | walltime-exceeded |"),
            std::string::npos);

  // Next tick resubmits as attempt 2.
  run();
  ASSERT_EQ(m_sched.submitted().size(), 1u);
  EXPECT_EQ(m_sched.submitted()[0].key.str(), "cairn.c1.smoke.2");
}

TEST_F(TickTest, FailureRowSaysWhatTheFixChanged) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 19:50Z"}}));
  m_sched.finish("7", JobState::timeout, -1);
  run();
  ASSERT_EQ(wf().failures.size(), 1u);
  EXPECT_EQ(wf().failures[0].action, "walltime x2 (resources.time 00:30:00 -> 01:00:00)");
}

TEST_F(TickTest, ResolvedFailureIsMarkedAndBecomesALesson) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 19:50Z"}}));
  m_sched.finish("7", JobState::timeout, -1);
  run();  // failed -> ready with walltime x2
  run();  // resubmitted as attempt 2
  ASSERT_EQ(m_sched.submitted().size(), 1u);
  const std::string job = wf().stages[0].job_id;
  m_sched.finish(job, JobState::completed, 0);
  m_clock.advance(std::chrono::hours(1));
  run();
  const auto& w = wf();
  EXPECT_EQ(w.stages[0].status, doc::Status::done);
  ASSERT_EQ(w.failures.size(), 1u);
  EXPECT_EQ(w.failures[0].result, "RESOLVED");
  EXPECT_NE(w.lessons.find(
                "smoke: walltime-exceeded resolved by walltime x2 (resources.time 00:30:00 -> 01:00:00)"),
            std::string::npos)
      << w.lessons;
  EXPECT_EQ(w.lessons.find("(none yet)"), std::string::npos);
  EXPECT_NE(m_store.m_commits.back().request.message.find("Resolved: walltime-exceeded"), std::string::npos);
}

TEST_F(TickTest, EscalatedRowsAreNotResolvedBySuccess) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "9", "2026-05-05 19:50Z"}}, "",
                     "| 2026-05-04 | smoke | unclassified | job 3: boom | escalated | ESCALATED |\n"));
  m_sched.finish("9", JobState::completed, 0);
  run();
  EXPECT_EQ(wf().failures[0].result, "ESCALATED");
  EXPECT_NE(wf().lessons.find("(none yet)"), std::string::npos);
}

TEST_F(TickTest, CompletedStageRecordsALearningRow) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 19:50Z"}}));
  m_sched.finish("7", JobState::completed, 0);
  m_sched.job("7").submitted = *util::parse_time("2026-05-05T19:50:00Z");
  m_sched.job("7").started = *util::parse_time("2026-05-05T19:54:00Z");
  m_sched.job("7").ended = *util::parse_time("2026-05-05T19:59:30Z");
  run();
  const auto& w = wf();
  ASSERT_EQ(w.learnings.size(), 1u);
  const auto& l = w.learnings[0];
  EXPECT_EQ(l.stage, "smoke");
  EXPECT_EQ(l.backend, "local");
  EXPECT_EQ(l.job, "7");
  EXPECT_EQ(l.queue_wait, util::human_duration(240));
  EXPECT_EQ(l.run_time, util::human_duration(330));
  EXPECT_EQ(l.resources, "time=00:30:00");
  // The section is created after Lessons learned, and a second stage appends to it.
  const std::string& text = m_inputs[0].text;
  EXPECT_LT(text.find("## Lessons learned"), text.find("## Learnings"));
  EXPECT_LT(text.find("## Learnings"), text.find("## References"));
}

TEST_F(TickTest, AFixAlreadyUsedAtTheStageEscalates) {
  // walltime was fixed once (RETRYING), then a node failure was resubmitted; a second
  // timeout is not "twice in a row" but the walltime fix is used up.
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "9", "2026-05-05 19:50Z", "1"}}, "",
                     "| 2026-05-05 | smoke | walltime-exceeded | job 7: timeout | walltime x2 | RETRYING |\n"
                     "| 2026-05-05 | smoke | node-failure | job 8: node | resubmit | RETRYING |\n"));
  m_sched.finish("9", JobState::timeout, -1);
  run();
  EXPECT_TRUE(wf().escalation_required);
  EXPECT_NE(wf().escalation_reason.find("already used"), std::string::npos) << wf().escalation_reason;
}

TEST_F(TickTest, PausedCampaignSubmitsNothingButStillPolls) {
  add("c1", workflow("c1",
                     {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 19:50Z"},
                      {"prod", "stage 0 done", "exit=0"}},
                     "paused: true\n"));
  m_sched.finish("7", JobState::completed, 0);
  const TickReport r = run();
  EXPECT_EQ(wf().stages[0].status, doc::Status::done);   // the running job is still recorded
  EXPECT_EQ(wf().stages[1].status, doc::Status::ready);  // the next stage becomes ready...
  EXPECT_TRUE(m_sched.submitted().empty());              // ...but nothing is submitted
  EXPECT_NE(r.campaigns[0].note.find("paused"), std::string::npos) << r.campaigns[0].note;
}

TEST_F(TickTest, TwoConsecutiveSameErrorsEscalate) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "8", "2026-05-05 19:50Z", "1"}}, "",
                     "| 2026-05-05 | smoke | walltime-exceeded | job 7: timeout | walltime x2, resubmit | "
                     "RETRYING |\n"));
  m_sched.finish("8", JobState::timeout, -1);
  run();
  EXPECT_EQ(subjects().back(), "c1: smoke failed -> escalated [walltime-exceeded]");
  EXPECT_TRUE(wf().escalation_required);
  EXPECT_NE(wf().escalation_reason.find("twice in a row"), std::string::npos);
  EXPECT_EQ(wf().failures.back().result, "ESCALATED");
}

TEST_F(TickTest, RetriesExhaustedEscalate) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "9", "2026-05-05 19:50Z", "2"}}));
  m_sched.finish("9", JobState::node_fail, -1);
  run();
  EXPECT_EQ(subjects().back(), "c1: smoke failed -> escalated [node-failure]");
  EXPECT_NE(wf().escalation_reason.find("after 2 retries"), std::string::npos);
}

TEST_F(TickTest, UnknownErrorEscalates) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 19:50Z"}}));
  m_sched.finish("7", JobState::failed, 3, "Traceback: KeyError: 'frobnicate'\n");
  run();
  EXPECT_EQ(subjects().back(), "c1: smoke failed -> escalated [unclassified]");
  EXPECT_EQ(wf().stages[0].status, doc::Status::escalated);
  EXPECT_EQ(wf().status, doc::Status::escalated);
  EXPECT_NE(wf().escalation_reason.find("KeyError"), std::string::npos);
}

TEST_F(TickTest, DestructiveFixIsNeverAppliedAndEscalates) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 19:50Z"}}));
  m_sched.finish("7", JobState::failed, 1, "ERROR: velocity NaN at step 1200\n");
  run();
  EXPECT_EQ(subjects().back(), "c1: smoke failed -> escalated [numerical-blowup]");
  EXPECT_EQ(m_sched.submitted().size(), 0u);  // not resubmitted with a changed timestep
  EXPECT_TRUE(wf().escalation_required);
  EXPECT_NE(wf().escalation_reason.find("destructive"), std::string::npos) << wf().escalation_reason;
}

TEST_F(TickTest, TransientFailureRetriesWithoutCounting) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 19:50Z"}}));
  m_sched.finish("7", JobState::failed, 1, "error: Socket timed out on send/recv operation\n");
  run();
  EXPECT_EQ(subjects().back(), "c1: smoke failed -> ready [transient-connection]");
  EXPECT_EQ(wf().stages[0].retries, 0);
}

TEST_F(TickTest, CostCapExceededEscalatesBeforeSubmitting) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "ready"}}, "", "", "10", "12.5"));
  run();
  EXPECT_TRUE(m_sched.submitted().empty());
  EXPECT_EQ(subjects().back(), "c1: smoke ready -> escalated [cost-cap-exceeded]");
}

TEST_F(TickTest, SpendIsAccountedFromCpuHours) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 19:50Z"}}, "", "",
                     "100", "1"));
  m_sched.finish("7", JobState::completed, 0);
  m_sched.job("7").cpu_hours = 4;
  TickOptions o;
  o.usd_per_cpu_hour["local"] = 0.5;
  run(o);
  EXPECT_DOUBLE_EQ(wf().budget.spent_usd, 3.0);
}

TEST_F(TickTest, StuckStageEscalates) {
  // expect 20m; started 70 minutes ago (> 3x).
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 18:50Z"}}));
  m_sched.set_running("7");
  run();
  EXPECT_EQ(subjects().back(), "c1: smoke running -> escalated [stuck]");
}

TEST_F(TickTest, AnOrdinaryQueueWaitIsNotStuck) {
  // Queued 70 minutes for a 20-minute stage: waiting its turn, which stall_after watches.
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 18:50Z"}}));
  m_sched.job("7").state = JobState::pending;
  m_sched.job("7").reason = "PENDING (Priority)";
  run();
  EXPECT_FALSE(wf().escalation_required) << wf().escalation_reason;
  ASSERT_FALSE(subjects().empty());
  EXPECT_EQ(subjects().back(), "c1: smoke running -> running");  // a heartbeat
}

TEST_F(TickTest, AJobThatCannotStartIsStuckAfterThreeTimesItsExpect) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 19:50Z"}}));
  JobStatus& job = m_sched.job("7");
  job.state = JobState::pending;
  job.reason = "PENDING (JobHeldUser)";
  job.blocked = true;
  job.submitted = *util::parse_time("2026-05-05 18:50Z");  // the scheduler's own clock wins
  run();
  EXPECT_EQ(subjects().back(), "c1: smoke running -> escalated [stuck]");
  EXPECT_NE(wf().escalation_reason.find("job 7 cannot start: PENDING (JobHeldUser) for 1h10m"),
            std::string::npos)
      << wf().escalation_reason;
  EXPECT_NE(wf().escalation_reason.find("JobHeldUser"), std::string::npos);
  EXPECT_NE(m_store.m_commits.back().request.message.find("Release, fix or cancel it"), std::string::npos);
}

TEST_F(TickTest, AnApprovedCancelOfAStuckJobCancelsItOnceAndResubmits) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 18:50Z"}}));
  JobStatus& job = m_sched.job("7");
  job.state = JobState::pending;
  job.reason = "PENDING (JobHeldUser)";
  job.blocked = true;
  run();
  ASSERT_TRUE(wf().escalation_required);
  const std::vector<doc::ActionItem> before = wf().actions;
  const auto offer = std::find_if(before.begin(), before.end(), [](const doc::ActionItem& a) {
    return a.text.rfind("cairn cancel: job 7 (smoke): tick this", 0) == 0;
  });
  ASSERT_NE(offer, before.end());
  EXPECT_FALSE(offer->checked);
  run();  // nothing happens while escalated, and nothing is cancelled unasked
  EXPECT_TRUE(m_sched.cancelled().empty());

  // The stage keeps its job while escalated: a clear polls it again.
  EXPECT_EQ(wf().stages[0].status, doc::Status::running);
  EXPECT_EQ(wf().stages[0].job_id, "7");
  // The human ticks the offer and clears the escalation (as `cairn clear` does).
  auto& text = m_inputs[0].text;
  text.replace(text.find("- [ ] cairn cancel: job 7 "), 5, "- [x]");
  text.replace(text.find("escalation_required: true"), 25, "escalation_required: false");
  run();
  ASSERT_EQ(m_sched.cancelled(), std::vector<std::string>{"7"});
  ASSERT_EQ(m_sched.submitted().size(), 1u);
  EXPECT_EQ(m_sched.submitted()[0].key.attempt, 2);  // a new key: adoption does not find job 7
  EXPECT_EQ(wf().stages[0].retries, 1);
  EXPECT_NE(wf().stages[0].job_id, "7");
  ASSERT_EQ(wf().failures.size(), 1u);  // the cancelled attempt is recorded
  EXPECT_EQ(wf().failures[0].error_class, "stuck");
  EXPECT_EQ(wf().failures[0].message, "job 7: cancelled as approved in the action queue");
  const std::vector<doc::ActionItem> after = wf().actions;
  const auto done = std::find_if(after.begin(), after.end(), [](const doc::ActionItem& a) {
    return a.text.rfind("cairn cancel: job 7 (smoke) cancelled at ", 0) == 0;
  });
  ASSERT_NE(done, after.end()) << m_inputs[0].text;
  EXPECT_TRUE(done->checked);
  bool said = false;
  for (const auto& c : m_store.m_commits) {
    said = said || c.request.message.find("Cancelled job 7, as approved") != std::string::npos;
  }
  EXPECT_TRUE(said);
  m_sched.set_running(wf().stages[0].job_id);
  run();
  EXPECT_EQ(m_sched.cancelled().size(), 1u);  // once
}

TEST_F(TickTest, ABlockedJobWithinThreeTimesItsExpectWaits) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 19:50Z"}}));
  m_sched.job("7").state = JobState::pending;
  m_sched.job("7").blocked = true;
  m_sched.job("7").submitted = *util::parse_time("2026-05-05 19:50Z");
  run();
  EXPECT_FALSE(wf().escalation_required) << wf().escalation_reason;
}

TEST_F(TickTest, RunningTimeCountsFromTheJobsOwnStart) {
  // Submitted 70 minutes ago, but queued for 60 of them: 10 minutes of a 20-minute stage.
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 18:50Z"}}));
  m_sched.set_running("7");
  m_sched.job("7").started = *util::parse_time("2026-05-05 19:50Z");
  run();
  EXPECT_FALSE(wf().escalation_required) << wf().escalation_reason;
}

TEST_F(TickTest, AnArrayIsStuckOnlyWhenOneOfItsTasksIs) {
  // A throttled array: its first task started 70 minutes ago, the running one 10 minutes ago.
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 18:50Z"}}));
  JobStatus& job = m_sched.job("7");
  job.tasks = {{"1", JobState::completed, 0, "", util::parse_time("2026-05-05 18:50Z")},
               {"2", JobState::running, std::nullopt, "", util::parse_time("2026-05-05 19:50Z")}};
  summarize_tasks(job);
  job.started = *util::parse_time("2026-05-05 18:50Z");
  run();
  EXPECT_FALSE(wf().escalation_required) << wf().escalation_reason;
  job.tasks[1].started = *util::parse_time("2026-05-05 18:55Z");
  run();
  EXPECT_EQ(subjects().back(), "c1: smoke running -> escalated [stuck]");
}

TEST_F(TickTest, AJobWritingItsCheckpointIsNotStuck) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 18:50Z"}}));
  add_spec_line("checkpoint: restart/*.chk");
  m_sched.set_running("7");
  m_ws.m_mtimes["restart/*.chk"] = *util::parse_time("2026-05-05 19:55Z");
  run();
  EXPECT_FALSE(wf().escalation_required) << wf().escalation_reason;
  m_ws.m_mtimes["restart/*.chk"] = *util::parse_time("2026-05-05 19:20Z");  // 40 minutes old
  run();
  EXPECT_EQ(subjects().back(), "c1: smoke running -> escalated [stuck]");
  EXPECT_NE(wf().escalation_reason.find("checkpoint `restart/*.chk` not written in the last 20m"),
            std::string::npos)
      << wf().escalation_reason;
}

TEST_F(TickTest, UncheckableExitConditionEscalatesInsteadOfGuessing) {
  add("c1", workflow("c1", {{"smoke", "always", "restart written", "ready"}}));
  run();
  EXPECT_TRUE(m_sched.submitted().empty());
  EXPECT_EQ(subjects().back(), "c1: smoke ready -> escalated [condition-not-checkable]");
  EXPECT_NE(wf().escalation_reason.find("restart written"), std::string::npos);
}

TEST_F(TickTest, EscalatedCampaignIsSkipped) {
  std::string text = workflow("c1", {{"smoke", "always", "exit=0", "escalated"}});
  text.replace(text.find("escalation_required: false"), 26, "escalation_required: true");
  add("c1", text);
  auto r = run();
  EXPECT_TRUE(m_store.m_commits.empty());
  EXPECT_NE(r.campaigns[0].note.find("skipped at 2026-05-05T20:00:00Z"), std::string::npos);
}

TEST_F(TickTest, ClearedEscalationResumes) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "escalated"}}));
  run();
  EXPECT_EQ(subjects().front(), "c1: smoke escalated -> ready");
  EXPECT_EQ(m_sched.submitted().size(), 1u);
}

TEST_F(TickTest, AdoptsAJobAlreadySubmittedUnderItsKey) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "ready"}}));
  m_sched.adopt_existing("cairn.c1.smoke.1", "555");
  run();
  EXPECT_TRUE(m_sched.submitted().empty());
  EXPECT_EQ(wf().stages[0].job_id, "555");
}

TEST_F(TickTest, DryRunChangesNothing) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0"}}));
  const std::string before = m_inputs[0].text;
  TickOptions o;
  o.dry_run = true;
  auto r = run(o);
  EXPECT_TRUE(m_store.m_commits.empty());
  EXPECT_TRUE(m_sched.submitted().empty());
  EXPECT_EQ(m_inputs[0].text, before);
  ASSERT_EQ(r.campaigns[0].transitions.size(), 2u);
  EXPECT_EQ(r.campaigns[0].transitions[1].to, "running");
}

TEST_F(TickTest, NotDueCampaignsAreLeftAlone) {
  std::string text = workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 19:50Z"}});
  text.replace(text.find("last_tick: \"\""), 13, "last_tick: 2026-05-05T19:58:00Z");
  add("c1", text);
  m_sched.set_running("7");
  m_no_force = true;
  auto r = run();
  EXPECT_TRUE(m_store.m_commits.empty());
  EXPECT_EQ(m_sched.status_calls(), 0);
  EXPECT_EQ(r.campaigns[0].next_due_seconds, 180);  // 5 min cadence, 2 min elapsed
  m_clock.advance(std::chrono::minutes(3));
  run();
  EXPECT_EQ(m_store.m_commits.size(), 1u);
}

TEST_F(TickTest, OneBatchedStatusQueryForAllCampaigns) {
  for (int i = 0; i < 5; ++i) {
    const std::string c = "c" + std::to_string(i);
    add(c, workflow(
               c, {{"smoke", "always", "exit=0", "running", std::to_string(100 + i), "2026-05-05 19:50Z"}}));
    m_sched.set_running(std::to_string(100 + i));
  }
  run();
  EXPECT_EQ(m_sched.status_calls(), 1);
  EXPECT_EQ(m_sched.status_batches()[0].size(), 5u);
}

TEST_F(TickTest, UnreachableSchedulerIsNotAStageFailure) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 19:50Z"}}));
  m_sched.m_unreachable = true;
  auto r = run();
  EXPECT_TRUE(r.infrastructure_failed());
  EXPECT_TRUE(m_store.m_commits.empty());
}

TEST_F(TickTest, BadFileIsReportedAndOthersGoOn) {
  add("bad", "no frontmatter here\n");
  add("c1", workflow("c1", {{"smoke", "always", "exit=0"}}));
  auto r = run();
  ASSERT_EQ(r.campaigns.size(), 2u);
  EXPECT_TRUE(r.has_invalid_files());
  EXPECT_EQ(m_sched.submitted().size(), 1u);
  EXPECT_EQ(m_inputs[0].text, "no frontmatter here\n");
}

TEST_F(TickTest, OnlyLimitsTheTickToOneCampaign) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0"}}));
  add("c2", workflow("c2", {{"smoke", "always", "exit=0"}}));
  TickOptions o;
  o.only = "c2";
  run(o);
  ASSERT_EQ(m_sched.submitted().size(), 1u);
  EXPECT_EQ(m_sched.submitted()[0].key.campaign, "c2");
}

TEST_F(TickTest, GateStageWithoutRunIsDoneWhenApproved) {
  std::string text =
      workflow("c1", {{"smoke", "always", "exit=0", "done"}, {"review", "stage 0 done", "approved"}});
  // Drop the review stage's spec: it is a gate, not a job.
  const auto at = text.find("  review:");
  text.erase(at, text.find("---", at) - at);
  text.replace(text.find("- [ ] Check"), 11, "- [x] Approve review; - [ ] Check");
  add("c1", text);
  run();
  EXPECT_EQ(wf().stages[1].status, doc::Status::done);
  EXPECT_EQ(wf().status, doc::Status::done);
}

TEST_F(TickTest, CommitsAreAttributedAndCarryTrailers) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0"}}));
  TickOptions o;
  o.identity = {"cairn-bot", "bot@example.org"};
  o.run_url = "https://ci.example/run/42";
  o.tick_id = "00c0ffee00c0ffee";
  run(o);
  ASSERT_EQ(m_store.m_commits.size(), 3u);  // pending -> ready, the intent, ready -> running
  const auto& c = m_store.m_commits[2];
  EXPECT_EQ(c.identity.name, "cairn-bot");
  EXPECT_EQ(c.request.path, "campaigns/c1/WORKFLOW.md");
  const std::string& m = c.request.message;
  for (const char* trailer :
       {"Cairn-Campaign: c1\n", "Cairn-Stage: smoke\n", "Cairn-Transition: ready -> running\n",
        "Cairn-Job: 4242\n", "Cairn-Attempt: 1\n", "Cairn-Tick: 2026-05-05T20:00:00Z\n",
        "Cairn-Run-URL: https://ci.example/run/42\n", "Cairn-Tick-Id: 00c0ffee00c0ffee\n"}) {
    EXPECT_NE(m.find(trailer), std::string::npos) << trailer << " in\n" << m;
  }
}

TEST_F(TickTest, ALostIntentRaceSubmitsNothing) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0"}}));
  add("c2", workflow("c2", {{"smoke", "always", "exit=0"}}));
  m_store.m_lose_publishes = 1;
  auto r = run();
  EXPECT_TRUE(r.lost_race);
  EXPECT_TRUE(m_sched.submitted().empty());
  // The tick stopped: c2 was not worked on the stale tip either.
  EXPECT_EQ(m_store.m_publishes.size(), 1u);
}

TEST_F(TickTest, AFreshIntentOfAnotherTickIsWaitedForAndAStaleOneTakenOver) {
  std::string text = workflow("c1", {{"smoke", "always", "exit=0", "ready"}});
  text.replace(text.find("- [ ] Check"), 11,
               "- [ ] cairn: submitting cairn.c1.smoke.1 since 2026-05-05T19:59:00Z\n- [ ] Check");
  add("c1", text);
  run();
  EXPECT_TRUE(m_sched.submitted().empty());  // a minute old: its tick may be submitting right now
  EXPECT_TRUE(m_store.m_commits.empty());
  m_clock.advance(std::chrono::minutes(5));  // past the grace (2 min): its tick died
  run();
  ASSERT_EQ(m_sched.submitted().size(), 1u);  // stale: taken over, through an intent of its own
  EXPECT_EQ(m_store.m_publishes.size(), 1u);
  EXPECT_EQ(subjects().back(), "c1: smoke ready -> running");
}

TEST(Cadence, FollowsTheSeedTable) {
  EXPECT_EQ(cadence_for_expect(20 * 60), 300);
  EXPECT_EQ(cadence_for_expect(2 * 3600), 45 * 60);
  EXPECT_EQ(cadence_for_expect(12 * 3600), 3 * 3600);
  EXPECT_EQ(cadence_for_expect(3 * 86400), 10 * 3600);
}

// ---- the anomaly scan, acted on by the tick ----------------------------------------

HistoryEvent event(std::string campaign, std::string stage, std::string from, std::string to, std::string job,
                   std::string error_class, TimePoint time) {
  return {std::move(campaign),
          std::move(stage),
          std::move(from),
          std::move(to),
          std::move(error_class),
          std::move(job),
          time};
}

TickOptions with_scan() {
  TickOptions o;
  o.anomaly = AnomalyThresholds{};
  return o;
}

// Whether the campaign's action queue has an item starting with `prefix` (ticked or not).
bool has_action(const doc::Workflow& w, const std::string& prefix, bool checked = false) {
  return std::any_of(w.actions.begin(), w.actions.end(), [&](const doc::ActionItem& a) {
    return a.text.rfind(prefix, 0) == 0 && a.checked == checked;
  });
}

const FakeStore::Commit* commit_with_subject(const FakeStore& store, const std::string& subject) {
  for (const auto& c : store.m_commits) {
    if (c.request.message.rfind(subject + "\n", 0) == 0) return &c;
  }
  return nullptr;
}

TEST_F(TickTest, FatalLineInARunningJobPausesTheChainAndWritesTheCheck) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 19:50Z"},
                            {"prod", "stage 0 done", "exit=0"}}));
  m_sched.set_running("7");
  m_sched.finish("7", JobState::running, 0, "step 100\nFATAL: energy drift beyond tolerance\n");
  const TickReport r = run(with_scan());
  ASSERT_TRUE(r.campaigns[0].diagnostics.empty()) << doc::format(r.campaigns[0].diagnostics[0]);
  EXPECT_TRUE(wf().paused) << m_inputs[0].text;
  const auto* c = commit_with_subject(m_store, "c1: smoke anomaly: bad_log_while_running (medium)");
  ASSERT_NE(c, nullptr) << fmt::format("{}", fmt::join(subjects(), "\n"));
  EXPECT_NE(c->request.message.find("Cairn-Anomaly: bad_log_while_running c1 smoke 7"), std::string::npos)
      << c->request.message;
  ASSERT_EQ(c->request.also.size(), 1u);
  EXPECT_EQ(c->request.also[0].path, "campaigns/c1/ORCHESTRATION_CHECK.md");
  EXPECT_NE(c->request.also[0].content.find("FATAL: energy drift"), std::string::npos);
  EXPECT_NE(c->request.also[0].content.find("paused: false"), std::string::npos);
  EXPECT_EQ(wf().stages[0].status, doc::Status::running);  // the job is left alone
  EXPECT_TRUE(has_action(wf(), "cairn anomaly: bad_log_while_running c1 smoke 7:"));

  // The job finishes: it is still recorded, the next stage is not submitted, and the
  // anomaly (its evidence gone with the job) is not acted on twice.
  m_sched.finish("7", JobState::completed, 0);
  const std::size_t before = m_store.m_commits.size();
  run(with_scan());
  EXPECT_EQ(wf().stages[0].status, doc::Status::done);
  EXPECT_TRUE(m_sched.submitted().empty());
  for (std::size_t i = before; i < m_store.m_commits.size(); ++i) {
    EXPECT_EQ(m_store.m_commits[i].request.message.find("Cairn-Anomaly:"), std::string::npos);
  }
}

// Pile-ups: the backend is asked once for the user's queued jobs named after this
// repository (the campaign's own scripts' submissions included); each campaign sees
// the names under its own prefix.
TEST_F(TickTest, APileUpOfQueuedJobsPausesTheCampaignItIsNamedAfter) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 19:50Z"}}));
  add("c2", workflow("c2", {{"smoke", "always", "exit=0", "running", "8", "2026-05-05 19:50Z"}}));
  m_sched.finish("7", JobState::running, 0);
  m_sched.finish("8", JobState::running, 0);
  m_sched.m_queued = std::map<std::string, int>{
      {"cairn.r1.c1.smoke.worker", 51}, {"cairn.r1.c2.smoke.2", 3}, {"cairn.other.c2.smoke.1", 500}};
  TickOptions o = with_scan();
  o.repo_id = "r1";
  run(o);
  EXPECT_EQ(m_sched.m_queued_prefixes, std::vector<std::string>{"cairn.r1."});
  EXPECT_TRUE(wf(0).paused);
  EXPECT_FALSE(wf(1).paused);  // another repository's jobs are not its pile
  const auto* c = commit_with_subject(m_store, "c1: smoke anomaly: pile_up (medium)");
  ASSERT_NE(c, nullptr) << fmt::format("{}", fmt::join(subjects(), "\n"));
  EXPECT_NE(c->request.message.find("queued: 51 jobs named cairn.r1.c1.smoke.worker"), std::string::npos)
      << c->request.message;
  ASSERT_EQ(c->request.also.size(), 1u);
  EXPECT_NE(c->request.also[0].content.find("51 jobs named cairn.r1.c1.smoke.worker"), std::string::npos);

  // A backend that cannot list its user's jobs: no pile-up check, no error.
  m_sched.m_queued.reset();
  const TickReport r = run(o);
  EXPECT_TRUE(r.errors.empty());
}

// RESTART without progress: the checkpoint is probed (in the job's directory) only when
// the log tail shows a restart, and compared with the previous tick's time.
TEST_F(TickTest, ARestartWhileTheCheckpointStandsStillPauses) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 19:40Z"}}));
  add_spec_line("checkpoint: ckpt/*.chk");
  auto& text = m_inputs[0].text;
  text.replace(text.find("last_tick: \"\""), 13, "last_tick: \"2026-05-05T19:55:00Z\"");
  m_sched.finish("7", JobState::running, 0, "step 5000\n");
  m_ws.m_mtimes["ckpt/*.chk"] = *util::parse_time("2026-05-05T19:50:00Z");
  run(with_scan());
  EXPECT_FALSE(wf().paused);
  EXPECT_TRUE(m_ws.m_probed_dirs.empty());  // no restart line: nothing probed

  m_sched.finish("7", JobState::running, 0, "step 5000\nRESTART from step 4000\n");
  text = m_inputs[0].text;
  const auto at = text.find("last_tick: ");
  text.replace(at, text.find('\n', at) - at, "last_tick: \"2026-05-05T19:55:00Z\"");
  run(with_scan());
  EXPECT_TRUE(wf().paused) << m_inputs[0].text;
  EXPECT_EQ(m_ws.m_probed_dirs, std::vector<std::string>{"/repo/campaigns/c1"});
  const auto* c = commit_with_subject(m_store, "c1: smoke anomaly: restart_without_progress (medium)");
  ASSERT_NE(c, nullptr) << fmt::format("{}", fmt::join(subjects(), "\n"));
  EXPECT_NE(c->request.message.find("checkpoint `ckpt/*.chk` last written 2026-05-05T19:50:00Z"),
            std::string::npos)
      << c->request.message;
}

// diagnose.when: anomaly: the agent reads each new medium/high anomaly once; its reading
// is a section of ORCHESTRATION_CHECK.md; a failing agent never holds the pause up.
class RecordingExplainer : public AnomalyExplainer {
 public:
  AgentReading explain(const std::string& path, const std::vector<Anomaly>& anomalies,
                       const std::string& findings) override {
    m_calls.push_back({path, anomalies.size(), findings});
    return m_reading;
  }
  struct Call {
    std::string path;
    std::size_t anomalies;
    std::string findings;
  };
  std::vector<Call> m_calls;
  AgentReading m_reading{"explain.sh", "The deck is wrong.\n", ""};
};

TEST_F(TickTest, TheAgentReadsANewAnomalyOnceIntoTheCheck) {
  RecordingExplainer agent;
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 19:50Z"}}));
  m_sched.finish("7", JobState::running, 0, "FATAL: energy drift\n");
  const auto tick_with_agent = [&] {
    TickOptions o = with_scan();
    o.force = true;
    Ports ports{m_backends, m_store, m_clock, m_ws, m_catalog};
    ports.explainer = &agent;
    tick(ports, m_inputs, o, m_history);
    for (auto& in : m_inputs) in.text = m_store.m_files.at(in.path);
  };
  agent.m_reading.failure = "it exited 3";
  tick_with_agent();
  ASSERT_EQ(agent.m_calls.size(), 1u);
  EXPECT_EQ(agent.m_calls[0].path, "campaigns/c1/WORKFLOW.md");
  EXPECT_EQ(agent.m_calls[0].anomalies, 1u);
  EXPECT_NE(agent.m_calls[0].findings.find("FATAL: energy drift"), std::string::npos);
  EXPECT_TRUE(wf().paused);
  const auto* c = commit_with_subject(m_store, "c1: smoke anomaly: bad_log_while_running (medium)");
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(c->request.also.size(), 1u);
  const std::string& check = c->request.also[0].content;
  EXPECT_NE(check.find("## What the agent `explain.sh` read into it (not verified by cairn)"),
            std::string::npos)
      << check;
  EXPECT_NE(check.find("The agent did not explain it: it exited 3."), std::string::npos) << check;
  tick_with_agent();
  EXPECT_EQ(agent.m_calls.size(), 1u);  // acted on once, read once
}

TEST_F(TickTest, AnAnomalyIsActedOnOnceWhileItPersists) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 19:50Z"}}));
  m_sched.finish("7", JobState::running, 0, "loss: NaN\n");
  run(with_scan());
  run(with_scan());
  int anomaly_commits = 0;
  for (const auto& c : m_store.m_commits)
    anomaly_commits += c.request.message.find("Cairn-Anomaly:") != std::string::npos;
  EXPECT_EQ(anomaly_commits, 1);
}

TEST_F(TickTest, SystemicErrorEscalatesOneCampaignAndPausesTheOthers) {
  const TimePoint now = m_clock.now();
  for (const std::string c : {"c1", "c2", "c3"}) {
    m_history.push_back(
        event(c, "smoke", "running", "failed", c + "-job", "gpu-oom", now - std::chrono::hours(1)));
  }
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 19:50Z", "1"}}));
  add("c2", workflow("c2", {{"smoke", "always", "exit=0", "ready", "—", "—", "1"}}));
  add("c3", workflow("c3", {{"smoke", "always", "exit=0", "ready", "—", "—", "1"}}));
  m_sched.finish("7", JobState::running, 0);
  run(with_scan());

  EXPECT_TRUE(wf(0).escalation_required);
  EXPECT_NE(wf(0).escalation_reason.find("gpu-oom hit 3 campaigns"), std::string::npos)
      << wf(0).escalation_reason;
  EXPECT_NE(wf(0).escalation_reason.find("c1, c2, c3"), std::string::npos);
  EXPECT_EQ(wf(0).stages[0].status, doc::Status::running);  // its job stays tracked
  EXPECT_EQ(wf(0).stages[0].job_id, "7");
  for (std::size_t i : {1u, 2u}) {
    EXPECT_FALSE(wf(i).escalation_required) << i;
    EXPECT_TRUE(wf(i).paused) << i;
    EXPECT_EQ(m_store.m_files.count(fmt::format("campaigns/c{}/ORCHESTRATION_CHECK.md", i + 1)), 1u);
  }
  EXPECT_TRUE(m_sched.submitted().empty());
  EXPECT_NE(commit_with_subject(m_store, "c1: smoke running -> escalated [anomaly-systemic_error]"), nullptr)
      << fmt::format("{}", fmt::join(subjects(), "\n"));

  // Cleared by a human: the job is polled again, not resubmitted.
  auto cleared = parse::WorkflowFile::parse(m_inputs[0].path, m_inputs[0].text);
  ASSERT_TRUE(cleared);
  ASSERT_TRUE(cleared->set_scalar("escalation_required", "false"));
  m_inputs[0].text = cleared->text();
  m_sched.finish("7", JobState::completed, 0);
  run(with_scan());
  EXPECT_FALSE(wf(0).escalation_required) << wf(0).escalation_reason;
  EXPECT_EQ(wf(0).stages[0].status, doc::Status::done);
  EXPECT_TRUE(m_sched.submitted().empty());
}

TEST_F(TickTest, RunawayResubmitsFarAboveTheThresholdEscalateBeforeSubmitting) {
  const TimePoint now = m_clock.now();
  for (int i = 0; i < 9; ++i) {
    m_history.push_back(event("c1", "smoke", "ready", "running", std::to_string(100 + i), "",
                              now - std::chrono::hours(9 - i)));
  }
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "ready"}}));
  run(with_scan());
  EXPECT_TRUE(m_sched.submitted().empty());
  EXPECT_TRUE(wf().escalation_required);
  EXPECT_NE(wf().escalation_reason.find("submitted 9 times"), std::string::npos) << wf().escalation_reason;
  EXPECT_NE(commit_with_subject(m_store, "c1: smoke ready -> escalated [anomaly-runaway_resubmits]"), nullptr)
      << fmt::format("{}", fmt::join(subjects(), "\n"));
}

TEST_F(TickTest, AStalledStageOnlyGetsANote) {
  const TimePoint now = m_clock.now();
  m_history.push_back(event("c2", "smoke", "ready", "running", "55", "", now - std::chrono::hours(1)));
  StageRow smoke{"smoke", "always", "exit=0", "done", "6", "2026-05-03 08:00Z"};
  smoke.completed = "2026-05-03 09:00Z";
  add("c1", workflow("c1", {smoke, {"prod", "`input/ready.flag` exists", "exit=0"}}));
  run(with_scan());
  EXPECT_FALSE(wf().paused);
  EXPECT_FALSE(wf().escalation_required) << m_inputs[0].text;
  EXPECT_NE(commit_with_subject(m_store, "c1: prod anomaly: stalled (low)"), nullptr)
      << fmt::format("{}", fmt::join(subjects(), "\n"));
  EXPECT_TRUE(has_action(wf(), "cairn anomaly: stalled c1 prod:")) << m_inputs[0].text;
}

TEST_F(TickTest, WithoutTheScanNothingIsNoted) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 19:50Z"}}));
  m_sched.finish("7", JobState::running, 0, "FATAL: x\n");
  run();
  EXPECT_FALSE(wf().paused);
  for (const auto& c : m_store.m_commits)
    EXPECT_EQ(c.request.message.find("Cairn-Anomaly:"), std::string::npos);
}

// ---- fixes with conditions: ceilings, checkpoints ----------------------------------

TEST_F(TickTest, AFixBeyondACeilingEscalatesWithTheProposedChange) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 19:50Z"}}));
  m_sched.finish("7", JobState::timeout, -1, "", "timeout");
  TickOptions o;
  o.ceilings.time_seconds = 45 * 60;
  o.ceilings.time_text = "00:45:00";
  run(o);
  EXPECT_TRUE(wf().escalation_required);
  EXPECT_NE(wf().escalation_reason.find("above the ceiling 00:45:00"), std::string::npos)
      << wf().escalation_reason;
  EXPECT_NE(wf().escalation_reason.find("resources.time 00:30:00 -> 01:00:00"), std::string::npos);
  ASSERT_FALSE(wf().failures.empty());
  EXPECT_EQ(wf().failures.back().action,
            "escalated; proposed walltime x2 (resources.time 00:30:00 -> 01:00:00)");
  EXPECT_EQ(wf().spec("smoke")->resources.time_text, "00:30:00");  // not applied
  EXPECT_TRUE(m_sched.submitted().empty());
}

class CheckpointTest : public TickTest {
 protected:
  CheckpointTest() {
    m_catalog.m_rules.insert(m_catalog.m_rules.begin(),
                             {"PREEMPTED", cls("preemption", "resubmit-from-checkpoint")});
  }
  void add_running() {
    add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 19:00Z"}}));
    // The stage's own spec gets a checkpoint.
    add_spec_line("checkpoint: restart/*.chk");
    m_sched.finish("7", JobState::preempted, -1, "", "PREEMPTED");
  }
};

TEST_F(CheckpointTest, ResubmitsWhenTheCheckpointAdvanced) {
  add_running();
  ASSERT_EQ(wf().spec("smoke")->checkpoint, "restart/*.chk");
  m_ws.m_mtimes["restart/*.chk"] = *util::parse_time("2026-05-05 19:40Z");
  run();
  EXPECT_FALSE(wf().escalation_required) << wf().escalation_reason;
  EXPECT_EQ(wf().failures.back().action, "resubmit-from-checkpoint (resubmit; restart/*.chk advanced)");
  EXPECT_EQ(wf().stages[0].status, doc::Status::ready);
  run();  // submitted by the next tick, like every retry
  EXPECT_EQ(m_sched.submitted().size(), 1u);
}

TEST_F(CheckpointTest, EscalatesWhenTheCheckpointDidNotAdvance) {
  add_running();
  m_ws.m_mtimes["restart/*.chk"] = *util::parse_time("2026-05-05 18:10Z");  // before the attempt
  run();
  EXPECT_TRUE(wf().escalation_required);
  EXPECT_NE(wf().escalation_reason.find("did not advance"), std::string::npos) << wf().escalation_reason;
  EXPECT_TRUE(m_sched.submitted().empty());
}

TEST_F(CheckpointTest, EscalatesWhenThereIsNoCheckpointFile) {
  add_running();
  run();
  EXPECT_TRUE(wf().escalation_required);
  EXPECT_NE(wf().escalation_reason.find("does not exist"), std::string::npos) << wf().escalation_reason;
}

TEST_F(TickTest, AnArrayRetryResubmitsOnlyTheFailedTasks) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 19:50Z"}}));
  add_spec_line("array: \"1-4\"");
  JobStatus& job = m_sched.job("7");
  job.job_id = "7";
  for (const char* i : {"1", "2", "3", "4"}) {
    const bool bad = std::string(i) == "2" || std::string(i) == "4";
    job.tasks.push_back(
        {i, bad ? JobState::node_fail : JobState::completed, bad ? std::optional<int>() : 0, ""});
  }
  summarize_tasks(job);
  ASSERT_EQ(job.state, JobState::node_fail);
  run();
  ASSERT_FALSE(wf().failures.empty());
  EXPECT_EQ(wf().failures.back().message.rfind("job 7: tasks 2,4; ", 0), 0u) << wf().failures.back().message;
  EXPECT_EQ(wf().failures.back().result, "RETRYING");
  run();
  ASSERT_EQ(m_sched.submitted().size(), 1u);
  EXPECT_EQ(m_sched.submitted()[0].array, "2,4");
  EXPECT_EQ(m_sched.submitted()[0].spec.array, "1-4");
  EXPECT_NE(m_store.m_commits.back().request.message.find("array tasks 2,4 only"), std::string::npos);
}

TEST_F(TickTest, ExcludeNodeRetriesAwayFromTheFailedNodes) {
  // The catalog spells it "exclude node"; the row's action is the canonical form.
  add_node_failure("node[101-104]", true);
  run();
  ASSERT_FALSE(wf().failures.empty());
  const auto& row = wf().failures.back();
  EXPECT_EQ(row.message.rfind("job 7: nodes node[101-104]; ", 0), 0u) << row.message;
  EXPECT_EQ(row.action, "exclude-node (resubmit without node[101-104])");
  EXPECT_EQ(row.result, "RETRYING");
  run();
  ASSERT_EQ(m_sched.submitted().size(), 1u);
  EXPECT_EQ(m_sched.submitted()[0].exclude_nodes, "node[101-104]");
  EXPECT_NE(m_store.m_commits.back().request.message.find(", not on node[101-104]."), std::string::npos)
      << m_store.m_commits.back().request.message;
}

TEST_F(TickTest, ANodeFailureFixedByResubmitNamesTheNodeButRunsAnywhere) {
  add_node_failure("c07", false);
  run();
  ASSERT_FALSE(wf().failures.empty());
  EXPECT_EQ(wf().failures.back().message.rfind("job 7: nodes c07; ", 0), 0u) << wf().failures.back().message;
  EXPECT_EQ(wf().failures.back().action, "resubmit");
  run();
  ASSERT_EQ(m_sched.submitted().size(), 1u);
  EXPECT_EQ(m_sched.submitted()[0].exclude_nodes, "");
}

TEST_F(TickTest, ExcludeNodeWithoutAKnownNodeSaysSoAndResubmits) {
  add_node_failure("", true);
  run();
  ASSERT_FALSE(wf().failures.empty());
  EXPECT_EQ(wf().failures.back().action, "exclude-node (resubmit; the scheduler named no node to avoid)");
  run();
  ASSERT_EQ(m_sched.submitted().size(), 1u);
  EXPECT_EQ(m_sched.submitted()[0].exclude_nodes, "");
}

TEST_F(TickTest, AFailedTaskRowKeepsBothTasksAndNodes) {
  m_catalog.m_rules.insert(m_catalog.m_rules.begin(), {"node_fail", cls("node-failure", "exclude node")});
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 19:50Z"}}));
  add_spec_line("array: \"1-4\"");
  JobStatus& job = m_sched.job("7");
  job.job_id = "7";
  job.tasks = {{"1", JobState::completed, 0, ""}, {"3", JobState::node_fail, std::nullopt, ""}};
  summarize_tasks(job);
  job.nodes = "gpu3";
  run();
  ASSERT_FALSE(wf().failures.empty());
  EXPECT_EQ(wf().failures.back().message.rfind("job 7: tasks 3; nodes gpu3; ", 0), 0u)
      << wf().failures.back().message;
  run();
  ASSERT_EQ(m_sched.submitted().size(), 1u);
  EXPECT_EQ(m_sched.submitted()[0].array, "3");
  EXPECT_EQ(m_sched.submitted()[0].exclude_nodes, "gpu3");
}

TEST_F(TickTest, AFirstArraySubmitRunsTheWholeArray) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "ready"}}));
  add_spec_line("array: \"1-4\"");
  run();
  ASSERT_EQ(m_sched.submitted().size(), 1u);
  EXPECT_EQ(m_sched.submitted()[0].array, "");  // the spec's own range
}

TEST_F(TickTest, SpecEditingFixesAreWrittenIntoTheStageSpec) {
  // gpus +1 and priority=LOW as catalog/fix plans them: the tick applies their edits.
  m_catalog.m_rules.insert(m_catalog.m_rules.begin(), {"CUDA out of memory", cls("gpu-oom", "gpus +1")});
  m_catalog.m_rules.insert(m_catalog.m_rules.begin(),
                           {"Insufficient", cls("insufficient-gpu", "priority=LOW")});
  m_catalog.m_plans["gpus +1"] = FixPlan{{{"stages.smoke.resources.gpus", "2"}}, "resources.gpus 1 -> 2"};
  m_catalog.m_plans["priority=LOW"] = FixPlan{{{"stages.prod.priority", "LOW"}}, "priority NORMAL -> LOW"};
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "7", "2026-05-05 19:50Z"},
                            {"prod", "stage 0 done", "exit=0", "running", "8", "2026-05-05 19:50Z"}}));
  add("c2", workflow("c2", {{"prod", "always", "exit=0", "running", "8", "2026-05-05 19:50Z"}}));
  auto& t1 = m_inputs[0].text;
  t1.replace(t1.find("resources: {time: \"00:30:00\"}"), 29, "resources: {time: \"00:30:00\", gpus: 1}");
  add_spec_line("priority: NORMAL", 1);
  m_sched.finish("7", JobState::failed, 1, "RuntimeError: CUDA out of memory. Tried to allocate 2 GiB\n");
  m_sched.finish("8", JobState::failed, 1, "0/4 nodes are available: Insufficient nvidia.com/gpu\n");
  run();
  EXPECT_EQ(wf(0).spec("smoke")->resources.gpus, 2);
  EXPECT_EQ(wf(0).failures.back().action, "gpus +1 (resources.gpus 1 -> 2)");
  EXPECT_EQ(wf(0).stages[0].status, doc::Status::ready);
  EXPECT_EQ(wf(1).spec("prod")->priority, "LOW");
  EXPECT_EQ(wf(1).failures.back().action, "priority=LOW (priority NORMAL -> LOW)");
}

// A job the scheduler stops reporting (an OSMO workflow gone from the service, a Slurm job
// past sacct's memory) is waited for, then escalated by the stuck rule with what the file
// last knew of it; a clear then submits a new attempt.
TEST_F(TickTest, AJobNoLongerReportedEscalatesAfterTheStuckRuleWithWhatWasLastKnown) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "running", "77", "2026-05-05 19:50Z"}}));
  auto& t = m_inputs[0].text;
  const std::string item = "- [ ] Check the smoke output by hand.\n";
  t.insert(
      t.find(item) + item.size(),
      "- [ ] cairn: job 77 (smoke) running on h100-east (https://osmo.example.com/workflows/77) at 19:55Z; "
      "next check ≈ 20:05Z\n");
  auto r = run();
  EXPECT_TRUE(m_store.m_commits.empty());
  EXPECT_NE(r.campaigns[0].note.find("not reported"), std::string::npos) << r.campaigns[0].note;
  m_clock.advance(std::chrono::minutes(51));  // 61 minutes after Started: 3x the expected 20m
  run();
  const auto& w = wf();
  EXPECT_TRUE(w.escalation_required);
  EXPECT_EQ(w.stages[0].status, doc::Status::escalated);
  EXPECT_EQ(subjects().back(), "c1: smoke running -> escalated [job-lost]");
  EXPECT_NE(w.escalation_reason.find("job 77 is not reported by local"), std::string::npos)
      << w.escalation_reason;
  EXPECT_NE(w.escalation_reason.find("last known: job 77 (smoke) running on h100-east"), std::string::npos)
      << w.escalation_reason;
  ASSERT_EQ(w.failures.size(), 1u);
  EXPECT_EQ(w.failures[0].error_class, "job-lost");
  EXPECT_EQ(w.failures[0].message,
            "job 77: not reported by local; last known: job 77 (smoke) running on h100-east "
            "(https://osmo.example.com/workflows/77) at 19:55Z");
  EXPECT_EQ(w.failures[0].result, "ESCALATED");
  // Cleared, the stage runs as a new attempt; job 77 is never adopted again.
  auto& text = m_inputs[0].text;
  text.replace(text.find("escalation_required: true"), 25, "escalation_required: false");
  text.replace(text.find("| escalated |"), 13, "| ready |");
  run();
  ASSERT_EQ(m_sched.submitted().size(), 1u);
  EXPECT_EQ(m_sched.submitted()[0].key.attempt, 2);
}

// ---- OSMO's capacity validation: sized down to one node, once -------------------------

class CapacityTest : public TickTest {
 protected:
  // c1's smoke runs a workflow YAML whose cpu and memory are `{{cpu}}` and `{{memory}}`
  // (`hard_memory`: memory hard-coded as 2000Gi), set to more than one node of h100-east
  // has; OSMO refuses every submit with the fixture's table.
  void refused(bool hard_memory = false, const std::string& resources = "time: \"00:30:00\"") {
    add("c1", workflow("c1", {{"smoke", "always", "exit=0", "ready"}}));
    add_spec_line("set: {cpu: \"300\", memory: 2000Gi, num_gpu: \"4\"}");
    auto& t = m_inputs[0].text;
    t.replace(t.find("resources: {time: \"00:30:00\"}"), 29, "resources: {" + resources + "}");
    SpecInfo spec;
    spec.owns_resources = true;
    spec.file = "osmo/train.yaml";
    spec.bindings = {{"gpus", "resources.default.gpu", "{{num_gpu}}", "num_gpu"},
                     {"cpus", "resources.default.cpu", "{{cpu}}", "cpu"},
                     hard_memory
                         ? ResourceBinding{"mem", "resources.default.memory", "2000Gi", ""}
                         : ResourceBinding{"mem", "resources.default.memory", "{{memory}}", "memory"}};
    m_sched.m_spec = spec;
    m_sched.m_submit_error = Error{
        "osmo workflow submit: ERROR: Workflow submission failed capacity validation.", ExitCode::findings};
    m_sched.m_refusal = CapacityRefusal{"h100-east",
                                        {{"gpus", "gpu", "4", "64", false},
                                         {"cpus", "cpu", "300", "192", true},
                                         {"mem", "memory", "2000Gi", "1500Gi", true},
                                         {"storage", "storage", "100Gi", "1024Gi", false}}};
  }
};

TEST_F(CapacityTest, TemplatedValuesAreLoweredToOneNodeAndTheNextTickResubmitsThere) {
  refused();
  run();
  EXPECT_EQ(subjects(), (std::vector<std::string>{"c1: smoke intent: submit cairn.c1.smoke.1",
                                                  "c1: smoke ready -> ready [capacity-validation]"}));
  const auto& w = wf();
  EXPECT_FALSE(w.escalation_required);
  EXPECT_EQ(w.stages[0].status, doc::Status::ready);
  EXPECT_EQ(w.spec("smoke")->set.at("cpu"), "192");
  EXPECT_EQ(w.spec("smoke")->set.at("memory"), "1500Gi");
  EXPECT_EQ(w.spec("smoke")->set.at("num_gpu"), "4");
  ASSERT_EQ(w.failures.size(), 1u);
  EXPECT_EQ(w.failures[0].error_class, "capacity-validation");
  EXPECT_EQ(w.failures[0].message,
            "job cairn.c1.smoke.1: pool h100-east; submit refused, capacity validation: cpu 300 > node 192, "
            "memory 2000Gi > node 1500Gi");
  EXPECT_EQ(w.failures[0].action,
            "size to one node of h100-east (set.cpu 300 -> 192, set.memory 2000Gi -> 1500Gi)");
  EXPECT_EQ(w.failures[0].result, "RETRYING");
  EXPECT_EQ(w.stages[0].retries, 0);
  const std::string& msg = m_store.m_commits.back().request.message;
  EXPECT_NE(msg.find("Action: sized down to one node of h100-east (set.cpu 300 -> 192, set.memory 2000Gi -> "
                     "1500Gi); the next tick resubmits there, once."),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("Cairn-Attempt: 1\n"), std::string::npos) << msg;

  // The next tick resubmits as attempt 2, with the lowered values, to the same pool.
  m_sched.m_submit_error = Error{};
  run();
  ASSERT_EQ(m_sched.submitted().size(), 1u);
  EXPECT_EQ(m_sched.submitted()[0].key.attempt, 2);
  EXPECT_EQ(m_sched.submitted()[0].first_pool, "h100-east");
  EXPECT_EQ(m_sched.submitted()[0].spec.set.at("memory"), "1500Gi");
  EXPECT_EQ(wf().stages[0].status, doc::Status::running);
}

TEST_F(CapacityTest, ASecondRefusalEscalatesInsteadOfSizingAgain) {
  refused();
  run();
  run();  // refused again, though sized to the node
  const auto& w = wf();
  EXPECT_TRUE(w.escalation_required);
  EXPECT_EQ(w.stages[0].status, doc::Status::escalated);
  EXPECT_NE(
      w.escalation_reason.find(
          "capacity validation in pool h100-east, not sized down: the stage was sized down once already"),
      std::string::npos)
      << w.escalation_reason;
  ASSERT_EQ(w.failures.size(), 2u);
  EXPECT_EQ(w.failures[1].message.rfind("job cairn.c1.smoke.2: pool h100-east; submit refused", 0), 0u)
      << w.failures[1].message;
  EXPECT_EQ(w.failures[1].result, "ESCALATED");
  EXPECT_TRUE(m_sched.submitted().empty());
}

TEST_F(CapacityTest, AHardCodedValueEscalatesWithTheTableAndChangesNothing) {
  refused(/*hard_memory=*/true);
  run();
  const auto& w = wf();
  EXPECT_TRUE(w.escalation_required);
  EXPECT_EQ(w.spec("smoke")->set.at("cpu"), "300");  // nothing half-applied
  EXPECT_NE(w.escalation_reason.find("resources.default.memory is 2000Gi in osmo/train.yaml, not a template "
                                     "variable: cairn does not edit your YAML"),
            std::string::npos)
      << w.escalation_reason;
  ASSERT_EQ(w.failures.size(), 1u);
  EXPECT_NE(w.failures[0].message.find("cpu 300 > node 192, memory 2000Gi > node 1500Gi"), std::string::npos);
  EXPECT_EQ(w.failures[0].result, "ESCALATED");
  const std::string& msg = m_store.m_commits.back().request.message;
  EXPECT_NE(
      msg.find("capacity validation in pool h100-east: cpu 300 > node 192, memory 2000Gi > node 1500Gi."),
      std::string::npos)
      << msg;
}

TEST_F(CapacityTest, NeverBelowTheStagesMinimum) {
  refused(false, "time: \"00:30:00\", mem: 1600G");
  run();
  const auto& w = wf();
  EXPECT_TRUE(w.escalation_required);
  EXPECT_NE(
      w.escalation_reason.find("one node of h100-east cannot run the stage: its memory 1500Gi is below the "
                               "stage's resources.mem 1600G"),
      std::string::npos)
      << w.escalation_reason;
  EXPECT_EQ(w.spec("smoke")->set.at("memory"), "2000Gi");
}

TEST_F(CapacityTest, AnotherSubmitFailureStillEscalatesAsSubmitFailed) {
  refused();
  m_sched.m_refusal.reset();
  run();
  EXPECT_TRUE(wf().escalation_required);
  EXPECT_EQ(subjects().back(), "c1: smoke ready -> escalated [submit-failed]");
}

// ---- attempts, resumes, where checks run, when a campaign is due -----------------------

namespace cairn::engine {
namespace {

// What a human does to resume (the same edit whichever door: `cairn clear`, a merged
// clear-escalation PR, a hand edit on the branch): the flag down, the stage ready.
void clear_by_hand(std::string& text) {
  text.replace(text.find("escalation_required: true"), 25, "escalation_required: false");
  if (const auto at = text.find("| escalated |"); at != std::string::npos) text.replace(at, 13, "| ready |");
}

class AttemptTest : public TickTest {
 protected:
  // c1's smoke submitted by a first tick, then ended with `log` (exit 3).
  void first_attempt_fails(const std::string& log) {
    add("c1", workflow("c1", {{"smoke", "always", "exit=0", "ready"}}));
    run();
    ASSERT_EQ(m_sched.submitted().size(), 1u);
    m_first = wf().stages[0].job_id;
    m_sched.finish(m_first, JobState::failed, 3, log);
    run();
  }
  std::string m_first;
};

TEST_F(AttemptTest, AClearedUnknownFailureRunsTheStageAgainAsANewAttempt) {
  first_attempt_fails("frobnicator exploded\n");
  ASSERT_TRUE(wf().escalation_required);
  ASSERT_EQ(wf().failures.size(), 1u);
  clear_by_hand(m_inputs[0].text);
  run();
  ASSERT_EQ(m_sched.submitted().size(), 2u) << "the cleared stage must run again, not adopt job " << m_first;
  EXPECT_EQ(m_sched.submitted()[1].key.attempt, 2);
  EXPECT_NE(wf().stages[0].job_id, m_first);
  EXPECT_EQ(wf().stages[0].status, doc::Status::running);
  EXPECT_EQ(wf().stages[0].retries, 0);  // a clear counts no retry and resets nothing
  for (const auto& c : m_store.m_commits) EXPECT_EQ(c.request.message.find("Adopted"), std::string::npos);
  // The fixed job completes: the campaign finishes, with one row for the one failure.
  m_sched.finish(wf().stages[0].job_id, JobState::completed, 0);
  run();
  EXPECT_EQ(wf().status, doc::Status::done);
  EXPECT_EQ(wf().failures.size(), 1u);
  EXPECT_NE(m_store.m_commits.back().request.message.find("Cairn-Attempt: 2"), std::string::npos)
      << m_store.m_commits.back().request.message;
}

TEST_F(AttemptTest, ASecondClearRunsAThirdAttemptAndRetriesStayAsLearned) {
  first_attempt_fails("frobnicator exploded\n");
  clear_by_hand(m_inputs[0].text);
  run();
  m_sched.finish(wf().stages[0].job_id, JobState::failed, 3, "frobnicator exploded again\n");
  run();
  ASSERT_TRUE(wf().escalation_required);
  EXPECT_EQ(wf().failures.size(), 2u);
  clear_by_hand(m_inputs[0].text);
  run();
  ASSERT_EQ(m_sched.submitted().size(), 3u);
  EXPECT_EQ(m_sched.submitted()[2].key.attempt, 3);
}

TEST_F(AttemptTest, ATransientFailureRunsTheJobAgainOnce) {
  first_attempt_fails("error: Socket timed out on send/recv operation\n");
  EXPECT_FALSE(wf().escalation_required);
  EXPECT_EQ(wf().stages[0].status, doc::Status::ready);
  run();
  ASSERT_EQ(m_sched.submitted().size(), 2u) << "the transient retry must not adopt the ended job";
  EXPECT_EQ(m_sched.submitted()[1].key.attempt, 2);
  m_sched.finish(wf().stages[0].job_id, JobState::completed, 0);
  run();
  EXPECT_EQ(wf().status, doc::Status::done);
  ASSERT_EQ(wf().failures.size(), 1u);
  EXPECT_EQ(wf().failures[0].result, "RESOLVED");
  EXPECT_EQ(m_sched.submitted().size(), 2u);
}

TEST_F(AttemptTest, AJobSubmittedByATickThatDiedBeforeRecordingItIsAdopted) {
  // The crash window: the intent landed and the job was submitted under attempt 1,
  // but the tick died before its commit; the file still says ready.
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "ready"}}));
  m_sched.adopt_existing("cairn.c1.smoke.1", "555");
  run();
  EXPECT_TRUE(m_sched.submitted().empty());
  EXPECT_EQ(wf().stages[0].job_id, "555");
  EXPECT_NE(m_store.m_commits.back().request.message.find("Adopted job 555"), std::string::npos);
}

TEST_F(AttemptTest, AnEndedJobTheFileRecordsIsNeverAdoptedEvenWithoutItsFailureRow) {
  // A human deleted the failure row but the JobID still names job 555, attempt 1.
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "ready", "555", "2026-05-05 19:00Z"}}));
  m_sched.adopt_existing("cairn.c1.smoke.1", "555");
  m_sched.finish("555", JobState::failed, 3, "boom\n");
  run();
  ASSERT_EQ(m_sched.submitted().size(), 1u);
  EXPECT_EQ(m_sched.submitted()[0].key.attempt, 2);
  EXPECT_NE(wf().stages[0].job_id, "555");
}

TEST_F(AttemptTest, JobNamesCarryTheRepositoryId) {
  add("c1", workflow("c1", {{"smoke", "always", "exit=0", "ready"}}));
  m_sched.adopt_existing("cairn.c1.smoke.1", "999");  // another repository's job, unqualified
  TickOptions o;
  o.repo_id = "ab12cd34";
  run(o);
  ASSERT_EQ(m_sched.submitted().size(), 1u);
  EXPECT_EQ(m_sched.submitted()[0].key.str(), "cairn.ab12cd34.c1.smoke.1");
  EXPECT_NE(wf().stages[0].job_id, "999");
}

TEST_F(AttemptTest, ConditionsAreCheckedInTheJobsOwnDirectory) {
  // Another clone submitted the job; it wrote out.txt in its own campaign dir.
  add("c1", workflow("c1", {{"smoke", "always", "`out.txt` exists", "running", "7", "2026-05-05 19:50Z"}}));
  m_sched.finish("7", JobState::completed, 0);
  m_sched.job("7").work_dir = "/other-clone/campaigns/c1";
  m_ws.m_dirs["/other-clone/campaigns/c1"]["out.txt"] = 1;
  m_ws.m_dirs["/repo/campaigns/c1"] = {};  // not in this checkout
  run();
  EXPECT_EQ(wf().stages[0].status, doc::Status::done) << wf().escalation_reason;
  ASSERT_FALSE(m_ws.m_probed_dirs.empty());
  EXPECT_EQ(m_ws.m_probed_dirs.back(), "/other-clone/campaigns/c1");
}

TEST_F(AttemptTest, AllClausesOfAConditionAreOneProbe) {
  add("c1", workflow("c1", {{"smoke", "always",
                             "exit=0, `a.txt` exists, `test -s b` exits 0, 2× `out/*.dcd` exists", "running",
                             "7", "2026-05-05 19:50Z"}}));
  m_sched.finish("7", JobState::completed, 0);
  m_ws.m_files = {{"a.txt", 1}, {"out/*.dcd", 2}};
  m_ws.m_exit["test -s b"] = 0;
  run();
  EXPECT_EQ(wf().stages[0].status, doc::Status::done) << wf().escalation_reason;
  EXPECT_EQ(m_ws.m_probed_dirs.size(), 1u);
}

TEST_F(AttemptTest, AJobDirectoryThatIsGoneEscalatesSayingSoAndKeepsTheJob) {
  add("c1", workflow("c1", {{"smoke", "always", "`out.txt` exists", "running", "7", "2026-05-05 19:50Z"}}));
  m_sched.finish("7", JobState::completed, 0);
  m_sched.job("7").work_dir = "/scratch/gone";
  m_ws.m_gone.insert("/scratch/gone");
  run();
  ASSERT_TRUE(wf().escalation_required);
  EXPECT_EQ(subjects().back(), "c1: smoke running -> escalated [workdir-missing]");
  EXPECT_NE(wf().escalation_reason.find("directory /scratch/gone does not exist"), std::string::npos)
      << wf().escalation_reason;
  EXPECT_EQ(wf().stages[0].status, doc::Status::running);  // a clear checks it again
  EXPECT_TRUE(wf().failures.empty());
}

// A scheduler whose jobs' directories live on another machine (a cluster over ssh).
class RemoteScheduler : public testing::FakeScheduler {
 public:
  Workspace* workspace() override { return &m_remote; }
  testing::FakeWorkspace m_remote;
};

TEST_F(AttemptTest, ARemoteJobsConditionsAndCheckpointAreProbedOnItsMachine) {
  RemoteScheduler cluster;
  m_backends.m_map["slurm"] = &cluster;
  std::string text =
      workflow("c1", {{"prod", "always", "`restart.xsc` exists", "running", "41", "2026-05-05 19:50Z"}},
               "deploy: {remote_dir: /scratch/u/c1}\n");
  text.replace(text.find("backend: local"), 14, "backend: slurm");
  add("c1", text);
  cluster.finish("41", JobState::completed, 0);
  cluster.job("41").work_dir = "/scratch/u/c1";
  cluster.m_remote.m_files["restart.xsc"] = 1;
  run();
  EXPECT_EQ(wf().stages[0].status, doc::Status::done) << wf().escalation_reason;
  EXPECT_EQ(cluster.m_remote.m_probed_dirs, std::vector<std::string>{"/scratch/u/c1"});
  EXPECT_TRUE(m_ws.m_probed_dirs.empty());  // never the tick's checkout
}

// A scheduler whose jobs leave no files (OSMO).
class ObjectStoreScheduler : public testing::FakeScheduler {
 public:
  bool outputs_are_files() const override { return false; }
};

TEST_F(AttemptTest, AFileClauseOnABackendWithoutFilesSaysSo) {
  ObjectStoreScheduler osmo;
  m_backends.m_map["osmo"] = &osmo;
  std::string text =
      workflow("c1", {{"train", "always", "`model.pt` exists", "running", "w-1", "2026-05-05 19:50Z"}});
  text.replace(text.find("backend: local"), 14, "backend: osmo");
  add("c1", text);
  osmo.finish("w-1", JobState::completed, 0);
  run();
  ASSERT_TRUE(wf().escalation_required);
  EXPECT_NE(wf().escalation_reason.find("leave no files"), std::string::npos) << wf().escalation_reason;
  EXPECT_TRUE(m_ws.m_probed_dirs.empty());
}

TEST_F(AttemptTest, ACampaignAHumanChangedIsDueAtOnce) {
  std::string text = workflow("c1", {{"smoke", "always", "exit=0", "escalated"}});
  text.replace(text.find("escalation_required: false"), 26, "escalation_required: true");
  text.replace(text.find("last_tick: \"\""), 13, "last_tick: 2026-05-05T19:59:00Z");
  add("c1", text);
  m_no_force = true;
  auto r = run();
  EXPECT_TRUE(m_store.m_commits.empty());
  EXPECT_NE(r.campaigns[0].note.find("not due"), std::string::npos);
  clear_by_hand(m_inputs[0].text);  // status: escalated still in the frontmatter
  m_inputs[0].changed_by_human = true;
  run();
  ASSERT_EQ(m_sched.submitted().size(), 1u);
}

TEST_F(AttemptTest, AHandClearedEscalationIsDueFromItsFrontmatterAlone) {
  std::string text = workflow("c1", {{"smoke", "always", "exit=0", "escalated"}});
  text.replace(text.find("last_tick: \"\""), 13, "last_tick: 2026-05-05T19:59:00Z");
  add("c1", text);  // escalation_required false, status escalated: cleared by hand
  m_no_force = true;
  run();
  EXPECT_EQ(m_sched.submitted().size(), 1u);
}

TEST_F(AttemptTest, APendingGateIsCheckedEveryTickWithoutACommitUntilItHolds) {
  std::string text = workflow("c1", {{"smoke", "approved", "exit=0", "pending"}});
  text.replace(text.find("last_tick: \"\""), 13, "last_tick: 2026-05-05T19:59:00Z");
  add("c1", text);
  m_no_force = true;
  run();
  EXPECT_TRUE(m_store.m_commits.empty());
  auto& t = m_inputs[0].text;
  t.replace(t.find("- [ ] Check the smoke output by hand."), 37, "- [x] approve smoke");
  run();
  EXPECT_EQ(m_sched.submitted().size(), 1u);
}

}  // namespace
}  // namespace cairn::engine

namespace cairn::engine {
namespace {

TEST_F(TickTest, EverySubmitOfATickIsOneLookupAndOnePublishOfTheIntents) {
  for (int i = 0; i < 5; ++i) {
    const std::string c = "c" + std::to_string(i);
    add(c, workflow(c, {{"smoke", "always", "exit=0", "ready"}}));
  }
  run();
  ASSERT_EQ(m_sched.submitted().size(), 5u);
  EXPECT_EQ(m_sched.m_find_all_calls, 1);
  EXPECT_EQ(m_sched.m_find_calls, 0);
  // One publish, after the five intent commits and before any submit's commit.
  ASSERT_EQ(m_store.m_publishes.size(), 1u);
  EXPECT_EQ(m_store.m_publishes[0], 5u);
  EXPECT_EQ(m_store.m_commits.size(), 10u);
}

TEST_F(TickTest, ALostPublishOfTheBatchSubmitsNothingAtAll) {
  for (int i = 0; i < 3; ++i) {
    const std::string c = "c" + std::to_string(i);
    add(c, workflow(c, {{"smoke", "always", "exit=0", "ready"}}));
  }
  m_store.m_lose_publishes = 1;
  auto r = run();
  EXPECT_TRUE(r.lost_race);
  EXPECT_TRUE(m_sched.submitted().empty());
}

}  // namespace
}  // namespace cairn::engine

// A backend cairn.yaml configures with a setting it refuses (Backends::unusable) is
// cairn.yaml's error, reported by the CLI: the campaigns on it wait, whether their stage
// is to be submitted or has a job that no status query can reach, and nothing escalates;
// a backend nothing configures still escalates, and the other campaigns go on.
TEST_F(TickTest, ABackendWithRefusedSettingsHoldsItsCampaignsAndEscalatesNothing) {
  auto on = [](std::string text, const std::string& backend) {
    text.replace(text.find("backend: local"), 14, "backend: " + backend);
    return text;
  };
  m_backends.m_unusable["gpu"] =
      "cairn.yaml:9:40: backend `gpu` (osmo): priority must be HIGH, NORMAL or LOW, not 'urgent'";
  add("held", on(workflow("held", {{"smoke", "always", "exit=0", "ready"}}), "gpu"));
  add("polled",
      on(workflow("polled", {{"smoke", "always", "exit=0", "running", "77", "2026-05-05 19:50Z"}}), "gpu"));
  add("lost", on(workflow("lost", {{"smoke", "always", "exit=0", "ready"}}), "nosuch"));
  add("good", workflow("good", {{"smoke", "always", "exit=0", "ready"}}));
  auto r = run();
  for (std::size_t i : {0, 1}) {
    EXPECT_NE(
        r.campaigns[i].note.find("smoke: waits for cairn.yaml to be fixed: cairn.yaml:9:40: backend `gpu` "
                                 "(osmo): priority must be HIGH, NORMAL or LOW, not 'urgent'"),
        std::string::npos)
        << r.campaigns[i].note;
    EXPECT_TRUE(r.campaigns[i].transitions.empty());
  }
  EXPECT_EQ(subjects(), (std::vector<std::string>{"lost: smoke ready -> escalated [unknown-backend]",
                                                  "good: smoke intent: submit cairn.good.smoke.1",
                                                  "good: smoke ready -> running"}));
  ASSERT_EQ(m_sched.submitted().size(), 1u);
  EXPECT_EQ(m_sched.submitted()[0].key.campaign, "good");
  // Hours later, past the job-lost rule's 3x expect, still nothing about them is decided.
  m_clock.advance(std::chrono::hours(3));
  const std::size_t commits = m_store.m_commits.size();
  run();
  EXPECT_EQ(m_store.m_commits.size(), commits + 1) << subjects().back();  // good's poll
  EXPECT_FALSE(wf(0).escalation_required);
  EXPECT_EQ(wf(0).stages[0].status, doc::Status::ready);
  EXPECT_FALSE(wf(1).escalation_required);
  EXPECT_EQ(wf(1).stages[0].status, doc::Status::running);
  EXPECT_EQ(wf(1).stages[0].job_id, "77");
}

}  // namespace
}  // namespace cairn::engine
