#include <cairn/parse/workflow_file.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

namespace cairn::parse {
namespace {

namespace fs = std::filesystem;

const fs::path kWorkflows = fs::path(CAIRN_SOURCE_DIR) / "tests/fixtures/workflows";
const fs::path kGolden = fs::path(CAIRN_SOURCE_DIR) / "tests/fixtures/golden";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < s.size()) {
    const std::size_t nl = s.find('\n', pos);
    const std::size_t end = nl == std::string::npos ? s.size() : nl + 1;
    out.push_back(s.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

WorkflowFile parse_ok(const std::string& path, const std::string& text) {
  auto f = WorkflowFile::parse(path, text);
  if (!f) {
    std::string all;
    for (const auto& d : f.error()) all += doc::format(d) + "\n";
    ADD_FAILURE() << "parse failed:\n" << all;
    std::abort();
  }
  return std::move(*f);
}

// ---------------------------------------------------------------------------------
// Lossless round trip over every fixture.

TEST(WorkflowFileLossless, EveryFixtureWritesBackIdentical) {
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(kWorkflows)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".md") continue;
    const std::string rel = fs::relative(entry.path(), kWorkflows).generic_string();
    const std::string text = slurp(entry.path());
    auto f = WorkflowFile::parse(rel, text);
    ASSERT_TRUE(f) << rel << ": " << doc::format(f.error().front());
    EXPECT_EQ(f->text(), text) << rel;
    EXPECT_FALSE(f->workflow().stages.empty()) << rel;
    ++files;
  }
  EXPECT_GE(files, 6);
}

TEST(WorkflowFileLossless, UpstreamTemplateIsCopiedVerbatim) {
  const std::string upstream = "/work/shared/fixtures/upstream/WORKFLOW.namd-ensemble.md";
  const std::string ours = slurp(kWorkflows / "WORKFLOW.namd-ensemble.md");
  if (fs::exists(upstream)) {
    EXPECT_EQ(slurp(upstream), ours);
  }
  const WorkflowFile f = parse_ok("WORKFLOW.namd-ensemble.md", ours);
  EXPECT_EQ(f.text(), ours);
  const doc::Workflow& wf = f.workflow();
  EXPECT_EQ(wf.campaign, "<slug>");
  EXPECT_EQ(wf.title, "<Campaign Title>");
  EXPECT_EQ(wf.status, doc::Status::ready);
  ASSERT_EQ(wf.stages.size(), 9u);
  EXPECT_EQ(wf.stages[8].name, "analysis");
  EXPECT_EQ(wf.stages[2].job_id, "");
  EXPECT_EQ(wf.actions.size(), 7u);
  EXPECT_EQ(wf.budget.backend, "alpine");
  EXPECT_EQ(wf.deploy.at("ssh_host"), "cu_alpine");
  ASSERT_EQ(wf.references.size(), 2u);
  EXPECT_EQ(wf.references[1].section, "");
  EXPECT_TRUE(wf.failures.empty());
  EXPECT_EQ(wf.lessons, "(none yet)");
  // Its prose exit conditions are not machine checkable: reported as warnings. The one
  // error: `current_stage: 0-dry-run` names no stage (a tick goes by the table).
  std::vector<std::string> errors;
  for (const auto& d : f.diagnostics()) {
    if (d.severity == doc::Severity::error) errors.push_back(doc::format(d));
  }
  EXPECT_EQ(errors,
            std::vector<std::string>{"WORKFLOW.namd-ensemble.md:7:16: error: current_stage `0-dry-run` names "
                                     "no row of the `## Stages` table; did you mean `dry-run`?"});
  EXPECT_GT(f.diagnostics().size(), errors.size());
}

TEST(WorkflowFileLossless, PlaceholderCampaignFailsOnlyByTheDirnameRule) {
  const std::string text = slurp(kWorkflows / "WORKFLOW.namd-ensemble.md");
  auto f = WorkflowFile::parse("campaigns/namd/WORKFLOW.md", text);
  ASSERT_FALSE(f);
  // Besides the reported prose clauses and the stray current_stage, the dirname rule is
  // the only error.
  std::vector<doc::Diagnostic> others;
  for (const auto& d : f.error()) {
    if (d.message.find("not machine checkable") == std::string::npos &&
        d.message.find("current_stage") == std::string::npos) {
      others.push_back(d);
    }
  }
  ASSERT_EQ(others.size(), 1u);
  EXPECT_EQ(doc::format(others[0]),
            "campaigns/namd/WORKFLOW.md:2:11: error: campaign `<slug>` must equal the directory name `namd`");
}

// ---------------------------------------------------------------------------------
// What the fixtures read as.

TEST(WorkflowFileRead, SeedSchema) {
  const WorkflowFile f =
      parse_ok("cnt-hydro-300k/WORKFLOW.md", slurp(kWorkflows / "cnt-hydro-300k/WORKFLOW.md"));
  const doc::Workflow& wf = f.workflow();
  EXPECT_EQ(wf.campaign, "cnt-hydro-300k");
  EXPECT_EQ(wf.project, "hydrogenation");
  EXPECT_EQ(wf.created, "2026-05-05");
  EXPECT_EQ(wf.last_tick, "2026-05-05T20:10:00Z");
  EXPECT_EQ(wf.status, doc::Status::running);
  EXPECT_EQ(wf.current_stage, "npt-prod");
  EXPECT_FALSE(wf.escalation_required);
  EXPECT_EQ(wf.escalation_reason, "");
  EXPECT_EQ(wf.budget.backend, "alpine");
  EXPECT_FALSE(wf.notify.on_advance);
  EXPECT_TRUE(wf.notify.on_escalate);
  ASSERT_EQ(wf.references.size(), 2u);
  EXPECT_EQ(wf.references[0].path, "AGENTS.md");
  EXPECT_EQ(wf.references[0].section, "HPC operations");
  EXPECT_EQ(wf.title, "CNT hydrogenation at 300 K");
  ASSERT_EQ(wf.stages.size(), 3u);
  const doc::Stage& smoke = wf.stages[1];
  EXPECT_EQ(smoke.number, "1");
  EXPECT_EQ(smoke.name, "smoke");
  EXPECT_EQ(smoke.entry, "stage 0 done");
  EXPECT_EQ(smoke.exit, "exit=0, restart, no NaN");
  EXPECT_EQ(smoke.status, doc::Status::done);
  EXPECT_EQ(smoke.job_id, "12345678");
  EXPECT_EQ(smoke.started, "2026-05-05");
  EXPECT_EQ(smoke.retries, 1);
  EXPECT_EQ(smoke.line, 33);
  EXPECT_EQ(wf.stages[0].job_id, "");  // `—`
  EXPECT_EQ(wf.stages[2].completed, "");
  EXPECT_EQ(wf.stages[2].status, doc::Status::running);
  ASSERT_EQ(wf.actions.size(), 3u);
  EXPECT_FALSE(wf.actions[0].checked);
  EXPECT_EQ(wf.actions[0].text, "Job 12345700 submitted at 19:55. Re-check status next tick.");
  EXPECT_EQ(wf.actions[0].line, 45);
  ASSERT_EQ(wf.failures.size(), 1u);
  EXPECT_EQ(wf.failures[0].error_class, "velocity-limit");
  EXPECT_EQ(wf.failures[0].action, "minimize 1000 → 10000");
  EXPECT_EQ(wf.failures[0].result, "RESOLVED");
  EXPECT_EQ(wf.lessons.substr(0, 24), "- Minimize for 10000 ste");

  // Prose clauses are reported at their exact line and column, still parsing.
  std::vector<std::string> shown;
  for (const auto& d : f.diagnostics()) shown.push_back(doc::format(d));
  ASSERT_GE(shown.size(), 1u);
  EXPECT_EQ(
      shown[0].rfind(
          "cnt-hydro-300k/WORKFLOW.md:32:51: warning: exit condition not machine checkable: `manifest OK`",
          0),
      0u)
      << shown[0];
}

TEST(WorkflowFileRead, CommentsFlowStyleAndQuoting) {
  const WorkflowFile f =
      parse_ok("yaml-comments-flow/WORKFLOW.md", slurp(kWorkflows / "yaml-comments-flow/WORKFLOW.md"));
  const doc::Workflow& wf = f.workflow();
  EXPECT_EQ(wf.project, "solvation");
  EXPECT_EQ(wf.last_tick, "2026-05-01T08:00:00Z");
  EXPECT_FALSE(wf.escalation_required);  // `no`
  EXPECT_EQ(wf.escalation_reason, "");   // empty value
  EXPECT_EQ(wf.budget.backend, "slurm");
  EXPECT_DOUBLE_EQ(wf.budget.cap_usd, 250.0);
  EXPECT_TRUE(wf.notify.on_advance);
  ASSERT_EQ(wf.references.size(), 2u);
  EXPECT_EQ(wf.references[1].path, "docs/fep.md");
  ASSERT_EQ(wf.stages.size(), 3u);
  EXPECT_EQ(wf.stages[2].entry, "stage lambdas done");
  EXPECT_TRUE(wf.actions.empty());
  EXPECT_EQ(wf.lessons, "(none yet)");
  EXPECT_TRUE(f.diagnostics().empty()) << doc::format(f.diagnostics().front());
}

TEST(WorkflowFileRead, ExtraColumnsUnknownSectionsAndFields) {
  const WorkflowFile f =
      parse_ok("extras-unknown/WORKFLOW.md", slurp(kWorkflows / "extras-unknown/WORKFLOW.md"));
  const doc::Workflow& wf = f.workflow();
  ASSERT_EQ(wf.stages.size(), 2u);
  EXPECT_EQ(wf.stages[0].started, "2026-03-02 09:58Z");
  EXPECT_EQ(wf.stages[0].job_id, "4242");
  EXPECT_EQ(wf.stages[1].name, "freq");
  EXPECT_DOUBLE_EQ(wf.budget.spent_usd, 1.5);
  EXPECT_EQ(wf.deploy.size(), 3u);
  EXPECT_EQ(wf.deploy.at("remote_dir"), "/scratch/catalysis");
  ASSERT_EQ(wf.actions.size(), 2u);
  EXPECT_TRUE(wf.actions[0].checked);
  EXPECT_EQ(wf.actions[0].text, "Check the POTCAR set by hand.");
  EXPECT_EQ(wf.actions[1].text.rfind("cairn: job 4242", 0), 0u);
  EXPECT_EQ(wf.lessons, "- Use ENCUT 520 for Pt.");
}

TEST(WorkflowFileRead, StagesBlockAndCrlfReadTheSame) {
  const WorkflowFile lf = parse_ok("with-stages/WORKFLOW.md", slurp(kWorkflows / "with-stages/WORKFLOW.md"));
  const WorkflowFile crlf =
      parse_ok("crlf-campaign/WORKFLOW.md", slurp(kWorkflows / "crlf-campaign/WORKFLOW.md"));
  ASSERT_EQ(lf.workflow().specs.size(), 2u);
  EXPECT_EQ(lf.workflow().specs[0].name, "smoke");
  EXPECT_EQ(lf.workflow().specs[1].name, "cool-prod-array");
  ASSERT_EQ(crlf.workflow().stages.size(), lf.workflow().stages.size());
  for (std::size_t i = 0; i < lf.workflow().stages.size(); ++i) {
    const auto& a = lf.workflow().stages[i];
    const auto& b = crlf.workflow().stages[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.exit, b.exit);
    EXPECT_EQ(a.retries, b.retries);
    EXPECT_EQ(a.line, b.line);
  }
  ASSERT_EQ(crlf.workflow().actions.size(), 2u);
  EXPECT_EQ(crlf.workflow().actions[1].text, lf.workflow().actions[1].text);
  EXPECT_EQ(crlf.workflow().actions[1].text.find('\r'), std::string::npos);
  EXPECT_EQ(crlf.workflow().lessons, "(none yet)");
  EXPECT_EQ(crlf.workflow().specs.size(), 2u);
}

TEST(WorkflowFileRead, PositionMapsOffsetsToLineAndColumn) {
  const WorkflowFile f = parse_ok("with-stages/WORKFLOW.md", slurp(kWorkflows / "with-stages/WORKFLOW.md"));
  EXPECT_EQ(f.position(0), std::make_pair(1, 1));
  const std::size_t at = f.text().find("project:");
  EXPECT_EQ(f.position(at), std::make_pair(3, 1));
  EXPECT_EQ(f.position(at + 9), std::make_pair(3, 10));
}

// ---------------------------------------------------------------------------------
// Golden files: one before-file, one edit kind, one expected after-file.

struct GoldenCase {
  const char* name;
  const char* before;
  const char* path;  // the path the file is parsed as (the dirname rule applies)
  std::function<void(WorkflowFile&)> edit;
};

void ok(const Expected<void>& r) {
  ASSERT_TRUE(r) << r.error().message;
}

doc::FailureRow failure(std::string date, std::string stage, std::string cls, std::string msg,
                        std::string action, std::string result) {
  return {std::move(date), std::move(stage),  std::move(cls),
          std::move(msg),  std::move(action), std::move(result)};
}

doc::FailureRow tricky_row() {
  return failure("a|b \\ `c|d`", "s\\|t", "`x` | \\\\|",
                 "ZQX-UNKNOWN step 41.0 | OOM | what \\| `a|b` C:\\tmp\\", "set `mem: 8G|16G` \\|\\\\|",
                 "|RETRYING|");
}

const std::vector<GoldenCase>& golden_cases() {
  static const std::vector<GoldenCase> cases = {
      {"set_cell_status", "template", "golden-demo/WORKFLOW.md",
       [](WorkflowFile& f) { ok(f.set_cell("smoke", doc::Column::status, "running")); }},
      {"set_cell_widen", "template", "golden-demo/WORKFLOW.md",
       [](WorkflowFile& f) { ok(f.set_cell("smoke", doc::Column::job_id, "osmo-wf-20260505-abcdef")); }},
      {"set_scalar_block", "template", "golden-demo/WORKFLOW.md",
       [](WorkflowFile& f) {
         ok(f.set_scalar("status", "running"));
         ok(f.set_scalar("budget.spent_usd", "12.50"));
         ok(f.set_scalar("last_tick", "2026-05-05T20:40:00Z"));
         ok(f.set_scalar("stages.production.resources.time", "08:00:00"));
       }},
      {"set_scalar_flow", "flow", "golden-flow/WORKFLOW.md",
       [](WorkflowFile& f) {
         ok(f.set_scalar("budget.spent_usd", "3.25"));
         ok(f.set_scalar("escalation_reason", "walltime exceeded: twice"));
         ok(f.set_scalar("escalation_required", "true"));
         ok(f.set_scalar("stages.smoke.resources.time", "01:00:00"));
         ok(f.set_scalar("stages.smoke.resources.mem", "16G"));
         ok(f.set_scalar("last_tick", "2026-05-05T20:40:00Z"));
       }},
      {"append_failure", "template", "golden-demo/WORKFLOW.md",
       [](WorkflowFile& f) {
         ok(f.append_failure(failure("2026-05-05", "smoke", "walltime-exceeded", "DUE TO TIME LIMIT",
                                     "walltime x2, resubmit", "RETRYING")));
       }},
      {"append_failure_pad", "template", "golden-demo/WORKFLOW.md",
       [](WorkflowFile& f) {
         ok(f.append_failure(failure("05-05", "smoke", "oom", "a | b", "", "FAILED")));
       }},
      // Issue 19, finding 6: `|`, `\`, backticks and `\|` in every column, written once
      // escaped (parse::md::escape_cell) and read back as they were (EscapedCellsRoundTrip).
      {"append_failure_escapes", "template", "golden-demo/WORKFLOW.md",
       [](WorkflowFile& f) { ok(f.append_failure(tricky_row())); }},
      {"append_failure_new_table", "flow", "golden-flow/WORKFLOW.md",
       [](WorkflowFile& f) {
         ok(f.append_failure(
             failure("2026-05-05", "smoke", "node-failure", "NODE_FAIL", "resubmit", "RETRYING")));
       }},
      {"upsert_action_replace", "template", "golden-demo/WORKFLOW.md",
       [](WorkflowFile& f) {
         ok(f.upsert_action("cairn:", "cairn: smoke done at 2026-05-05 20:30Z", true));
       }},
      {"upsert_action_empty", "flow", "golden-flow/WORKFLOW.md",
       [](WorkflowFile& f) {
         ok(f.upsert_action("cairn:", "cairn: job 4242 (smoke) running; next check ≈ 20:40Z", false));
       }},
      {"upsert_action_append", "crlf", "golden-crlf/WORKFLOW.md",
       [](WorkflowFile& f) { ok(f.upsert_action("cairn:", "cairn: job 9 (smoke) submitted", false)); }},
      {"append_lesson_placeholder", "template", "golden-demo/WORKFLOW.md",
       [](WorkflowFile& f) { ok(f.append_lesson("2026-05-05 smoke: walltime x2 was enough.")); }},
      {"append_lesson_append", "flow", "golden-flow/WORKFLOW.md",
       [](WorkflowFile& f) { ok(f.append_lesson("Use 16G for smoke.")); }},
      {"crlf_edits", "crlf", "golden-crlf/WORKFLOW.md",
       [](WorkflowFile& f) {
         ok(f.set_cell("smoke", doc::Column::status, "running"));
         ok(f.set_cell("smoke", doc::Column::job_id, "17"));
         ok(f.set_scalar("status", "running"));
         ok(f.append_failure(failure("2026-05-05", "smoke", "oom", "Killed", "mem x2", "RETRYING")));
       }},
  };
  return cases;
}

class Golden : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(Golden, EditMatchesExpectedBytes) {
  const GoldenCase& c = GetParam();
  const std::string before = slurp(kGolden / (std::string(c.before) + ".before.md"));
  const std::string expected = slurp(kGolden / (std::string(c.name) + ".after.md"));
  ASSERT_FALSE(expected.empty()) << c.name;
  WorkflowFile f = parse_ok(c.path, before);
  ASSERT_EQ(f.text(), before);
  c.edit(f);
  EXPECT_EQ(f.text(), expected) << c.name;
  // The edited text parses again to the same model.
  const WorkflowFile again = parse_ok(c.path, f.text());
  EXPECT_EQ(again.workflow().stages.size(), f.workflow().stages.size());
  EXPECT_EQ(again.workflow().failures.size(), f.workflow().failures.size());
  EXPECT_EQ(again.workflow().actions.size(), f.workflow().actions.size());
}

INSTANTIATE_TEST_SUITE_P(WorkflowFile, Golden, ::testing::ValuesIn(golden_cases()),
                         [](const ::testing::TestParamInfo<GoldenCase>& p) {
                           return std::string(p.param.name);
                         });

TEST(WorkflowFileEdit, EscapedCellsRoundTrip) {
  const std::string before = slurp(kGolden / "template.before.md");
  WorkflowFile f = parse_ok("golden-demo/WORKFLOW.md", before);
  const doc::FailureRow row = tricky_row();
  ok(f.append_failure(row));
  const WorkflowFile again = parse_ok("golden-demo/WORKFLOW.md", f.text());
  ASSERT_FALSE(again.workflow().failures.empty());
  const doc::FailureRow& back = again.workflow().failures.back();
  EXPECT_EQ(back.date, row.date);
  EXPECT_EQ(back.stage, row.stage);
  EXPECT_EQ(back.error_class, row.error_class);
  EXPECT_EQ(back.message, row.message);
  EXPECT_EQ(back.action, row.action);
  EXPECT_EQ(back.result, row.result);
  // A cell rewritten in place (the Result of that row) round-trips too.
  WorkflowFile g = parse_ok("golden-demo/WORKFLOW.md", f.text());
  ok(g.set_failure_result(g.workflow().failures.size() - 1, "RESOLVED | by `x` \\"));
  const WorkflowFile third = parse_ok("golden-demo/WORKFLOW.md", g.text());
  EXPECT_EQ(third.workflow().failures.back().result, "RESOLVED | by `x` \\");
  EXPECT_EQ(third.workflow().failures.back().message, row.message);
}

// A unified diff of before/after has one hunk: the lines between the common prefix
// and suffix. Returns {removed line numbers (1-based), added lines}.
std::pair<std::vector<int>, std::vector<std::string>> hunk(const std::string& a, const std::string& b) {
  const auto x = split_lines(a);
  const auto y = split_lines(b);
  std::size_t p = 0;
  while (p < x.size() && p < y.size() && x[p] == y[p]) ++p;
  std::size_t s = 0;
  while (s < x.size() - p && s < y.size() - p && x[x.size() - 1 - s] == y[y.size() - 1 - s]) ++s;
  std::vector<int> removed;
  for (std::size_t i = p; i < x.size() - s; ++i) removed.push_back(static_cast<int>(i) + 1);
  return {removed, std::vector<std::string>(y.begin() + static_cast<std::ptrdiff_t>(p),
                                            y.end() - static_cast<std::ptrdiff_t>(s))};
}

TEST(WorkflowFileDiff, EachEditTouchesOnlyItsLines) {
  const std::string before = slurp(kGolden / "template.before.md");
  const auto lines = split_lines(before);
  auto line_of = [&](const std::string& needle) {
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (lines[i].find(needle) != std::string::npos) return static_cast<int>(i) + 1;
    }
    return -1;
  };
  {
    WorkflowFile f = parse_ok("golden-demo/WORKFLOW.md", before);
    ok(f.set_cell("production", doc::Column::status, "ready"));
    const auto [removed, added] = hunk(before, f.text());
    EXPECT_EQ(removed, std::vector<int>{line_of("| 1 | production |")});
    ASSERT_EQ(added.size(), 1u);
    EXPECT_EQ(added[0].size(), lines[static_cast<std::size_t>(removed[0] - 1)].size());  // same width
  }
  {
    WorkflowFile f = parse_ok("golden-demo/WORKFLOW.md", before);
    ok(f.set_scalar("budget.spent_usd", "4.00"));
    const auto [removed, added] = hunk(before, f.text());
    EXPECT_EQ(removed, std::vector<int>{line_of("  spent_usd: 0")});
    EXPECT_EQ(added, std::vector<std::string>{"  spent_usd: 4.00\n"});
  }
  {
    WorkflowFile f = parse_ok("golden-demo/WORKFLOW.md", before);
    ok(f.append_failure(failure("2026-05-05", "smoke", "oom", "Killed", "mem x2", "RETRYING")));
    const auto [removed, added] = hunk(before, f.text());
    EXPECT_TRUE(removed.empty());
    ASSERT_EQ(added.size(), 1u);
    EXPECT_EQ(added[0].rfind("| 2026-05-05 | smoke |", 0), 0u);
  }
  {
    WorkflowFile f = parse_ok("golden-demo/WORKFLOW.md", before);
    ok(f.upsert_action("cairn:", "cairn: next", false));
    const auto [removed, added] = hunk(before, f.text());
    EXPECT_EQ(removed, std::vector<int>{line_of("- [ ] cairn: job 17")});
    EXPECT_EQ(added, std::vector<std::string>{"- [ ] cairn: next\n"});
  }
}

