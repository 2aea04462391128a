// `cairn tick`: one level-triggered pass over every campaign of the repository.

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cairn/cli/backends.hpp>
#include <cairn/cli/context.hpp>
#include <cairn/cli/dashboard.hpp>
#include <cairn/cli/diagnose.hpp>
#include <cairn/cli/forge_step.hpp>
#include <cairn/cli/table.hpp>
#include <cairn/cli/verbs.hpp>
#include <cairn/cli/watch.hpp>
#include <cairn/engine/facts.hpp>
#include <cairn/engine/tick.hpp>
#include <cairn/gitstore/log.hpp>
#include <cairn/gitstore/remote.hpp>
#include <cairn/gitstore/repo.hpp>
#include <cairn/gitstore/store.hpp>
#include <cairn/parse/workflow_file.hpp>
#include <cairn/sched/workspace.hpp>
#include <cairn/util/time.hpp>

namespace cairn::cli {

namespace {

struct TickCliOptions {
  bool dry_run = false;
  bool force = false;
  bool json = false;
  std::string only;
  bool watch = false;
  std::int64_t max_sleep = 0;  // --watch: longest sleep between ticks, seconds (0: the cadence's)
  std::int64_t poll = 60;      // --watch: how often a sleep asks whether the remote branch moved
};

// --watch: did someone push to the branch since the last tick's fetch? Unreachable or
// no remote: no (the next tick, by its cadence, says why).
bool remote_moved_since_fetch() {
  auto ctx = load_context(fs::current_path());
  if (!ctx) return false;
  auto repo = gitstore::Repo::discover(ctx->top.string());
  if (!repo) return false;
  auto remote = gitstore::tick_remote(*repo);
  if (!remote || remote->empty()) return false;
  auto moved = gitstore::remote_moved(*repo, {*remote, ctx->config.branch});
  return moved && *moved;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

// The CI run that executes this tick, for `Cairn-Run-URL`.
std::string run_url() {
  if (!env("GITHUB_SERVER_URL").empty() && !env("GITHUB_RUN_ID").empty()) {
    return fmt::format("{}/{}/actions/runs/{}", env("GITHUB_SERVER_URL"), env("GITHUB_REPOSITORY"),
                       env("GITHUB_RUN_ID"));
  }
  return env("CI_JOB_URL");
}

nlohmann::json to_json(const engine::TickReport& r) {
  nlohmann::json campaigns = nlohmann::json::array();
  for (const auto& c : r.campaigns) {
    nlohmann::json ts = nlohmann::json::array();
    for (const auto& t : c.transitions) {
      ts.push_back({{"stage", t.stage},
                    {"from", t.from},
                    {"to", t.to},
                    {"error_class", t.error_class},
                    {"job", t.job},
                    {"attempt", t.attempt},
                    {"summary", engine::subject(t)}});
    }
    nlohmann::json ds = nlohmann::json::array();
    for (const auto& d : c.diagnostics) ds.push_back(doc::format(d));
    campaigns.push_back({{"campaign", c.campaign},
                         {"path", c.path},
                         {"worked", c.worked},
                         {"note", c.note},
                         {"status", c.status},
                         {"stage", c.stage},
                         {"next_due_seconds", c.next_due_seconds},
                         {"transitions", ts},
                         {"diagnostics", ds}});
  }
  return {{"version", 1},
          {"campaigns", campaigns},
          {"next_tick_seconds", r.next_tick_seconds},
          {"errors", r.errors}};
}

void print_human(const engine::TickReport& r, bool dry_run) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : r.campaigns) {
    for (const auto& d : c.diagnostics) std::fprintf(stderr, "%s\n", doc::format(d).c_str());
    for (const auto& t : c.transitions) {
      std::printf("%s%s\n", dry_run ? "(dry run) " : "", engine::subject(t).c_str());
    }
    if (!c.campaign.empty()) {
      rows.push_back({c.campaign, c.status, c.stage.empty() ? "—" : c.stage,
                      std::to_string(c.transitions.size()), c.note.empty() ? "—" : c.note});
    }
  }
  for (const auto& e : r.errors) std::fprintf(stderr, "cairn tick: %s\n", e.c_str());
  if (!rows.empty()) {
    std::printf("\n%s", render_table({"CAMPAIGN", "STATUS", "STAGE", "TRANSITIONS", "NOTE"}, rows).c_str());
  }
  std::printf("next tick in %s (%llds)\n", util::human_duration(r.next_tick_seconds).c_str(),
              static_cast<long long>(r.next_tick_seconds));
}

std::vector<std::string> newly_escalated(const engine::TickReport& r);

// Under GitHub Actions: `next_tick_seconds` and `escalated` (campaigns this tick
// escalated) outputs and a Markdown step summary: this tick's table, then the dashboard
// of every campaign (`dashboard`, the forge issue's text; empty when it could not be read).
void write_github_outputs(const engine::TickReport& r, const std::string& dashboard) {
  if (const std::string out = env("GITHUB_OUTPUT"); !out.empty()) {
    std::ofstream f(out, std::ios::app);
    f << "next_tick_seconds=" << r.next_tick_seconds << "\n";
    f << "escalated=" << newly_escalated(r).size() << "\n";
  }
  if (const std::string summary = env("GITHUB_STEP_SUMMARY"); !summary.empty()) {
    std::ofstream f(summary, std::ios::app);
    f << "## cairn tick\n\n| Campaign | Status | Stage | Transitions | Note |\n|---|---|---|---|---|\n";
    for (const auto& c : r.campaigns) {
      std::string ts;
      for (const auto& t : c.transitions)
        ts += (ts.empty() ? "" : "<br>") + fmt::format("{} → {}", t.from, t.to);
      f << fmt::format("| {} | {} | {} | {} | {} |\n", c.campaign.empty() ? c.path : c.campaign, c.status,
                       c.stage, ts.empty() ? "—" : ts, c.note);
    }
    f << fmt::format("\nNext tick in {}.\n", util::human_duration(r.next_tick_seconds));
    if (!dashboard.empty()) f << "\n" << dashboard;
  }
}

// Crash testing (docs/tick.md, issue "many ticks, one truth"): `CAIRN_FAULT_INJECT=POINT:N`
// ends the process, as a killed CI runner would, at the Nth time the tick reaches
// POINT: `exit-before-commit` (before a transition is committed), `exit-after-commit`
// (a transition — an intent, a JobID — is committed locally, not pushed),
// `exit-after-publish` (after an intent or the batch landed), `exit-after-submit` (the
// scheduler has the job, the repository does not know yet), `exit-after-forge` (after
// the forge step). The commits of the batch are flushed to the local repository before
// dying at a commit boundary (the harder case: a persistent runner's clone keeps them).
// Only in builds configured with -DCAIRN_FAULT_INJECTION=ON (ci/test's; off by default).
struct FaultPoint {
  std::string point;
  int at = 0;
  int seen = 0;
  // Counts one arrival at `here`; exits the process when it is the chosen one.
  void reached(std::string_view here, engine::Store* flush_first = nullptr) {
    if (at <= 0 || here != point || ++seen != at) return;
    if (flush_first != nullptr) (void)flush_first->flush();
    std::fflush(stdout);
    std::_Exit(137);
  }
};

FaultPoint fault_point() {
#ifdef CAIRN_FAULT_INJECTION
  const std::string spec = env("CAIRN_FAULT_INJECT");
  const auto colon = spec.rfind(':');
  if (colon == std::string::npos) return {};
  return {spec.substr(0, colon), std::atoi(spec.c_str() + colon + 1)};
#else
  return {};
#endif
}

class FaultInjectingStore : public engine::Store {
 public:
  FaultInjectingStore(engine::Store& inner, FaultPoint& fault) : m_inner(inner), m_fault(fault) {}
  Expected<std::string> commit(const engine::CommitRequest& r, const engine::Identity& id) override {
    m_fault.reached("exit-before-commit", &m_inner);
    auto made = m_inner.commit(r, id);
    if (made) m_fault.reached("exit-after-commit", &m_inner);
    return made;
  }
  Expected<void> flush() override { return m_inner.flush(); }
  Expected<bool> publish() override {
    auto landed = m_inner.publish();
    if (landed && *landed) m_fault.reached("exit-after-publish");
    return landed;
  }

