// Auto-fix planning: the frontmatter edits each catalogued fix makes to a stage spec.

#include <cctype>
#include <string>

#include <gtest/gtest.h>

#include <cairn/catalog/catalog.hpp>
#include <cairn/catalog/fix.hpp>

namespace cairn::catalog {
namespace {

doc::StageSpec spec_with(const char* time, const char* mem) {
  doc::StageSpec s;
  s.name = "smoke";
  s.resources.time_text = time;
  s.resources.mem_text = mem;
  return s;
}

struct Case {
  const char* fix;
  const char* time;
  const char* mem;
  const char* key;
  const char* value;
};

class PlanFix : public ::testing::TestWithParam<Case> {};

// `text` with everything but letters and digits as `_` (gtest names allow no more).
std::string c_name(const char* text) {
  std::string out;
  for (const char* p = text; *p != 0; ++p)
    out += std::isalnum(static_cast<unsigned char>(*p)) != 0 ? *p : '_';
  return out;
}

TEST_P(PlanFix, Edits) {
  const Case& c = GetParam();
  const auto r = plan_fix(c.fix, spec_with(c.time, c.mem));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->edits.size(), 1u);
  EXPECT_EQ(r->edits[0].key, c.key);
  EXPECT_EQ(r->edits[0].value, c.value);
}

INSTANTIATE_TEST_SUITE_P(
    Table, PlanFix,
    ::testing::Values(Case{"walltime x2", "00:30:00", "", "stages.smoke.resources.time", "01:00:00"},
                      Case{"walltime x2", "1-00:00:00", "", "stages.smoke.resources.time", "2-00:00:00"},
                      Case{"walltime x2", "12:00:00", "", "stages.smoke.resources.time", "1-00:00:00"},
                      Case{"walltime x2", "45", "", "stages.smoke.resources.time", "01:30:00"},
                      Case{"walltime x2", "2-12", "", "stages.smoke.resources.time", "5-00:00:00"},
                      Case{"Walltime  X3", "00:20:00", "", "stages.smoke.resources.time", "01:00:00"},
                      Case{"mem x2", "", "8G", "stages.smoke.resources.mem", "16G"},
                      Case{"mem x2", "", "256Gi", "stages.smoke.resources.mem", "512Gi"},
                      Case{"mem x2", "", "1.5G", "stages.smoke.resources.mem", "3G"},
                      Case{"mem x2", "", "4000M", "stages.smoke.resources.mem", "8000M"}),
    // Readable ctest names ("walltime_x2_00_30_00") instead of the parameter's bytes.
    [](const ::testing::TestParamInfo<Case>& p) {
      std::string name = std::to_string(p.index) + "_" + c_name(p.param.fix) + "_" +
                         c_name(*p.param.time != 0 ? p.param.time : p.param.mem);
      return name;
    });

TEST(PlanFixSpec, ParsedSecondsAreUsedWhenTextIsMissing) {
  doc::StageSpec s;
  s.name = "prod";
  s.resources.time_seconds = 1800;
  s.resources.mem_mb = 8192;
  const auto t = plan_fix("walltime x2", s);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->edits[0].key, "stages.prod.resources.time");
  EXPECT_EQ(t->edits[0].value, "01:00:00");
  const auto m = plan_fix("mem x2", s);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->edits[0].value, "16G");
  EXPECT_EQ(m->summary, "resources.mem 8G -> 16G");
}

TEST(PlanFixSpec, ResubmitAndExcludeNodeEditNothing) {
  const auto spec = spec_with("00:30:00", "8G");
  for (const char* fix : {"resubmit", "exclude node"}) {
    const auto r = plan_fix(fix, spec);
    ASSERT_TRUE(r) << fix;
    EXPECT_TRUE(r->edits.empty()) << fix;
  }
  // Only exclude-node asks the retry to avoid the failed attempt's nodes.
  EXPECT_FALSE(plan_fix("resubmit", spec)->excludes_failed_nodes);
  EXPECT_TRUE(plan_fix("exclude node", spec)->excludes_failed_nodes);
}

TEST(PlanFixSpec, FailsWithAReason) {
  doc::StageSpec bare;
  bare.name = "smoke";
  const auto no_time = plan_fix("walltime x2", bare);
  ASSERT_FALSE(no_time);
  EXPECT_NE(no_time.error().message.find("no resources.time"), std::string::npos);
  const auto no_mem = plan_fix("mem x2", bare);
  ASSERT_FALSE(no_mem);
  EXPECT_NE(no_mem.error().message.find("no resources.mem"), std::string::npos);

  EXPECT_FALSE(plan_fix("walltime x2", spec_with("soon", "")));
  EXPECT_FALSE(plan_fix("mem x2", spec_with("", "lots")));
  EXPECT_FALSE(plan_fix("reboot cluster", bare));
  EXPECT_FALSE(plan_fix("walltime x100", spec_with("00:30:00", "")));
  EXPECT_FALSE(plan_fix("none", bare));
}