// ---------------------------------------------------------------------------------
// Edits keep workflow() in sync and refuse what they must.

const char* kSmall =
    "---\n"
    "campaign: demo\n"
    "status: pending\n"
    "escalation_reason: \"\"\n"
    "budget: {backend: local, spent_usd: 0}\n"
    "---\n"
    "\n"
    "# Demo\n"
    "\n"
    "## Stages\n"
    "\n"
    "| # | Name | Entry condition | Exit condition | Status | JobID | Started | Completed | Retries |\n"
    "|---|------|-----------------|----------------|--------|-------|---------|-----------|---------|\n"
    "| 0 | smoke | always | exit=0 | pending | — | — | — | 0 |\n"
    "| 1 | prod | stage 0 done | exit=0 | pending | — | — | — | 0 |\n"
    "\n"
    "## Action queue\n"
    "\n"
    "- [ ] Human says: cairn: do not touch me.\n"
    "\n"
    "## Lessons learned\n";

TEST(WorkflowFileEdit, WorkflowStaysInSync) {
  WorkflowFile f = parse_ok("demo/WORKFLOW.md", kSmall);
  ok(f.set_cell("smoke", doc::Column::status, "running"));
  ok(f.set_cell("smoke", doc::Column::job_id, "77"));
  ok(f.set_cell("smoke", doc::Column::retries, "1"));
  ok(f.set_scalar("status", "running"));
  ok(f.set_scalar("budget.spent_usd", "1.25"));
  const doc::Workflow& wf = f.workflow();
  EXPECT_EQ(wf.stages[0].status, doc::Status::running);
  EXPECT_EQ(wf.stages[0].job_id, "77");
  EXPECT_EQ(wf.stages[0].retries, 1);
  EXPECT_EQ(wf.status, doc::Status::running);
  EXPECT_DOUBLE_EQ(wf.budget.spent_usd, 1.25);
  // Narrow cells (`| — |`) widen just that cell.
  EXPECT_NE(f.text().find("| 0 | smoke | always | exit=0 | running | 77 | — | — | 1 |\n"), std::string::npos);
  // Clearing writes the empty marker.
  ok(f.set_cell("smoke", doc::Column::job_id, ""));
  EXPECT_EQ(f.workflow().stages[0].job_id, "");
  EXPECT_NE(f.text().find("| running | —  |"), std::string::npos);
}

