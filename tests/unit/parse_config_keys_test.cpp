// cairn.yaml: an unknown key at any level is an error at the key, with a did-you-mean.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <cairn/parse/config.hpp>

namespace cairn::parse {
namespace {

struct Case {
  const char* text;
  const char* error;  // the first diagnostic, formatted
};

class ParseConfigUnknownKey : public ::testing::TestWithParam<Case> {};

TEST_P(ParseConfigUnknownKey, IsAnErrorAtTheKey) {
  const auto parsed = parse_config("cairn.yaml", GetParam().text);
  ASSERT_FALSE(parsed) << GetParam().text;
  EXPECT_EQ(doc::format(parsed.error().front()), GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    EveryLevel, ParseConfigUnknownKey,
    ::testing::Values(
        Case{"root: campaigns\nbrnach: main\n",
             "cairn.yaml:2:1: error: unknown key `brnach` in cairn.yaml; did you mean `branch`?"},
        Case{"frobnicate: 1\n",
             "cairn.yaml:1:1: error: unknown key `frobnicate` in cairn.yaml (known: root, branch, identity, "
             "catalogs, "
             "backends, forge, anomaly, ceilings, diagnose)"},
        Case{"identity: {name: bot, emial: b@x}\n",
             "cairn.yaml:1:23: error: unknown key `identity.emial` in cairn.yaml; did you mean `email`?"},
        Case{"forge: {kind: github, token: x}\n",
             "cairn.yaml:1:23: error: unknown key `forge.token` in cairn.yaml (known: kind, repo, api, "
             "token_env, dashboard)"},
        Case{"diagnose: {command: [a], wehn: unclassified}\n",
             "cairn.yaml:1:26: error: unknown key `diagnose.wehn` in cairn.yaml; did you mean `when`?"},
        Case{"backends:\n  slurm: {ssh_hots: login1, partition: a100}\n",
             "cairn.yaml:2:11: error: unknown key `backends.slurm.ssh_hots` in cairn.yaml; did you mean "
             "`ssh_host`?"},
        Case{"backends:\n  slurm: {ssh_host: login1, partiton: a100}\n",
             "cairn.yaml:2:29: error: unknown key `backends.slurm.partiton` in cairn.yaml; did you mean "
             "`partition`?"},
        Case{"backends:\n  alpine: {kind: slurm, ssh_hst: cu}\n",
             "cairn.yaml:2:25: error: unknown key `backends.alpine.ssh_hst` in cairn.yaml; did you mean "
             "`ssh_host`?"},
        Case{"backends:\n  pool: {kind: osmo, pol: a}\n",
             "cairn.yaml:2:22: error: unknown key `backends.pool.pol` in cairn.yaml; did you mean `pool`?"},
        Case{"backends:\n  pbs: {kind: command, preset: pbs, sumbit: qsub}\n",
             "cairn.yaml:2:37: error: unknown key `backends.pbs.sumbit` in cairn.yaml; did you mean "
             "`submit`?"},
        Case{"backends:\n  hpc: {kind: slurmm}\n",
             "cairn.yaml:2:3: error: backend `hpc` has unknown kind `slurmm`; did you mean `slurm`? (kinds: "
             "local, "
             "slurm, osmo, command; name an instance with `kind:`)"},
        Case{"ceilings: {tme: 1:00:00}\n",
             "cairn.yaml:1:12: error: unknown key `ceilings.tme` in cairn.yaml; did you mean `time`?"}));

TEST(ParseConfigKeys, CommandBackendPlaceholdersAreSettings) {
  // A command backend's own settings are its template placeholders ({image}, {namespace}).
  const auto parsed = parse_config(
      "cairn.yaml", "backends:\n  k8s: {kind: command, preset: kubernetes, image: x, namespace: r}\n");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->backend("k8s")->settings.at("image"), "x");
}

TEST(ParseConfigKeys, BackendsKeepWhereTheyAndTheirSettingsAreWritten) {
  // For an error about a value the backend refuses, reported by the CLI (cli/backends.hpp).
  const auto parsed = parse_config("cairn.yaml",
                                   "backends:\n  gpu: {kind: osmo, priority: urgent}\n  pbs:\n"
                                   "    kind: command\n    submit: [qsub, \"{run}\"]\n");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->path, "cairn.yaml");
  const BackendConfig& gpu = *parsed->backend("gpu");
  EXPECT_EQ(std::make_pair(gpu.place.line, gpu.place.column), std::make_pair(2, 3));
  EXPECT_EQ(std::make_pair(gpu.setting_places.at("priority").line, gpu.setting_places.at("priority").column),
            std::make_pair(2, 31));
  const BackendConfig& pbs = *parsed->backend("pbs");
  EXPECT_EQ(std::make_pair(pbs.setting_places.at("submit").line, pbs.setting_places.at("submit").column),
            std::make_pair(5, 13));
}

TEST(ParseConfigKeys, TheShippedTemplateHasNoUnknownKey) {
  const auto parsed = parse_config("cairn.yaml",
                                   "root: campaigns\nbranch: main\nidentity: {name: a, email: b}\n"
                                   "catalogs: [catalogs/failure-catalog.md]\nbackends:\n  local: {}\n"
                                   "  alpine: {kind: slurm, ssh_host: cu_alpine, usd_per_cpu_hour: 0}\n");
  ASSERT_TRUE(parsed);
}

}  // namespace
}  // namespace cairn::parse