TEST(PlanFixSpec, CanonicalNames) {
  EXPECT_EQ(canonical_fix(" Mem  X2 "), "mem x2");
  EXPECT_EQ(canonical_fix("none"), "");
  EXPECT_EQ(canonical_fix("—"), "");
  EXPECT_EQ(canonical_fix("destructive"), "");
  EXPECT_EQ(canonical_fix("exclude node"), "exclude-node");
  EXPECT_EQ(canonical_fix("Exclude-Node"), "exclude-node");
  EXPECT_EQ(canonical_fix("GPUs +1"), "gpus +1");
  EXPECT_EQ(canonical_fix("partition=GPU-long "), "partition=GPU-long");  // names keep their case
  EXPECT_EQ(canonical_fix("priority=low"), "priority=LOW");
  EXPECT_EQ(canonical_fix("Resubmit-From-Checkpoint"), "resubmit-from-checkpoint");
  EXPECT_FALSE(canonical_fix("mem x1"));
  EXPECT_FALSE(canonical_fix("cpus x2"));
  EXPECT_FALSE(canonical_fix("gpus +0"));
  EXPECT_FALSE(canonical_fix("gpus -1"));
  EXPECT_FALSE(canonical_fix("partition="));
  EXPECT_FALSE(canonical_fix("partition=a;rm -rf"));
  EXPECT_FALSE(canonical_fix("priority=urgent"));
}

TEST(PlanFixSpec, GpusPartitionPriority) {
  doc::StageSpec s = spec_with("", "");
  s.resources.gpus = 2;
  s.resources.partition = "gpu";
  s.priority = "NORMAL";
  const auto g = plan_fix("gpus +2", s);
  ASSERT_TRUE(g) << g.error().message;
  ASSERT_EQ(g->edits.size(), 1u);
  EXPECT_EQ(g->edits[0].key, "stages.smoke.resources.gpus");
  EXPECT_EQ(g->edits[0].value, "4");
  EXPECT_EQ(g->summary, "resources.gpus 2 -> 4");
  const auto p = plan_fix("partition=gpu-long", s);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->edits[0].key, "stages.smoke.resources.partition");
  EXPECT_EQ(p->summary, "resources.partition gpu -> gpu-long");
  s.pool = "h100-pool";  // an OSMO stage names a pool: that is what moves
  const auto pool = plan_fix("partition=a100-pool", s);
  ASSERT_TRUE(pool);
  EXPECT_EQ(pool->edits[0].key, "stages.smoke.pool");
  const auto pr = plan_fix("priority=LOW", s);
  ASSERT_TRUE(pr);
  EXPECT_EQ(pr->edits[0].key, "stages.smoke.priority");
  EXPECT_EQ(pr->edits[0].value, "LOW");

  // A fix changes what the spec has; it never invents keys, and says what it proposed.
  const doc::StageSpec bare = spec_with("", "");
  EXPECT_NE(plan_fix("gpus +1", bare).error().message.find("no resources.gpus"), std::string::npos);
  EXPECT_NE(plan_fix("partition=long", bare).error().message.find("proposed: long"), std::string::npos);
  EXPECT_NE(plan_fix("priority=LOW", bare).error().message.find("proposed: priority: LOW"),
            std::string::npos);
}

// An OSMO stage: the workflow YAML's resources run, so a resource fix goes through the
// `set:` value of the template variable the YAML uses, or is refused naming the key.
engine::SpecInfo osmo_yaml(std::string memory, std::string gpu) {
  engine::SpecInfo info;
  info.owns_resources = true;
  info.file = "osmo/train.yaml";
  auto var = [](const std::string& v) {
    return v.rfind("{{", 0) == 0 ? v.substr(2, v.size() - 4) : std::string();
  };
  info.bindings = {{"cpus", "resources.default.cpu", "32", ""},
                   {"gpus", "resources.default.gpu", gpu, var(gpu)},
                   {"mem", "resources.default.memory", memory, var(memory)}};
  return info;
}

