#include <cairn/forge/forge.hpp>

#include <algorithm>
#include <cstdlib>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cairn/util/redact.hpp>
#include <cairn/util/strings.hpp>

namespace cairn::forge {

using nlohmann::json;

std::string_view to_string(PullState s) {
  switch (s) {
    case PullState::open: return "open";
    case PullState::merged: return "merged";
    case PullState::closed: return "closed";
  }
  return "?";
}

namespace {

std::string env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  return v != nullptr ? v : "";
}

std::string percent_encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// The pull requests of a listing whose head branch is exactly `head`, newest first: a
// forge's own filter is only a hint (Gitea ignores `head`; a source_branch query is ours
// to check).
std::vector<PullRequest> newest_with_head(const std::vector<json>& items, const std::string& head,
                                          PullRequest (*read)(const json&)) {
  std::vector<PullRequest> out;
  for (const auto& j : items) {
    PullRequest p = read(j);
    if (p.head == head) out.push_back(std::move(p));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.number > b.number; });
  return out;
}

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "repo, workflow" -> {"repo", "workflow"}.
std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s + ",") {
    if (c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (c != ' ' && c != '\t') {
      cur += c;
    }
  }
  return out;
}

std::int64_t num(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

// What REST forges share: headers, JSON in and out, status checks, paging.
class RestForge : public Forge {
 public:
  RestForge(ForgeSettings settings, HttpClient& http) : m_s(std::move(settings)), m_http(http) {}

 protected:
  virtual std::vector<std::pair<std::string, std::string>> headers() const = 0;
  virtual std::string display() const = 0;

  // GETs `path` and returns the answer whatever its status; fails only without one.
  Expected<HttpResponse> get_raw(const std::string& path) {
    auto resp = m_http.send(HttpRequest{"GET", m_s.api + path, headers(), std::string()});
    if (!resp) return fail(fmt::format("{}: {}", display(), resp.error().message), ExitCode::unreachable);
    return resp;
  }

  // The forge's own words for a failed answer: its JSON `message`, else the body's start.
  static std::string why(const HttpResponse& resp) {
    auto parsed = json::parse(resp.body, nullptr, false);
    if (!parsed.is_discarded() && parsed.is_object() && parsed.contains("message")) {
      return parsed["message"].is_string() ? parsed["message"].get<std::string>() : parsed["message"].dump();
    }
    return resp.body.substr(0, 300);
  }

  // Calls `method path` with `body`; the parsed JSON answer when the status is one of
  // `ok`. `status_out` receives the status for callers that handle some failures.
  Expected<json> call(const std::string& method, const std::string& path, const json* body,
                      std::initializer_list<long> ok, long* status_out = nullptr) {
    HttpRequest r{method, m_s.api + path, headers(), body != nullptr ? body->dump() : std::string()};
    auto resp = m_http.send(r);
    if (!resp) return fail(fmt::format("{}: {}", display(), resp.error().message), ExitCode::unreachable);
    if (status_out != nullptr) *status_out = resp->status;
    if (std::find(ok.begin(), ok.end(), resp->status) == ok.end()) {
      return fail(
          scrub(fmt::format("{}: {} {}: HTTP {}: {}", display(), method, path, resp->status, why(*resp))),
          ExitCode::unreachable);
    }
    if (resp->body.empty()) return json();
    auto parsed = json::parse(resp->body, nullptr, false);
    if (parsed.is_discarded()) {
      return fail(fmt::format("{}: {} {}: the answer is not JSON", display(), method, path),
                  ExitCode::unreachable);
    }
    return parsed;
  }

  // GETs `path` (which has a query, or ends in `?`) page by page until a short page; at
  // most 20 pages.
  Expected<std::vector<json>> list(const std::string& path, const char* size_param, int size) {
    std::vector<json> out;
    const char* sep = !path.empty() && path.back() == '?' ? "" : "&";
    for (int page = 1; page <= 20; ++page) {
      json items = CAIRN_TRY(
          call("GET", fmt::format("{}{}{}={}&page={}", path, sep, size_param, size, page), nullptr, {200}));
      if (!items.is_array())
        return fail(fmt::format("{}: GET {}: expected a list", display(), path), ExitCode::unreachable);
      for (auto& i : items) out.push_back(std::move(i));
      if (static_cast<int>(items.size()) < size) break;
    }
    return out;
  }

  std::string scrub(std::string text) const {
    if (!m_s.token.empty()) {
      for (auto p = text.find(m_s.token); p != std::string::npos; p = text.find(m_s.token, p)) {
        text.replace(p, m_s.token.size(), "[REDACTED]");
      }
    }
    return util::redact(text);
  }

  ForgeSettings m_s;
  HttpClient& m_http;
};

// GitHub and Gitea/Forgejo: Gitea's v1 API copies GitHub's shapes, except labels by
// id on create, `limit` paging, no `head` filter, and 409 for a duplicate pull request.
class GitHubLike : public RestForge {
 public:
  GitHubLike(ForgeSettings s, HttpClient& http, bool gitea) : RestForge(std::move(s), http), m_gitea(gitea) {}

  std::string kind() const override { return m_gitea ? "gitea" : "github"; }
  std::string pull_ref(std::int64_t n) const override { return fmt::format("#{}", n); }

  Expected<std::vector<Issue>> list_issues(const std::vector<std::string>& labels) override {
    const std::string path =
        fmt::format("/repos/{}/issues?state=all&labels={}{}", m_s.repo,
                    percent_encode(util::join(labels, ",")), m_gitea ? "&type=issues" : "");
    auto items = CAIRN_TRY(list(path, m_gitea ? "limit" : "per_page", m_gitea ? 50 : 100));
    std::vector<Issue> out;
    for (const auto& j : items) {
      if (j.contains("pull_request") && !j["pull_request"].is_null()) continue;
      out.push_back(issue(j));
    }
    std::sort(out.begin(), out.end(), [](const Issue& a, const Issue& b) { return a.number > b.number; });
    return out;
  }

  Expected<Issue> create_issue(const std::string& title, const std::string& body,
                               const std::vector<std::string>& labels) override {
    json req{{"title", title}, {"body", body}};
    if (m_gitea) {
      req["labels"] = CAIRN_TRY(label_ids(labels));
    } else {
      req["labels"] = labels;
    }
    json j = CAIRN_TRY(call("POST", fmt::format("/repos/{}/issues", m_s.repo), &req, {201}));
    return issue(j);
  }

  Expected<void> comment(std::int64_t n, const std::string& body) override {
    json req{{"body", body}};
    CAIRN_TRY(call("POST", fmt::format("/repos/{}/issues/{}/comments", m_s.repo, n), &req, {201}));
    return {};
  }

  Expected<void> close_issue(std::int64_t n) override {
    json req{{"state", "closed"}};
    CAIRN_TRY(call("PATCH", fmt::format("/repos/{}/issues/{}", m_s.repo, n), &req, {200, 201}));
    return {};
  }

  Expected<void> update_issue(std::int64_t n, const std::string& body) override {
    json req{{"body", body}};
    CAIRN_TRY(call("PATCH", fmt::format("/repos/{}/issues/{}", m_s.repo, n), &req, {200, 201}));
    return {};
  }

  Expected<std::vector<std::string>> list_comments(std::int64_t n) override {
    auto items = CAIRN_TRY(list(fmt::format("/repos/{}/issues/{}/comments?", m_s.repo, n),
                                m_gitea ? "limit" : "per_page", m_gitea ? 50 : 100));
    std::vector<std::string> out;
    for (const auto& j : items) out.push_back(str(j, "body"));
    return out;
  }

  Expected<std::vector<PullRequest>> list_pulls(const std::string& head) override {
    const std::string owner = m_s.repo.substr(0, m_s.repo.find('/'));
    const std::string path = m_gitea ? fmt::format("/repos/{}/pulls?state=all", m_s.repo)
                                     : fmt::format("/repos/{}/pulls?state=all&head={}", m_s.repo,
                                                   percent_encode(owner + ":" + head));
    auto items = CAIRN_TRY(list(path, m_gitea ? "limit" : "per_page", m_gitea ? 50 : 100));
    return newest_with_head(items, head, &pull);
  }

  Expected<PullRequest> create_pull(const std::string& head, const std::string& base,
                                    const std::string& title, const std::string& body) override {
    json req{{"title", title}, {"head", head}, {"base", base}, {"body", body}};
    long status = 0;
    auto j = call("POST", fmt::format("/repos/{}/pulls", m_s.repo), &req, {201}, &status);
    if (j) return pull(*j);
    if (status == 422 || status == 409) {  // "A pull request already exists"
      auto existing = CAIRN_TRY(list_pulls(head));
      for (auto& p : existing) {
        if (p.state == PullState::open) return std::move(p);
      }
    }
    return std::move(j).error();
  }

  Expected<PullRequest> get_pull(std::int64_t n) override {
    json j = CAIRN_TRY(call("GET", fmt::format("/repos/{}/pulls/{}", m_s.repo, n), nullptr, {200}));
    return pull(j);
  }

  Expected<Access> access() override {
    const HttpResponse resp = CAIRN_TRY(get_raw(fmt::format("/repos/{}", m_s.repo)));
    Access a;
    a.status = resp.status;
    // Classic tokens list their scopes on every answer; fine-grained and app tokens do not.
    if (!m_gitea && resp.headers.count("x-oauth-scopes") != 0)
      a.scopes = split_list(resp.header("x-oauth-scopes"));
    if (resp.status != 200) {
      a.message = scrub(why(resp));
      return a;
    }
    auto j = json::parse(resp.body, nullptr, false);
    if (!j.is_object()) {
      return fail(fmt::format("{}: GET /repos/{}: the answer is not a JSON object", display(), m_s.repo),
                  ExitCode::unreachable);
    }
    a.repo_url = str(j, "html_url");
    if (auto p = j.find("permissions");
        p != j.end() && p->is_object() && p->contains("push") && (*p)["push"].is_boolean()) {
      a.can_push = (*p)["push"].get<bool>();
    }
    if (auto h = j.find("has_issues"); h != j.end() && h->is_boolean()) a.issues_enabled = h->get<bool>();
    return a;
  }

 protected:
  std::vector<std::pair<std::string, std::string>> headers() const override {
    std::vector<std::pair<std::string, std::string>> h{{"User-Agent", "cairn"},
                                                       {"Accept", "application/json"}};
    if (!m_gitea) {
      h = {{"User-Agent", "cairn"},
           {"Accept", "application/vnd.github+json"},
           {"X-GitHub-Api-Version", "2022-11-28"}};
    }
    if (!m_s.token.empty()) h.emplace_back("Authorization", (m_gitea ? "token " : "Bearer ") + m_s.token);
    return h;
  }
  std::string display() const override { return m_gitea ? "Gitea" : "GitHub"; }

 private:
  static Issue issue(const json& j) {
    return Issue{num(j, "number"), str(j, "state") != "closed", str(j, "title"), str(j, "body"),
                 str(j, "html_url")};
  }

  static PullRequest pull(const json& j) {
    PullRequest p;
    p.number = num(j, "number");
    const bool merged = (j.contains("merged") && j["merged"].is_boolean() && j["merged"].get<bool>()) ||
                        (j.contains("merged_at") && j["merged_at"].is_string());
    p.state = merged ? PullState::merged : str(j, "state") == "open" ? PullState::open : PullState::closed;
    if (j.contains("head") && j["head"].is_object()) p.head = str(j["head"], "ref");
    if (j.contains("base") && j["base"].is_object()) p.base = str(j["base"], "ref");
    if (j.contains("merged_by") && j["merged_by"].is_object()) p.merged_by = str(j["merged_by"], "login");
    p.body = str(j, "body");
    p.url = str(j, "html_url");
    return p;
  }

  // Gitea takes label ids on create; the labels are made when the repository lacks them.
  Expected<std::vector<std::int64_t>> label_ids(const std::vector<std::string>& names) {
    auto existing = CAIRN_TRY(list(fmt::format("/repos/{}/labels?", m_s.repo), "limit", 50));
    std::vector<std::int64_t> ids;
    for (const auto& name : names) {
      auto it = std::find_if(existing.begin(), existing.end(),
                             [&](const json& l) { return str(l, "name") == name; });
      if (it != existing.end()) {
        ids.push_back(num(*it, "id"));
        continue;
      }
      json req{{"name", name}, {"color", name == "escalation" ? "#d93f0b" : "#5319e7"}};
      json made = CAIRN_TRY(call("POST", fmt::format("/repos/{}/labels", m_s.repo), &req, {201}));
      ids.push_back(num(made, "id"));
    }
    return ids;
  }

  bool m_gitea;
};

class GitLab : public RestForge {
 public:
  GitLab(ForgeSettings s, HttpClient& http)
      : RestForge(std::move(s), http), m_project(percent_encode(m_s.repo)) {}

  std::string kind() const override { return "gitlab"; }
  std::string pull_ref(std::int64_t n) const override { return fmt::format("!{}", n); }

  Expected<std::vector<Issue>> list_issues(const std::vector<std::string>& labels) override {
    auto items = CAIRN_TRY(list(fmt::format("/projects/{}/issues?state=all&labels={}", m_project,
                                            percent_encode(util::join(labels, ","))),
                                "per_page", 100));
    std::vector<Issue> out;
    for (const auto& j : items) out.push_back(issue(j));
    std::sort(out.begin(), out.end(), [](const Issue& a, const Issue& b) { return a.number > b.number; });
    return out;
  }

  Expected<Issue> create_issue(const std::string& title, const std::string& body,
                               const std::vector<std::string>& labels) override {
    json req{{"title", title}, {"description", body}, {"labels", util::join(labels, ",")}};
    json j = CAIRN_TRY(call("POST", fmt::format("/projects/{}/issues", m_project), &req, {201}));
    return issue(j);
  }

  Expected<void> comment(std::int64_t n, const std::string& body) override {
    json req{{"body", body}};
    CAIRN_TRY(call("POST", fmt::format("/projects/{}/issues/{}/notes", m_project, n), &req, {201}));
    return {};
  }

  Expected<void> close_issue(std::int64_t n) override {
    json req{{"state_event", "close"}};
    CAIRN_TRY(call("PUT", fmt::format("/projects/{}/issues/{}", m_project, n), &req, {200}));
    return {};
  }

  Expected<void> update_issue(std::int64_t n, const std::string& body) override {
    json req{{"description", body}};
    CAIRN_TRY(call("PUT", fmt::format("/projects/{}/issues/{}", m_project, n), &req, {200}));
    return {};
  }

  Expected<std::vector<std::string>> list_comments(std::int64_t n) override {
    auto items =
        CAIRN_TRY(list(fmt::format("/projects/{}/issues/{}/notes?sort=asc&order_by=created_at", m_project, n),
                       "per_page", 100));
    std::vector<std::string> out;
    for (const auto& j : items) out.push_back(str(j, "body"));
    return out;
  }

  Expected<std::vector<PullRequest>> list_pulls(const std::string& head) override {
    auto items = CAIRN_TRY(list(fmt::format("/projects/{}/merge_requests?state=all&source_branch={}",
                                            m_project, percent_encode(head)),
                                "per_page", 100));
    return newest_with_head(items, head, &pull);
  }

  Expected<PullRequest> create_pull(const std::string& head, const std::string& base,
                                    const std::string& title, const std::string& body) override {
    json req{{"source_branch", head}, {"target_branch", base}, {"title", title}, {"description", body}};
    long status = 0;
    auto j = call("POST", fmt::format("/projects/{}/merge_requests", m_project), &req, {201}, &status);
    if (j) return pull(*j);
    if (status == 409 ||
        status == 422) {  // "Another open merge request already exists for this source branch"
      auto existing = CAIRN_TRY(list_pulls(head));
      for (auto& p : existing) {
        if (p.state == PullState::open) return std::move(p);
      }
    }
    return std::move(j).error();
  }

  Expected<PullRequest> get_pull(std::int64_t n) override {
    json j =
        CAIRN_TRY(call("GET", fmt::format("/projects/{}/merge_requests/{}", m_project, n), nullptr, {200}));
    return pull(j);
  }

  Expected<Access> access() override {
    const HttpResponse resp = CAIRN_TRY(get_raw(fmt::format("/projects/{}", m_project)));
    Access a;
    a.status = resp.status;
    if (resp.status != 200) {
      a.message = scrub(why(resp));
      return a;
    }
    auto j = json::parse(resp.body, nullptr, false);
    if (!j.is_object()) {
      return fail(fmt::format("GitLab: GET /projects/{}: the answer is not a JSON object", m_project),
                  ExitCode::unreachable);
    }
    a.repo_url = str(j, "web_url");
    // Pushing a branch and opening a merge request take Developer (30) on the project or
    // its group; the job token's answer has no `permissions`.
    if (auto p = j.find("permissions"); p != j.end() && p->is_object()) {
      std::int64_t level = 0;
      for (const char* k : {"project_access", "group_access"}) {
        if (p->contains(k) && (*p)[k].is_object()) level = std::max(level, num((*p)[k], "access_level"));
      }
      a.can_push = level >= 30;
    }
    if (auto h = j.find("issues_enabled"); h != j.end() && h->is_boolean()) a.issues_enabled = h->get<bool>();
    return a;
  }

 protected:
  std::vector<std::pair<std::string, std::string>> headers() const override {
    std::vector<std::pair<std::string, std::string>> h{{"User-Agent", "cairn"},
                                                       {"Accept", "application/json"}};
    if (!m_s.token.empty())
      h.emplace_back(m_s.token_env == "CI_JOB_TOKEN" ? "JOB-TOKEN" : "PRIVATE-TOKEN", m_s.token);
    return h;
  }
  std::string display() const override { return "GitLab"; }

 private:
  static Issue issue(const json& j) {
    return Issue{num(j, "iid"), str(j, "state") != "closed", str(j, "title"), str(j, "description"),
                 str(j, "web_url")};
  }

  static PullRequest pull(const json& j) {
    PullRequest p;
    p.number = num(j, "iid");
    const std::string state = str(j, "state");
    p.state = state == "merged" ? PullState::merged : state == "opened" ? PullState::open : PullState::closed;
    p.head = str(j, "source_branch");
    p.base = str(j, "target_branch");
    // `merged_by` is deprecated (gone in API v5) in favour of `merge_user`.
    for (const char* k : {"merge_user", "merged_by"}) {
      if (p.merged_by.empty() && j.contains(k) && j[k].is_object()) p.merged_by = str(j[k], "username");
    }
    p.body = str(j, "description");
    p.url = str(j, "web_url");
    return p;
  }

  std::string m_project;  // the URL-encoded project path, GitLab's `:id`
};

// "owner/name" and host of a remote URL (https://host/o/n.git, git@host:o/n.git,
// ssh://git@host/o/n); empty when it is a local path.
std::pair<std::string, std::string> host_and_path(std::string url) {
  std::string host;
  if (auto scheme = url.find("://"); scheme != std::string::npos) {
    url = url.substr(scheme + 3);
    const auto slash = url.find('/');
    if (slash == std::string::npos) return {};
    host = url.substr(0, slash);
    url = url.substr(slash + 1);
  } else if (auto colon = url.find(':'); colon != std::string::npos && url.find('/') > colon) {
    host = url.substr(0, colon);
    url = url.substr(colon + 1);
  } else {
    return {};
  }
  if (auto at = host.rfind('@'); at != std::string::npos) host = host.substr(at + 1);
  if (auto colon = host.find(':'); colon != std::string::npos) host = host.substr(0, colon);
  if (url.size() > 4 && url.substr(url.size() - 4) == ".git") url.resize(url.size() - 4);
  while (!url.empty() && url.back() == '/') url.pop_back();
  return {host, url};
}

}  // namespace

