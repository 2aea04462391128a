#include <cairn/parse/config.hpp>

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace cairn::parse {
namespace {

struct Parsed {
  Expected<RepoConfig, std::vector<doc::Diagnostic>> config;
  std::vector<doc::Diagnostic> warnings;
};

Parsed parse(const std::string& text) {
  std::vector<doc::Diagnostic> warnings;
  auto cfg = parse_config("cairn.yaml", text, &warnings);
  return {std::move(cfg), std::move(warnings)};
}

std::string errors_of(const Parsed& p) {
  std::string s;
  if (p.config) return s;
  for (const auto& d : p.config.error()) s += doc::format(d) + "\n";
  return s;
}

TEST(ParseConfigAnomaly, DefaultsWithoutTheBlock) {
  const auto p = parse("root: campaigns\n");
  ASSERT_TRUE(p.config);
  const AnomalyConfig& a = p.config->anomaly;
  EXPECT_EQ(a.max_submissions_per_stage, 4);
  EXPECT_EQ(a.submissions_window_seconds, 24 * 3600);
  EXPECT_EQ(a.max_completions, 10);
  EXPECT_EQ(a.completions_window_seconds, 15 * 60);
  EXPECT_EQ(a.stall_seconds, 24 * 3600);
  EXPECT_EQ(a.systemic_campaigns, 3);
  EXPECT_EQ(a.systemic_window_seconds, 6 * 3600);
  EXPECT_EQ(a.log_patterns, default_log_patterns());
  EXPECT_FALSE(a.log_patterns.empty());
}

TEST(ParseConfigAnomaly, EveryKeyOverrides) {
  const auto p = parse(
      "anomaly:\n"
      "  max_submissions_per_stage: 6\n"
      "  submissions_window: 12h\n"
      "  max_completions: 20\n"
      "  completions_window: 30m\n"
      "  stall_after: 2d\n"
      "  systemic_campaigns: 2\n"
      "  systemic_window: 1h30m\n"
      "  log_patterns: ['\\bFATAL\\b', 'RESTART']\n");
  ASSERT_TRUE(p.config) << errors_of(p);
  EXPECT_TRUE(p.warnings.empty());
  const AnomalyConfig& a = p.config->anomaly;
  EXPECT_EQ(a.max_submissions_per_stage, 6);
  EXPECT_EQ(a.submissions_window_seconds, 12 * 3600);
  EXPECT_EQ(a.max_completions, 20);
  EXPECT_EQ(a.completions_window_seconds, 30 * 60);
  EXPECT_EQ(a.stall_seconds, 2 * 86400);
  EXPECT_EQ(a.systemic_campaigns, 2);
  EXPECT_EQ(a.systemic_window_seconds, 5400);
  EXPECT_EQ(a.log_patterns, (std::vector<std::string>{"\\bFATAL\\b", "RESTART"}));
}

TEST(ParseConfigAnomaly, PileUpThreshold) {
  EXPECT_EQ(AnomalyConfig{}.max_queued_per_name, 50);
  const auto p = parse("anomaly:\n  max_queued_per_name: 200\n");
  ASSERT_TRUE(p.config) << errors_of(p);
  EXPECT_EQ(p.config->anomaly.max_queued_per_name, 200);
  const auto zero = parse("anomaly:\n  max_queued_per_name: 0\n");
  ASSERT_FALSE(zero.config);
  EXPECT_EQ(doc::format(zero.config.error()[0]),
            "cairn.yaml:2:24: error: `anomaly.max_queued_per_name` must be at least 1");
}

TEST(ParseConfigAnomaly, PartialBlockKeepsOtherDefaults) {
  const auto p = parse("anomaly:\n  stall_after: 36h\n");
  ASSERT_TRUE(p.config) << errors_of(p);
  EXPECT_EQ(p.config->anomaly.stall_seconds, 36 * 3600);
  EXPECT_EQ(p.config->anomaly.max_completions, 10);
  EXPECT_EQ(p.config->anomaly.log_patterns, default_log_patterns());
}

TEST(ParseConfigAnomaly, EmptyPatternListTurnsTheLogCheckOff) {
  const auto p = parse("anomaly:\n  log_patterns: []\n");
  ASSERT_TRUE(p.config) << errors_of(p);
  EXPECT_TRUE(p.config->anomaly.log_patterns.empty());
}

TEST(ParseConfigAnomaly, UnknownKeyIsAnErrorWithADidYouMean) {
  // `enabeld: false` must not leave the scan on behind a warning.
  const auto p = parse("anomaly:\n  max_completions: 12\n  stal_after: 24h\n  enabeld: false\n");
  ASSERT_FALSE(p.config);
  ASSERT_EQ(p.config.error().size(), 2u) << errors_of(p);
  EXPECT_EQ(
      doc::format(p.config.error()[0]),
      "cairn.yaml:3:3: error: unknown key `anomaly.stal_after` in cairn.yaml; did you mean `stall_after`?");
  EXPECT_EQ(doc::format(p.config.error()[1]),
            "cairn.yaml:4:3: error: unknown key `anomaly.enabeld` in cairn.yaml; did you mean `enabled`?");
}

struct Bad {
  const char* text;
  const char* error;  // the first diagnostic, formatted
};

class ParseConfigAnomalyBad : public ::testing::TestWithParam<Bad> {};

TEST_P(ParseConfigAnomalyBad, IsAnErrorAtTheValue) {
  const auto p = parse(GetParam().text);
  ASSERT_FALSE(p.config) << GetParam().text;
  EXPECT_EQ(doc::format(p.config.error().front()), GetParam().error) << errors_of(p);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ParseConfigAnomalyBad,
    ::testing::Values(
        Bad{"anomaly: [1, 2]\n", "cairn.yaml:1:10: error: `anomaly` must be a mapping"},
        Bad{"anomaly:\n  max_completions: ten\n",
            "cairn.yaml:2:20: error: `anomaly.max_completions` must be a whole number"},
        Bad{"anomaly:\n  max_completions: 1.5\n",
            "cairn.yaml:2:20: error: `anomaly.max_completions` must be a whole number"},
        Bad{"anomaly:\n  max_submissions_per_stage: [4]\n",
            "cairn.yaml:2:30: error: `anomaly.max_submissions_per_stage` must be a whole number"},
        Bad{"anomaly:\n  max_submissions_per_stage: 0\n",
            "cairn.yaml:2:30: error: `anomaly.max_submissions_per_stage` must be at least 1"},
        Bad{"anomaly:\n  systemic_campaigns: 1\n",
            "cairn.yaml:2:23: error: `anomaly.systemic_campaigns` must be at least 2"},
        Bad{"anomaly:\n  stall_after: 86400\n",
            "cairn.yaml:2:16: error: `anomaly.stall_after` must be a duration with a unit, e.g. `24h`, "
            "`15m`"},
        Bad{"anomaly:\n  systemic_window: {h: 6}\n",
            "cairn.yaml:2:20: error: `anomaly.systemic_window` must be a duration with a unit, e.g. `24h`, "
            "`15m`"},
        Bad{"anomaly:\n  log_patterns: FATAL\n",
            "cairn.yaml:2:17: error: `anomaly.log_patterns` must be a list of RE2 patterns"},
        Bad{"anomaly:\n  log_patterns:\n    - FATAL\n    - '(unclosed'\n",
            "cairn.yaml:4:7: error: `anomaly.log_patterns[]`: invalid RE2 pattern `(unclosed`: missing ): "
            "(unclosed"}));

TEST(ParseConfigAnomaly, BadDurationTextSaysWhy) {
  const auto p = parse("anomaly:\n  completions_window: soon\n");
  ASSERT_FALSE(p.config);
  const auto& d = p.config.error().front();
  EXPECT_EQ(d.line, 2);
  EXPECT_EQ(d.column, 23);
  EXPECT_EQ(d.message.rfind("`anomaly.completions_window`: ", 0), 0u) << d.message;
}

TEST(ParseConfigCeilings, ReadsTimeMemGpus) {
  const auto p = parse("ceilings:\n  time: \"2-00:00:00\"\n  mem: 256G\n  gpus: 8\n");
  ASSERT_TRUE(p.config) << errors_of(p);
  EXPECT_EQ(p.config->ceilings.time_seconds, 2 * 86400);
  EXPECT_EQ(p.config->ceilings.time_text, "2-00:00:00");
  EXPECT_EQ(p.config->ceilings.mem_mb, 256 * 1024);
  EXPECT_EQ(p.config->ceilings.gpus, 8);
  EXPECT_FALSE(parse("root: x\n").config->ceilings.time_seconds);
}

TEST(ParseConfigCeilings, BadValuesSayWhere) {
  const auto p = parse("ceilings:\n  time: soon\n  mem: lots\n  gpus: 0\n");
  const std::string e = errors_of(p);
  EXPECT_NE(e.find("cairn.yaml:2:9: error: `ceilings.time`"), std::string::npos) << e;
  EXPECT_NE(e.find("cairn.yaml:3:8: error: `ceilings.mem`"), std::string::npos) << e;
  EXPECT_NE(e.find("cairn.yaml:4:9: error: `ceilings.gpus`"), std::string::npos) << e;
  EXPECT_FALSE(parse("anomaly: {enabled: perhaps}\n").config);
  EXPECT_FALSE(parse("anomaly: {enabled: false}\n").config->anomaly.enabled);
}

}  // namespace
}  // namespace cairn::parse