TEST(WorkflowFileEdit, ScalarsAreQuotedWhenYamlNeedsIt) {
  WorkflowFile f = parse_ok("demo/WORKFLOW.md", kSmall);
  ok(f.set_scalar("escalation_reason", "say \"hi\" \\ bye"));
  EXPECT_NE(f.text().find("escalation_reason: \"say \\\"hi\\\" \\\\ bye\"\n"), std::string::npos);
  EXPECT_EQ(f.workflow().escalation_reason, "say \"hi\" \\ bye");
  ok(f.set_scalar("budget.backend", "a, b"));  // flow context: `,` needs quotes
  EXPECT_NE(f.text().find("budget: {backend: \"a, b\", spent_usd: 0}"), std::string::npos);
  EXPECT_EQ(f.workflow().budget.backend, "a, b");
}

TEST(WorkflowFileEdit, AnAbsentTopLevelKeyIsAddedAsTheLastFrontmatterLine) {
  WorkflowFile f = parse_ok("demo/WORKFLOW.md", kSmall);
  ASSERT_EQ(f.text().find("paused:"), std::string::npos);
  EXPECT_FALSE(f.set_scalar("paused", "true"));  // set_scalar never invents keys
  ok(f.set_optional_scalar("paused", "true"));
  EXPECT_TRUE(f.workflow().paused);
  EXPECT_NE(f.text().find("\npaused: true\n---\n"), std::string::npos) << f.text();
  ok(f.set_optional_scalar("paused", "false"));  // now present: edited in place
  EXPECT_FALSE(f.workflow().paused);
  EXPECT_EQ(f.text().find("paused: true"), std::string::npos);
  // Nested keys are never invented: a fix cannot create `stages.x.resources.mem`.
  EXPECT_FALSE(f.set_optional_scalar("budget.no_such_key", "1"));
}

