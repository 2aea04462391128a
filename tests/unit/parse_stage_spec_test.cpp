#include <cairn/parse/stage_spec.hpp>

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace cairn::parse {
namespace {

constexpr const char* kPath = "demo/WORKFLOW.md";

struct Parsed {
  std::vector<doc::StageSpec> specs;
  std::vector<doc::Diagnostic> diags;
};

std::string shown(const std::vector<doc::Diagnostic>& ds) {
  std::string s;
  for (const auto& d : ds) s += doc::format(d) + "\n";
  return s;
}

// Parses `yaml` (the value of `stages:`) as if its first line were line `first_line`,
// read by yaml-cpp; when the fast frontmatter reader also takes it, both readings must
// give the same specs and diagnostics.
Parsed parse(const std::string& yaml, int first_line = 1) {
  Parsed p;
  p.specs = parse_stage_specs(fm::to_value(YAML::Load(yaml)), first_line, kPath, p.diags);
  if (auto fast = fm::read_simple(yaml)) {
    Parsed q;
    q.specs = parse_stage_specs(*fast, first_line, kPath, q.diags);
    EXPECT_EQ(shown(q.diags), shown(p.diags)) << yaml;
    EXPECT_EQ(q.specs.size(), p.specs.size()) << yaml;
    for (std::size_t i = 0; i < std::min(q.specs.size(), p.specs.size()); ++i) {
      EXPECT_EQ(q.specs[i].name, p.specs[i].name);
      EXPECT_EQ(q.specs[i].line, p.specs[i].line);
      EXPECT_EQ(q.specs[i].run, p.specs[i].run);
      EXPECT_EQ(q.specs[i].resources.time_seconds, p.specs[i].resources.time_seconds);
      EXPECT_EQ(q.specs[i].resources.mem_mb, p.specs[i].resources.mem_mb);
      EXPECT_EQ(q.specs[i].expect_seconds, p.specs[i].expect_seconds);
      EXPECT_EQ(q.specs[i].set, p.specs[i].set);
      EXPECT_EQ(q.specs[i].sync, p.specs[i].sync);
    }
  }
  return p;
}

// ---- the happy path ----

TEST(ParseStageSpecs, ReadsEveryFieldAndKeepsTextForms) {
  const auto p = parse(
      "smoke:\n"
      "  run: jobs/smoke.sh\n"
      "  backend: alpine\n"
      "  resources: {time: \"00:30:00\", cpus: 4, mem: 8G, gpus: 1, gpu_type: a100, partition: "
      "atesting_a100}\n"
      "  expect: 20m\n"
      "cool-prod-array:\n"
      "  run: jobs/prod.sh\n"
      "  resources:\n"
      "    time: \"1-12\"\n"
      "    mem: 16384\n"
      "    gpus: 0\n"
      "  array: \"1-20%5\"\n"
      "  pool: gpu-pool\n"
      "  set: {image: namd:3.0, replicas: 20}\n");
  ASSERT_TRUE(p.diags.empty()) << shown(p.diags);
  ASSERT_EQ(p.specs.size(), 2u);

  const doc::StageSpec& a = p.specs[0];
  EXPECT_EQ(a.name, "smoke");
  EXPECT_EQ(a.line, 1);
  EXPECT_EQ(a.run, "jobs/smoke.sh");
  EXPECT_EQ(a.backend, "alpine");
  EXPECT_EQ(a.resources.time_seconds, 1800);
  EXPECT_EQ(a.resources.time_text, "00:30:00");
  EXPECT_EQ(a.resources.cpus, 4);
  EXPECT_EQ(a.resources.mem_mb, 8192);
  EXPECT_EQ(a.resources.mem_text, "8G");
  EXPECT_EQ(a.resources.gpus, 1);
  EXPECT_EQ(a.resources.gpu_type, "a100");
  EXPECT_EQ(a.resources.partition, "atesting_a100");
  EXPECT_EQ(a.expect_seconds, 1200);
  EXPECT_TRUE(a.array.empty());

  const doc::StageSpec& b = p.specs[1];
  EXPECT_EQ(b.name, "cool-prod-array");
  EXPECT_EQ(b.line, 6);
  EXPECT_EQ(b.resources.time_seconds, 86400 + 12 * 3600);
  EXPECT_EQ(b.resources.time_text, "1-12");
  EXPECT_EQ(b.resources.mem_mb, 16384);
  EXPECT_EQ(b.resources.mem_text, "16384");
  EXPECT_EQ(b.resources.gpus, 0);
  EXPECT_FALSE(b.resources.cpus);
  EXPECT_EQ(b.array, "1-20%5");
  EXPECT_EQ(b.pool, "gpu-pool");
  EXPECT_FALSE(b.expect_seconds);
  ASSERT_EQ(b.set.size(), 2u);
  EXPECT_EQ(b.set.at("image"), "namd:3.0");
  EXPECT_EQ(b.set.at("replicas"), "20");
}

TEST(ParseStageSpecs, LineOffsetMapsYamlLinesToFileLines) {
  // `stages:` at file line 12: its first entry is on line 13.
  const auto p = parse("smoke:\n  run: a.sh\n\nprod:\n  run: b.sh\n  colour: blue\n", 13);
  ASSERT_EQ(p.specs.size(), 2u);
  EXPECT_EQ(p.specs[0].line, 13);
  EXPECT_EQ(p.specs[1].line, 16);
  ASSERT_EQ(p.diags.size(), 1u) << shown(p.diags);
  EXPECT_EQ(p.diags[0].line, 18);
  EXPECT_EQ(p.diags[0].column, 3);
}

// ---- located errors and warnings, table-driven ----

struct Bad {
  const char* name;
  const char* yaml;
  doc::Severity severity;
  int line;
  int column;
  const char* contains;
};

class ParseStageSpecsBad : public ::testing::TestWithParam<Bad> {};

TEST_P(ParseStageSpecsBad, OneLocatedDiagnostic) {
  const Bad& c = GetParam();
  const auto p = parse(c.yaml);
  ASSERT_EQ(p.diags.size(), 1u) << c.name << ":\n" << shown(p.diags);
  const doc::Diagnostic& d = p.diags[0];
  EXPECT_EQ(d.path, kPath);
  EXPECT_EQ(d.severity, c.severity) << c.name;
  EXPECT_EQ(d.line, c.line) << c.name << ": " << doc::format(d);
  EXPECT_EQ(d.column, c.column) << c.name << ": " << doc::format(d);
  EXPECT_NE(d.message.find(c.contains), std::string::npos) << c.name << ": " << d.message;
}

using S = doc::Severity;

INSTANTIATE_TEST_SUITE_P(
    Cases, ParseStageSpecsBad,
    ::testing::Values(
        Bad{"no run", "smoke:\n  backend: local\n", S::error, 1, 1, "no `run:`"},
        Bad{"empty run", "smoke:\n  run: \"\"\n", S::error, 2, 8, "empty"},
        Bad{"null run", "smoke:\n  run:\n  backend: local\n", S::error, 2, 3, "empty"},
        Bad{"null backend", "smoke:\n  run: a.sh\n  backend:\n", S::warning, 3, 3, "no value"},
        Bad{"null time", "smoke:\n  run: a.sh\n  resources:\n    time:\n    cpus: 2\n", S::warning, 4, 5,
            "no value"},
        Bad{"absolute run", "smoke:\n  run: /etc/passwd\n", S::error, 2, 8, "not absolute"},
        Bad{"home run", "smoke:\n  run: ~/job.sh\n", S::error, 2, 8, "not absolute"},
        Bad{"dotdot run", "smoke:\n  run: jobs/../../x.sh\n", S::error, 2, 8, "`..`"},
        Bad{"leading dotdot", "smoke:\n  run: ../x.sh\n", S::error, 2, 8, "`..`"},
        Bad{"run is a list", "smoke:\n  run: [a.sh]\n", S::error, 2, 8, "single value"},
        Bad{"body not a map", "smoke: jobs/smoke.sh\n", S::error, 1, 8, "mapping"},
        Bad{"unknown key", "smoke:\n  run: a.sh\n  runn: b.sh\n", S::error, 3, 3,
            "unknown key `runn`; did you mean `run`?"},
        Bad{"misspelt resources", "smoke:\n  run: a.sh\n  resouces: {time: 10}\n", S::error, 3, 3,
            "unknown key `resouces`; did you mean `resources`?"},
        Bad{"unknown resource", "smoke:\n  run: a.sh\n  resources: {time: 10, nodes: 2}\n", S::error, 3, 25,
            "unknown resource `nodes` (known: `time`, `cpus`, `mem`, `gpus`, `gpu_type`, `partition`)"},
        Bad{"misspelt resource", "smoke:\n  run: a.sh\n  resources: {time: 10, mme: 2G}\n", S::error, 3, 25,
            "unknown resource `mme`; did you mean `mem`?"},
        Bad{"bad time", "smoke:\n  run: a.sh\n  resources:\n    time: soon\n", S::error, 4, 11, "walltime"},
        Bad{"bad mem", "smoke:\n  run: a.sh\n  resources: {mem: lots}\n", S::error, 3, 20, "memory size"},
        Bad{"zero cpus", "smoke:\n  run: a.sh\n  resources: {cpus: 0}\n", S::error, 3, 21, ">= 1"},
        Bad{"text cpus", "smoke:\n  run: a.sh\n  resources: {cpus: four}\n", S::error, 3, 21, "whole number"},
        Bad{"negative gpus", "smoke:\n  run: a.sh\n  resources: {gpus: -1}\n", S::error, 3, 21, ">= 0"},
        Bad{"resources not a map", "smoke:\n  run: a.sh\n  resources: 4\n", S::error, 3, 14, "mapping"},
        Bad{"bad array", "smoke:\n  run: a.sh\n  array: 1-x\n", S::error, 3, 10, "array"},
        Bad{"backwards array", "smoke:\n  run: a.sh\n  array: 9-1\n", S::error, 3, 10, "ends before"},
        Bad{"bad expect", "smoke:\n  run: a.sh\n  expect: soon\n", S::error, 3, 11, "duration"},
        Bad{"zero expect", "smoke:\n  run: a.sh\n  expect: 0m\n", S::error, 3, 11, "duration"},
        Bad{"set not a map", "smoke:\n  run: a.sh\n  set: [a]\n", S::error, 3, 8, "mapping"},
        Bad{"set value not scalar", "smoke:\n  run: a.sh\n  set: {a: [1]}\n", S::error, 3, 12,
            "single value"},
        Bad{"backend list", "smoke:\n  run: a.sh\n  backend: {kind: slurm}\n", S::error, 3, 12,
            "single value"},
        Bad{"absolute sync", "smoke:\n  run: a.sh\n  sync: /etc\n", S::error, 3, 9, "not absolute"},
        Bad{"dotdot in a sync list", "smoke:\n  run: a.sh\n  sync: [out, ../x]\n", S::error, 3, 15, "`..`"},
        Bad{"sync a map", "smoke:\n  run: a.sh\n  sync: {a: b}\n", S::error, 3, 9, "list of paths"},
        Bad{"twice", "smoke:\n  run: a.sh\nsmoke:\n  run: b.sh\n", S::error, 3, 1, "twice"}),
    [](const ::testing::TestParamInfo<Bad>& param_info) {
      std::string n = param_info.param.name;
      for (char& ch : n) {
        if (ch == ' ') ch = '_';
      }
      return n;
    });

TEST(ParseStageSpecs, AStageWithErrorsIsKeptWithoutTheBadValues) {
  const auto p = parse(
      "smoke:\n"
      "  run: jobs/smoke.sh\n"
      "  resources: {time: soon, cpus: 2, mem: lots}\n"
      "  expect: 30m\n");
  ASSERT_EQ(p.specs.size(), 1u);
  EXPECT_EQ(p.diags.size(), 2u) << shown(p.diags);
  EXPECT_TRUE(doc::has_errors(p.diags));
  EXPECT_EQ(p.specs[0].run, "jobs/smoke.sh");
  EXPECT_FALSE(p.specs[0].resources.time_seconds);
  EXPECT_TRUE(p.specs[0].resources.time_text.empty());
  EXPECT_FALSE(p.specs[0].resources.mem_mb);
  EXPECT_EQ(p.specs[0].resources.cpus, 2);
  EXPECT_EQ(p.specs[0].expect_seconds, 1800);
}

TEST(ParseStageSpecs, UnsafeRunIsNotKept) {
  const auto p = parse("smoke:\n  run: ../outside.sh\n");
  ASSERT_EQ(p.specs.size(), 1u);
  EXPECT_TRUE(p.specs[0].run.empty());
}

TEST(ParseStageSpecs, RunPathsThatStayInsideAreFine) {
  for (const char* run : {"a.sh", "./jobs/a.sh", "jobs/..x/a.sh", "jobs/x../a.sh", "jobs/deep/er/a.sh"}) {
    const auto p = parse(std::string("smoke:\n  run: \"") + run + "\"\n");
    EXPECT_TRUE(p.diags.empty()) << run << ": " << shown(p.diags);
    ASSERT_EQ(p.specs.size(), 1u);
    EXPECT_EQ(p.specs[0].run, run);
  }
}

TEST(ParseStageSpecs, SyncIsOnePathOrAList) {
  const auto p = parse(
      "npt:\n"
      "  run: jobs/npt.sh\n"
      "  sync: npt_equil.restart.coor\n"
      "prod:\n"
      "  run: jobs/prod.sh\n"
      "  sync:\n"
      "    - \"dcd/*.dcd\"\n"
      "    - results/\n");
  ASSERT_TRUE(p.diags.empty()) << shown(p.diags);
  ASSERT_EQ(p.specs.size(), 2u);
  EXPECT_EQ(p.specs[0].sync, std::vector<std::string>{"npt_equil.restart.coor"});
  EXPECT_EQ(p.specs[1].sync, (std::vector<std::string>{"dcd/*.dcd", "results/"}));
  const auto bad = parse("s:\n  run: a.sh\n  sync: [ok.txt, /etc/passwd]\n");
  ASSERT_EQ(bad.specs.size(), 1u);
  EXPECT_EQ(bad.specs[0].sync, std::vector<std::string>{"ok.txt"});  // the unsafe one is dropped
}

TEST(ParseStageSpecs, EmptyMappingHasNoSpecs) {
  const auto p = parse("{}");
  EXPECT_TRUE(p.specs.empty());
  EXPECT_TRUE(p.diags.empty());
}

// ---- arrays ----

struct Array {
  const char* text;
  std::vector<int> indices;
};

class ExpandArray : public ::testing::TestWithParam<Array> {};

TEST_P(ExpandArray, SlurmFormsGiveAscendingIndices) {
  const auto got = expand_array(GetParam().text);
  ASSERT_TRUE(got) << GetParam().text << ": " << got.error().message;
  EXPECT_EQ(*got, GetParam().indices) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(Forms, ExpandArray,
                         ::testing::Values(Array{"1-5", {1, 2, 3, 4, 5}},
                                           Array{"0-9%4", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
                                           Array{"1,3,5", {1, 3, 5}}, Array{"1-10:2", {1, 3, 5, 7, 9}},
                                           Array{"1-4,10", {1, 2, 3, 4, 10}}, Array{"7", {7}},
                                           Array{"5,1,3-4,3", {1, 3, 4, 5}}, Array{"0-6:3%2", {0, 3, 6}}));

// A text that repeats a large range is refused by counting, not by expanding each
// repeat (the work would grow with the text: a tick's time, not just memory).
TEST(ExpandArrayBad, RepeatedRangesAreCountedNotExpanded) {
  std::string text = "1-100000";
  for (int i = 0; i < 1000; ++i) text += ",1-100000";
  const auto got = expand_array(text);
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().message.find("more than 100000 tasks"), std::string::npos) << got.error().message;
  EXPECT_TRUE(expand_array("1-100000"));  // the limit itself is allowed
}

TEST(ExpandArray, TwentyTasks) {
  const auto got = expand_array("1-20%5");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->size(), 20u);
  EXPECT_EQ(got->front(), 1);
  EXPECT_EQ(got->back(), 20);
}

TEST(ExpandArrayBad, FailsWithTheReason) {
  for (const char* text : {"", "%4", "a", "1-", "-1", "1-x", "5-1", "1,,2", "1-10:0", "1-10:x", "1-4%0",
                           "1-4%", "1-4%x", "1 - 4", "0-200000", "1-2-3",
                           // the fuzzer's slow input: refused before 100,000 indices are made
                           "20-200828", "1-60000,1-60000", "5000000000"}) {
    const auto got = expand_array(text);
    ASSERT_FALSE(got) << text;
    EXPECT_FALSE(got.error().message.empty()) << text;
  }
}

}  // namespace
}  // namespace cairn::parse
