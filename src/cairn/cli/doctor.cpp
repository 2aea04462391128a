// `cairn doctor`: everything a tick depends on, checked and explained.

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <cairn/cli/backends.hpp>
#include <cairn/cli/context.hpp>
#include <cairn/cli/forge_step.hpp>
#include <cairn/cli/verbs.hpp>
#include <cairn/engine/facts.hpp>
#include <cairn/forge/forge.hpp>
#include <cairn/gitstore/index.hpp>
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

// How much a finding matters: an error stops ticks from working (exit 1), a warning is
// something a tick survives but a user should know (the way out is in `fix`).
enum class Grade { ok, warning, error };

Grade failed_if_not(bool ok) {
  return ok ? Grade::ok : Grade::error;
}

using Report = std::function<void(Grade grade, const std::string& what, const std::string& fix)>;

// The forge lines: which forge, its token, and what the forge answers about the token
// and the repository (accepted, scopes, push, issues). One request.
void check_forge(const RepoContext& ctx, const std::string& remote_url, const Report& report) {
  if (ctx.config.forge.kind == "none") {
    report(Grade::ok, "forge: none (escalations stay in git)", "");
    return;
  }
  auto s = forge::resolve_settings(ctx.config.forge, remote_url);
  if (!s) {
    if (ctx.config.forge.kind.empty()) {
      report(Grade::ok, "no forge configured or inferable: escalations stay in git", "");
    } else {
      report(Grade::error, "forge settings",
             fmt::format("{}; set `forge: {{kind, repo, api}}` in cairn.yaml", s.error().message));
    }
    return;
  }
  report(Grade::ok, fmt::format("forge {} {} ({})", s->kind, s->repo, s->api), "");
  if (s->token.empty() && ctx.config.forge.kind.empty()) {
    report(
        Grade::warning,
        fmt::format("no forge token in ${}: escalation issues and pull requests are skipped", s->token_env),
        fmt::format(
            "export {} where ticks run (the shipped CI templates pass it), or set `forge: {{kind: none}}` "
            "in cairn.yaml to keep escalations in git",
            s->token_env));
    return;
  }
  if (s->token.empty()) {
    report(Grade::error, fmt::format("forge token in ${}", s->token_env),
           fmt::format(
               "export {} (in CI from the secret store; never commit it), or set `forge: {{kind: none}}`",
               s->token_env));
    return;
  }
  report(Grade::ok, fmt::format("forge token in ${}", s->token_env), "");
  forge::RetryPolicy policy = forge_retry_policy();
  policy.max_attempts = 2;
  forge::CurlHttpClient http(policy, s->token);
  auto client = forge::make_forge(*s, http);
  if (!client) {
    report(Grade::error, "forge client", client.error().message);
    return;
  }
  const std::string where = s->kind == "gitlab" ? "project" : "repository";
  auto a = (*client)->access();
  if (!a) {
    report(Grade::error, fmt::format("forge API answers at {}", s->api),
           fmt::format("{}; check `forge.api` in cairn.yaml and the network", a.error().message));
    return;
  }
  const std::string grant =
      s->kind == "github"
          ? "a classic token with the `repo` scope, or a fine-grained one with Contents, Issues "
            "and Pull requests read and write"
      : s->kind == "gitlab" ? "a project or personal access token with the `api` scope and the "
                              "Developer role"
                            : "a token with repository and issue write access";
  if (a->status == 401) {
    report(Grade::error, fmt::format("forge token accepted: HTTP 401 ({})", a->message),
           fmt::format("the token in ${} is invalid, expired or revoked: create a new one ({}) and export it",
                       s->token_env, grant));
    return;
  }
  if (a->status != 200) {
    report(Grade::error,
           fmt::format("{} {} visible to the token: HTTP {} ({})", where, s->repo, a->status, a->message),
           fmt::format(
               "check `forge.repo` in cairn.yaml (or the remote URL), and that the token may read it: {}",
               grant));
    return;
  }
  report(Grade::ok, fmt::format("forge token accepted for {} {}", where, s->repo), "");
  if (a->scopes) {
    const auto& sc = *a->scopes;
    const bool enough = std::find(sc.begin(), sc.end(), "repo") != sc.end() ||
                        std::find(sc.begin(), sc.end(), "public_repo") != sc.end();
    report(failed_if_not(enough),
           fmt::format("token scopes: {}",
                       sc.empty() ? std::string("(none)") : fmt::format("{}", fmt::join(sc, ", "))),
           "add the `repo` scope to the token (`public_repo` for a public repository), or use a fine-grained "
           "token");
  } else if (s->kind == "github") {
    report(Grade::ok, "token scopes not reported (a fine-grained or app token): its permissions decide", "");
  }
  if (a->can_push) {
    report(failed_if_not(*a->can_push),
           fmt::format("token can push to {} {} (clear-escalation branches)", where, s->repo),
           s->kind == "gitlab" ? "give the token's user the Developer role or above on the project"
                               : "give the token write access to the repository (push / Contents: write)");
  } else {
    report(
        Grade::ok,
        "push permission not reported (an app or job token): a refused push shows in the tick's forge step",
        "");
  }
  report(failed_if_not(a->issues_enabled), fmt::format("issues enabled on {} {}", where, s->repo),
         "enable issues, or set `notify: {on_escalate: false}` in the campaigns (pull requests still open)");
}