TEST(WorkflowFileEdit, UpsertNeverTouchesHumanItems) {
  WorkflowFile f = parse_ok("demo/WORKFLOW.md", kSmall);
  ok(f.upsert_action("cairn:", "cairn: one", false));
  ok(f.upsert_action("cairn:", "cairn: two", true));
  ASSERT_EQ(f.workflow().actions.size(), 2u);
  EXPECT_EQ(f.workflow().actions[0].text, "Human says: cairn: do not touch me.");
  EXPECT_EQ(f.workflow().actions[1].text, "cairn: two");
  EXPECT_TRUE(f.workflow().actions[1].checked);
  EXPECT_NE(f.text().find("- [ ] Human says: cairn: do not touch me.\n- [x] cairn: two\n"),
            std::string::npos);
}

TEST(WorkflowFileEdit, AppendLessonToAnEmptySection) {
  WorkflowFile f = parse_ok("demo/WORKFLOW.md", kSmall);
  ok(f.append_lesson("first"));
  ok(f.append_lesson("second"));
  const std::string tail = "## Lessons learned\n\n- first\n- second\n";
  ASSERT_GE(f.text().size(), tail.size());
  EXPECT_EQ(f.text().substr(f.text().size() - tail.size()), tail);
}

struct RefusedEdit {
  const char* name;
  std::function<Expected<void>(WorkflowFile&)> edit;
  const char* message;
};