 private:
  engine::Store& m_inner;
  FaultPoint& m_fault;
};

class FaultInjectingScheduler : public engine::Scheduler {
 public:
  FaultInjectingScheduler(engine::Scheduler& inner, FaultPoint& fault) : m_inner(inner), m_fault(fault) {}
  // Everything forwards: a tick under fault injection is the real tick until it dies.
  Expected<std::optional<std::string>> find(const engine::JobKey& key) override { return m_inner.find(key); }
  Expected<std::map<std::string, std::string>> find_all(const std::vector<engine::JobKey>& keys) override {
    return m_inner.find_all(keys);
  }
  std::optional<engine::CapacityRefusal> capacity_refusal(const engine::JobKey& key) const override {
    return m_inner.capacity_refusal(key);
  }
  Expected<std::string> output(const std::string& id, int lines) override {
    return m_inner.output(id, lines);
  }
  Expected<void> sync_outputs(const std::string& id, const engine::SubmitRequest& request) override {
    return m_inner.sync_outputs(id, request);
  }
  engine::Workspace* workspace() override { return m_inner.workspace(); }
  bool outputs_are_files() const override { return m_inner.outputs_are_files(); }
  Expected<std::string> submit(const engine::SubmitRequest& request) override {
    auto id = m_inner.submit(request);
    if (id) m_fault.reached("exit-after-submit");
    return id;
  }
  std::vector<std::string> submit_notes(const std::string& id) const override {
    return m_inner.submit_notes(id);
  }
  std::optional<engine::SpecInfo> inspect(const engine::SubmitRequest& request) const override {
    return m_inner.inspect(request);
  }
  Expected<std::map<std::string, engine::JobStatus>> status(const std::vector<std::string>& ids) override {
    return m_inner.status(ids);
  }
  Expected<std::string> log_tail(const std::string& id, int lines) override {
    return m_inner.log_tail(id, lines);
  }
  Expected<void> cancel(const std::string& id) override { return m_inner.cancel(id); }
  Expected<std::optional<std::map<std::string, int>>> queued_by_name(const std::string& prefix) override {
    return m_inner.queued_by_name(prefix);
  }

