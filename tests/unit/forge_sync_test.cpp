// The escalation flow over in-memory fakes: what a first run creates, that a second run
// creates nothing, how a merge closes the issue, and that secrets never reach a body.

#include <gtest/gtest.h>

#include <optional>

#include <cairn/forge/sync.hpp>
#include <cairn/util/time.hpp>

#include "forge_test_fakes.hpp"

namespace cairn::forge {
namespace {

using testing::FakePublisher;
using testing::MemoryForge;

std::string workflow(bool escalated, bool on_escalate = true) {
  std::string s = R"(---
campaign: c1
project: p
created: 2026-11-23
last_tick: ""
status: STATUS
current_stage: smoke
escalation_required: REQ
escalation_reason: REASON
budget: {backend: local, cap_usd: 0, spent_usd: 0}
notify: {on_advance: false, on_escalate: NOTIFY}
stages:
  smoke: {run: jobs/smoke.sh, resources: {time: "00:30:00"}}
---

# c1

## Stages

| # | Name  | Entry condition | Exit condition | Status    | JobID | Started | Completed | Retries |
|---|-------|-----------------|----------------|-----------|-------|---------|-----------|---------|
| 0 | smoke | always          | exit=0         | CELL | 42    | —       | —         | 2       |

## Action queue

## Failure log

| Date | Stage | Error class | Error msg | Action taken | Result |
|------|-------|-------------|-----------|--------------|--------|
| 2026-11-23 | smoke | walltime-exceeded | job 42: DUE TO TIME LIMIT | escalated | ESCALATED |

## Lessons learned

(none yet)
)";
  auto put = [&](const std::string& key, const std::string& v) { s.replace(s.find(key), key.size(), v); };
  put("STATUS", escalated ? "escalated" : "ready");
  put("REQ", escalated ? "true" : "false");
  put("REASON", escalated ? "\"walltime exceeded twice\"" : "\"\"");
  put("NOTIFY", on_escalate ? "true" : "false");
  put("CELL", escalated ? "escalated" : "ready    ");
  return s;
}

CampaignView view(bool escalated, bool on_escalate = true) {
  return CampaignView{"campaigns/c1/WORKFLOW.md", workflow(escalated, on_escalate),
                      "step 1\nAuthorization: Bearer ghp_abcdefghijklmnopqrstuvwxyz0123456789\nslurmstepd: "
                      "DUE TO TIME LIMIT\n",
                      "double the walltime", std::nullopt};
}

ClearFix walltime_x2() {
  return ClearFix{
      "walltime x2", {{"stages.smoke.resources.time", "01:00:00"}}, "resources.time 00:30:00 -> 01:00:00"};
}

// The comments on issue `n` that contain `text`.
int comments_with(MemoryForge& forge, std::int64_t n, const std::string& text) {
  int found = 0;
  for (const auto& c : forge.comments[n]) found += c.find(text) != std::string::npos ? 1 : 0;
  return found;
}

TEST(ForgeMarker, ParsesAndRejects) {
  auto m = find_marker("text\n<!-- cairn:escalation c1 smoke 3 -->\nmore");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->campaign, "c1");
  EXPECT_EQ(m->stage, "smoke");
  EXPECT_EQ(m->attempt, 3);
  EXPECT_EQ(m->str(), "<!-- cairn:escalation c1 smoke 3 -->");
  EXPECT_FALSE(find_marker("<!-- cairn:escalation c1 smoke -->"));
  EXPECT_FALSE(find_marker("<!-- cairn:escalation c1 smoke 0 -->"));
  EXPECT_FALSE(find_marker("<!-- cairn:escalation c1 smoke 1 extra -->"));
  EXPECT_FALSE(find_marker("no marker"));
  EXPECT_EQ(clear_branch("c1", 2), "cairn/clear/c1/2");
}