TEST(WorkflowFileEdit, RefusedEditsChangeNothing) {
  const std::vector<RefusedEdit> cases = {
      {"unknown stage", [](WorkflowFile& f) { return f.set_cell("nope", doc::Column::status, "done"); },
       "no stage `nope`"},
      {"pipe in cell", [](WorkflowFile& f) { return f.set_cell("smoke", doc::Column::job_id, "a|b"); },
       "`|`"},
      {"newline in cell", [](WorkflowFile& f) { return f.set_cell("smoke", doc::Column::job_id, "a\nb"); },
       "line break"},
      {"bad status", [](WorkflowFile& f) { return f.set_cell("smoke", doc::Column::status, "finished"); },
       "unknown Status `finished`"},
      {"duplicate name", [](WorkflowFile& f) { return f.set_cell("prod", doc::Column::name, "smoke"); },
       "duplicate stage name"},
      {"absent key", [](WorkflowFile& f) { return f.set_scalar("project", "x"); }, "`project` is absent"},
      {"absent nested", [](WorkflowFile& f) { return f.set_scalar("budget.cap_usd", "1"); }, "absent"},
      {"not a scalar", [](WorkflowFile& f) { return f.set_scalar("budget", "1"); }, "not a scalar"},
      {"bad status scalar", [](WorkflowFile& f) { return f.set_scalar("status", "finished"); },
       "unknown status"},
      {"no failure log", [](WorkflowFile& f) { return f.append_failure({}); }, "no `## Failure log`"},
  };
  for (const auto& c : cases) {
    WorkflowFile f = parse_ok("demo/WORKFLOW.md", kSmall);
    const auto r = c.edit(f);
    ASSERT_FALSE(r) << c.name;
    EXPECT_NE(r.error().message.find(c.message), std::string::npos) << c.name << ": " << r.error().message;
    EXPECT_EQ(f.text(), kSmall) << c.name;
    EXPECT_EQ(f.workflow().stages[1].name, "prod") << c.name;
  }
}

TEST(WorkflowFileEdit, MissingSectionsFail) {
  std::string text = kSmall;
  text = text.substr(0, text.find("## Action queue"));
  WorkflowFile f = parse_ok("demo/WORKFLOW.md", text);
  EXPECT_FALSE(f.upsert_action("cairn:", "cairn: x", false));
  EXPECT_FALSE(f.append_lesson("x"));
  EXPECT_EQ(f.text(), text);
}

// ---------------------------------------------------------------------------------
// Bad input: one diagnostic with path:line:col; parse() fails.

std::string replaced(std::string s, const std::string& from, const std::string& to) {
  const std::size_t at = s.find(from);
  if (at == std::string::npos) {
    ADD_FAILURE() << "fixture lacks " << from;
    return s;
  }
  return s.replace(at, from.size(), to);
}

struct BadCase {
  const char* name;
  std::string text;
  const char* path;
  const char* prefix;    // exact start of the formatted first diagnostic
  const char* contains;  // and a piece of its message
};

std::vector<BadCase> bad_cases() {
  const std::string ok_text = kSmall;
  std::string big = ok_text + std::string(kMaxWorkflowBytes, 'x');
  return {
      {"no frontmatter", "# Title\n\n## Stages\n", "demo/WORKFLOW.md",
       "demo/WORKFLOW.md:1:1: error: ", "no frontmatter"},
      {"unterminated frontmatter", "---\ncampaign: demo\n\n# Title\n", "demo/WORKFLOW.md",
       "demo/WORKFLOW.md:1:1: error: ", "unterminated frontmatter"},
      {"invalid yaml", replaced(ok_text, "status: pending", "status: running: bad"), "demo/WORKFLOW.md",
       "demo/WORKFLOW.md:3:16: error: ", "invalid YAML"},
      {"campaign != dirname", ok_text, "campaigns/other/WORKFLOW.md",
       "campaigns/other/WORKFLOW.md:2:11: error: ", "must equal the directory name `other`"},
      {"no campaign", replaced(ok_text, "campaign: demo\n", ""), "demo/WORKFLOW.md",
       "demo/WORKFLOW.md:1:1: error: ", "no `campaign:`"},
      {"missing stages section", replaced(ok_text, "## Stages", "## Stage list"), "demo/WORKFLOW.md",
       "demo/WORKFLOW.md:7:1: error: ", "missing `## Stages`"},
      {"stages without table", ok_text.substr(0, ok_text.find("| # |")) + "No table here.\n",
       "demo/WORKFLOW.md", "demo/WORKFLOW.md:10:1: error: ", "has no table"},
      {"wrong column",
       replaced(replaced(ok_text, "| Entry condition |", "| Entry |"), "|-----------------|", "|---|"),
       "demo/WORKFLOW.md",
       "demo/WORKFLOW.md:12:14: error: ", "column 3 is `Entry`, expected `Entry condition`"},
      {"missing column",
       replaced(replaced(ok_text, " Retries |\n", "\n"), "-----------|---------|\n", "-----------|\n"),
       "demo/WORKFLOW.md", "demo/WORKFLOW.md:12:", "missing column(s) Retries"},
      {"duplicate name", replaced(ok_text, "| 1 | prod |", "| 1 | smoke |"), "demo/WORKFLOW.md",
       "demo/WORKFLOW.md:15:7: error: ", "duplicate stage name `smoke` (also on line 14)"},
      {"duplicate number", replaced(ok_text, "| 1 | prod |", "| 0 | prod |"), "demo/WORKFLOW.md",
       "demo/WORKFLOW.md:15:3: error: ", "duplicate stage number `0`"},
      {"unknown status",
       replaced(ok_text, "| exit=0 | pending | — | — | — | 0 |\n| 1",
                "| exit=0 | runing | — | — | — | 0 |\n| 1"),
       "demo/WORKFLOW.md", "demo/WORKFLOW.md:14:33: error: ",
       "unknown Status `runing` (allowed: pending, ready, running, done, failed, escalated)"},
      {"spec names no row", replaced(ok_text, "budget:", "stages:\n  smokey:\n    run: jobs/s.sh\nbudget:"),
       "demo/WORKFLOW.md", "demo/WORKFLOW.md:6:3: error: ", "stages.smokey names no row"},
      {"oversize", big, "demo/WORKFLOW.md",
       "demo/WORKFLOW.md:1:1: error: ", "over the 1048576 byte (1 MiB) limit"},
      {"invalid utf-8", replaced(ok_text, "# Demo", "# De\xC3\x28mo"), "demo/WORKFLOW.md",
       "demo/WORKFLOW.md:8:5: error: ", "invalid UTF-8"},
      // cmark ends a line at a lone CR and LineIndex does not: the fuzzer found a Failure-log
      // table whose rows were read from the wrong lines (tests/fuzz/regressions/workflow/lone-cr).
      {"lone carriage return", replaced(ok_text, "# Demo", "# De\rmo"), "demo/WORKFLOW.md",
       "demo/WORKFLOW.md:8:5: error: ", "a carriage return without a line feed"},
      {"alias bomb",
       replaced(
           ok_text, "status: pending\n",
           "status: pending\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
           "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"),
       "demo/WORKFLOW.md", "demo/WORKFLOW.md:4:4: error: ", "anchors are not allowed"},
      {"alias only", replaced(ok_text, "status: pending\n", "status: pending\nx: *nowhere\n"),
       "demo/WORKFLOW.md", "demo/WORKFLOW.md:4:", "YAML"},
      {"bad frontmatter status", replaced(ok_text, "status: pending", "status: <enum>"), "demo/WORKFLOW.md",
       "demo/WORKFLOW.md:3:9: error: ", "unknown status `<enum>`"},
      {"bad retries", replaced(ok_text, "| — | 0 |\n| 1", "| — | two |\n| 1"), "demo/WORKFLOW.md",
       "demo/WORKFLOW.md:14:", "Retries `two` is not a count"},
      // yaml-cpp 0.7 never consumes a leading `,` and its event loop restarted forever
      // (issue 19, finding 1): minimised, and in a real file with a glob in `run:`.
      {"leading comma and anchor", "---\n,&\n---\n", "demo/WORKFLOW.md",
       "demo/WORKFLOW.md:2:1: error: ", "invalid YAML"},
      {"leading comma before a glob",
       replaced(ok_text, "campaign: demo\n", ",campaign: demo\nrun: jobs/*.sh\n"), "demo/WORKFLOW.md",
       "demo/WORKFLOW.md:2:1: error: ", "invalid YAML"},
  };
}

