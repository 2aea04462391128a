#pragma once

// The forges cairn talks to about escalations (docs/escalation.md): GitHub, GitLab and
// Gitea/Forgejo behind one small interface of primitive REST operations. Find-or-open
// and the idempotency rules live above it (forge/sync.hpp), so every forge gets them.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <cairn/forge/http.hpp>
#include <cairn/parse/config.hpp>
#include <cairn/util/expected.hpp>

namespace cairn::forge {

struct Issue {
  std::int64_t number = 0;  // GitHub/Gitea number, GitLab iid
  bool open = true;
  std::string title;
  std::string body;
  std::string url;  // for humans
};

enum class PullState { open, merged, closed };
std::string_view to_string(PullState s);

struct PullRequest {
  std::int64_t number = 0;  // GitHub/Gitea number, GitLab iid
  PullState state = PullState::open;
  std::string head;       // source branch
  std::string base;       // target branch
  std::string merged_by;  // login of who merged it; "" when unknown or not merged
  std::string body;
  std::string url;
};

// What the forge says about the token and the repository (`cairn doctor`).
struct Access {
  long status = 0;       // of the repository request: 200, or 401 (bad token), 403, 404...
  std::string message;   // the forge's message when status is not 200
  std::string repo_url;  // for humans
  std::optional<std::vector<std::string>> scopes;  // GitHub classic tokens (X-OAuth-Scopes); else unknown
  std::optional<bool> can_push;  // push (GitHub/Gitea) or Developer access (GitLab); nullopt = not reported
  bool issues_enabled = true;
};

class Forge {
 public:
  virtual ~Forge() = default;
  // "github", "gitlab" or "gitea".
  virtual std::string kind() const = 0;
  // How the forge writes a reference to pull request `n` in Markdown: "#12" or "!12".
  virtual std::string pull_ref(std::int64_t n) const = 0;

  // Every issue (open and closed, newest first, pull requests excluded) carrying all
  // of `labels`. Fails (exit 3) on a transport error or an unexpected status.
  virtual Expected<std::vector<Issue>> list_issues(const std::vector<std::string>& labels) = 0;
  // Opens an issue with `labels` (created in the repository when missing). Fails as above.
  virtual Expected<Issue> create_issue(const std::string& title, const std::string& body,
                                       const std::vector<std::string>& labels) = 0;
  virtual Expected<void> comment(std::int64_t issue, const std::string& body) = 0;
  // The bodies of the comments (GitLab: notes) on `issue`, oldest first. Fails as above.
  virtual Expected<std::vector<std::string>> list_comments(std::int64_t issue) = 0;
  virtual Expected<void> close_issue(std::int64_t issue) = 0;
  // Replaces the body of `issue` (GitHub/Gitea PATCH, GitLab PUT description). Fails as above.
  virtual Expected<void> update_issue(std::int64_t issue, const std::string& body) = 0;

  // Pull/merge requests from branch `head` (any state, newest first).
  virtual Expected<std::vector<PullRequest>> list_pulls(const std::string& head) = 0;
  // Opens one from `head` to `base`. A forge answering that it already exists (422/409)
  // is not an error: the existing one is returned.
  virtual Expected<PullRequest> create_pull(const std::string& head, const std::string& base,
                                            const std::string& title, const std::string& body) = 0;
  // One pull/merge request with its merge state and who merged it.
  virtual Expected<PullRequest> get_pull(std::int64_t number) = 0;

  // Asks for the repository (GitHub/Gitea GET /repos/{owner}/{repo}, GitLab GET
  // /projects/:id) with the token. Any answer is an Access (its status tells a rejected
  // token from a missing repository); fails (exit 3) only when none came.
  virtual Expected<Access> access() = 0;
};

// Where and how to talk to the forge, with defaults filled in.
struct ForgeSettings {
  std::string kind;       // github | gitlab | gitea
  std::string repo;       // "owner/name" (GitLab: the full project path)
  std::string api;        // API root: https://api.github.com, https://host/api/v4, https://host/api/v1
  std::string token_env;  // the environment variable holding the token
  std::string token;      // its value ("" when unset)
};

// Completes `config` from the remote URL when kind or repo are absent (github.com ->
// github; a host containing "gitlab" -> gitlab; "gitea"/"codeberg"/"forgejo" -> gitea),
// defaults the API root per kind (GitLab and Gitea: the `/api/v4` or `/api/v1` suffix is
// added to `api:` when missing) and the token variable (CAIRN_FORGE_TOKEN, else
// GITHUB_TOKEN / GITLAB_TOKEN or CI_JOB_TOKEN / GITEA_TOKEN), and reads the token. Fails
// (exit 1) when no forge is configured or inferable, or kind is unknown.
Expected<ForgeSettings> resolve_settings(const parse::ForgeConfig& config, const std::string& remote_url);

// The forge for `settings`, talking through `http` (which must outlive it).
Expected<std::unique_ptr<Forge>> make_forge(const ForgeSettings& settings, HttpClient& http);

}  // namespace cairn::forge
