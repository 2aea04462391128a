// Loading catalogs: table detection, sections, priority, and diagnostics for bad rows.

#include <string>

#include <gtest/gtest.h>

#include <cairn/catalog/catalog.hpp>

namespace cairn::catalog {
namespace {

constexpr const char* kHeader =
    "| Class | Exit code | Scheduler state | Log signature (RE2) | Safe to retry | Auto-fix | Max fixes | "
    "Hint |\n"
    "|---|---|---|---|---|---|---|---|\n";

engine::Evidence log(const std::string& text) {
  engine::Evidence ev;
  ev.state = "failed";
  ev.log_tail = text;
  return ev;
}

std::string messages(const std::vector<doc::Diagnostic>& ds) {
  std::string out;
  for (const auto& d : ds) out += doc::format(d) + "\n";
  return out;
}

TEST(CatalogLoad, ReadsRowsAndColumns) {
  const std::string text =
      std::string("# Catalog\n\n") + kHeader +
      "| walltime-exceeded | — | TIMEOUT, Deadline | — | yes | walltime x2 | 1 | more time |\n"
      "| oom | 137, 9 | — | `oom-kill event\\|OOMKilled` | yes | Mem X2 | 2 | more mem |\n"
      "| flaky | | | Connection refused (a.b) | transient | | | |\n";
  auto set = load_catalogs({{"c.md", text, ""}});
  ASSERT_TRUE(set) << messages(set.error());
  EXPECT_TRUE(set->diagnostics().empty()) << messages(set->diagnostics());
  const auto& es = set->entries();
  ASSERT_EQ(es.size(), 3u);
  EXPECT_EQ(es[0].error_class, "walltime-exceeded");
  EXPECT_EQ(es[0].states, (std::vector<std::string>{"TIMEOUT", "DEADLINE"}));
  EXPECT_EQ(es[0].line, 5);
  EXPECT_EQ(es[1].exit_codes, (std::vector<int>{137, 9}));
  EXPECT_EQ(es[1].signature, "oom-kill event|OOMKilled");  // `\|` is GFM escaping, not regex
  EXPECT_EQ(es[1].fix, "mem x2");
  EXPECT_EQ(es[1].max_auto_fixes, 2);
  EXPECT_TRUE(es[2].transient);
  EXPECT_EQ(es[2].fix, "");
  EXPECT_EQ(es[2].max_auto_fixes, 0);

  // Plain text (no backticks) is literal: the parentheses and dot are not regex syntax.
  const auto flaky = set->classify(log("db: Connection refused (a.b)\n"));
  ASSERT_TRUE(flaky);
  EXPECT_EQ(flaky->error_class, "flaky");
  EXPECT_FALSE(set->classify(log("db: Connection refused (aXb)\n")));

  // All non-empty signature columns must match: exit 137 alone is not enough.
  engine::Evidence ev = log("slurmstepd: error: Detected 1 oom-kill event(s) in StepId=9.batch\n");
  EXPECT_FALSE(set->classify(ev));
  ev.exit_code = 9;
  const auto oom = set->classify(ev);
  ASSERT_TRUE(oom);
  EXPECT_EQ(oom->error_class, "oom");
  EXPECT_EQ(oom->matched, "slurmstepd: error: Detected 1 oom-kill event(s) in StepId=9.batch");
  EXPECT_EQ(oom->source, "c.md:6");
}

TEST(CatalogLoad, TablesWithoutClassColumnAreIgnored) {
  const std::string text = std::string("# Campaign\n\n") +
                           "| # | Name | Status |\n|---|---|---|\n| 1 | smoke | done |\n\n"
                           "| Date | Stage | Error class | Error msg | Action taken | Result |\n"
                           "|---|---|---|---|---|---|\n| 2026-05-05 | smoke | oom | x | y | z |\n\n" +
                           kHeader + "| disk | — | — | `Disk quota exceeded` | no | none | — | clean up |\n";
  auto set = load_catalogs({{"p.md", text, ""}});
  ASSERT_TRUE(set);
  EXPECT_TRUE(set->diagnostics().empty()) << messages(set->diagnostics());
  ASSERT_EQ(set->entries().size(), 1u);
  EXPECT_EQ(set->entries()[0].error_class, "disk");
}

TEST(CatalogLoad, ProjectCatalogWinsOverGeneric) {
  const std::string project =
      std::string(kHeader) +
      "| namd-oom-restart | — | — | `oom-kill event` | yes | resubmit | 1 | project rule |\n";
  const std::string generic = std::string(kHeader) +
                              "| out-of-memory | — | — | `oom-kill event` | yes | mem x2 | 1 | generic |\n"
                              "| walltime-exceeded | — | TIMEOUT | — | yes | walltime x2 | 1 | |\n";
  auto set = load_catalogs({{"HPC_PLAYBOOK.md", project, ""}, {"catalogs/failure-catalog.md", generic, ""}});
  ASSERT_TRUE(set);
  const auto cls = set->classify(log("slurmstepd: error: Detected 1 oom-kill event(s) in StepId=1.batch\n"));
  ASSERT_TRUE(cls);
  EXPECT_EQ(cls->error_class, "namd-oom-restart");
  EXPECT_EQ(cls->source, "HPC_PLAYBOOK.md:3");
  // What the project does not know, the generic catalog still classifies.
  engine::Evidence ev;
  ev.state = "TIMEOUT";
  const auto t = set->classify(ev);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->error_class, "walltime-exceeded");
  EXPECT_EQ(t->source, "catalogs/failure-catalog.md:4");
}

TEST(CatalogLoad, SectionAnchorSelectsTablesUnderThatHeading) {
  const std::string text =
      std::string("# HPC playbook\n\n## Partitions\n\n") + kHeader +
      "| wrong-section | — | — | `velocity` | no | none | — | |\n\n"
      "## Common failure modes\n\nIntro text.\n\n" +
      kHeader +
      "| velocity-limit | — | — | `velocity .* exceeds` | no | destructive | — | lower dt |\n\n"
      "### Sub-heading stays inside\n\n" +
      kHeader +
      "| density-drift | — | — | `density drift` | no | none | — | |\n\n"
      "## Lessons\n\n" +
      kHeader + "| after | — | — | `velocity` | no | none | — | |\n";
  auto set = load_catalogs({{"simulations/HPC_PLAYBOOK.md", text, "common-failure-modes"}});
  ASSERT_TRUE(set) << messages(set.error());
  ASSERT_EQ(set->entries().size(), 2u);
  EXPECT_EQ(set->entries()[0].error_class, "velocity-limit");
  EXPECT_EQ(set->entries()[1].error_class, "density-drift");
  const auto cls = set->classify(log("Atom 19658 velocity 14658 exceeds limit 12000\n"));
  ASSERT_TRUE(cls);
  EXPECT_EQ(cls->error_class, "velocity-limit");
  EXPECT_TRUE(cls->destructive);

  auto missing = load_catalogs({{"simulations/HPC_PLAYBOOK.md", text, "no-such-section"}});
  ASSERT_FALSE(missing);
  ASSERT_EQ(missing.error().size(), 1u);
  EXPECT_NE(missing.error()[0].message.find("#no-such-section"), std::string::npos);
}

TEST(CatalogLoad, HeadingSlugsFollowGitHub) {
  EXPECT_EQ(heading_slug("Common failure modes"), "common-failure-modes");
  EXPECT_EQ(heading_slug("HPC operations (Alpine)"), "hpc-operations-alpine");
  EXPECT_EQ(heading_slug("Step 2: run_it -- now!"), "step-2-run_it----now");
}

TEST(CatalogLoad, BadRowsAreDiagnosedWithLinesAndTheRestLoads) {
  const std::string text = std::string("# Catalog\n\n") + kHeader +                             // lines 1-4
                           "| good-one | — | TIMEOUT | — | yes | walltime x2 | 1 | |\n"         // 5
                           "| bad-regex | — | — | `oom(kill` | yes | mem x2 | 1 | |\n"          // 6
                           "| bad-exit | 13x | — | — | no | none | — | |\n"                     // 7
                           "| bad-fix | — | — | `x` | yes | reboot cluster | 1 | |\n"           // 8
                           "| pipes | — | — | `a|b` | yes | resubmit | 1 | |\n"                 // 9
                           "| no-signature | — | — | — | yes | resubmit | 1 | |\n"              // 10
                           "| empty-match | — | — | `x*` | yes | resubmit | 1 | |\n"            // 11
                           "| bad-safe | — | — | `y` | maybe | resubmit | 1 | |\n"              // 12
                           "| good-two | — | — | `Disk quota exceeded` | no | none | — | |\n";  // 13
  auto set = load_catalogs({{"c.md", text, ""}});
  ASSERT_TRUE(set);
  ASSERT_EQ(set->entries().size(), 2u);
  EXPECT_EQ(set->entries()[0].error_class, "good-one");
  EXPECT_EQ(set->entries()[1].error_class, "good-two");

  const auto& ds = set->diagnostics();
  ASSERT_EQ(ds.size(), 7u) << messages(ds);
  struct Want {
    int line;
    int column;
    const char* part;
  };
  const Want want[] = {
      {6, 27, "invalid RE2 regex `oom(kill`"},
      {7, 14, "exit code \"13x\" is not a number"},
      {8, 37, "unknown auto-fix \"reboot cluster\""},
      {9, 23, "row has 9 cells but the header has 8"},
      {10, 1, "would match every failure"},
      {11, 29, "matches empty text"},
      {12, 32, "Safe to retry \"maybe\""},
  };
  for (std::size_t i = 0; i < ds.size(); ++i) {
    EXPECT_EQ(ds[i].path, "c.md");
    EXPECT_EQ(ds[i].severity, doc::Severity::error);
    EXPECT_EQ(ds[i].line, want[i].line) << doc::format(ds[i]);
    EXPECT_EQ(ds[i].column, want[i].column) << doc::format(ds[i]);
    EXPECT_NE(ds[i].message.find(want[i].part), std::string::npos) << doc::format(ds[i]);
  }
  EXPECT_EQ(doc::format(ds[0]).rfind("c.md:6:27: error: invalid RE2 regex", 0), 0u) << doc::format(ds[0]);
}

TEST(CatalogLoad, NothingLoadableFails) {
  auto none = load_catalogs({{"README.md", "# Readme\n\nNo tables here.\n", ""}});
  ASSERT_FALSE(none);
  ASSERT_EQ(none.error().size(), 1u);
  EXPECT_EQ(none.error()[0].path, "README.md");
  EXPECT_NE(none.error()[0].message.find("no catalog table"), std::string::npos);

  auto empty = load_catalogs({});
  EXPECT_FALSE(empty);
}

TEST(CatalogLoad, CrlfAndBacktickedClassesAreAccepted) {
  const std::string text = "| Class | Log signature |\r\n|---|---|\r\n| `nan-loss` | `` loss=`nan` `` |\r\n";
  auto set = load_catalogs({{"c.md", text, ""}});
  ASSERT_TRUE(set) << messages(set.error());
  ASSERT_EQ(set->entries().size(), 1u) << messages(set->diagnostics());
  EXPECT_EQ(set->entries()[0].error_class, "nan-loss");
  EXPECT_EQ(set->entries()[0].signature, "loss=`nan`");
  EXPECT_TRUE(set->classify(log("step 3 loss=`nan`\r\n")));
}

}  // namespace
}  // namespace cairn::catalog