TEST(WorkflowFileBadInput, EachFailsWithOneLocatedDiagnostic) {
  for (const auto& c : bad_cases()) {
    auto f = WorkflowFile::parse(c.path, c.text);
    ASSERT_FALSE(f) << c.name;
    ASSERT_FALSE(f.error().empty()) << c.name;
    const std::string shown = doc::format(f.error().front());
    EXPECT_EQ(shown.rfind(c.prefix, 0), 0u) << c.name << ": " << shown;
    EXPECT_NE(shown.find(c.contains), std::string::npos) << c.name << ": " << shown;
    EXPECT_EQ(shown.find('\n'), std::string::npos) << c.name;
    EXPECT_EQ(f.error().front().severity, doc::Severity::error);
  }
}

TEST(WorkflowFileBadInput, DirnameRuleNeedsARealParentDirectory) {
  for (const char* path : {"WORKFLOW.md", "./WORKFLOW.md"}) {
    EXPECT_TRUE(WorkflowFile::parse(path, kSmall)) << path;
  }
  EXPECT_TRUE(WorkflowFile::parse("/abs/repo/demo/WORKFLOW.md", kSmall));
  EXPECT_FALSE(WorkflowFile::parse("/abs/repo/demo2/WORKFLOW.md", kSmall));
}

TEST(WorkflowFileBadInput, UncheckableClausesAreLocatedWarnings) {
  const std::string text =
      replaced(kSmall, "| stage 0 done | exit=0 |", "| stage 0 done | exit=0, looks fine |");
  auto f = WorkflowFile::parse("demo/WORKFLOW.md", text);
  ASSERT_TRUE(f);
  ASSERT_EQ(f->diagnostics().size(), 1u);
  const doc::Diagnostic& d = f->diagnostics()[0];
  EXPECT_EQ(d.severity, doc::Severity::warning);
  EXPECT_EQ(d.line, 15);
  // `| 1 | prod | stage 0 done | exit=0, ` is 36 bytes: the clause starts at column 37.
  EXPECT_EQ(d.column, 37);
  EXPECT_NE(d.message.find("`looks fine`"), std::string::npos) << d.message;
  ASSERT_EQ(f->workflow().stages[1].exit_condition.uncheckable.size(), 1u);
}

TEST(WorkflowFileBadInput, EmptyAndWeirdInputsDoNotCrash) {
  for (const std::string& text :
       {std::string(), std::string("---"), std::string("---\n---\n"), std::string("---\n- a\n---\n"),
        std::string("---\ncampaign: demo\n---\n## Stages\n|\n"), std::string("---\ncampaign: [\n---\n"),
        std::string("\xEF\xBB\xBF---\ncampaign: demo\n---\n"),
        std::string("---\r\ncampaign: demo\r\n---\r\n")}) {
    auto f = WorkflowFile::parse("demo/WORKFLOW.md", text);
    EXPECT_FALSE(f);
  }
}

}  // namespace
}  // namespace cairn::parse

