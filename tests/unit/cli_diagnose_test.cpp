// What an agent may change (diagnose.may_edit globs) and when it runs (diagnose.when).

#include <gtest/gtest.h>

#include <cairn/cli/diagnose.hpp>
#include <cairn/parse/config.hpp>

namespace cairn::cli {
namespace {

TEST(DiagnoseGlob, StarStaysInASegmentDoubleStarCrossesThem) {
  EXPECT_TRUE(glob_match("jobs/**", "jobs/run.sh"));
  EXPECT_TRUE(glob_match("jobs/**", "jobs/a/b/c.sh"));
  EXPECT_FALSE(glob_match("jobs/**", "jobsx/run.sh"));
  EXPECT_FALSE(glob_match("jobs/**", "WORKFLOW.md"));
  EXPECT_TRUE(glob_match("jobs/*.sh", "jobs/run.sh"));
  EXPECT_FALSE(glob_match("jobs/*.sh", "jobs/sub/run.sh"));
  EXPECT_TRUE(glob_match("**/*.in", "inputs/deep/x.in"));
  EXPECT_TRUE(glob_match("**/*.in", "x.in"));
  EXPECT_TRUE(glob_match("input?.txt", "input1.txt"));
  EXPECT_FALSE(glob_match("input?.txt", "input/.txt"));
  EXPECT_TRUE(glob_match("**", "anything/at/all"));
  EXPECT_FALSE(glob_match("", "x"));
}

doc::Workflow escalated(const std::string& error_class) {
  doc::Workflow wf;
  wf.campaign = "c1";
  wf.escalation_required = true;
  doc::Stage s;
  s.name = "run";
  s.status = doc::Status::escalated;
  wf.stages.push_back(s);
  wf.failures.push_back({"2026-12-03", "run", error_class, "job 1: exit 3", "escalated", "ESCALATED"});
  return wf;
}

TEST(DiagnoseWhen, UnclassifiedOnlyForFailuresNoCatalogKnows) {
  parse::DiagnoseConfig c;
  c.command = {"agent"};
  EXPECT_FALSE(wants_diagnosis(c, escalated("unclassified"), "run"));  // when: never
  c.when = parse::DiagnoseConfig::When::unclassified;
  EXPECT_TRUE(wants_diagnosis(c, escalated("unclassified"), "run"));
  EXPECT_TRUE(wants_diagnosis(c, escalated(""), "run"));
  EXPECT_FALSE(wants_diagnosis(c, escalated("walltime-exceeded"), "run"));
  c.when = parse::DiagnoseConfig::When::escalated;
  EXPECT_TRUE(wants_diagnosis(c, escalated("walltime-exceeded"), "run"));
  auto running = escalated("unclassified");
  running.stages.front().status = doc::Status::running;  // an anomaly escalated a running job
  EXPECT_FALSE(wants_diagnosis(c, running, "run"));
  c.command.clear();
  EXPECT_FALSE(wants_diagnosis(c, escalated("unclassified"), "run"));
}

TEST(DiagnoseConfig, ParsesAndRejectsWithPositions) {
  auto ok = parse::parse_config("cairn.yaml",
                                "diagnose:\n  command: [my-agent, \"{context}\"]\n  when: unclassified\n"
                                "  timeout: 5m\n  may_edit: [\"jobs/**\", \"inputs/*.in\"]\n");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->diagnose.command, (std::vector<std::string>{"my-agent", "{context}"}));
  EXPECT_EQ(ok->diagnose.when, parse::DiagnoseConfig::When::unclassified);
  EXPECT_EQ(ok->diagnose.timeout_seconds, 300);
  EXPECT_EQ(ok->diagnose.may_edit.size(), 2u);
  EXPECT_TRUE(ok->diagnose.enabled());
  auto bad_when = parse::parse_config("cairn.yaml", "diagnose: {command: [a], when: unclasified}\n");
  ASSERT_FALSE(bad_when);
  EXPECT_EQ(doc::format(bad_when.error().front()),
            "cairn.yaml:1:32: error: `diagnose.when` must be unclassified, escalated, anomaly (or a list of "
            "them) or never; did you mean `unclassified`?");
  auto no_command = parse::parse_config("cairn.yaml", "diagnose: {when: escalated}\n");
  ASSERT_FALSE(no_command);
  EXPECT_NE(doc::format(no_command.error().front()).find("needs `diagnose.command`"), std::string::npos);
  auto escape = parse::parse_config("cairn.yaml", "diagnose: {command: [a], may_edit: [\"../x/**\"]}\n");
  ASSERT_FALSE(escape);
  auto unitless = parse::parse_config("cairn.yaml", "diagnose: {command: [a], timeout: 15}\n");
  ASSERT_FALSE(unitless);
  EXPECT_NE(doc::format(unitless.error().front()).find("with a unit"), std::string::npos);
}

// `when:` takes a list: which escalations, plus `anomaly` (the scan's findings, read-only).
TEST(DiagnoseConfig, WhenIsAWordOrAList) {
  auto anomaly = parse::parse_config("cairn.yaml", "diagnose: {command: [a], when: anomaly}\n");
  ASSERT_TRUE(anomaly);
  EXPECT_TRUE(anomaly->diagnose.explains_anomalies());
  EXPECT_FALSE(anomaly->diagnose.enabled());  // no escalation is diagnosed
  auto both = parse::parse_config("cairn.yaml", "diagnose: {command: [a], when: [escalated, anomaly]}\n");
  ASSERT_TRUE(both);
  EXPECT_EQ(both->diagnose.when, parse::DiagnoseConfig::When::escalated);
  EXPECT_TRUE(both->diagnose.explains_anomalies());
  EXPECT_TRUE(both->diagnose.enabled());
  EXPECT_FALSE(parse::parse_config("cairn.yaml", "diagnose: {command: [a], when: unclassified}\n")
                   ->diagnose.explains_anomalies());
  auto never_and = parse::parse_config("cairn.yaml", "diagnose: {command: [a], when: [never, anomaly]}\n");
  ASSERT_FALSE(never_and);
  EXPECT_NE(doc::format(never_and.error().front()).find("`never` cannot be combined"), std::string::npos);
  auto typo = parse::parse_config("cairn.yaml", "diagnose: {command: [a], when: [escalated, anomally]}\n");
  ASSERT_FALSE(typo);
  EXPECT_NE(doc::format(typo.error().front()).find("did you mean `anomaly`?"), std::string::npos);
  auto no_command = parse::parse_config("cairn.yaml", "diagnose: {when: [anomaly]}\n");
  ASSERT_FALSE(no_command);
  EXPECT_NE(doc::format(no_command.error().front()).find("needs `diagnose.command`"), std::string::npos);
}

}  // namespace
}  // namespace cairn::cli