 private:
  engine::Scheduler& m_inner;
  FaultPoint& m_fault;
};

class FaultInjectingBackends : public engine::Backends {
 public:
  FaultInjectingBackends(engine::Backends& inner, FaultPoint& fault) : m_inner(inner), m_fault(fault) {}
  engine::Scheduler* get(const std::string& name) override {
    engine::Scheduler* s = m_inner.get(name);
    if (s == nullptr) return nullptr;
    auto& wrapped = m_wrapped[name];
    if (!wrapped) wrapped = std::make_unique<FaultInjectingScheduler>(*s, m_fault);
    return wrapped.get();
  }
  std::string unusable(const std::string& name) override { return m_inner.unusable(name); }

 private:
  engine::Backends& m_inner;
  FaultPoint& m_fault;
  std::map<std::string, std::unique_ptr<FaultInjectingScheduler>> m_wrapped;
};

// What cairn's commits within the anomaly scan's longest window say. Unreadable
// history costs the scan its history patterns, never the tick.
std::vector<engine::HistoryEvent> recent_history(gitstore::Repo& repo,
                                                 const engine::AnomalyThresholds& thresholds) {
  const auto since = std::chrono::system_clock::now() - thresholds.history_span();
  auto log = gitstore::cairn_log_since(repo, since);
  if (!log) {
    std::fprintf(stderr, "cairn tick: warning: anomaly scan without history: %s\n",
                 log.error().message.c_str());
    return {};
  }
  return gitstore::history_events(*log);
}

// docs/tick.md "When a campaign is due": a campaign a human changed since cairn last
// wrote it (a hand edit, `cairn clear`, a merged pull request: a last commit without
// `Cairn-Tick-Id`) is due at once. Asked only about the campaigns the tick would skip by
// their cadence, in one walk of history for all of them; a tick where every campaign is
// due (or --force) reads none. Unreadable history costs only this shortcut: the campaigns
// wait for their cadence.
void mark_changed_by_human(gitstore::Repo& repo, std::vector<engine::CampaignInput>& campaigns,
                           engine::TimePoint now, const std::string& only) {
  std::vector<gitstore::WatchedFile> files;
  std::vector<std::size_t> watched;
  engine::TickOptions by_cadence;
  by_cadence.only = only;
  std::vector<engine::CampaignInput> one(1);
  for (std::size_t i = 0; i < campaigns.size(); ++i) {
    auto peek = parse::peek_schedule(campaigns[i].text);
    if (!peek || (!only.empty() && peek->campaign != only)) continue;  // parsed in full, or not worked
    // engine::any_due owns "due by its cadence"; the text is lent to it, not copied.
    std::swap(one.front().text, campaigns[i].text);
    const bool due = engine::any_due(one, now, by_cadence);
    std::swap(one.front().text, campaigns[i].text);
    if (due) continue;
    files.push_back({campaigns[i].path, peek->campaign});
    watched.push_back(i);
  }
  if (files.empty()) return;
  auto writers = gitstore::last_writers(repo, files);
  if (!writers) {
    std::fprintf(stderr, "cairn tick: warning: cannot tell which campaigns a human changed: %s\n",
                 writers.error().message.c_str());
    return;
  }
  for (std::size_t k = 0; k < watched.size(); ++k) {
    campaigns[watched[k]].changed_by_human = (*writers)[k] == gitstore::LastWriter::other;
  }
}

// The campaigns this tick escalated (a transition to `escalated`), in report order.
std::vector<std::string> newly_escalated(const engine::TickReport& r) {
  std::vector<std::string> out;
  for (const auto& c : r.campaigns) {
    for (const auto& t : c.transitions) {
      if (t.to == "escalated") {
        out.push_back(c.campaign);
        break;
      }
    }
  }
  return out;
}

// Lost races are retried from a fresh fetch this many times, with jittered backoff.
constexpr int kPublishAttempts = 8;

void backoff(int attempt) {
  std::random_device rd;
  std::uniform_int_distribution<int> jitter(0, 250 * attempt);
  std::this_thread::sleep_for(std::chrono::milliseconds(100 * attempt + jitter(rd)));
}

Outcome run_tick(const TickCliOptions& o, std::int64_t* next_tick = nullptr) {
  auto ctx_value = CAIRN_TRY(load_context(fs::current_path()));
  auto repo = gitstore::Repo::discover(ctx_value.top.string());
  if (!repo) return fail(repo.error().message, ExitCode::unreachable);
  // A dry run looks at the local checkout only: it changes nothing, the branch included.
  auto remote_name = o.dry_run ? Expected<std::string>(std::string()) : gitstore::tick_remote(*repo);
  if (!remote_name) return fail(remote_name.error().message, ExitCode::unreachable);
  const gitstore::RemoteBranch where{*remote_name, ctx_value.config.branch};
  if (!where.remote.empty()) {  // CI's detached HEAD at the branch tip is that branch (gitstore::attach_head)
    auto refused = gitstore::attach_head(*repo, where);
    if (!refused) return fail(refused.error().message, ExitCode::unreachable);
    if (!refused->empty()) return fail(*refused, ExitCode::unreachable);
  }
  // Level-triggered: each attempt starts from the remote's tip. The first fetch comes
  // before anything is read from the checkout, so this tick uses the cairn.yaml,
  // catalogs and .priors.yaml of the commit it works on, not the previous tick's.
  bool dirty_checked = false;
  // Whether the checkout moved to a new tip.
  auto sync = [&]() -> Expected<bool> {
    if (where.remote.empty()) return false;
    auto tip = gitstore::fetch_tip(*repo, where);
    if (!tip) return fail(tip.error().message, ExitCode::unreachable);
    auto head = repo->head_oid();
    if (tip->empty() || (head && *head && **head == *tip)) return false;
    if (!dirty_checked) {
      CAIRN_TRY(refuse_dirty(*repo, {}, "tick"));
      dirty_checked = true;
    }
    auto dropped = gitstore::sync_to_tip(*repo, where, *tip);
    if (!dropped) return fail(dropped.error().message, ExitCode::unreachable);
    if (*dropped > 0) {
      std::printf("dropped %d unpushed cairn commit(s) of an earlier tick; recomputing them\n", *dropped);
    }
    return true;
  };
  if (CAIRN_TRY(sync())) ctx_value = CAIRN_TRY(load_context(fs::current_path()));
  const RepoContext* ctx = &ctx_value;
  std::vector<doc::Diagnostic> diagnostics;
  auto catalog = load_catalog(*ctx, diagnostics);
  print_diagnostics(diagnostics);
  if (!catalog) return fail(catalog.error().message, ExitCode::findings);

  const std::string qualifier = repo_qualifier(*repo, *ctx);
  // A backend whose settings are refused is cairn.yaml's finding (exit 1); its campaigns
  // wait for the fix, the others run.
  const auto backend_errors = backend_diagnostics(ctx->config);
  print_diagnostics(backend_errors);
  ConfiguredBackends configured(ctx->config, qualifier);
  FaultPoint fault = fault_point();
  FaultInjectingBackends faulty_backends(configured, fault);
  engine::Backends& backends = fault.at > 0 ? static_cast<engine::Backends&>(faulty_backends) : configured;
  SystemClock clock;
  sched::LocalWorkspace workspace;
  engine::TickOptions options;
  options.dry_run = o.dry_run;
  options.force = o.force;
  options.only = o.only;
  options.identity = {ctx->config.identity_name, ctx->config.identity_email};
  options.run_url = run_url();
  // Job names carry it: every clone of the repository (and branch) must agree on it.
  options.repo_id = engine::repo_id(qualifier, ctx->config.branch);
  {
    std::random_device rd;
    options.tick_id = fmt::format("{:08x}{:08x}", rd(), rd());
  }
  if (const std::string grace = env("CAIRN_INTENT_GRACE"); !grace.empty()) {
    options.intent_grace = std::chrono::seconds(std::max(0, std::atoi(grace.c_str())));
  }
  for (const auto& b : ctx->config.backends) {
    if (b.usd_per_cpu_hour > 0) options.usd_per_cpu_hour[b.name] = b.usd_per_cpu_hour;
  }
  if (ctx->config.anomaly.enabled) {
    options.anomaly = engine::thresholds_from(ctx->config.anomaly);
    options.anomaly->priors = ctx->priors;
    for (const auto& d : ctx->priors_errors) {  // the scan goes on with the built-in patterns
      std::fprintf(stderr, "cairn tick: warning: %s:%d:%d: %s (the anomaly scan ignores %s)\n",
                   d.path.c_str(), d.line, d.column, d.message.c_str(), parse::kPriorsFile);
    }
  }
  options.ceilings = ctx->config.ceilings;
  if (!where.remote.empty() && options.anomaly &&
      repo->is_shallow()) {  // CI's depth-1 clone: fetch the scan's window
    const auto since = std::chrono::system_clock::now() - options.anomaly->history_span();
    if (auto missing = gitstore::deepen(*repo, where, since); !missing.empty()) {
      std::fprintf(stderr, "cairn tick: warning: the anomaly scan sees less: %s\n", missing.c_str());
    }
  }

  // Each attempt recomputes every transition from the tip; an attempt whose push loses
  // the race leaves nothing behind.
  engine::TickReport report;
  std::vector<doc::Diagnostic> read_errors;
  for (int attempt = 1;; ++attempt) {
    if (attempt > 1) (void)CAIRN_TRY(sync());  // the first attempt's sync came before the setup
    read_errors.clear();
    auto campaigns = load_campaigns(*ctx, read_errors);
    const auto now = std::chrono::system_clock::now();
    if (!o.force) mark_changed_by_human(*repo, campaigns, now, o.only);
    // A tick that will work no campaign writes nothing: the (work-tree wide) dirty
    // check only guards writes.
    engine::TickOptions peek_options;
    peek_options.force = o.force;
    peek_options.only = o.only;
    const bool any_due = engine::any_due(campaigns, now, peek_options);
    if (!o.dry_run && !dirty_checked && any_due) {
      CAIRN_TRY(refuse_dirty(*repo, {}, "tick"));
      dirty_checked = true;
    }
    auto store = gitstore::GitStore::open(ctx->top.string());
    if (!store) return fail(store.error().message, ExitCode::unreachable);
    if (!where.remote.empty()) (*store)->set_remote(where);
    FaultInjectingStore faulty(**store, fault);
    engine::Store& sink = fault.at > 0 ? static_cast<engine::Store&>(faulty) : **store;
    // History only matters to a tick that works some campaign.
    const auto history = options.anomaly && any_due ? recent_history(*repo, *options.anomaly)
                                                    : std::vector<engine::HistoryEvent>{};
    // diagnose.when: anomaly: the agent reads new medium and high anomalies, read-only.
    AgentExplainer explainer(*ctx, *repo);
    engine::Ports ports{backends, sink, clock, workspace, **catalog};
    if (ctx->config.diagnose.explains_anomalies() && !o.dry_run) ports.explainer = &explainer;
    report = engine::tick(ports, campaigns, options, history);
    bool lost = report.lost_race;
    if (!lost && !o.dry_run) {
      auto landed = sink.publish();
      if (!landed) return fail(landed.error().message, ExitCode::unreachable);
      lost = !*landed;
    }
    if (!lost) break;
    if (attempt == kPublishAttempts) {
      return fail(
          fmt::format("the push to {}/{} was refused {} times in a row (another writer moved it, or the "
                      "server refuses pushes); giving up for now (nothing is lost: the next tick redoes "
                      "the work)",
                      where.remote, where.branch, attempt),
          ExitCode::unreachable);
    }
    std::printf("lost the race to push %s/%s (attempt %d); starting over from the new tip\n",
                where.remote.c_str(), where.branch.c_str(), attempt);
    backoff(attempt);
  }
  if (!o.only.empty() &&
      std::none_of(report.campaigns.begin(), report.campaigns.end(),
                   [&](const engine::CampaignReport& c) { return c.campaign == o.only; })) {
    return unknown_campaign(o.only, campaign_names(*ctx), display_path(ctx->root(), fs::current_path()));
  }
  // docs/escalation.md "On the forge": forge actions after the push, idempotent (issues
  // and clear-escalation pull requests for escalated campaigns, closing the issues of
  // resumed ones).
  Outcome forged;
  std::map<std::string, engine::EscalationLinks> links;  // from the forge step, for the step summary
  if (!o.dry_run && !where.remote.empty() && !report.infrastructure_failed()) {
    ForgeStepOptions fo;
    fo.remote = where.remote;
    fo.run_url = options.run_url;
    if (o.json) fo.out = stderr;  // keep --json stdout clean
    fo.links = &links;
    forged = run_forge_step(*ctx, *repo, fo);
    fault.reached("exit-after-forge");
  }
  if (o.json) {
    std::printf("%s\n", to_json(report).dump(2).c_str());
  } else {
    print_human(report, o.dry_run);
  }
  if (!o.dry_run) {
    std::string dashboard;
    if (!env("GITHUB_STEP_SUMMARY").empty()) {
      std::string warning;
      if (auto campaigns = dashboard_campaigns(*ctx, *repo, warning, links)) {
        dashboard = forge_dashboard_markdown(*campaigns);
      } else {
        std::fprintf(stderr, "cairn tick: warning: no dashboard in the step summary: %s\n",
                     campaigns.error().message.c_str());
      }
    }
    write_github_outputs(report, dashboard);
  }
  if (next_tick != nullptr) *next_tick = report.next_tick_seconds;
  // A tick that escalated a campaign did its job (exit 0), but a human must act: say so
  // where a CI log shows it; `escalated=N` in $GITHUB_OUTPUT lets a workflow fail on it.
  if (const auto escalated = newly_escalated(report); !escalated.empty() && !o.dry_run) {
    std::string names;
    for (const auto& n : escalated) names += (names.empty() ? "" : ", ") + n;
    std::fprintf(stderr, "cairn tick: %zu campaign(s) newly escalated, waiting for a human: %s\n",
                 escalated.size(), names.c_str());
  }
  if (report.infrastructure_failed()) return fail("", ExitCode::unreachable);  // the errors are printed above
  if (!forged) return fail("forge step: " + forged.error().message, forged.error().exit);
  if (report.has_invalid_files() || !read_errors.empty() || !backend_errors.empty()) {
    return findings_reported();
  }
  return {};
}

}  // namespace