namespace cairn::parse {
namespace {

TEST(PeekSchedule, ReadsTheUpkeepFieldsAndTheCurrentStagesExpect) {
  const std::string text =
      "---\ncampaign: c1\nstatus: running   # upkeep\ncurrent_stage: prod\nlast_tick: 2026-05-05T20:10:00Z\n"
      "escalation_required: false\nstages:\n  smoke: {run: a.sh, expect: 10m}\n  prod:\n    run: b.sh\n"
      "    resources: {time: \"12:00:00\"}\n---\n# body is not read\n";
  const auto s = peek_schedule(text);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->campaign, "c1");
  EXPECT_EQ(s->status, doc::Status::running);
  EXPECT_EQ(s->current_stage, "prod");
  EXPECT_EQ(s->last_tick, "2026-05-05T20:10:00Z");
  EXPECT_FALSE(s->escalation_required);
  EXPECT_EQ(s->expect_seconds, 12 * 3600);  // no expect: its walltime
}

TEST(PeekSchedule, DeclinesWhatItCannotReadSoTheCallerParsesInFull) {
  for (const char* text : {"no frontmatter\n", "---\ncampaign: c\nstatus: bogus\n---\n", "---\ncampaign: c\n",
                           "---\nstatus: &a running\n---\n",
                           "---\ncampaign: c\nstatus: done\nescalation_required: maybe\n---\n"}) {
    EXPECT_FALSE(peek_schedule(text)) << text;
  }
}

// A Learnings table from before its Pool failures column: a row with a pool record adds
// the column to the header and rule (the rows before it keep their bytes and read as
// empty there); a row without one leaves the table as it is. A new table has the column.
TEST(WorkflowFileLearnings, PoolFailuresWidensAnOlderTableOnlyWhenARowHasOne) {
  const std::string head =
      "---\ncampaign: demo\nstatus: running\ncurrent_stage: a\nlast_tick: \"\"\nescalation_required: "
      "false\n---\n\n## Stages\n\n| # | Name | Entry condition | Exit condition | Status | JobID | Started | "
      "Completed | Retries |\n|---|---|---|---|---|---|---|---|---|\n| 0 | a | always | exit=0 | running | 7 "
      "| — "
      "| — | 0 |\n\n";
  const std::string old_table =
      "## Learnings\n\n| Date | Stage | Backend | Pool / partition | Queue wait | Run time | Resources | Job "
      "|\n"
      "|---|---|---|---|---|---|---|---|\n| 2026-05-04 | a | osmo | h100-east | 1m | 9m | gpus=4 | wf-1 |\n";
  auto f = WorkflowFile::parse("demo/WORKFLOW.md", head + old_table);
  ASSERT_TRUE(f);
  doc::LearningRow row{"2026-05-05", "a", "osmo", "h100-east", "2m", "10m", "gpus=4", "wf-2"};
  auto plain = *f;
  ASSERT_TRUE(plain.append_learning(row));
  EXPECT_EQ(plain.text().find("Pool failures"), std::string::npos);
  EXPECT_NE(plain.text().find(
                "| 2026-05-05 | a     | osmo    | h100-east        | 2m         | 10m      | gpus=4    "
                "| wf-2 |\n"),
            std::string::npos)
      << plain.text();

  row.pool_failures = "1 failure in 3 runs";
  ASSERT_TRUE(f->append_learning(row));
  const std::string& t = f->text();
  EXPECT_NE(
      t.find("| Date | Stage | Backend | Pool / partition | Queue wait | Run time | Resources | Job | Pool "
             "failures |\n|---|---|---|---|---|---|---|---|---------------|\n| 2026-05-04 | a | osmo | "
             "h100-east "
             "| 1m | 9m | gpus=4 | wf-1 |\n"),
      std::string::npos)
      << t;
  auto back = WorkflowFile::parse("demo/WORKFLOW.md", t);
  ASSERT_TRUE(back);
  ASSERT_EQ(back->workflow().learnings.size(), 2u);
  EXPECT_EQ(back->workflow().learnings[0].pool_failures, "");
  EXPECT_EQ(back->workflow().learnings[1].pool_failures, "1 failure in 3 runs");
  EXPECT_EQ(back->workflow().learnings[1].job, "wf-2");

  auto fresh = WorkflowFile::parse("demo/WORKFLOW.md", head);
  ASSERT_TRUE(fresh);
  ASSERT_TRUE(fresh->append_learning(row));
  auto again = WorkflowFile::parse("demo/WORKFLOW.md", fresh->text());
  ASSERT_TRUE(again);
  ASSERT_EQ(again->workflow().learnings.size(), 1u);
  EXPECT_EQ(again->workflow().learnings[0].pool_failures, "1 failure in 3 runs");
}

TEST(WorkflowFileUpkeep, WarnsWhenStatusWouldDelayWaitingWork) {
  const std::string text =
      "---\ncampaign: demo\nstatus: done\ncurrent_stage: a\nlast_tick: \"\"\nescalation_required: "
      "false\n---\n\n"
      "## Stages\n\n| # | Name | Entry condition | Exit condition | Status | JobID | Started | Completed | "
      "Retries |\n"
      "|---|---|---|---|---|---|---|---|---|\n| 0 | a | always | exit=0 | ready | — | — | — | 0 |\n";
  auto f = WorkflowFile::parse("demo/WORKFLOW.md", text);
  ASSERT_TRUE(f);
  ASSERT_EQ(f->diagnostics().size(), 1u);
  EXPECT_EQ(f->diagnostics()[0].line, 3);
  EXPECT_EQ(f->diagnostics()[0].severity, doc::Severity::warning);
  EXPECT_NE(f->diagnostics()[0].message.find("write `status: ready`"), std::string::npos);
  // `status: ready` over a pending first stage (as hand-written templates have it) is fine.
  std::string fresh = text;
  fresh.replace(fresh.find("status: done"), 12, "status: ready");
  fresh.replace(fresh.find("| ready |"), 9, "| pending |");
  auto g = WorkflowFile::parse("demo/WORKFLOW.md", fresh);
  ASSERT_TRUE(g);
  EXPECT_TRUE(g->diagnostics().empty()) << doc::format(g->diagnostics().front());
}

}  // namespace
}  // namespace cairn::parse