// The CI schedule `cairn init` installs for a hosted forge, if this repository has one.
std::string hosted_schedule(const fs::path& top) {
  std::error_code ec;
  if (fs::exists(top / ".github/workflows/cairn-tick.yml", ec)) return ".github/workflows/cairn-tick.yml";
  for (const char* f : {".gitlab-ci.yml", "ci/cairn-tick.gitlab-ci.yml"}) {
    std::ifstream in(top / f);
    std::stringstream ss;
    ss << in.rdbuf();
    if (ss.str().find("cairn tick") != std::string::npos) return f;
  }
  return "";
}

// What a tick in a fresh clone needs from the repository: cairn.yaml, the catalogs it
// names, every WORKFLOW.md and the scripts their stages run (repo-relative).
std::vector<std::string> files_a_tick_needs(const RepoContext& ctx,
                                            const std::vector<parse::WorkflowFile>& files) {
  std::vector<std::string> out = {"cairn.yaml"};
  for (const auto& entry : ctx.config.catalogs) out.push_back(entry.substr(0, entry.find('#')));
  for (const auto& f : files) {
    out.push_back(f.path());
    const fs::path dir = fs::path(f.path()).parent_path();
    for (const auto& spec : f.workflow().specs) {
      if (!spec.run.empty()) out.push_back((dir / spec.run).lexically_normal().generic_string());
    }
  }
  return out;
}

struct DoctorOptions {
  bool json = false;
};