Expected<ForgeSettings> resolve_settings(const parse::ForgeConfig& config, const std::string& remote_url) {
  ForgeSettings s{config.kind, config.repo, config.api, config.token_env, ""};
  const auto [host, path] = host_and_path(remote_url);
  if (s.kind.empty() && !host.empty()) {
    if (host == "github.com") {
      s.kind = "github";
    } else if (host.find("gitlab") != std::string::npos) {
      s.kind = "gitlab";
    } else if (host.find("gitea") != std::string::npos || host.find("codeberg") != std::string::npos ||
               host.find("forgejo") != std::string::npos) {
      s.kind = "gitea";
    }
  }
  if (s.kind.empty() || s.kind == "none")
    return fail("no forge configured (cairn.yaml `forge:`) or inferable from the remote");
  if (s.repo.empty()) s.repo = path;
  if (s.repo.empty())
    return fail(fmt::format("forge {}: no `repo:` in cairn.yaml and none in the remote URL", s.kind));
  while (!s.api.empty() && s.api.back() == '/') s.api.pop_back();
  if (s.kind == "github") {
    if (s.api.empty())
      s.api = host.empty() || host == "github.com" ? "https://api.github.com" : "https://" + host + "/api/v3";
    if (s.token_env.empty())
      s.token_env = !env("CAIRN_FORGE_TOKEN").empty() ? "CAIRN_FORGE_TOKEN" : "GITHUB_TOKEN";
  } else if (s.kind == "gitlab" || s.kind == "gitea") {
    const std::string suffix = s.kind == "gitlab" ? "/api/v4" : "/api/v1";
    if (s.api.empty()) {
      if (host.empty()) return fail(fmt::format("forge {}: set `api:` in cairn.yaml", s.kind));
      s.api = "https://" + host;
    }
    if (s.api.find(suffix) == std::string::npos) s.api += suffix;
    if (s.token_env.empty()) {
      if (!env("CAIRN_FORGE_TOKEN").empty()) {
        s.token_env = "CAIRN_FORGE_TOKEN";
      } else if (s.kind == "gitlab") {
        s.token_env = !env("GITLAB_TOKEN").empty() ? "GITLAB_TOKEN" : "CI_JOB_TOKEN";
      } else {
        s.token_env = "GITEA_TOKEN";
      }
    }
  } else {
    return fail(fmt::format("unknown forge kind `{}` (github, gitlab or gitea)", s.kind));
  }
  s.token = env(s.token_env);
  return s;
}

Expected<std::unique_ptr<Forge>> make_forge(const ForgeSettings& settings, HttpClient& http) {
  if (settings.kind == "github")
    return std::unique_ptr<Forge>(std::make_unique<GitHubLike>(settings, http, false));
  if (settings.kind == "gitea")
    return std::unique_ptr<Forge>(std::make_unique<GitHubLike>(settings, http, true));
  if (settings.kind == "gitlab") return std::unique_ptr<Forge>(std::make_unique<GitLab>(settings, http));
  return fail(fmt::format("unknown forge kind `{}` (github, gitlab or gitea)", settings.kind));
}

}  // namespace cairn::forge