TEST(ForgeClearedText, EditsOnlyTheEscalationLines) {
  const std::string before = workflow(true);
  const auto now = *util::parse_time("2026-11-24T08:00:00Z");
  auto after = cleared_text("w.md", before, now, "merged `cairn/clear/c1/1`");
  ASSERT_TRUE(after) << after.error().message;
  // What engine::clear_escalation writes, as `cairn clear` does, and nothing else.
  std::string want = before;
  auto put = [&](const std::string& from, const std::string& to) {
    ASSERT_NE(want.find(from), std::string::npos) << from;
    want.replace(want.find(from), from.size(), to);
  };
  put("status: escalated\n", "status: ready\n");
  put("escalation_required: true\nescalation_reason: \"walltime exceeded twice\"",
      "escalation_required: false\nescalation_reason: \"\"");
  put("| escalated |", "| ready     |");
  put("(none yet)",
      "- 2026-11-24 smoke: escalation (walltime exceeded twice) cleared: merged `cairn/clear/c1/1`");
  EXPECT_EQ(*after, want);
  EXPECT_FALSE(cleared_text("w.md", "not a workflow", now, "x"));
  EXPECT_FALSE(cleared_text("w.md", workflow(false), now, "x"));  // not escalated
}

TEST(ForgeSync, OpensIssueBranchAndPullOnceThenNothing) {
  MemoryForge forge;
  FakePublisher git;
  SyncOptions o;
  o.run_url = "https://ci.example/runs/1";
  auto r = sync(forge, git, {view(true)}, o);
  EXPECT_FALSE(r.failed()) << r.errors.front();
  ASSERT_EQ(forge.issues.size(), 1u);
  ASSERT_EQ(forge.pulls.size(), 1u);
  ASSERT_EQ(git.pushed.size(), 1u);
  const Issue& issue = forge.issues.front();
  EXPECT_NE(issue.title.find("cairn: c1 escalated at smoke — walltime exceeded twice"), std::string::npos);
  EXPECT_NE(issue.body.find("<!-- cairn:escalation c1 smoke 1 -->"), std::string::npos);
  EXPECT_NE(issue.body.find("walltime-exceeded"), std::string::npos);
  EXPECT_NE(issue.body.find("DUE TO TIME LIMIT"), std::string::npos);
  EXPECT_NE(issue.body.find("double the walltime"), std::string::npos);
  EXPECT_NE(issue.body.find("https://ci.example/runs/1"), std::string::npos);
  EXPECT_EQ(issue.body.find("ghp_abcdefghij"), std::string::npos) << issue.body;
  const auto& push = git.pushed.at("cairn/clear/c1/1");
  EXPECT_EQ(push.path, "campaigns/c1/WORKFLOW.md");
  EXPECT_NE(push.content.find("escalation_required: false"), std::string::npos);
  EXPECT_NE(push.message.find("Cairn-Campaign: c1"), std::string::npos);
  EXPECT_EQ(forge.pulls.front().head, "cairn/clear/c1/1");
  EXPECT_EQ(forge.pulls.front().base, "main");
  EXPECT_NE(forge.pulls.front().body.find("Merge to resume **c1**"), std::string::npos);
  EXPECT_NE(forge.pulls.front().body.find("#1"), std::string::npos);
  ASSERT_EQ(forge.comments[1].size(), 1u);  // the issue links the pull request

  const int mutations = forge.mutations;
  auto again = sync(forge, git, {view(true)}, o);
  EXPECT_FALSE(again.failed());
  EXPECT_TRUE(again.actions.empty());
  EXPECT_EQ(forge.mutations, mutations);
  EXPECT_EQ(git.pushed.size(), 1u);
}

// A diagnoser that proposes one file, as an agent would (cli/diagnose runs the real one).
class FakeDiagnoser : public Diagnoser {
 public:
  std::optional<Diagnosis> diagnose(const CampaignView& v, const std::string& stage,
                                    const std::string& cleared) override {
    ++calls;
    seen_stage = stage;
    EXPECT_NE(cleared.find("escalation_required: false"), std::string::npos);
    EXPECT_EQ(v.path, "campaigns/c1/WORKFLOW.md");
    Diagnosis d;
    d.agent = "fixer";
    d.outcome = "proposed changes to 1 file";
    d.explanation = "The script used {{step}}, which is not set: it is {{steps}}.";
    d.kept = {"campaigns/c1/jobs/smoke.sh"};
    d.refused = {".github/workflows/x.yml"};
    d.catalog_row = "| template-var | `undefined: step` | check the variable | — |";
    d.commit = engine::BranchCommit{{{"campaigns/c1/jobs/smoke.sh", "#!/bin/sh\necho ok\n"}},
                                    {},
                                    "c1: diagnosis for smoke [unclassified]\n\nCairn-Diagnosis: fixer\n"};
    return d;
  }
  int calls = 0;
  std::string seen_stage;
};