namespace cairn::parse {
namespace {

// ---------------------------------------------------------------------------------
// Batches: WorkflowFile::apply gives the bytes of the same edits made one by one.

// `edits` one by one through the single-edit calls (the reference).
Expected<void> one_by_one(WorkflowFile& f, const std::vector<Edit>& edits) {
  for (const Edit& e : edits) {
    Expected<void> r = std::visit(
        [&](const auto& x) -> Expected<void> {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, edit::Scalar>) {
            auto done = x.optional_key ? f.set_optional_scalar(x.key, x.value) : f.set_scalar(x.key, x.value);
            return !done && x.best_effort ? Expected<void>() : done;
          } else if constexpr (std::is_same_v<T, edit::Cell>) {
            return f.set_cell(x.stage, x.column, x.value);
          } else if constexpr (std::is_same_v<T, edit::Failure>) {
            return f.append_failure(x.row);
          } else if constexpr (std::is_same_v<T, edit::FailureResult>) {
            return f.set_failure_result(x.row, x.result);
          } else if constexpr (std::is_same_v<T, edit::Learning>) {
            return f.append_learning(x.row);
          } else if constexpr (std::is_same_v<T, edit::Action>) {
            return f.upsert_action(x.prefix, x.text, x.checked);
          } else {
            return f.append_lesson(x.text);
          }
        },
        e);
    if (!r) return r;
  }
  return {};
}

doc::LearningRow learning_row(std::string stage) {
  return {"2026-05-05", std::move(stage), "slurm", "gpu", "3m", "1h 02m", "4 cpu, 8G", "4242"};
}

// Edits a transition writes, and edits that interact (the same cell twice, a value set
// and set back, an item the batch appends and then rewrites, a section it creates and
// appends to again, two lessons on a placeholder).
std::vector<std::pair<std::string, std::vector<Edit>>> batch_cases() {
  const auto fail_row = failure("2026-05-05", "smoke", "oom", "Killed", "mem x2", "RETRYING");
  return {
      {"submit",
       {edit::Scalar{"status", "running"}, edit::Cell{"smoke", doc::Column::status, "running"},
        edit::Cell{"smoke", doc::Column::job_id, "cairn.r.c.smoke.1"},
        edit::Cell{"smoke", doc::Column::started, "2026-05-05 20:00Z"},
        edit::Action{"cairn:", "cairn: submitting cairn.r.c.smoke.1 since 2026-05-05 20:00Z", false},
        edit::Scalar{"last_tick", "2026-05-05T20:00:00Z", false, true}}},
      {"fail_and_retry",
       {edit::Cell{"smoke", doc::Column::status, "ready"}, edit::Cell{"smoke", doc::Column::retries, "1"},
        edit::Failure{fail_row}, edit::Failure{failure("05-05", "smoke", "x", "a | b", "", "FAILED")},
        edit::Action{"cairn:", "cairn: retrying smoke", false},
        edit::Action{"other:", "other: second item", true}}},
      {"done_with_everything",
       {edit::Scalar{"status", "done"}, edit::Scalar{"paused", "false", true},
        edit::Cell{"smoke", doc::Column::status, "done"},
        edit::Cell{"smoke", doc::Column::completed, "2026-05-05"}, edit::FailureResult{0, "RESOLVED"},
        edit::Lesson{"2026-05-05 smoke: mem x2 was enough."}, edit::Learning{learning_row("smoke")},
        edit::Action{"cairn:", "cairn: campaign done", true}}},
      {"same_cell_twice",
       {edit::Cell{"smoke", doc::Column::job_id, "osmo-wf-20260505-abcdef-long"},
        edit::Cell{"smoke", doc::Column::job_id, "7"}}},
      {"set_and_set_back",
       {edit::Scalar{"status", "running"}, edit::Cell{"smoke", doc::Column::status, "running"},
        edit::Scalar{"status", "ready"}}},
      {"append_then_rewrite_item",
       {edit::Action{"zz:", "zz: one", false}, edit::Action{"zz:", "zz: two", true}}},
      {"new_table_twice",
       {edit::Failure{fail_row}, edit::Failure{fail_row}, edit::FailureResult{0, "RESOLVED"}}},
      {"two_lessons",
       {edit::Lesson{"first lesson"}, edit::Lesson{"second lesson"}, edit::Learning{learning_row("a")}}},
      {"two_learnings", {edit::Learning{learning_row("a")}, edit::Learning{learning_row("b")}}},
      {"optional_key_twice", {edit::Scalar{"paused", "true", true}, edit::Scalar{"paused", "false", true}}},
      {"best_effort_skips",
       {edit::Scalar{"no_such_key", "x", false, true}, edit::Scalar{"last_tick", "now"}}},
  };
}

TEST(WorkflowFileBatch, SameBytesAsOneByOne) {
  for (const char* before : {"template", "flow", "crlf"}) {
    const std::string text = slurp(kGolden / (std::string(before) + ".before.md"));
    const std::string path =
        std::string("golden-") + (std::string(before) == "template" ? "demo" : before) + "/WORKFLOW.md";
    for (const auto& [name, edits] : batch_cases()) {
      WorkflowFile a = parse_ok(path, text);
      WorkflowFile b = parse_ok(path, text);
      const auto ra = one_by_one(a, edits);
      const auto rb = b.apply(edits);
      ASSERT_EQ(static_cast<bool>(ra), static_cast<bool>(rb)) << before << " " << name;
      if (!ra) continue;
      EXPECT_EQ(b.text(), a.text()) << before << " " << name;
      EXPECT_EQ(b.workflow().failures.size(), a.workflow().failures.size());
      EXPECT_EQ(b.workflow().actions.size(), a.workflow().actions.size());
    }
  }
}

// Every subset (in order) of a pool of edits, on each golden file: the batch never
// differs from the one-by-one edits, whichever edits meet in one transition.
TEST(WorkflowFileBatch, EverySubsetOfAPoolMatchesOneByOne) {
  const std::vector<Edit> pool = {
      edit::Scalar{"status", "failed"},
      edit::Cell{"smoke", doc::Column::status, "failed"},
      edit::Cell{"smoke", doc::Column::job_id, "4242"},
      edit::Failure{failure("2026-05-05", "smoke", "oom", "Killed", "mem x2", "RETRYING")},
      edit::FailureResult{0, "RESOLVED"},
      edit::Lesson{"a lesson"},
      edit::Learning{learning_row("smoke")},
      edit::Action{"cairn:", "cairn: job 4242 failed", false},
      edit::Action{"new:", "new: item", false},
      edit::Scalar{"paused", "true", true},
  };
  int compared = 0;
  for (const char* before : {"template", "flow", "crlf"}) {
    const std::string text = slurp(kGolden / (std::string(before) + ".before.md"));
    const std::string path =
        std::string("golden-") + (std::string(before) == "template" ? "demo" : before) + "/WORKFLOW.md";
    const WorkflowFile parsed = parse_ok(path, text);
    for (unsigned mask = 1; mask < (1U << pool.size()); ++mask) {
      std::vector<Edit> edits;
      for (std::size_t i = 0; i < pool.size(); ++i) {
        if ((mask & (1U << i)) != 0) edits.push_back(pool[i]);
      }
      WorkflowFile a = parsed;
      WorkflowFile b = parsed;
      const auto ra = one_by_one(a, edits);
      const auto rb = b.apply(edits);
      ASSERT_EQ(static_cast<bool>(ra), static_cast<bool>(rb)) << before << " mask " << mask;
      if (!ra) continue;
      ASSERT_EQ(b.text(), a.text()) << before << " mask " << mask;
      ++compared;
    }
  }
  EXPECT_GT(compared, 1000);
}

// The multi-edit golden cases, as one batch, give the golden bytes.
TEST(WorkflowFileBatch, MatchesTheGoldenFiles) {
  struct Case {
    const char* name;
    const char* before;
    const char* path;
    std::vector<Edit> edits;
  };
  const std::vector<Case> cases = {
      {"set_scalar_block",
       "template",
       "golden-demo/WORKFLOW.md",
       {edit::Scalar{"status", "running"}, edit::Scalar{"budget.spent_usd", "12.50"},
        edit::Scalar{"last_tick", "2026-05-05T20:40:00Z"},
        edit::Scalar{"stages.production.resources.time", "08:00:00"}}},
      {"set_scalar_flow",
       "flow",
       "golden-flow/WORKFLOW.md",
       {edit::Scalar{"budget.spent_usd", "3.25"},
        edit::Scalar{"escalation_reason", "walltime exceeded: twice"},
        edit::Scalar{"escalation_required", "true"}, edit::Scalar{"stages.smoke.resources.time", "01:00:00"},
        edit::Scalar{"stages.smoke.resources.mem", "16G"},
        edit::Scalar{"last_tick", "2026-05-05T20:40:00Z"}}},
      {"crlf_edits",
       "crlf",
       "golden-crlf/WORKFLOW.md",
       {edit::Cell{"smoke", doc::Column::status, "running"}, edit::Cell{"smoke", doc::Column::job_id, "17"},
        edit::Scalar{"status", "running"},
        edit::Failure{failure("2026-05-05", "smoke", "oom", "Killed", "mem x2", "RETRYING")}}},
  };
  for (const auto& c : cases) {
    WorkflowFile f = parse_ok(c.path, slurp(kGolden / (std::string(c.before) + ".before.md")));
    ok(f.apply(c.edits));
    EXPECT_EQ(f.text(), slurp(kGolden / (std::string(c.name) + ".after.md"))) << c.name;
  }
}

// A batch the file cannot take leaves it unchanged and says which edit.
TEST(WorkflowFileBatch, ARefusedEditLeavesTheFileUnchanged) {
  const std::string text = slurp(kGolden / "template.before.md");
  WorkflowFile f = parse_ok("golden-demo/WORKFLOW.md", text);
  const auto r =
      f.apply({edit::Scalar{"status", "running"}, edit::Cell{"nope", doc::Column::status, "done"}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("no stage `nope`"), std::string::npos) << r.error().message;
  EXPECT_EQ(f.text(), text);
}

}  // namespace
}  // namespace cairn::parse
