// The dashboard (engine/report.hpp): attempts read back from commit trailers, the summary
// table and the Mermaid gantt, rendered without a clock.

#include <cairn/engine/report.hpp>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <cairn/parse/workflow_file.hpp>
#include <cairn/util/time.hpp>

namespace cairn::engine {
namespace {

using std::chrono::minutes;

const TimePoint kT0 = *util::parse_time("2026-05-05T10:00:00Z");

HistoryEvent ev(const std::string& stage, const std::string& from, const std::string& to, int at_minutes,
                int attempt, const std::string& job = "", const std::string& error_class = "",
                const std::string& campaign = "c1") {
  HistoryEvent e;
  e.campaign = campaign;
  e.stage = stage;
  e.from = from;
  e.to = to;
  e.time = kT0 + minutes(at_minutes);
  e.attempt = attempt;
  e.job = job;
  e.error_class = error_class;
  return e;
}

// smoke done at its first attempt; prod fails (walltime), is retried and still runs.
std::vector<HistoryEvent> history() {
  return {
      ev("smoke", "pending", "ready", 0, 1),
      ev("smoke", "ready", "running", 0, 1, "j1"),
      ev("smoke", "running", "done", 5, 1, "j1"),
      ev("prod", "pending", "ready", 5, 1),
      ev("prod", "ready", "running", 5, 1, "j2", "", "c1"),
      ev("other", "ready", "running", 6, 1, "x1", "", "c2"),  // another campaign's
      ev("prod", "running", "running", 10, 1, "j2"),
      ev("prod", "running", "failed", 20, 1, "j2", "walltime-exceeded"),
      ev("prod", "failed", "ready", 20, 1, "j2", "walltime-exceeded"),
      ev("prod", "ready", "running", 21, 2, "j3"),
      ev("prod", "running", "running", 30, 2, "j3"),
  };
}

std::string workflow_text(bool escalated = false) {
  return std::string("---\ncampaign: c1\nproject: p\ncreated: 2026-05-05\nlast_tick: \"\"\nstatus: ") +
         (escalated ? "escalated" : "running") +
         "\ncurrent_stage: prod\nescalation_required: " + (escalated ? "true" : "false") +
         "\nescalation_reason: \"" + (escalated ? "walltime | twice" : "") +
         "\"\nbudget: {backend: local, cap_usd: 0, spent_usd: 0}\n---\n\n# c1\n\n## Stages\n\n"
         "| # | Name | Entry condition | Exit condition | Status | JobID | Started | Completed | Retries |\n"
         "|---|------|-----------------|----------------|--------|-------|---------|-----------|---------|\n"
         "| 0 | smoke | always | exit=0 | done | j1 | — | — | 0 |\n"
         "| 1 | prod | stage 0 done | exit=0 | running | j3 | — | — | 1 |\n"
         "| 2 | analysis | stage 1 done | exit=0 | pending | — | — | — | 0 |\n"
         "\n## Action queue\n\n## Failure log\n\n## Lessons learned\n\n(none yet)\n";
}

DashboardCampaign campaign(bool escalated = false) {
  DashboardCampaign c;
  c.path = "campaigns/c1/WORKFLOW.md";
  auto f = parse::WorkflowFile::parse(c.path, workflow_text(escalated));
  EXPECT_TRUE(f) << (f ? "" : doc::format(f.error().front()));
  c.workflow = f->workflow();
  c.attempts = stage_attempts(history(), "c1");
  c.since = kT0 + minutes(21);
  return c;
}

TEST(EngineReport, OneAttemptPerSubmitWithItsOutcome) {
  const auto a = stage_attempts(history(), "c1");
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].stage, "smoke");
  EXPECT_EQ(a[0].outcome, AttemptOutcome::done);
  EXPECT_EQ(a[0].end, kT0 + minutes(5));
  EXPECT_EQ(a[1].stage, "prod");
  EXPECT_EQ(a[1].attempt, 1);
  EXPECT_EQ(a[1].outcome, AttemptOutcome::failed);
  EXPECT_EQ(a[1].error_class, "walltime-exceeded");
  EXPECT_EQ(a[1].end, kT0 + minutes(20));
  EXPECT_EQ(a[2].attempt, 2);
  EXPECT_EQ(a[2].job, "j3");
  EXPECT_EQ(a[2].outcome, AttemptOutcome::running);
  EXPECT_EQ(a[2].end, kT0 + minutes(30));  // last seen running by a poll
  EXPECT_EQ(stage_attempts(history(), "c2").size(), 1u);
}