TEST(ForgeSync, ADiagnosisIsTheBranchsSecondCommitAndShownOnPullAndIssue) {
  MemoryForge forge;
  FakePublisher git;
  FakeDiagnoser agent;
  auto r = sync(forge, git, {view(true)}, SyncOptions{}, &agent);
  EXPECT_FALSE(r.failed()) << r.errors.front();
  EXPECT_EQ(agent.calls, 1);
  EXPECT_EQ(agent.seen_stage, "smoke");
  const auto& push = git.pushed.at("cairn/clear/c1/1");
  ASSERT_EQ(push.commits.size(), 2u);
  EXPECT_EQ(push.commits[1].writes.front().path, "campaigns/c1/jobs/smoke.sh");
  ASSERT_EQ(forge.pulls.size(), 1u);
  const std::string& body = forge.pulls.front().body;
  EXPECT_NE(body.find("### Diagnosis by `fixer`"), std::string::npos) << body;
  EXPECT_NE(body.find("{{steps}}"), std::string::npos);
  EXPECT_NE(body.find("- `campaigns/c1/jobs/smoke.sh`"), std::string::npos);
  EXPECT_NE(body.find("**Refused**"), std::string::npos);
  EXPECT_NE(body.find("| template-var |"), std::string::npos);
  EXPECT_EQ(comments_with(forge, 1, "Diagnosis on `cairn/clear/c1/1`"), 1);
  bool said = false;
  for (const auto& a : r.actions) said = said || a == "c1: diagnosis by fixer: proposed changes to 1 file";
  EXPECT_TRUE(said);

  // The branch exists now: a second run diagnoses nothing and changes nothing.
  const int mutations = forge.mutations;
  sync(forge, git, {view(true)}, SyncOptions{}, &agent);
  EXPECT_EQ(agent.calls, 1);
  EXPECT_EQ(forge.mutations, mutations);
}

TEST(ForgeSync, AnAgentThatProposedNothingStillGetsTheClearBranch) {
  MemoryForge forge;
  FakePublisher git;
  class Timeout : public Diagnoser {
    std::optional<Diagnosis> diagnose(const CampaignView&, const std::string&, const std::string&) override {
      Diagnosis d;
      d.agent = "hang";
      d.outcome = "failed: did not finish within 2s; nothing it changed is kept";
      return d;
    }
  } agent;
  auto r = sync(forge, git, {view(true)}, SyncOptions{}, &agent);
  EXPECT_FALSE(r.failed());
  EXPECT_EQ(git.pushed.at("cairn/clear/c1/1").commits.size(), 1u);
  ASSERT_EQ(forge.pulls.size(), 1u);
  EXPECT_NE(forge.pulls.front().body.find("did not finish within 2s"), std::string::npos);
}

TEST(ForgeSync, MergeClosesTheIssueNamingTheMerger) {
  MemoryForge forge;
  FakePublisher git;
  ASSERT_FALSE(sync(forge, git, {view(true)}, {}).failed());
  forge.pulls.front().state = PullState::merged;
  forge.pulls.front().merged_by = "alice";
  auto r = sync(forge, git, {view(false)}, {});
  EXPECT_FALSE(r.failed());
  EXPECT_FALSE(forge.issues.front().open);
  ASSERT_EQ(forge.comments[1].size(), 2u);
  EXPECT_EQ(forge.comments[1].back().rfind("Resumed by #2, merged by @alice.", 0), 0u)
      << forge.comments[1].back();
  const int mutations = forge.mutations;
  EXPECT_FALSE(sync(forge, git, {view(false)}, {}).failed());
  EXPECT_EQ(forge.mutations, mutations);

  // The next escalation is a new one: issue and branch number 2.
  ASSERT_FALSE(sync(forge, git, {view(true)}, {}).failed());
  EXPECT_EQ(forge.issues.size(), 2u);
  EXPECT_EQ(git.pushed.count("cairn/clear/c1/2"), 1u);
}

TEST(ForgeSync, ClearedOnMainWithoutThePull) {
  MemoryForge forge;
  FakePublisher git;
  ASSERT_FALSE(sync(forge, git, {view(true)}, {}).failed());
  EXPECT_FALSE(sync(forge, git, {view(false)}, {}).failed());
  EXPECT_FALSE(forge.issues.front().open);
  EXPECT_NE(forge.comments[1].back().find("cleared without the pull request #2"), std::string::npos);
}

