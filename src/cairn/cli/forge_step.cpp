// `cairn forge`, and the forge step ticks run after their push.

#include <cairn/cli/forge_step.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include <cairn/cli/backends.hpp>
#include <cairn/cli/dashboard.hpp>
#include <cairn/cli/diagnose.hpp>
#include <cairn/cli/verbs.hpp>
#include <cairn/engine/facts.hpp>
#include <cairn/forge/forge.hpp>
#include <cairn/forge/sync.hpp>
#include <cairn/gitstore/branch.hpp>
#include <cairn/gitstore/remote.hpp>
#include <cairn/parse/workflow_file.hpp>

namespace cairn::cli {

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

int env_ms(const char* name, int fallback) {
  const std::string v = env(name);
  return v.empty() ? fallback : std::max(0, std::atoi(v.c_str()));
}

// forge::BranchPublisher over gitstore/branch.hpp (forge/ and gitstore/ do not know
// each other; cli/ joins them).
class GitBranchPublisher : public forge::BranchPublisher {
 public:
  GitBranchPublisher(gitstore::Repo& repo, std::string remote, engine::Identity identity,
                     gitstore::BranchAuth auth)
      : m_repo(repo), m_remote(std::move(remote)), m_identity(std::move(identity)), m_auth(std::move(auth)) {}

  Expected<std::vector<std::string>> list_branches(const std::string& prefix) override {
    return gitstore::list_remote_branches(m_repo, m_remote, prefix, m_auth);
  }
  Expected<void> publish(const std::string& branch,
                         const std::vector<engine::BranchCommit>& commits) override {
    CAIRN_TRY(gitstore::publish_branch(m_repo, m_remote, branch, commits, m_identity, m_auth));
    return {};
  }

 private:
  gitstore::Repo& m_repo;
  std::string m_remote;
  engine::Identity m_identity;
  gitstore::BranchAuth m_auth;
};

// The git credentials for the clear branch: the tick's own (CAIRN_TOKEN), else the
// forge token with the user name its forge expects.
gitstore::BranchAuth branch_auth(const forge::ForgeSettings& s) {
  gitstore::BranchAuth a;
  if (!(a.token = env("CAIRN_TOKEN")).empty()) {
    a.user = env("CAIRN_TOKEN_USER").empty() ? "x-access-token" : env("CAIRN_TOKEN_USER");
    return a;
  }
  a.token = s.token;
  if (s.kind == "gitlab") {
    a.user = s.token_env == "CI_JOB_TOKEN" ? "gitlab-ci-token" : "oauth2";
  } else if (s.kind == "gitea") {
    a.user = "oauth2";
  }
  return a;
}

// What the catalogs say about the failure that escalated `stage`: the class the tick
// wrote in the Failure log (decided from the exit code, scheduler state and log
// together) with its catalog entry, refined by classifying `log_tail` when that agrees;
// the log alone when the Failure log names no class. nullopt when neither is known.
std::optional<engine::Classification> escalated_failure(const catalog::CatalogSet& catalog,
                                                        const doc::Workflow& wf, const std::string& stage,
                                                        const std::string& log_tail) {
  std::string logged;
  for (auto it = wf.failures.rbegin(); it != wf.failures.rend(); ++it) {
    if (it->stage == stage && !it->error_class.empty()) {
      logged = it->error_class;
      break;
    }
  }
  if (!log_tail.empty()) {
    engine::Evidence e;
    e.log_tail = log_tail;
    if (auto cls = catalog.classify(e); cls && (logged.empty() || cls->error_class == logged)) return cls;
  }
  return catalog.by_class(logged);
}

}  // namespace

std::vector<forge::CampaignView> campaign_views(const RepoContext& ctx, const std::string& qualifier) {
  std::vector<doc::Diagnostic> errors;
  std::vector<forge::CampaignView> views;
  ConfiguredBackends backends(ctx.config, qualifier);
  std::vector<doc::Diagnostic> diagnostics;
  auto catalog = load_catalog_set(ctx, diagnostics);
  for (const auto& c : load_campaigns(ctx, errors)) {
    forge::CampaignView v{c.path, c.text, "", "", std::nullopt};
    auto file = parse::WorkflowFile::parse(c.path, c.text);
    if (file && file->workflow().escalation_required) {
      const auto& wf = file->workflow();
      // The stage the issue and the pull request name (forge::sync asks the same function).
      const doc::Stage* stage = wf.stage(engine::escalated_stage(wf));
      if (stage != nullptr && !stage->job_id.empty()) {
        if (engine::Scheduler* s = backends.get(engine::backend_of(wf, stage->name)); s != nullptr) {
          if (auto tail = s->log_tail(stage->job_id, 200); tail) v.log_tail = *tail;
        }
        // A stuck job (held, or running far past its `expect`): the escalation offered
        // to cancel it. Ticking that offer on the branch makes the merge approve it.
        const std::string offer = engine::cancel_offer_prefix(stage->job_id);
        for (const auto& a : wf.actions) {
          if (a.checked || a.text.rfind(offer, 0) != 0) continue;
          v.suggested_fix = fmt::format(
              "job {} is stuck. Release or fix it on the scheduler and merge, or change `- [ ] {}` to `- "
              "[x]` in "
              "the Action queue on this branch before merging: the next tick then cancels that one job and "
              "resubmits the stage.",
              stage->job_id, a.text.substr(0, offer.size() - 1));
          break;
        }
      }
      const bool stuck = !v.suggested_fix.empty();
      // A catalogued fix is for a stage the clear puts back to ready; a stage an anomaly
      // escalated while its job runs keeps that job.
      const bool resets = stage != nullptr &&
                          (stage->status == doc::Status::escalated || stage->status == doc::Status::failed);
      const auto cls = resets && catalog && !stuck ? escalated_failure(*catalog, wf, stage->name, v.log_tail)
                                                   : std::nullopt;
      if (cls) {
        v.suggested_fix = fmt::format("`{}` ({}): {}{}", cls->error_class, cls->source,
                                      cls->hint.empty() ? "see the catalog entry" : cls->hint,
                                      cls->fix.empty() ? "" : fmt::format(" (catalogued fix: {})", cls->fix));
        // A destructive change is a human's to make; any other catalogued fix the tick
        // refused (already used, repeated, retries spent) is the suggestion to approve.
        if (!cls->destructive && !cls->fix.empty() && cls->fix != "none" && cls->fix != "escalate") {
          doc::StageSpec empty_spec;
          empty_spec.name = stage->name;
          const doc::StageSpec* spec = wf.spec(stage->name);
          if (auto plan = catalog->plan_fix(cls->fix, spec != nullptr ? *spec : empty_spec); plan) {
            v.fix = forge::ClearFix{cls->fix, std::move(plan->edits), std::move(plan->summary)};
          } else {
            v.suggested_fix += fmt::format(" The catalogued fix \"{}\" cannot be applied automatically: {}.",
                                           cls->fix, plan.error().message);
          }
        }
      }
    }
    views.push_back(std::move(v));
  }
  return views;
}

