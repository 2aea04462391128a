// What a workload's process may see of the tick's environment (issue 19), and the
// conversions of untrusted numbers and times that must never overflow.

#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <cairn/util/number.hpp>
#include <cairn/util/subprocess.hpp>
#include <cairn/util/time.hpp>

namespace cairn::util {
namespace {

bool has(const std::vector<std::string>& env, const std::string& entry) {
  for (const auto& e : env) {
    if (e == entry) return true;
  }
  return false;
}
bool has_name(const std::vector<std::string>& env, const std::string& name) {
  for (const auto& e : env) {
    if (e.rfind(name + "=", 0) == 0) return true;
  }
  return false;
}

TEST(WorkloadEnvironment, SecretsByNameByPatternAndByRegistration) {
  for (const char* e : {"CAIRN_TOKEN=x", "CAIRN_FORGE_TOKEN=x", "GITHUB_TOKEN=x", "GH_TOKEN=x",
                        "GITLAB_TOKEN=x", "CI_JOB_TOKEN=x", "GITEA_TOKEN=x", "ACTIONS_RUNTIME_TOKEN=x",
                        "ACTIONS_ID_TOKEN_REQUEST_URL=https://x", "ACTIONS_CACHE_URL=https://x", "HF_TOKEN=x",
                        "DB_PASSWORD=x", "AWS_SECRET=x", "ANYTHING=ghp_0123456789abcdefghij",
                        "URL=https://user:pw@host/x", "GITHUB_TOKEN="}) {
    EXPECT_TRUE(is_secret_variable(e)) << e;
  }
  for (const char* e : {"PATH=/usr/bin", "HOME=/home/a", "OMP_NUM_THREADS=4", "TOKENIZERS_PARALLELISM=false",
                        "MY_FORGE_PAT_UNREGISTERED=plain"}) {
    EXPECT_FALSE(is_secret_variable(e)) << e;
  }
  add_secret_variable("CAIRN_TEST_FORGE_PAT");
  EXPECT_TRUE(is_secret_variable("CAIRN_TEST_FORGE_PAT=plain-looking"));
}

TEST(WorkloadEnvironment, DropsSecretsKeepsTheRestAddsExtra) {
  ::setenv("CAIRN_TEST_CANARY_TOKEN", "canary", 1);
  ::setenv("GITHUB_TOKEN", "canary", 1);
  ::setenv("CAIRN_TEST_ORDINARY", "kept", 1);
  ::setenv("OSMO_CAIRN_TEST", "osmo", 1);
  const auto env = workload_environment({"CAIRN_TEST_ORDINARY=replaced", "STAGE_VAR=1"});
  EXPECT_FALSE(has_name(env, "CAIRN_TEST_CANARY_TOKEN"));
  EXPECT_FALSE(has_name(env, "GITHUB_TOKEN"));
  EXPECT_TRUE(has(env, "CAIRN_TEST_ORDINARY=replaced"));
  EXPECT_FALSE(has(env, "CAIRN_TEST_ORDINARY=kept"));
  EXPECT_TRUE(has(env, "STAGE_VAR=1"));
  EXPECT_TRUE(has_name(env, "PATH"));
  // A client's allowlist: its basics and the names asked for, still no secret.
  const auto client = workload_environment({}, {"OSMO_*"});
  EXPECT_TRUE(has(client, "OSMO_CAIRN_TEST=osmo"));
  EXPECT_TRUE(has_name(client, "PATH"));
  EXPECT_FALSE(has_name(client, "CAIRN_TEST_ORDINARY"));
  EXPECT_FALSE(has_name(client, "GITHUB_TOKEN"));
  ::unsetenv("CAIRN_TEST_CANARY_TOKEN");
  ::unsetenv("GITHUB_TOKEN");
}

TEST(WorkloadEnvironment, AChildStartedAsAWorkloadSeesNoSecret) {
  ::setenv("GITHUB_TOKEN", "canary-child", 1);
  SpawnOptions o;
  o.workload = true;
  auto r = run_capture({"/bin/sh", "-c", "env"}, "", std::chrono::seconds(10), o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->out.find("canary-child"), std::string::npos);
  // git (not a workload) still gets it.
  auto plain = run_capture({"/bin/sh", "-c", "env"}, "", std::chrono::seconds(10));
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_NE(plain->out.find("canary-child"), std::string::npos);
  ::unsetenv("GITHUB_TOKEN");
}

TEST(UntrustedNumbers, DoubleToInt64RefusesWhatDoesNotFit) {
  EXPECT_EQ(to_int64(42.9), 42);
  EXPECT_EQ(to_int64(-3.5), -3);
  EXPECT_FALSE(to_int64(1e300));
  EXPECT_FALSE(to_int64(-1e300));
  EXPECT_FALSE(to_int64(9223372036854775808.0));
  EXPECT_FALSE(to_int64(std::numeric_limits<double>::quiet_NaN()));
  EXPECT_FALSE(to_int64(std::numeric_limits<double>::infinity()));
}

TEST(UntrustedTimes, YearsOutsideTheClockAreNoTimes) {
  // system_clock counts nanoseconds: 1678..2262. Beyond, the conversion overflowed (UB).
  EXPECT_FALSE(parse_time("9999-12-31T23:59:59Z"));
  EXPECT_FALSE(parse_time("0001-01-01"));
  EXPECT_FALSE(parse_time("2263-01-01 00:00Z"));
  EXPECT_FALSE(parse_time("1677-01-01"));
  ASSERT_TRUE(parse_time("2262-04-11"));
  ASSERT_TRUE(parse_time("1678-01-01"));
  EXPECT_EQ(iso8601(*parse_time("2026-05-05T20:10:00Z")), "2026-05-05T20:10:00Z");
  EXPECT_FALSE(time_from_unix(99999999999));
  EXPECT_FALSE(time_from_unix(-99999999999));
  EXPECT_TRUE(time_from_unix(0));
}

}  // namespace
}  // namespace cairn::util