Outcome run_doctor(const DoctorOptions& o) {
  struct Finding {
    Grade grade;
    std::string what;
    std::string fix;
  };
  std::vector<Finding> found;
  const Report report = [&](Grade grade, const std::string& what, const std::string& fix) {
    found.push_back({grade, what, grade == Grade::ok ? "" : fix});
  };
  std::string remote_url;
  auto ctx = load_context(fs::current_path());
  if (!ctx) {
    if (ctx.error().exit == ExitCode::usage) return std::move(ctx).error();
    return fail(ctx.error().message, ExitCode::findings);  // its diagnostics are printed
  }
  report(Grade::ok, fmt::format("git work tree at {}", ctx->top.string()), "");
  std::error_code ec;
  report(Grade::ok,
         fs::exists(ctx->top / "cairn.yaml", ec) ? "cairn.yaml parses" : "no cairn.yaml: defaults apply", "");
  print_diagnostics(ctx->config_warnings);
  auto repo = gitstore::Repo::discover(ctx->top.string());
  if (repo) {
    auto dirty = repo->dirty_tracked_files();
    report(failed_if_not(dirty && dirty->empty()), "no uncommitted changes to tracked files",
           "commit or stash them; a tick refuses to run on a dirty tree");
    auto urls = repo->remote_urls();
    if (urls && !urls->empty()) remote_url = urls->front();
    report(Grade::ok,
           !remote_url.empty() ? fmt::format("remote {}", remote_url)
                               : "no remote: ticks commit locally (embedded default)",
           "");
  } else {
    report(Grade::error, "libgit2 opens the repository", repo.error().message);
  }
  std::vector<doc::Diagnostic> diagnostics;
  auto catalog = load_catalog(*ctx, diagnostics);
  print_diagnostics(diagnostics);
  report(failed_if_not(catalog.has_value() && !doc::has_errors(diagnostics)), "failure catalogs load",
         catalog ? "fix the rows named above" : catalog.error().message);
  std::vector<doc::Diagnostic> errors;
  const auto campaigns = load_campaigns(*ctx, errors);
  int invalid = static_cast<int>(errors.size());
  std::vector<parse::WorkflowFile> files;
  for (const auto& c : campaigns) {
    auto f = parse::WorkflowFile::parse(c.path, c.text);
    if (!f) {
      ++invalid;
      continue;
    }
    if (doc::has_errors(f->diagnostics())) ++invalid;
    files.push_back(std::move(*f));
  }
  report(failed_if_not(invalid == 0),
         fmt::format("{} campaign(s) under {}, {} invalid", campaigns.size() + errors.size(),
                     display_path(ctx->root(), ctx->top), invalid),
         "run `cairn validate` for the details");
  // A first tick commits the WORKFLOW.md files it changes, nothing else: what git does
  // not track is missing from every other clone (CI's among them).
  if (repo) {
    auto missing = gitstore::untracked(*repo, files_a_tick_needs(*ctx, files));
    if (!missing) {
      report(Grade::error, "which files git tracks", missing.error().message);
    } else if (missing->empty()) {
      report(Grade::ok, "git tracks cairn.yaml, the catalogs, every WORKFLOW.md and its job scripts", "");
    } else {
      std::string list;
      for (const auto& m : *missing) list += (list.empty() ? "" : " ") + m;
      report(
          remote_url.empty() ? Grade::warning : Grade::error,
          fmt::format("files a tick needs that git does not track: {}", list),
          fmt::format("git add {} && git commit (a clone, CI's included, has only what is committed)", list));
    }
  }
  const std::string state = sched::default_state_dir();
  fs::create_directories(state, ec);
  report(failed_if_not(!ec && access(state.c_str(), W_OK) == 0),
         fmt::format("local backend state dir {} is writable", state),
         "set CAIRN_STATE_DIR to a writable directory");
  // Local jobs run on the machine that ticks: on a hosted CI runner they die with it.
  if (const std::string schedule = hosted_schedule(ctx->top); !schedule.empty()) {
    std::vector<std::string> local;
    for (const auto& f : files) {
      for (const auto& st : f.workflow().stages) {
        const std::string name = engine::backend_of(f.workflow(), st.name);
        const parse::BackendConfig* b = ctx->config.backend(name);
        if ((b != nullptr ? b->kind : name) == "local") {
          local.push_back(f.workflow().campaign);
          break;
        }
      }
    }
    if (!local.empty()) {
      std::string names;
      for (const auto& n : local) names += (names.empty() ? "" : ", ") + n;
      report(
          Grade::warning,
          fmt::format(
              "{} ticks on a hosted CI runner, but {} run(s) jobs on the local backend: they die with "
              "the runner",
              schedule, names),
          "run the jobs elsewhere: Slurm over ssh (cairn.yaml `backends: {slurm: {ssh_host: LOGIN}}`, then "
          "`budget.backend: slurm`), OSMO (`backend: osmo`), or tick from a login node's cron instead "
          "(`cairn init --cron`)");
    }
  }
  for (const auto& b : ctx->config.backends) {
    if (auto refused = backend_diagnostic(ctx->config, b)) {
      report(Grade::error, fmt::format("backend {}: a setting in cairn.yaml is refused", b.name),
             doc::format(*refused));
      continue;
    }
    if (b.kind == "slurm" && b.settings.count("ssh_host") == 0) {
      report(failed_if_not(on_path("sbatch") && on_path("squeue")),
             fmt::format("backend {}: sbatch and squeue on PATH", b.name),
             "install the Slurm client or set ssh_host");
    } else if (b.kind == "osmo") {
      report(failed_if_not(on_path("osmo")), fmt::format("backend {}: osmo CLI on PATH", b.name),
             "install the OSMO CLI, then `osmo login`");
    } else if (b.kind == "command") {
      auto cc = sched::parse_command_config(b.settings);  // it parses: backend_diagnostic() said so
      if (cc && cc->ssh_host.empty()) {
        std::vector<std::string> programs, missing;
        for (const auto* t : {&cc->submit, &cc->status, &cc->cancel, &cc->logs, &cc->find}) {
          if (t->empty() || std::find(programs.begin(), programs.end(), t->front()) != programs.end())
            continue;
          programs.push_back(t->front());
          if (t->front().find('{') == std::string::npos && !on_path(t->front()))
            missing.push_back(t->front());
        }
        report(failed_if_not(missing.empty()),
               fmt::format("backend {}: {} on PATH", b.name, fmt::join(programs, ", ")),
               fmt::format("install {} or change the backend's templates", fmt::join(missing, ", ")));
      }
    }
  }
  check_forge(*ctx, remote_url, report);
  int n_errors = 0;
  int n_warnings = 0;
  for (const auto& f : found) {
    n_errors += f.grade == Grade::error ? 1 : 0;
    n_warnings += f.grade == Grade::warning ? 1 : 0;
  }
  auto grade_name = [](Grade g) { return g == Grade::ok ? "ok" : g == Grade::warning ? "warning" : "error"; };
  if (o.json) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& f : found)
      items.push_back({{"grade", grade_name(f.grade)}, {"check", f.what}, {"fix", f.fix}});
    std::printf(
        "%s\n",
        nlohmann::json{{"version", 1}, {"errors", n_errors}, {"warnings", n_warnings}, {"findings", items}}
            .dump(2)
            .c_str());
  } else {
    for (const auto& f : found) {
      std::printf("%-7s %s\n", grade_name(f.grade), f.what.c_str());
      if (!f.fix.empty()) std::printf("        fix: %s\n", f.fix.c_str());
    }
    if (n_errors == 0) {
      std::printf("%s\n", n_warnings == 0 ? "all checks passed"
                                          : fmt::format("no errors, {} warning(s)", n_warnings).c_str());
    } else {
      std::printf("%d error(s), %d warning(s)\n", n_errors, n_warnings);
    }
  }
  if (n_errors > 0) return findings_reported();
  return {};
}

}  // namespace

void define_doctor(CLI::App& sub, Runner& run) {
  auto o = std::make_shared<DoctorOptions>();
  sub.add_flag("--json", o->json,
               "Print {version: 1, errors, warnings, findings: [{grade, check, fix}]} as JSON");
  run = [o](Session&) { return run_doctor(*o); };
}

}  // namespace cairn::cli
