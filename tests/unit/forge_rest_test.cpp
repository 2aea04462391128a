// The REST forges against a recording HttpClient: paths, headers, body shapes, and how
// "already exists" answers are turned into the existing object.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include <cairn/forge/forge.hpp>

#include "forge_test_fakes.hpp"

namespace cairn::forge {
namespace {

using nlohmann::json;
using testing::FakeHttp;

ForgeSettings settings(const std::string& kind, const std::string& api) {
  return ForgeSettings{kind, "acme/sims", api, "TOKEN_ENV", "sekrit-token"};
}

TEST(ForgeGitHub, ListsIssuesWithHeadersAndSkipsPullRequests) {
  FakeHttp http;
  http.answer(200, R"([{"number": 3, "state": "open", "title": "t", "body": "b", "html_url": "u"},
                      {"number": 2, "state": "open", "pull_request": {"url": "x"}}])");
  auto forge = make_forge(settings("github", "https://api.github.com"), http);
  ASSERT_TRUE(forge);
  auto issues = (*forge)->list_issues({"cairn", "escalation"});
  ASSERT_TRUE(issues) << issues.error().message;
  ASSERT_EQ(issues->size(), 1u);
  EXPECT_EQ(issues->front().number, 3);
  ASSERT_EQ(http.requests.size(), 1u);
  EXPECT_EQ(http.requests[0].method, "GET");
  EXPECT_EQ(http.requests[0].url,
            "https://api.github.com/repos/acme/sims/"
            "issues?state=all&labels=cairn%2Cescalation&per_page=100&page=1");
  EXPECT_EQ(http.header(0, "Authorization"), "Bearer sekrit-token");
  EXPECT_EQ(http.header(0, "X-GitHub-Api-Version"), "2022-11-28");
  EXPECT_EQ(http.header(0, "Accept"), "application/vnd.github+json");
  EXPECT_FALSE(http.header(0, "User-Agent").empty());
}

TEST(ForgeGitHub, CreatePullThatExistsReturnsTheOpenOne) {
  FakeHttp http;
  http.answer(422, R"({"message": "Validation Failed"})");
  http.answer(
      200,
      R"([{"number": 7, "state": "open", "head": {"ref": "cairn/clear/c1/1"}, "base": {"ref": "main"}}])");
  auto forge = make_forge(settings("github", "https://api.github.com"), http);
  auto pr = (*forge)->create_pull("cairn/clear/c1/1", "main", "t", "b");
  ASSERT_TRUE(pr) << pr.error().message;
  EXPECT_EQ(pr->number, 7);
  EXPECT_EQ(pr->state, PullState::open);
  ASSERT_EQ(http.requests.size(), 2u);
  const json body = json::parse(http.requests[0].body);
  EXPECT_EQ(body["head"], "cairn/clear/c1/1");
  EXPECT_EQ(body["base"], "main");
  EXPECT_NE(http.requests[1].url.find("head=acme%3Acairn%2Fclear%2Fc1%2F1"), std::string::npos);
}

TEST(ForgeGitHub, MergedPullNamesTheMerger) {
  FakeHttp http;
  http.answer(200, R"({"number": 7, "state": "closed", "merged": true, "merged_by": {"login": "alice"},
                       "head": {"ref": "h"}, "base": {"ref": "main"}})");
  auto forge = make_forge(settings("github", "https://api.github.com"), http);
  auto pr = (*forge)->get_pull(7);
  ASSERT_TRUE(pr);
  EXPECT_EQ(pr->state, PullState::merged);
  EXPECT_EQ(pr->merged_by, "alice");
}

TEST(ForgeGitHub, ErrorsNeverCarryTheToken) {
  FakeHttp http;
  http.answer(401, R"({"message": "Bad credentials for sekrit-token"})");
  auto forge = make_forge(settings("github", "https://api.github.com"), http);
  auto r = (*forge)->comment(1, "hi");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit, ExitCode::unreachable);
  EXPECT_EQ(r.error().message.find("sekrit-token"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("HTTP 401"), std::string::npos);
}

TEST(ForgeGitea, CreatesMissingLabelsAndSendsIds) {
  FakeHttp http;
  http.answer(200, R"([{"id": 5, "name": "cairn"}])");                 // GET labels
  http.answer(201, R"({"id": 9, "name": "escalation"})");              // POST label
  http.answer(201, R"({"number": 1, "state": "open", "body": "b"})");  // POST issue
  auto forge = make_forge(settings("gitea", "https://git.example/api/v1"), http);
  auto issue = (*forge)->create_issue("t", "b", {"cairn", "escalation"});
  ASSERT_TRUE(issue) << issue.error().message;
  ASSERT_EQ(http.requests.size(), 3u);
  EXPECT_EQ(http.header(0, "Authorization"), "token sekrit-token");
  EXPECT_EQ(http.requests[1].url, "https://git.example/api/v1/repos/acme/sims/labels");
  EXPECT_EQ(json::parse(http.requests[2].body)["labels"], json::array({5, 9}));
}