TEST(ForgeSync, ClosedPullLeavesTheCampaignEscalatedAndSaysSoOnce) {
  MemoryForge forge;
  FakePublisher git;
  ASSERT_FALSE(sync(forge, git, {view(true)}, {}).failed());
  forge.pulls.front().state = PullState::closed;
  const int mutations = forge.mutations;
  auto r = sync(forge, git, {view(true)}, {});
  EXPECT_FALSE(r.failed());
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_NE(r.notes.front().find("closed without merging"), std::string::npos);
  EXPECT_EQ(forge.mutations, mutations + 1);  // the comment, nothing else
  EXPECT_TRUE(forge.issues.front().open);
  EXPECT_EQ(comments_with(forge, 1, "Pull request #2 was closed without merging, so **c1** stays escalated"),
            1);
  EXPECT_EQ(comments_with(forge, 1, "<!-- cairn:pull-closed 2 -->"), 1);
  EXPECT_EQ(git.pushed.size(), 1u);

  auto again = sync(forge, git, {view(true)}, {});
  EXPECT_FALSE(again.failed());
  EXPECT_EQ(forge.mutations, mutations + 1);
  EXPECT_EQ(again.notes.size(), 1u);
}

TEST(ForgeSync, ClearBranchAppliesTheCatalogedFix) {
  MemoryForge forge;
  FakePublisher git;
  CampaignView v = view(true);
  v.fix = walltime_x2();
  ASSERT_FALSE(sync(forge, git, {v}, {}).failed());
  const auto& push = git.pushed.at("cairn/clear/c1/1");
  EXPECT_NE(push.content.find("smoke: {run: jobs/smoke.sh, resources: {time: \"01:00:00\"}}"),
            std::string::npos)
      << push.content;
  EXPECT_NE(push.content.find("escalation_required: false"), std::string::npos);
  EXPECT_NE(
      push.message.find("Apply the catalogued fix \"walltime x2\": resources.time 00:30:00 -> 01:00:00."),
      std::string::npos)
      << push.message;
  // The lesson the merge brings to the base branch says what cleared it.
  EXPECT_NE(
      push.content.find(" smoke: escalation (walltime exceeded twice) cleared: merged `cairn/clear/c1/1`, "
                        "applying the catalogued fix walltime x2 (resources.time 00:30:00 -> 01:00:00)"),
      std::string::npos)
      << push.content;
  const std::string& body = forge.pulls.front().body;
  EXPECT_NE(body.find("applies the catalogued fix `walltime x2`: resources.time 00:30:00 -> 01:00:00"),
            std::string::npos)
      << body;
  EXPECT_EQ(body.find("What to change"), std::string::npos);
  EXPECT_NE(forge.issues.front().body.find("applies the catalogued fix `walltime x2`"), std::string::npos);
}

TEST(ForgeSync, WithoutAnApplicableFixThePullSaysWhatToChange) {
  MemoryForge forge;
  FakePublisher git;
  CampaignView v = view(true);
  v.suggested_fix = "`gpu-oom` (catalog:50): Lower the per-GPU batch size.";
  ASSERT_FALSE(sync(forge, git, {v}, {}).failed());
  const std::string& body = forge.pulls.front().body;
  EXPECT_NE(body.find("no catalogued fix can be applied automatically"), std::string::npos) << body;
  EXPECT_NE(body.find("**What to change:** `gpu-oom` (catalog:50): Lower the per-GPU batch size."),
            std::string::npos);
  EXPECT_NE(git.pushed.at("cairn/clear/c1/1").content.find("time: \"00:30:00\""), std::string::npos);

  MemoryForge forge2;
  FakePublisher git2;
  v.suggested_fix.clear();
  ASSERT_FALSE(sync(forge2, git2, {v}, {}).failed());
  EXPECT_NE(forge2.pulls.front().body.find("change what made `smoke` fail: its spec (`stages.smoke`"),
            std::string::npos)
      << forge2.pulls.front().body;
}

