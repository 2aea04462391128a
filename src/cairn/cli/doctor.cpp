// `cairn doctor`: everything a tick depends on, checked and explained.

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cairn/cli/backends.hpp>
#include <cairn/cli/context.hpp>
#include <cairn/cli/forge_step.hpp>
#include <cairn/cli/verbs.hpp>
#include <cairn/forge/forge.hpp>
#include <cairn/gitstore/repo.hpp>
#include <cairn/parse/workflow_file.hpp>
#include <cairn/sched/command.hpp>
#include <cairn/sched/local.hpp>

namespace cairn::cli {

namespace {

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  std::string_view rest(path);
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    const fs::path candidate = fs::path(std::string(rest.substr(0, colon))) / program;
    if (access(candidate.c_str(), X_OK) == 0) return true;
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return false;
}

using Report = std::function<void(bool ok, const std::string& what, const std::string& fix)>;

// The forge lines: which forge, its token, and what the forge answers about the token
// and the repository (accepted, scopes, push, issues). One request.
void check_forge(const RepoContext& ctx, const std::string& remote_url, const Report& report) {
  if (ctx.config.forge.kind == "none") {
    report(true, "forge: none (escalations stay in git)", "");
    return;
  }
  auto s = forge::resolve_settings(ctx.config.forge, remote_url);
  if (!s) {
    if (ctx.config.forge.kind.empty()) {
      report(true, "no forge configured or inferable: escalations stay in git", "");
    } else {
      report(false, "forge settings", fmt::format("{}; set `forge: {{kind, repo, api}}` in cairn.yaml", s.error().message));
    }
    return;
  }
  report(true, fmt::format("forge {} {} ({})", s->kind, s->repo, s->api), "");
  if (s->token.empty() && ctx.config.forge.kind.empty()) {
    report(true, fmt::format("no forge token in ${}: escalation issues and pull requests are skipped", s->token_env), "");
    return;
  }
  if (s->token.empty()) {
    report(false, fmt::format("forge token in ${}", s->token_env),
           fmt::format("export {} (in CI from the secret store; never commit it), or set `forge: {{kind: none}}`",
                       s->token_env));
    return;
  }
  report(true, fmt::format("forge token in ${}", s->token_env), "");
  forge::RetryPolicy policy = forge_retry_policy();
  policy.max_attempts = 2;
  forge::CurlHttpClient http(policy, s->token);
  auto client = forge::make_forge(*s, http);
  if (!client) {
    report(false, "forge client", client.error().message);
    return;
  }
  const std::string where = s->kind == "gitlab" ? "project" : "repository";
  auto a = (*client)->access();
  if (!a) {
    report(false, fmt::format("forge API answers at {}", s->api),
           fmt::format("{}; check `forge.api` in cairn.yaml and the network", a.error().message));
    return;
  }
  const std::string grant = s->kind == "github"
                                ? "a classic token with the `repo` scope, or a fine-grained one with Contents, Issues "
                                  "and Pull requests read and write"
                            : s->kind == "gitlab" ? "a project or personal access token with the `api` scope and the "
                                                    "Developer role"
                                                  : "a token with repository and issue write access";
  if (a->status == 401) {
    report(false, fmt::format("forge token accepted: HTTP 401 ({})", a->message),
           fmt::format("the token in ${} is invalid, expired or revoked: create a new one ({}) and export it",
                       s->token_env, grant));
    return;
  }
  if (a->status != 200) {
    report(false, fmt::format("{} {} visible to the token: HTTP {} ({})", where, s->repo, a->status, a->message),
           fmt::format("check `forge.repo` in cairn.yaml (or the remote URL), and that the token may read it: {}", grant));
    return;
  }
  report(true, fmt::format("forge token accepted for {} {}", where, s->repo), "");
  if (a->scopes) {
    const auto& sc = *a->scopes;
    const bool enough = std::find(sc.begin(), sc.end(), "repo") != sc.end() ||
                        std::find(sc.begin(), sc.end(), "public_repo") != sc.end();
    report(enough, fmt::format("token scopes: {}", sc.empty() ? std::string("(none)") : fmt::format("{}", fmt::join(sc, ", "))),
           "add the `repo` scope to the token (`public_repo` for a public repository), or use a fine-grained token");
  } else if (s->kind == "github") {
    report(true, "token scopes not reported (a fine-grained or app token): its permissions decide", "");
  }
  if (a->can_push) {
    report(*a->can_push, fmt::format("token can push to {} {} (clear-escalation branches)", where, s->repo),
           s->kind == "gitlab" ? "give the token's user the Developer role or above on the project"
                               : "give the token write access to the repository (push / Contents: write)");
  } else {
    report(true, "push permission not reported (an app or job token): a refused push shows in the tick's forge step", "");
  }
  report(a->issues_enabled, fmt::format("issues enabled on {} {}", where, s->repo),
         "enable issues, or set `notify: {on_escalate: false}` in the campaigns (pull requests still open)");
}

Outcome run_doctor() {
  int problems = 0;
  std::string remote_url;
  auto report = [&](bool ok, const std::string& what, const std::string& fix = "") {
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
    if (!ok) {
      ++problems;
      if (!fix.empty()) std::printf("     fix: %s\n", fix.c_str());
    }
  };
  auto ctx = load_context(fs::current_path());
  if (!ctx) {
    if (ctx.error().exit == ExitCode::usage) return std::move(ctx).error();
    report(false, "cairn.yaml parses", ctx.error().message);
    return findings_reported();
  }
  report(ctx->is_git, fmt::format("git work tree at {}", ctx->top.string()), "run cairn inside a git repository");
  std::error_code ec;
  report(true, fs::exists(ctx->top / "cairn.yaml", ec) ? "cairn.yaml parses" : "no cairn.yaml: defaults apply");
  print_diagnostics(ctx->config_warnings);
  if (ctx->is_git) {
    gitstore::LibGit2 git;
    auto repo = gitstore::Repo::discover(ctx->top.string());
    if (repo) {
      auto dirty = repo->dirty_tracked_files();
      report(dirty && dirty->empty(), "no uncommitted changes to tracked files",
             "commit or stash them; a tick refuses to run on a dirty tree");
      auto urls = repo->remote_urls();
      if (urls && !urls->empty()) remote_url = urls->front();
      report(true, urls && !urls->empty() ? fmt::format("remote {}", urls->front())
                                          : "no remote: ticks commit locally (embedded default)");
    } else {
      report(false, "libgit2 opens the repository", repo.error().message);
    }
  }
  std::vector<doc::Diagnostic> diagnostics;
  auto catalog = load_catalog(*ctx, diagnostics);
  print_diagnostics(diagnostics);
  report(catalog.has_value() && !doc::has_errors(diagnostics), "failure catalogs load",
         catalog ? "fix the rows named above" : catalog.error().message);
  std::vector<doc::Diagnostic> errors;
  const auto campaigns = load_campaigns(*ctx, errors);
  int invalid = static_cast<int>(errors.size());
  for (const auto& c : campaigns) {
    auto f = parse::WorkflowFile::parse(c.path, c.text);
    if (!f || doc::has_errors(f->diagnostics())) ++invalid;
  }
  report(invalid == 0, fmt::format("{} campaign(s) under {}, {} invalid", campaigns.size() + errors.size(),
                                   display_path(ctx->root(), ctx->top), invalid),
         "run `cairn validate` for the details");
  const std::string state = sched::default_state_dir();
  fs::create_directories(state, ec);
  report(!ec && access(state.c_str(), W_OK) == 0, fmt::format("local backend state dir {} is writable", state),
         "set CAIRN_STATE_DIR to a writable directory");
  for (const auto& b : ctx->config.backends) {
    if (b.kind == "slurm" && b.settings.count("ssh_host") == 0) {
      report(on_path("sbatch") && on_path("squeue"), fmt::format("backend {}: sbatch and squeue on PATH", b.name),
             "install the Slurm client or set ssh_host");
    } else if (b.kind == "osmo") {
      report(on_path("osmo"), fmt::format("backend {}: osmo CLI on PATH", b.name), "install the OSMO CLI, then `osmo login`");
    } else if (b.kind == "command") {
      auto cc = sched::parse_command_config(b.settings);
      if (!cc) {
        report(false, fmt::format("backend {}: command templates parse", b.name), cc.error().message);
      } else if (cc->ssh_host.empty()) {
        std::vector<std::string> programs, missing;
        for (const auto* t : {&cc->submit, &cc->status, &cc->cancel, &cc->logs, &cc->find}) {
          if (t->empty() || std::find(programs.begin(), programs.end(), t->front()) != programs.end()) continue;
          programs.push_back(t->front());
          if (t->front().find('{') == std::string::npos && !on_path(t->front())) missing.push_back(t->front());
        }
        report(missing.empty(), fmt::format("backend {}: {} on PATH", b.name, fmt::join(programs, ", ")),
               fmt::format("install {} or change the backend's templates", fmt::join(missing, ", ")));
      }
    }
  }
  check_forge(*ctx, remote_url, report);
  std::printf("%s\n", problems == 0 ? "all checks passed" : fmt::format("{} problem(s)", problems).c_str());
  if (problems > 0) return findings_reported();
  return {};
}

}  // namespace

void define_doctor(CLI::App& /*sub*/, Runner& run) { run = [] { return run_doctor(); }; }

}  // namespace cairn::cli
