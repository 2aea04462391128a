// The escalation flow over in-memory fakes: what a first run creates, that a second run
// creates nothing, how a merge closes the issue, and that secrets never reach a body.

#include <gtest/gtest.h>

#include <cairn/forge/sync.hpp>

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
                      "step 1\nAuthorization: Bearer ghp_abcdefghijklmnopqrstuvwxyz0123456789\nslurmstepd: DUE TO TIME LIMIT\n",
                      "double the walltime"};
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
  auto after = cleared_text("w.md", before, "smoke");
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_NE(after->find("escalation_required: false\n"), std::string::npos);
  EXPECT_NE(after->find("escalation_reason: \"\"\n"), std::string::npos);
  EXPECT_NE(after->find("\nstatus: ready\n"), std::string::npos);
  EXPECT_NE(after->find("| ready "), std::string::npos);
  // Everything else byte for byte: the failure log, lessons, the other cells.
  EXPECT_NE(after->find("| 2026-11-23 | smoke | walltime-exceeded |"), std::string::npos);
  EXPECT_NE(after->find("| 42    |"), std::string::npos);
  EXPECT_FALSE(cleared_text("w.md", "not a workflow", "smoke"));
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
  EXPECT_EQ(forge.comments[1].back(), "Resumed by #2, merged by @alice.");
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

TEST(ForgeSync, ClosedPullLeavesTheCampaignEscalatedAndSaysSo) {
  MemoryForge forge;
  FakePublisher git;
  ASSERT_FALSE(sync(forge, git, {view(true)}, {}).failed());
  forge.pulls.front().state = PullState::closed;
  const int mutations = forge.mutations;
  auto r = sync(forge, git, {view(true)}, {});
  EXPECT_FALSE(r.failed());
  EXPECT_EQ(forge.mutations, mutations);
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_NE(r.notes.front().find("closed without merging"), std::string::npos);
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

}  // namespace
}  // namespace cairn::forge