TEST(ForgeSync, LostAnswersAreNeverRepeated) {
  // Each mutation acts on the forge but its answer is lost (a timeout after the server
  // committed): the run fails, and the next run finds what was made instead of making it twice.
  for (const std::string call : {"create_issue", "create_pull", "comment"}) {
    MemoryForge forge;
    FakePublisher git;
    forge.lose_answer.insert(call);
    EXPECT_TRUE(sync(forge, git, {view(true)}, {}).failed()) << call;
    EXPECT_FALSE(sync(forge, git, {view(true)}, {}).failed()) << call;
    EXPECT_EQ(forge.issues.size(), 1u) << call;
    EXPECT_EQ(forge.pulls.size(), 1u) << call;
    EXPECT_EQ(comments_with(forge, 1, "<!-- cairn:pull 2 -->"), 1) << call;
  }
  for (const std::string call : {"comment", "close_issue"}) {
    MemoryForge forge;
    FakePublisher git;
    ASSERT_FALSE(sync(forge, git, {view(true)}, {}).failed());
    forge.pulls.front().state = PullState::merged;
    forge.lose_answer.insert(call);
    EXPECT_TRUE(sync(forge, git, {view(false)}, {}).failed()) << call;
    EXPECT_FALSE(sync(forge, git, {view(false)}, {}).failed()) << call;
    EXPECT_FALSE(forge.issues.front().open);
    EXPECT_EQ(comments_with(forge, 1, "Resumed by #2"), 1) << call;
  }
}

TEST(ForgeSync, NoIssueWhenOnEscalateIsOffButStillAPull) {
  MemoryForge forge;
  FakePublisher git;
  ASSERT_FALSE(sync(forge, git, {view(true, false)}, {}).failed());
  EXPECT_TRUE(forge.issues.empty());
  EXPECT_EQ(forge.pulls.size(), 1u);
  const int mutations = forge.mutations;
  ASSERT_FALSE(sync(forge, git, {view(true, false)}, {}).failed());
  EXPECT_EQ(forge.mutations, mutations);
  EXPECT_EQ(git.pushed.size(), 1u);
}

TEST(ForgeSync, SecretIsScrubbedFromBodies) {
  MemoryForge forge;
  FakePublisher git;
  CampaignView v = view(true);
  v.log_tail = "the token is plain-secret-xyz\n";
  SyncOptions o;
  o.secret = "plain-secret-xyz";
  ASSERT_FALSE(sync(forge, git, {v}, o).failed());
  EXPECT_EQ(forge.issues.front().body.find("plain-secret-xyz"), std::string::npos);
  EXPECT_NE(forge.issues.front().body.find("[REDACTED]"), std::string::npos);
}

// A two-stage campaign with `notify.on_advance` set as given, its first `done` stages
// done, and the campaign done when both are.
CampaignView advancing(int done, bool on_advance = true) {
  std::string s = R"(---
campaign: c2
project: p
created: 2026-11-23
last_tick: ""
status: STATUS
current_stage: CURRENT
escalation_required: false
escalation_reason: ""
budget: {backend: local, cap_usd: 0, spent_usd: 0}
notify: {on_advance: ADVANCE, on_escalate: true}
---

# c2

## Stages

| # | Name  | Entry condition | Exit condition | Status  | JobID | Started | Completed         | Retries |
|---|-------|-----------------|----------------|---------|-------|---------|-------------------|---------|
| 0 | smoke | always          | exit=0         | SMOKE   | 42    | —       | 2026-11-23T10:00Z | 0       |
| 1 | prod  | always          | exit=0         | PROD    | 43    | —       | 2026-11-23T12:00Z | 0       |

## Action queue

## Failure log

| Date | Stage | Error class | Error msg | Action taken | Result |
|------|-------|-------------|-----------|--------------|--------|

## Lessons learned

(none yet)
)";
  auto put = [&](const std::string& key, const std::string& v) { s.replace(s.find(key), key.size(), v); };
  put("STATUS", done >= 2 ? "done" : "running");
  put("CURRENT", done >= 1 ? "prod" : "smoke");
  put("ADVANCE", on_advance ? "true" : "false");
  put("SMOKE", done >= 1 ? "done   " : "running");
  put("PROD ", done >= 2 ? "done   " : done == 1 ? "running" : "pending");
  return CampaignView{"campaigns/c2/WORKFLOW.md", s, "", "", std::nullopt};
}

