// The facts every verb shares (engine/facts.hpp), table-driven: the backend of a stage,
// the escalated stage, the implied status, the escalation clear, the failure note and
// the repository id.

#include <cairn/engine/facts.hpp>

#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <cairn/parse/workflow_file.hpp>
#include <cairn/util/time.hpp>

namespace cairn::engine {
namespace {

struct Row {
  std::string name;
  std::string status;
};

// A campaign file with `rows`, `budget.backend` = `budget_backend` and, for stage
// `smoke`, `backend: smoke_backend` when that is not empty.
std::string workflow(const std::vector<Row>& rows, bool escalated = false, const std::string& reason = "",
                     const std::string& budget_backend = "slurm", const std::string& smoke_backend = "",
                     const std::string& status = "running", const std::string& current = "smoke") {
  std::string s = "---\ncampaign: c1\nproject: p\ncreated: 2026-05-05\nlast_tick: \"\"\nstatus: " + status +
                  "\ncurrent_stage: " + current + "\nescalation_required: " + (escalated ? "true" : "false") +
                  "\nescalation_reason: \"" + reason + "\"\nbudget: {backend: " + budget_backend +
                  ", cap_usd: 0, spent_usd: 0}\nstages:\n  smoke:\n    run: jobs/smoke.sh\n";
  if (!smoke_backend.empty()) s += "    backend: " + smoke_backend + "\n";
  s += "  prod:\n    run: jobs/prod.sh\n---\n\n# c1\n\n## Stages\n\n"
       "| # | Name | Entry condition | Exit condition | Status | JobID | Started | Completed | Retries |\n"
       "|---|------|-----------------|----------------|--------|-------|---------|-----------|---------|\n";
  int n = 0;
  for (const auto& r : rows) {
    s += "| " + std::to_string(n++) + " | " + r.name + " | always | exit=0 | " + r.status +
         " | 41 | — | — | 0 |\n";
  }
  s += "\n## Action queue\n\n## Failure log\n\n## Lessons learned\n\n(none yet)\n";
  return s;
}

parse::WorkflowFile parsed(const std::string& text) {
  auto f = parse::WorkflowFile::parse("c1/WORKFLOW.md", text);
  EXPECT_TRUE(f) << (f ? "" : doc::format(f.error().front()));
  return std::move(*f);
}

TEST(EngineFacts, BackendOfAStage) {
  struct Case {
    std::string budget, smoke_spec, stage, want;
  };
  const std::vector<Case> cases = {
      {"slurm", "", "smoke", "slurm"},         // no spec backend: the budget's
      {"slurm", "alpine", "smoke", "alpine"},  // the stage's own wins
      {"slurm", "alpine", "prod", "slurm"},    // another stage keeps the budget's
      {"\"\"", "", "smoke", "local"},          // neither: local
      {"\"\"", "osmo", "smoke", "osmo"},      {"slurm", "", "no-such-stage", "slurm"},
  };
  for (const auto& c : cases) {
    const auto f =
        parsed(workflow({{"smoke", "ready"}, {"prod", "pending"}}, false, "", c.budget, c.smoke_spec));
    EXPECT_EQ(backend_of(f.workflow(), c.stage), c.want)
        << c.budget << " / " << c.smoke_spec << " / " << c.stage;
  }
}

TEST(EngineFacts, EscalatedStageImpliedStatusAndCurrentStage) {
  struct Case {
    std::vector<Row> rows;
    bool escalated;
    std::string stage;
    doc::Status status;
    std::string current;
  };
  using S = doc::Status;
  const std::vector<Case> cases = {
      {{{"smoke", "escalated"}, {"prod", "pending"}}, true, "smoke", S::escalated, "smoke"},
      {{{"smoke", "done"}, {"prod", "failed"}}, true, "prod", S::escalated, "prod"},
      // An escalated row wins over an earlier failed one: that is the one the tick stopped at.
      {{{"smoke", "failed"}, {"prod", "escalated"}}, true, "prod", S::escalated, "smoke"},
      // An anomaly escalation leaves the row running: the escalation is about the open stage.
      {{{"smoke", "done"}, {"prod", "running"}}, true, "prod", S::escalated, "prod"},
      {{{"smoke", "done"}, {"prod", "ready"}}, false, "prod", S::ready, "prod"},
      {{{"smoke", "running"}, {"prod", "pending"}}, false, "smoke", S::running, "smoke"},
      // All done: no open stage, current_stage from the file, the last stage implied.
      {{{"smoke", "done"}, {"prod", "done"}}, false, "smoke", S::done, "prod"},
  };
  for (const auto& c : cases) {
    const auto f = parsed(workflow(c.rows, c.escalated));
    const std::string what = c.rows[0].status + "," + c.rows[1].status;
    EXPECT_EQ(escalated_stage(f.workflow()), c.stage) << what;
    EXPECT_EQ(implied_status(f.workflow()), c.status) << what;
    EXPECT_EQ(implied_current_stage(f.workflow()), c.current) << what;
  }
}

TEST(EngineFacts, ClearEscalationWritesTheOldReasonAndTheImpliedUpkeep) {
  const std::string before = workflow({{"smoke", "done"}, {"prod", "escalated"}}, true,
                                      "walltime exceeded twice", "slurm", "", "escalated", "prod");
  auto f = parsed(before);
  const auto now = *util::parse_time("2026-05-06T10:00:00Z");
  auto done = clear_escalation(f, now, "raised the walltime by hand");
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(done->stage, "prod");
  EXPECT_EQ(done->reason, "walltime exceeded twice");
  EXPECT_TRUE(done->stage_reset);
  const doc::Workflow& wf = f.workflow();
  EXPECT_FALSE(wf.escalation_required);
  EXPECT_EQ(wf.escalation_reason, "");
  EXPECT_EQ(wf.stage("prod")->status, doc::Status::ready);
  EXPECT_EQ(wf.status, doc::Status::ready);
  EXPECT_EQ(wf.current_stage, "prod");
  // The lesson names the reason as it was, not the blanked one.
  EXPECT_NE(wf.lessons.find(
                "2026-05-06 prod: escalation (walltime exceeded twice) cleared: raised the walltime by hand"),
            std::string::npos)
      << wf.lessons;
  EXPECT_EQ(wf.lessons.find("escalation ()"), std::string::npos);
  // Surgical: the frontmatter lines it names, the Status cell and one lesson bullet.
  EXPECT_NE(f.text().find("escalation_required: false\nescalation_reason: \"\"\n"), std::string::npos);
  std::string want = before;
  auto put = [&](const std::string& from, const std::string& to) {
    ASSERT_NE(want.find(from), std::string::npos) << from;
    want.replace(want.find(from), from.size(), to);
  };
  put("status: escalated\n", "status: ready\n");
  put("escalation_required: true\nescalation_reason: \"walltime exceeded twice\"",
      "escalation_required: false\nescalation_reason: \"\"");
  put("| prod | always | exit=0 | escalated |", "| prod | always | exit=0 | ready     |");
  put("(none yet)",
      "- 2026-05-06 prod: escalation (walltime exceeded twice) cleared: raised the walltime by hand");
  EXPECT_EQ(f.text(), want);
}

TEST(EngineFacts, ClearEscalationTable) {
  struct Case {
    std::vector<Row> rows;
    std::string status_key;  // the frontmatter's `status` before
    std::string current_key;
    bool stage_reset;
    std::string stage;
    doc::Status status_after;
    std::string current_after;
  };
  using S = doc::Status;
  const std::vector<Case> cases = {
      {{{"smoke", "escalated"}, {"prod", "pending"}}, "escalated", "smoke", true, "smoke", S::ready, "smoke"},
      {{{"smoke", "failed"}, {"prod", "pending"}}, "escalated", "smoke", true, "smoke", S::ready, "smoke"},
      // An anomaly escalated a running job: the row stays running, the job is polled again.
      {{{"smoke", "done"}, {"prod", "running"}}, "escalated", "prod", false, "prod", S::running, "prod"},
      // Stale upkeep (a hand edit): set from the table.
      {{{"smoke", "done"}, {"prod", "escalated"}}, "escalated", "smoke", true, "prod", S::ready, "prod"},
  };
  for (const auto& c : cases) {
    auto f = parsed(workflow(c.rows, true, "why", "slurm", "", c.status_key, c.current_key));
    auto done = clear_escalation(f, *util::parse_time("2026-05-06T10:00:00Z"), "ok");
    const std::string what = c.rows[0].status + "," + c.rows[1].status;
    ASSERT_TRUE(done) << what << ": " << done.error().message;
    EXPECT_EQ(done->stage, c.stage) << what;
    EXPECT_EQ(done->stage_reset, c.stage_reset) << what;
    EXPECT_EQ(f.workflow().status, c.status_after) << what;
    EXPECT_EQ(f.workflow().current_stage, c.current_after) << what;
    EXPECT_FALSE(f.workflow().escalation_required) << what;
    // The file the edit wrote parses to the same thing.
    auto again = parse::WorkflowFile::parse("c1/WORKFLOW.md", f.text());
    ASSERT_TRUE(again) << what;
    EXPECT_EQ(again->workflow().status, c.status_after) << what;
  }
}

TEST(EngineFacts, ClearEscalationFailsWhenNotEscalatedOrWithoutLessons) {
  auto calm = parsed(workflow({{"smoke", "ready"}, {"prod", "pending"}}, false));
  auto not_escalated = clear_escalation(calm, std::chrono::system_clock::now(), "x");
  ASSERT_FALSE(not_escalated);
  EXPECT_EQ(not_escalated.error().exit, ExitCode::findings);
  EXPECT_NE(not_escalated.error().message.find("c1 is not escalated"), std::string::npos);

  std::string text =
      workflow({{"smoke", "escalated"}, {"prod", "pending"}}, true, "r", "slurm", "", "escalated");
  text = text.substr(0, text.find("## Lessons learned"));
  auto no_lessons = parsed(text);
  auto failed = clear_escalation(no_lessons, std::chrono::system_clock::now(), "x");
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message.find("Lessons learned"), std::string::npos);
}

TEST(EngineFacts, ClearLessonWithoutAReason) {
  EXPECT_EQ(clear_lesson("2026-05-06", {"smoke", "", true}, "ok"),
            "2026-05-06 smoke: escalation (no reason recorded) cleared: ok");
}

TEST(EngineFacts, ActionPrefixesAndCancelOffer) {
  EXPECT_EQ(kActionPrefix, "cairn:");
  EXPECT_EQ(kAnomalyPrefix, "cairn anomaly:");
  EXPECT_EQ(kCancelPrefix, "cairn cancel:");
  EXPECT_EQ(cancel_offer_prefix("750"), "cairn cancel: job 750 ");
  // Job 75's offer is not a prefix of job 750's item.
  EXPECT_NE(std::string("cairn cancel: job 750 (run): tick this").rfind(cancel_offer_prefix("75"), 0), 0u);
}

TEST(EngineFacts, FormatFailureNote) {
  struct Case {
    std::string job, tasks, nodes, message, want;
  };
  const std::vector<Case> cases = {
      {"41", "3,7", "c07", "DUE TO TIME LIMIT", "job 41: tasks 3,7; nodes c07; DUE TO TIME LIMIT"},
      {"41", "", "", "exit 1", "job 41: exit 1"},
      {"41", "3", "", "oom", "job 41: tasks 3; oom"},
      {"12_3", "", "c[01-03],gpu2", "NODE_FAIL", "job 12_3: nodes c[01-03],gpu2; NODE_FAIL"},
  };
  for (const auto& c : cases) EXPECT_EQ(format_failure_note(c.job, c.tasks, c.nodes, c.message), c.want);
}

TEST(EngineFacts, ParseFailureNote) {
  struct Case {
    std::string text, job, tasks, nodes;
  };
  const std::vector<Case> cases = {
      {"job 41: tasks 3,7; nodes c07; DUE TO TIME LIMIT", "41", "3,7", "c07"},
      {"job 41: nodes c[01-03],gpu2; NODE_FAIL", "41", "", "c[01-03],gpu2"},
      {"job 41: tasks 3; oom", "41", "3", ""},
      {"job 41: exit 1", "41", "", ""},
      // Edited by hand: a field with characters it may not hold reads as empty.
      {"job 41: tasks 3 and 7; nodes c07 ; x", "41", "", ""},
      {"job 41: tasks 3,7; nodes c07 && rm -rf /; x", "41", "3,7", ""},
      {"job 41: tasks ; x", "41", "", ""},
      // A note needs its ';': one that ends the text is not a note.
      {"job 41: tasks 3,7", "41", "", ""},
      {"something else entirely", "", "", ""},
      {"job : tasks 1; x", "", "1", ""},
      {"job 4 1: x", "", "", ""},
      {"", "", "", ""},
  };
  for (const auto& c : cases) {
    const FailureNote n = parse_failure_note(c.text);
    EXPECT_EQ(n.job, c.job) << c.text;
    EXPECT_EQ(n.tasks, c.tasks) << c.text;
    EXPECT_EQ(n.nodes, c.nodes) << c.text;
  }
  // What format writes, parse reads back.
  const FailureNote n = parse_failure_note(format_failure_note("9", "1,2", "gpu[1-2]", "x; y"));
  EXPECT_EQ(n.job, "9");
  EXPECT_EQ(n.tasks, "1,2");
  EXPECT_EQ(n.nodes, "gpu[1-2]");
  // The pool and the web page of an OSMO workflow, read back the same way; a pool a
  // human garbled reads as empty.
  const std::string osmo = format_failure_note(
      FailureNote{"oom-train-1", "", "", "h100-east", "https://osmo.example.com/workflows/oom-train-1"},
      "OOMKilled");
  EXPECT_EQ(
      osmo,
      "job oom-train-1: pool h100-east; link https://osmo.example.com/workflows/oom-train-1; OOMKilled");
  const FailureNote o = parse_failure_note(osmo);
  EXPECT_EQ(o.job, "oom-train-1");
  EXPECT_EQ(o.pool, "h100-east");
  EXPECT_EQ(o.link, "https://osmo.example.com/workflows/oom-train-1");
  EXPECT_EQ(parse_failure_note("job x: pool h100 east; y").pool, "");
}

TEST(EngineFacts, NormalizedRemote) {
  struct Case {
    std::string in, want;
  };
  const std::vector<Case> cases = {
      {"git@github.com:owner/name.git", "github.com/owner/name"},
      {"git@github.com:owner/name", "github.com/owner/name"},
      {"ssh://git@github.com/owner/name.git", "github.com/owner/name"},
      {"ssh://git@github.com:22/owner/name", "github.com/owner/name"},
      {"https://github.com/owner/name", "github.com/owner/name"},
      {"https://github.com/owner/name/", "github.com/owner/name"},
      {"https://github.com/owner/name.git/", "github.com/owner/name"},
      {"http://github.com/owner/name.git", "github.com/owner/name"},
      {"https://x-access-token:ghp_secret@github.com/owner/name.git", "github.com/owner/name"},
      {"https://user@GitHub.COM/Owner/Name.git", "github.com/owner/name"},
      {"git://github.com/owner/name", "github.com/owner/name"},
      {"git+ssh://git@gitlab.example.org:2222/group/sub/name.git", "gitlab.example.org/group/sub/name"},
      {"https://gitlab.example.org//group//name", "gitlab.example.org/group/name"},
      {"  git@github.com:owner/name.git\n", "github.com/owner/name"},
      {"ssh://git@[::1]:22/owner/name", "[::1]/owner/name"},
      // Local paths and file:// URLs keep their case; only the tail goes.
      {"/srv/git/Campaigns.git", "/srv/git/Campaigns"},
      {"/srv/git/Campaigns/", "/srv/git/Campaigns"},
      {"file:///srv/git/Campaigns.git", "/srv/git/Campaigns"},
      {"/home/me/work/campaigns", "/home/me/work/campaigns"},
      {"./rel:dir", "./rel:dir"},
      {"/", "/"},
  };
  for (const auto& c : cases) EXPECT_EQ(normalized_remote(c.in), c.want) << c.in;
}

TEST(EngineFacts, RepoIdIsShortStableAndTheSameForEveryClone) {
  const std::string id = repo_id("git@github.com:owner/name.git", "main");
  ASSERT_EQ(id.size(), 8u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
  for (const char* same : {"ssh://git@github.com/owner/name", "https://github.com/owner/name",
                           "https://token@github.com/Owner/Name.git/"}) {
    EXPECT_EQ(repo_id(same, "main"), id) << same;
  }
  // Another branch, another repository, a path: other ids.
  std::set<std::string> ids{
      id, repo_id("git@github.com:owner/name.git", "prod"), repo_id("git@github.com:owner/other.git", "main"),
      repo_id("git@gitlab.com:owner/name.git", "main"), repo_id("/srv/campaigns", "main")};
  EXPECT_EQ(ids.size(), 5u);
  // Stable across releases and platforms: job names of running jobs depend on it.
  EXPECT_EQ(id, "06c17791");
  EXPECT_EQ(repo_id("", ""), repo_id("", ""));
}

}  // namespace
}  // namespace cairn::engine