TEST(ForgeGitLab, EncodesTheProjectAndUsesNotesAndStateEvents) {
  FakeHttp http;
  http.answer(201, R"({"iid": 4, "state": "opened", "description": "d"})");
  http.answer(201, R"({"id": 1})");
  http.answer(200, R"({"iid": 4, "state": "closed"})");
  auto forge = make_forge(settings("gitlab", "https://gitlab.example/api/v4"), http);
  auto issue = (*forge)->create_issue("t", "d", {"cairn", "escalation"});
  ASSERT_TRUE(issue) << issue.error().message;
  EXPECT_EQ(issue->number, 4);
  ASSERT_TRUE((*forge)->comment(4, "c"));
  ASSERT_TRUE((*forge)->close_issue(4));
  EXPECT_EQ(http.requests[0].url, "https://gitlab.example/api/v4/projects/acme%2Fsims/issues");
  EXPECT_EQ(json::parse(http.requests[0].body)["labels"], "cairn,escalation");
  EXPECT_EQ(http.header(0, "PRIVATE-TOKEN"), "sekrit-token");
  EXPECT_EQ(http.requests[1].url, "https://gitlab.example/api/v4/projects/acme%2Fsims/issues/4/notes");
  EXPECT_EQ(http.requests[2].method, "PUT");
  EXPECT_EQ(json::parse(http.requests[2].body)["state_event"], "close");
  EXPECT_EQ((*forge)->pull_ref(3), "!3");
}

TEST(ForgeGitLab, MergeRequestStates) {
  FakeHttp http;
  http.answer(200,
              R"({"iid": 2, "state": "merged", "merged_by": {"username": "bob"}, "source_branch": "h"})");
  auto forge = make_forge(settings("gitlab", "https://gitlab.example/api/v4"), http);
  auto pr = (*forge)->get_pull(2);
  ASSERT_TRUE(pr);
  EXPECT_EQ(pr->state, PullState::merged);
  EXPECT_EQ(pr->merged_by, "bob");
  EXPECT_EQ(pr->head, "h");
}

TEST(ForgeComments, ListedPerForge) {
  FakeHttp http;
  http.answer(200, R"([{"id": 1, "body": "one"}, {"id": 2, "body": "two <!-- cairn:pull 2 -->"}])");
  auto gh = make_forge(settings("github", "https://api.github.com"), http);
  auto bodies = (*gh)->list_comments(3);
  ASSERT_TRUE(bodies) << bodies.error().message;
  EXPECT_EQ(*bodies, (std::vector<std::string>{"one", "two <!-- cairn:pull 2 -->"}));
  EXPECT_EQ(http.requests[0].url,
            "https://api.github.com/repos/acme/sims/issues/3/comments?per_page=100&page=1");
  http.answer(200, R"([{"id": 1, "body": "note", "system": false}])");
  auto gl = make_forge(settings("gitlab", "https://gitlab.example/api/v4"), http);
  ASSERT_TRUE((*gl)->list_comments(4));
  EXPECT_EQ(http.requests[1].url,
            "https://gitlab.example/api/v4/projects/acme%2Fsims/issues/4/"
            "notes?sort=asc&order_by=created_at&per_page=100&page=1");
}

TEST(ForgeAccess, GitHubScopesPushAndRejectedTokens) {
  FakeHttp http;
  http.answer(200, R"({"full_name": "acme/sims", "html_url": "u", "has_issues": true,
                       "permissions": {"admin": false, "push": false, "pull": true}})",
              {{"x-oauth-scopes", "public_repo, read:org"}});
  http.answer(200, R"({"full_name": "acme/sims", "has_issues": false})");
  http.answer(401, R"({"message": "Bad credentials"})");
  auto forge = make_forge(settings("github", "https://api.github.com"), http);
  auto a = (*forge)->access();
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(http.requests[0].url, "https://api.github.com/repos/acme/sims");
  EXPECT_EQ(a->status, 200);
  ASSERT_TRUE(a->scopes);
  EXPECT_EQ(*a->scopes, (std::vector<std::string>{"public_repo", "read:org"}));
  EXPECT_EQ(a->can_push, std::optional<bool>(false));
  // A fine-grained or app token: no scopes header, no permissions object.
  auto app = (*forge)->access();
  ASSERT_TRUE(app);
  EXPECT_FALSE(app->scopes);
  EXPECT_FALSE(app->can_push);
  EXPECT_FALSE(app->issues_enabled);
  auto bad = (*forge)->access();
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 401);
  EXPECT_EQ(bad->message, "Bad credentials");
}