TEST(ForgeAdvance, CommentsEachDoneStageOnceOnOneIssue) {
  MemoryForge forge;
  FakePublisher git;
  auto r = sync(forge, git, {advancing(1)}, {});
  ASSERT_FALSE(r.failed()) << r.errors.front();
  ASSERT_EQ(forge.issues.size(), 1u);
  const Issue& issue = forge.issues.front();
  EXPECT_EQ(issue.title, "cairn: c2 progress");
  EXPECT_NE(issue.body.find("<!-- cairn:progress c2 -->"), std::string::npos);
  EXPECT_EQ(forge.labels[issue.number], (std::vector<std::string>{"cairn", "progress"}));
  EXPECT_TRUE(issue.open);
  ASSERT_EQ(forge.comments[issue.number].size(), 1u);
  EXPECT_EQ(forge.comments[issue.number].front().rfind("smoke done at 2026-11-23T10:00Z (job 42).", 0), 0u)
      << forge.comments[issue.number].front();
  EXPECT_EQ(comments_with(forge, issue.number, "<!-- cairn:advance c2 smoke -->"), 1);
  EXPECT_TRUE(git.pushed.empty());

  // The same tip again: nothing new.
  const int mutations = forge.mutations;
  auto again = sync(forge, git, {advancing(1)}, {});
  EXPECT_FALSE(again.failed());
  EXPECT_TRUE(again.actions.empty());
  EXPECT_EQ(forge.mutations, mutations);
  EXPECT_EQ(forge.issues.size(), 1u);
}

TEST(ForgeAdvance, ClosedWhenTheCampaignIsDone) {
  MemoryForge forge;
  FakePublisher git;
  ASSERT_FALSE(sync(forge, git, {advancing(1)}, {}).failed());
  auto r = sync(forge, git, {advancing(2)}, {});
  ASSERT_FALSE(r.failed()) << r.errors.front();
  ASSERT_EQ(forge.issues.size(), 1u);
  EXPECT_FALSE(forge.issues.front().open);
  const auto n = forge.issues.front().number;
  ASSERT_EQ(forge.comments[n].size(), 3u);
  EXPECT_EQ(comments_with(forge, n, "<!-- cairn:advance c2 smoke -->"), 1);
  EXPECT_EQ(comments_with(forge, n, "prod done at 2026-11-23T12:00Z (job 43)."), 1);
  EXPECT_EQ(comments_with(forge, n, "c2 is done: all 2 stages complete."), 1);
  // Done and closed: not even a request.
  const int mutations = forge.mutations, gets = forge.gets;
  EXPECT_FALSE(sync(forge, git, {advancing(2)}, {}).failed());
  EXPECT_EQ(forge.mutations, mutations);
  EXPECT_EQ(forge.gets, gets + 2);  // the escalation issues, then the progress issues
}

TEST(ForgeAdvance, LostAnswersAreNeverRepeated) {
  for (const std::string call : {"create_issue", "comment", "close_issue"}) {
    MemoryForge forge;
    FakePublisher git;
    forge.lose_answer.insert(call);
    EXPECT_TRUE(sync(forge, git, {advancing(2)}, {}).failed()) << call;
    EXPECT_FALSE(sync(forge, git, {advancing(2)}, {}).failed()) << call;
    ASSERT_EQ(forge.issues.size(), 1u) << call;
    EXPECT_FALSE(forge.issues.front().open) << call;
    EXPECT_EQ(forge.comments[1].size(), 3u) << call;
  }
}

TEST(ForgeAdvance, OffOrNothingDoneCostsNoRequest) {
  for (const auto& v : {advancing(2, false), advancing(0, true)}) {
    MemoryForge forge;
    FakePublisher git;
    EXPECT_FALSE(sync(forge, git, {v}, {}).failed());
    EXPECT_EQ(forge.mutations, 0);
    EXPECT_EQ(forge.gets, 1);  // the escalation issues, listed for every run
    EXPECT_TRUE(forge.issues.empty());
  }
}

TEST(ForgeAdvance, BesideAnEscalationEachFindsItsOwnIssue) {
  MemoryForge forge;
  FakePublisher git;
  ASSERT_FALSE(sync(forge, git, {view(true), advancing(1)}, {}).failed());
  ASSERT_EQ(forge.issues.size(), 2u);
  const int mutations = forge.mutations;
  ASSERT_FALSE(sync(forge, git, {view(true), advancing(1)}, {}).failed());
  EXPECT_EQ(forge.mutations, mutations);
  EXPECT_EQ(forge.issues.size(), 2u);
}

}  // namespace
}  // namespace cairn::forge