forge::RetryPolicy forge_retry_policy() {
  forge::RetryPolicy policy;
  policy.mutation_interval = std::chrono::milliseconds(env_ms("CAIRN_FORGE_MIN_INTERVAL_MS", 1000));
  policy.base_backoff = std::chrono::milliseconds(env_ms("CAIRN_FORGE_BACKOFF_MS", 500));
  policy.timeout = std::chrono::milliseconds(env_ms("CAIRN_FORGE_TIMEOUT_MS", 30000));
  return policy;
}

Outcome run_forge_step(const RepoContext& ctx, gitstore::Repo& repo, const ForgeStepOptions& o) {
  auto urls = repo.remote_urls();
  const std::string url = urls && !urls->empty() ? urls->front() : "";
  const bool configured = !ctx.config.forge.kind.empty();
  if (ctx.config.forge.kind == "none") return {};
  auto settings = forge::resolve_settings(ctx.config.forge, url);
  if (!settings) {
    if (!configured && o.quiet_when_unconfigured) return {};
    return fail(settings.error().message, ExitCode::findings);
  }
  if (settings->token.empty()) {
    const std::string message = fmt::format(
        "no token in ${}; escalation issues and clear-escalation pull requests are skipped (export it, or "
        "set "
        "`forge: {{kind: none}}`)",
        settings->token_env);
    if (configured) return fail(message, ExitCode::unreachable);
    std::fprintf(stderr, "cairn forge: %s\n", message.c_str());
    return {};
  }
  forge::CurlHttpClient http(forge_retry_policy(), settings->token);
  auto client = forge::make_forge(*settings, http);
  if (!client) return fail(client.error().message, ExitCode::findings);
  GitBranchPublisher publisher(repo, o.remote, {ctx.config.identity_name, ctx.config.identity_email},
                               branch_auth(*settings));
  forge::SyncOptions so;
  so.base_branch = ctx.config.branch;
  so.run_url = o.run_url;
  so.secret = settings->token;
  AgentDiagnoser diagnoser(ctx, repo);
  const auto report =
      forge::sync(**client, publisher, campaign_views(ctx, url.empty() ? ctx.top.string() : url), so,
                  ctx.config.diagnose.enabled() ? &diagnoser : nullptr);
  for (const auto& a : report.actions) std::fprintf(o.out, "forge: %s\n", a.c_str());
  for (const auto& n : report.notes) std::fprintf(o.out, "forge: %s\n", n.c_str());
  for (const auto& e : report.errors) std::fprintf(stderr, "cairn forge: %s\n", e.c_str());
  if (o.links != nullptr) *o.links = report.links;
  bool failed = report.failed();
  if (ctx.config.forge.dashboard) {  // after the escalations, so their links are known
    std::string warning;
    auto campaigns = dashboard_campaigns(ctx, repo, warning, report.links);
    if (!warning.empty()) std::fprintf(stderr, "cairn forge: dashboard: %s\n", warning.c_str());
    auto done = campaigns
                    ? forge::sync_dashboard(**client, forge_dashboard_markdown(*campaigns), settings->token)
                    : Expected<std::string>(campaigns.error());
    if (!done) {
      std::fprintf(stderr, "cairn forge: dashboard: %s\n", done.error().message.c_str());
      failed = true;
    } else if (!done->empty()) {
      std::fprintf(o.out, "forge: %s\n", done->c_str());
    }
  }
  if (failed)
    return fail("the forge step did not complete (above); the next tick redoes it", ExitCode::unreachable);
  return {};
}

namespace {

Outcome run_forge_verb(Session& session) {
  const RepoContext& ctx = session.ctx;
  gitstore::Repo* repo = &*session.repo;
  auto remote = gitstore::tick_remote(*repo);
  if (!remote) return fail(remote.error().message, ExitCode::unreachable);
  if (remote->empty()) {
    return fail(
        "the repository has no remote to push clear-escalation branches to (git remote add origin URL)",
        ExitCode::usage);
  }
  ForgeStepOptions o;
  o.remote = *remote;
  o.quiet_when_unconfigured = false;
  return run_forge_step(ctx, *repo, o);
}

}  // namespace

void define_forge(CLI::App& /*sub*/, Runner& run) {
  run = [](Session& session) { return run_forge_verb(session); };
}

}  // namespace cairn::cli