TEST(PlanFixSpec, ATemplatedResourceIsChangedThroughSet) {
  doc::StageSpec s = spec_with("", "");
  s.name = "train";
  s.set = {{"memory", "256Gi"}, {"num_gpu", "4"}};
  s.resources.gpus = 4;
  const auto yaml = osmo_yaml("{{memory}}", "{{num_gpu}}");
  const auto m = plan_fix("mem x2", s, {}, &yaml);
  ASSERT_TRUE(m) << m.error().message;
  ASSERT_EQ(m->edits.size(), 1u);
  EXPECT_EQ(m->edits[0].key, "stages.train.set.memory");
  EXPECT_EQ(m->edits[0].value, "512Gi");
  EXPECT_EQ(m->summary, "set.memory 256Gi -> 512Gi");
  const auto g = plan_fix("gpus +2", s, {}, &yaml);
  ASSERT_TRUE(g) << g.error().message;
  ASSERT_EQ(g->edits.size(), 2u);
  EXPECT_EQ(g->edits[0].key, "stages.train.set.num_gpu");
  EXPECT_EQ(g->edits[0].value, "6");
  EXPECT_EQ(g->edits[1].key, "stages.train.resources.gpus");  // the pool choice asks for as many
  EXPECT_EQ(g->edits[1].value, "6");
  // The walltime of a workflow is in its YAML: refused, never put in resources.time.
  s.resources.time_text = "01:00:00";
  const auto w = plan_fix("walltime x2", s, {}, &yaml);
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().message.find("does not edit your YAML"), std::string::npos) << w.error().message;
  // Without the spec (another backend), the stage's own resources as before.
  EXPECT_EQ(plan_fix("walltime x2", s)->edits[0].key, "stages.train.resources.time");
}

TEST(PlanFixSpec, AHardCodedResourceIsRefusedNamingKeyAndFile) {
  doc::StageSpec s = spec_with("", "");
  s.name = "train";
  s.set = {{"num_gpu", "4"}};
  const auto yaml = osmo_yaml("256Gi", "{{num_gpu}}");
  const auto m = plan_fix("mem x2", s, {}, &yaml);
  ASSERT_FALSE(m);
  EXPECT_EQ(
      m.error().message,
      "resources.default.memory is 256Gi in osmo/train.yaml, not a template variable: cairn does not edit "
      "your YAML; make it `{{memory}}` or change it yourself");
  // A template the stage's set: lacks: say what to add rather than invent the key.
  const auto templated = osmo_yaml("{{memory}}", "{{num_gpu}}");
  const auto missing = plan_fix("mem x2", s, {}, &templated);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("has no set.memory"), std::string::npos) << missing.error().message;
}

TEST(PlanFixSpec, CheckpointFixNeedsACheckpoint) {
  doc::StageSpec s = spec_with("01:00:00", "");
  EXPECT_NE(plan_fix("resubmit-from-checkpoint", s).error().message.find("no checkpoint"), std::string::npos);
  s.checkpoint = "restart/*.chk";
  const auto plan = plan_fix("resubmit-from-checkpoint", s);
  ASSERT_TRUE(plan);
  EXPECT_TRUE(plan->needs_checkpoint);
  EXPECT_TRUE(plan->edits.empty());
}

TEST(PlanFixSpec, CeilingsTurnAFixIntoAProposal) {
  doc::ResourceCeilings c;
  c.time_seconds = 36 * 3600;
  c.time_text = "36:00:00";
  c.mem_mb = 64 * 1024;
  c.mem_text = "64G";
  c.gpus = 4;
  doc::StageSpec s = spec_with("24:00:00", "48G");
  s.resources.gpus = 4;
  const auto t = plan_fix("walltime x2", s, c);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->beyond_ceiling, "resources.time 2-00:00:00 is above the ceiling 36:00:00");
  EXPECT_EQ(t->edits.size(), 1u);  // still planned: the escalation writes it out
  EXPECT_EQ(plan_fix("mem x2", s, c)->beyond_ceiling, "resources.mem 96G is above the ceiling 64G");
  EXPECT_EQ(plan_fix("gpus +1", s, c)->beyond_ceiling, "resources.gpus 5 is above the ceiling 4");
  EXPECT_EQ(plan_fix("walltime x2", spec_with("12:00:00", ""), c)->beyond_ceiling, "");  // 24h: under 36h
  EXPECT_EQ(plan_fix("walltime x2", s)->beyond_ceiling, "");  // no ceilings, no bound
}

TEST(PlanFixSpec, CatalogSetDelegates) {
  const std::string text =
      "| Class | Scheduler state | Auto-fix |\n|---|---|---|\n| walltime-exceeded | TIMEOUT | walltime x2 "
      "|\n";
  auto set = load_catalogs({{"c.md", text, ""}});
  ASSERT_TRUE(set);
  const engine::Catalog& port = *set;
  const auto plan = port.plan_fix("walltime x2", spec_with("00:30:00", ""), {}, nullptr);
  ASSERT_TRUE(plan);
  ASSERT_EQ(plan->edits.size(), 1u);
  EXPECT_EQ(plan->edits[0].value, "01:00:00");
  EXPECT_EQ(plan->summary, "resources.time 00:30:00 -> 01:00:00");
  EXPECT_FALSE(port.plan_fix("walltime x2", doc::StageSpec{}, {}, nullptr));
}

}  // namespace
}  // namespace cairn::catalog