TEST(ForgeAccess, GitLabDeveloperCanPush) {
  FakeHttp http;
  http.answer(200, R"({"web_url": "u", "issues_enabled": true,
                       "permissions": {"project_access": null, "group_access": {"access_level": 30}}})");
  http.answer(200, R"({"permissions": {"project_access": {"access_level": 20}, "group_access": null}})");
  auto forge = make_forge(settings("gitlab", "https://gitlab.example/api/v4"), http);
  auto dev = (*forge)->access();
  ASSERT_TRUE(dev) << dev.error().message;
  EXPECT_EQ(http.requests[0].url, "https://gitlab.example/api/v4/projects/acme%2Fsims");
  EXPECT_EQ(dev->can_push, std::optional<bool>(true));
  auto reporter = (*forge)->access();
  ASSERT_TRUE(reporter);
  EXPECT_EQ(reporter->can_push, std::optional<bool>(false));
}

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(CAIRN_SOURCE_DIR) + "/tests/fixtures/gitlab/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ForgeGitLab, ReadsTheDocumentedResponses) {
  FakeHttp http;
  http.answer(201, fixture("issue_created.json"));
  http.answer(200, fixture("notes.json"));
  http.answer(200, fixture("merge_request_merged.json"));
  json v5 = json::parse(fixture("merge_request_merged.json"));
  v5.erase("merged_by");
  http.answer(200, v5.dump());
  auto forge = make_forge(settings("gitlab", "https://gitlab.example/api/v4"), http);
  auto issue = (*forge)->create_issue("Issues with auth", "", {"bug"});
  ASSERT_TRUE(issue) << issue.error().message;
  EXPECT_EQ(issue->number, 14);  // the iid, not the id
  EXPECT_TRUE(issue->open);
  EXPECT_EQ(issue->body, "");  // "description": null
  EXPECT_EQ(issue->url, "http://gitlab.example.com/my-group/my-project/issues/14");
  auto notes = (*forge)->list_comments(14);
  ASSERT_TRUE(notes) << notes.error().message;
  EXPECT_EQ(*notes, (std::vector<std::string>{"closed", "Text of the comment\r\n"}));
  for (int i = 0; i < 2; ++i) {
    auto mr = (*forge)->get_pull(1);
    ASSERT_TRUE(mr) << mr.error().message;
    EXPECT_EQ(mr->number, 1);
    EXPECT_EQ(mr->state, PullState::merged);
    EXPECT_EQ(mr->merged_by, "DouweM");
    EXPECT_EQ(mr->head, "test1");
    EXPECT_EQ(mr->base, "main");
  }
}

TEST(ForgeSettings, InferredFromTheRemote) {
  auto gh = resolve_settings({}, "git@github.com:acme/sims.git");
  ASSERT_TRUE(gh);
  EXPECT_EQ(gh->kind, "github");
  EXPECT_EQ(gh->repo, "acme/sims");
  EXPECT_EQ(gh->api, "https://api.github.com");
  auto gl = resolve_settings({}, "https://gitlab.example.org/group/sub/sims.git");
  ASSERT_TRUE(gl);
  EXPECT_EQ(gl->kind, "gitlab");
  EXPECT_EQ(gl->repo, "group/sub/sims");
  EXPECT_EQ(gl->api, "https://gitlab.example.org/api/v4");
  auto gitea = resolve_settings({"gitea", "", "https://codeberg.org/", ""}, "https://codeberg.org/me/x");
  ASSERT_TRUE(gitea);
  EXPECT_EQ(gitea->api, "https://codeberg.org/api/v1");
  EXPECT_EQ(gitea->token_env, "GITEA_TOKEN");
  EXPECT_FALSE(resolve_settings({}, "/srv/git/sims.git"));
  EXPECT_FALSE(resolve_settings({"bitbucket", "a/b", "", ""}, ""));
}

TEST(RetryDelay, HonoursRetryAfterAndRateLimitReset) {
  using std::chrono::milliseconds;
  HttpResponse r;
  r.headers["retry-after"] = "3";
  EXPECT_EQ(retry_delay(r, 100, milliseconds(10), milliseconds(60000)), milliseconds(3000));
  HttpResponse limited;
  limited.headers["x-ratelimit-remaining"] = "0";
  limited.headers["x-ratelimit-reset"] = "105";
  EXPECT_EQ(retry_delay(limited, 100, milliseconds(10), milliseconds(60000)), milliseconds(5000));
  HttpResponse gitlab;
  gitlab.headers["ratelimit-remaining"] = "0";
  gitlab.headers["ratelimit-reset"] = "200";
  EXPECT_EQ(retry_delay(gitlab, 100, milliseconds(10), milliseconds(60000)), milliseconds(60000));
  EXPECT_EQ(retry_delay(HttpResponse{}, 100, milliseconds(10), milliseconds(60000)), milliseconds(10));
}

TEST(CurlHttpClient, ConnectionRefusedIsRetriedThenFailsWithoutTheToken) {
  int sleeps = 0;
  RetryPolicy p;
  p.max_attempts = 3;
  p.mutation_interval = std::chrono::milliseconds(0);
  CurlHttpClient http(p, "sekrit-token", [&](std::chrono::milliseconds) { ++sleeps; });
  // Port 9 on loopback: nothing listens (discard service is never enabled in CI).
  auto r = http.send(
      {"POST", "http://127.0.0.1:9/x?t=sekrit-token", {{"Authorization", "Bearer sekrit-token"}}, "{}"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit, ExitCode::unreachable);
  EXPECT_EQ(sleeps, 2);  // refused: nothing was sent, so even a POST is repeated
  EXPECT_EQ(r.error().message.find("sekrit-token"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace cairn::forge