void define_tick(CLI::App& sub, Runner& run) {
  auto o = std::make_shared<TickCliOptions>();
  sub.add_flag("--dry-run", o->dry_run, "Print the transitions a tick would make; submit and commit nothing");
  sub.add_flag("--force", o->force, "Work every campaign now, due or not");
  sub.add_option("--only", o->only, "Work only this campaign");
  sub.add_flag("--json", o->json, "Print the transitions and cadence as JSON");
  sub.add_flag(
      "--watch", o->watch,
      "Keep ticking: sleep until the next tick is due (SIGHUP ticks at once; SIGTERM stops after the "
      "current tick)");
  sub.add_option("--max-sleep", o->max_sleep, "With --watch: sleep at most this many seconds between ticks")
      ->check(CLI::PositiveNumber);
  sub.add_option("--poll", o->poll,
                 "With --watch: ask the remote this often (seconds) whether someone pushed")
      ->check(CLI::PositiveNumber);
  run = [o](Session&) -> Outcome {
    if (!o->watch) return run_tick(*o);
    return watch_loop([o](std::int64_t& next) { return run_tick(*o, &next); }, o->max_sleep,
                      o->dry_run ? std::function<bool()>() : remote_moved_since_fetch, o->poll);
  };
}

}  // namespace cairn::cli
