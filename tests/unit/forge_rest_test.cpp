// The REST forges against a recording HttpClient: paths, headers, body shapes, and how
// "already exists" answers are turned into the existing object.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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
            "https://api.github.com/repos/acme/sims/issues?state=all&labels=cairn%2Cescalation&per_page=100&page=1");
  EXPECT_EQ(http.header(0, "Authorization"), "Bearer sekrit-token");
  EXPECT_EQ(http.header(0, "X-GitHub-Api-Version"), "2022-11-28");
  EXPECT_EQ(http.header(0, "Accept"), "application/vnd.github+json");
  EXPECT_FALSE(http.header(0, "User-Agent").empty());
}

TEST(ForgeGitHub, CreatePullThatExistsReturnsTheOpenOne) {
  FakeHttp http;
  http.answer(422, R"({"message": "Validation Failed"})");
  http.answer(200, R"([{"number": 7, "state": "open", "head": {"ref": "cairn/clear/c1/1"}, "base": {"ref": "main"}}])");
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
  http.answer(200, R"([{"id": 5, "name": "cairn"}])");             // GET labels
  http.answer(201, R"({"id": 9, "name": "escalation"})");          // POST label
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
  http.answer(200, R"({"iid": 2, "state": "merged", "merged_by": {"username": "bob"}, "source_branch": "h"})");
  auto forge = make_forge(settings("gitlab", "https://gitlab.example/api/v4"), http);
  auto pr = (*forge)->get_pull(2);
  ASSERT_TRUE(pr);
  EXPECT_EQ(pr->state, PullState::merged);
  EXPECT_EQ(pr->merged_by, "bob");
  EXPECT_EQ(pr->head, "h");
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
  auto r = http.send({"POST", "http://127.0.0.1:9/x?t=sekrit-token", {{"Authorization", "Bearer sekrit-token"}}, "{}"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit, ExitCode::unreachable);
  EXPECT_EQ(sleeps, 2);  // refused: nothing was sent, so even a POST is repeated
  EXPECT_EQ(r.error().message.find("sekrit-token"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace cairn::forge