TEST(EngineReport, AnEndWhoseStartIsOutOfSightIsStillABar) {
  const auto a = stage_attempts({ev("prod", "running", "done", 7, 3, "j9")}, "c1");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].start, a[0].end);
  EXPECT_EQ(a[0].outcome, AttemptOutcome::done);
}

TEST(EngineReport, AStuckJobTakenUpAgainIsTheSameAttempt) {
  const auto a = stage_attempts(
      {ev("prod", "ready", "running", 0, 1, "j1"), ev("prod", "running", "escalated", 60, 1, "j1"),
       ev("prod", "escalated", "running", 90, 1, "j1"), ev("prod", "running", "done", 95, 1, "j1")},
      "c1");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].outcome, AttemptOutcome::done);
  EXPECT_EQ(a[0].end, kT0 + minutes(95));
}

TEST(EngineReport, GanttHasOneBarPerAttemptFailedOnesCrit) {
  const std::string g = render_gantt(campaign());
  EXPECT_EQ(g.rfind("```mermaid\ngantt\n", 0), 0u) << g;
  EXPECT_NE(g.find("dateFormat YYYY-MM-DD HH:mm:ss"), std::string::npos);
  EXPECT_NE(g.find("section smoke\n    attempt 1 done :done, 2026-05-05 10:00:00, 2026-05-05 10:05:00\n"),
            std::string::npos)
      << g;
  EXPECT_NE(
      g.find(
          "section prod\n    attempt 1 failed walltime-exceeded :crit, 2026-05-05 10:05:00, "
          "2026-05-05 10:20:00\n    attempt 2 running :active, 2026-05-05 10:21:00, 2026-05-05 10:30:00\n"),
      std::string::npos)
      << g;
  EXPECT_NE(g.find("section analysis\n"), std::string::npos) << "every stage is named";
  EXPECT_EQ(g.substr(g.size() - 4), "```\n");
  DashboardCampaign none = campaign();
  none.attempts.clear();
  EXPECT_EQ(render_gantt(none), "");
}

TEST(EngineReport, SummaryTableEscapesCellsAndLinksTheEscalation) {
  DashboardCampaign c = campaign(true);
  c.links = {"#12", "https://forge/o/r/issues/12", "#13", "https://forge/o/r/pull/13"};
  DashboardCampaign broken;
  broken.path = "campaigns/bad/WORKFLOW.md";
  broken.error = "campaigns/bad/WORKFLOW.md:3:1: error: no | campaign";
  const std::string t = render_summary_table({c, broken}, {});
  EXPECT_NE(t.find("| c1 | escalated | prod | `j3` | 2026-05-05 10:21Z | 1 | walltime \\| twice · issue "
                   "[#12](https://forge/o/r/issues/12) · resume: [#13](https://forge/o/r/pull/13) |\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("| `campaigns/bad/WORKFLOW.md` | invalid | — | — | — | — | campaigns/bad/WORKFLOW.md:3:1: "
                   "error: no \\| campaign |"),
            std::string::npos)
      << t;
}

TEST(EngineReport, WithoutAClockTheSameInputsRenderTheSameBytes) {
  DashboardOptions o;
  const std::string a = render_dashboard({campaign()}, o);
  EXPECT_EQ(a, render_dashboard({campaign()}, o));
  EXPECT_EQ(a.find("ago"), std::string::npos);
  EXPECT_NE(a.find("1 campaign: 1 running."), std::string::npos) << a;
  EXPECT_NE(a.find("### c1\n\n```mermaid"), std::string::npos) << a;
  o.generated_at = kT0 + minutes(81);
  const std::string b = render_dashboard({campaign()}, o);
  EXPECT_NE(b.find("2026-05-05 10:21Z (1h ago)"), std::string::npos) << b;
  EXPECT_NE(b.find("generated at 2026-05-05T11:21:00Z"), std::string::npos) << b;
}

}  // namespace
}  // namespace cairn::engine
