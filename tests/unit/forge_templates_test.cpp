// The CI templates `cairn init` installs (ci/github/cairn-tick.yml,
// ci/gitlab/cairn-tick.gitlab-ci.yml): they parse as YAML, run `cairn tick` with what the
// escalation flow needs, and name no secret inline — tokens come from the CI's secret
// store by reference.

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <functional>
#include <string>
#include <vector>

#include <cairn/util/redact.hpp>

namespace cairn {
namespace {

YAML::Node load(const std::string& relative) {
  return YAML::LoadFile(std::string(CAIRN_SOURCE_DIR) + "/" + relative);
}

// Every scalar of `node` with the key path leading to it ("jobs.tick.steps[2].env.GITHUB_TOKEN").
void scalars(const YAML::Node& node, const std::string& where,
             const std::function<void(const std::string&, const std::string&)>& visit) {
  if (node.IsScalar()) {
    visit(where, node.Scalar());
  } else if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i)
      scalars(node[i], where + "[" + std::to_string(i) + "]", visit);
  } else if (node.IsMap()) {
    for (const auto& kv : node) scalars(kv.second, where + "." + kv.first.as<std::string>(), visit);
  }
}

bool secret_like_key(std::string key) {
  for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto last = key.rfind('.');
  key = last == std::string::npos ? key : key.substr(last + 1);
  // A bare `key:` is a cache key in both syntaxes (actions/cache `with.key`, GitLab
  // `cache.key`); `api_key`, `SSH_KEY`, `private-key` still count.
  if (key == "key") return false;
  for (const char* word : {"token", "secret", "password", "passwd", "key", "credential"}) {
    if (key.find(word) != std::string::npos) return true;
  }
  return false;
}

// A secret-looking key must take its value from the CI (`${{ secrets.X }}`,
// `${{ github.token }}`, `$CI_JOB_TOKEN`), and no value may look like a credential.
std::vector<std::string> inline_secrets(const YAML::Node& doc) {
  std::vector<std::string> found;
  scalars(doc, "", [&](const std::string& where, const std::string& value) {
    if (util::redact(value) != value) found.push_back(where + ": looks like a credential");
    const bool reference = value.rfind("${{", 0) == 0 || value.rfind('$', 0) == 0;
    if (secret_like_key(where) && !value.empty() && !reference) found.push_back(where + ": a literal value");
  });
  return found;
}

TEST(CiTemplates, GitHubWorkflowParsesAndNamesNoSecretInline) {
  YAML::Node doc;
  ASSERT_NO_THROW(doc = load("ci/github/cairn-tick.yml"));
  ASSERT_TRUE(doc.IsMap());
  EXPECT_TRUE(doc["on"]["schedule"].IsSequence());
  // The escalation flow pushes a branch, opens an issue and a pull request.
  EXPECT_EQ(doc["permissions"]["contents"].as<std::string>(), "write");
  EXPECT_EQ(doc["permissions"]["issues"].as<std::string>(), "write");
  EXPECT_EQ(doc["permissions"]["pull-requests"].as<std::string>(), "write");
  EXPECT_EQ(doc["concurrency"]["group"].as<std::string>(), "cairn");
  bool ticks = false;
  std::string token;
  for (const auto& step : doc["jobs"]["tick"]["steps"]) {
    if (step["run"] && step["run"].as<std::string>().find("cairn tick") != std::string::npos) {
      ticks = true;
      if (step["env"] && step["env"]["GITHUB_TOKEN"]) token = step["env"]["GITHUB_TOKEN"].as<std::string>();
    }
  }
  EXPECT_TRUE(ticks);
  EXPECT_EQ(token, "${{ secrets.GITHUB_TOKEN }}");
  EXPECT_EQ(inline_secrets(doc), std::vector<std::string>{});
}

TEST(CiTemplates, GitLabPipelineParsesAndNamesNoSecretInline) {
  YAML::Node doc;
  ASSERT_NO_THROW(doc = load("ci/gitlab/cairn-tick.gitlab-ci.yml"));
  ASSERT_TRUE(doc.IsMap());
  const YAML::Node job = doc["cairn-tick"];
  ASSERT_TRUE(job.IsMap());
  EXPECT_EQ(job["resource_group"].as<std::string>(), "cairn");
  bool ticks = false;
  for (const auto& line : job["script"])
    ticks = ticks || line.as<std::string>().find("cairn tick") != std::string::npos;
  EXPECT_TRUE(ticks);
  EXPECT_EQ(inline_secrets(doc), std::vector<std::string>{});
}

TEST(CiTemplates, TheSecretCheckCatchesAnInlineToken) {
  const YAML::Node doc = YAML::Load(
      "env:\n  GITHUB_TOKEN: ghp_0123456789abcdefghijklmnopqrstuvwxyzAB\n  API_KEY: hunter2\n"
      "  GITLAB_TOKEN: $GITLAB_TOKEN\n");
  const auto found = inline_secrets(doc);
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0], ".env.GITHUB_TOKEN: looks like a credential");
  EXPECT_EQ(found[1], ".env.GITHUB_TOKEN: a literal value");
  EXPECT_EQ(found[2], ".env.API_KEY: a literal value");
}

}  // namespace
}  // namespace cairn
