// `cairn show CAMPAIGN [--json]`: one campaign in detail. Its stages (status, job,
// backend, pool, started, ended, attempts), the live state of its current job (one status
// query through its backend), the escalation and how to resume it, the last Failure-log
// rows, the open action items, and when the next tick works it.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cairn/cli/backends.hpp>
#include <cairn/cli/context.hpp>
#include <cairn/cli/forge_step.hpp>
#include <cairn/cli/table.hpp>
#include <cairn/cli/verbs.hpp>
#include <cairn/engine/anomaly.hpp>
#include <cairn/engine/cadence.hpp>
#include <cairn/engine/facts.hpp>
#include <cairn/engine/plan.hpp>
#include <cairn/forge/forge.hpp>
#include <cairn/forge/sync.hpp>
#include <cairn/gitstore/log.hpp>
#include <cairn/gitstore/repo.hpp>
#include <cairn/util/redact.hpp>
#include <cairn/util/time.hpp>

namespace cairn::cli {

namespace {

using nlohmann::json;

struct ShowOptions {
  std::string campaign;
  bool json = false;
};

// The Failure-log rows shown (the newest); --json says how many there are in all.
constexpr std::size_t kFailureRows = 5;

std::string dash(const std::string& s) {
  return s.empty() ? "—" : s;
}

json null_or(const std::string& s) {
  return s.empty() ? json(nullptr) : json(s);
}

json time_or_null(const std::optional<engine::TimePoint>& t) {
  return t ? json(util::iso8601(*t)) : json(nullptr);
}

// Where a stage runs as its spec and backend say: the spec's pool or partition, else the
// backend's configured one; "" for the backend's default.
std::string pool_of(const doc::Workflow& wf, const doc::Stage& stage, const parse::RepoConfig& config,
                    const std::string& backend) {
  if (const doc::StageSpec* spec = wf.spec(stage.name)) {
    if (!spec->pool.empty()) return spec->pool;
    if (!spec->resources.partition.empty()) return spec->resources.partition;
  }
  if (const parse::BackendConfig* b = config.backend(backend)) {
    for (const char* key : {"partition", "pool"}) {
      if (auto it = b->settings.find(key); it != b->settings.end() && !it->second.empty()) return it->second;
    }
  }
  return "";
}

// What cairn's commits about the campaign say (attempts counted from Cairn-Attempt).
std::vector<engine::HistoryEvent> history_of(gitstore::Repo& repo, const std::string& campaign) {
  auto log = gitstore::log_for_campaign(repo, campaign);
  if (!log) {
    std::fprintf(stderr, "cairn show: warning: attempts from the file only: %s\n",
                 log.error().message.c_str());
    return {};
  }
  return gitstore::history_events(*log);
}

// An escalation's issue and clear-escalation pull request on the forge.
struct ForgeLinks {
  std::string issue;  // URLs; "" when unknown
  std::string pull;
  std::string note;  // why they are unknown, when there is a forge to ask
};

// Asks the forge (cairn.yaml `forge:`, or inferred from the remote) for the campaign's
// open escalation issue, found by its hidden marker, and the pull request of the clear
// branch the marker names: two requests. Nothing when no forge applies; a note when it
// cannot be asked (no token, unreachable). Never fails.
ForgeLinks forge_links(const RepoContext& ctx, gitstore::Repo& repo, const std::string& campaign) {
  ForgeLinks out;
  if (ctx.config.forge.kind == "none") return out;
  auto urls = repo.remote_urls();
  auto settings = forge::resolve_settings(ctx.config.forge, urls && !urls->empty() ? urls->front() : "");
  if (!settings) return out;
  if (settings->token.empty()) {
    out.note = fmt::format("no token in ${}: the forge was not asked for the issue", settings->token_env);
    return out;
  }
  forge::CurlHttpClient http(forge_retry_policy(), settings->token);
  auto client = forge::make_forge(*settings, http);
  if (!client) {
    out.note = client.error().message;
    return out;
  }
  auto issues = (*client)->list_issues({"cairn", "escalation"});
  if (!issues) {
    out.note = util::redact(issues.error().message);
    return out;
  }
  const forge::Issue* issue = nullptr;
  int attempt = 0;
  for (const auto& i : *issues) {
    auto marker = forge::find_marker(i.body);
    if (i.open && marker && marker->campaign == campaign && marker->attempt > attempt) {
      issue = &i;
      attempt = marker->attempt;
    }
  }
  if (issue == nullptr) return out;
  out.issue = issue->url;
  auto pulls = (*client)->list_pulls(forge::clear_branch(campaign, attempt));
  if (!pulls) {
    out.note = util::redact(pulls.error().message);
  } else if (!pulls->empty()) {
    out.pull = pulls->front().url;
  }
  return out;
}

std::string in_words(std::int64_t seconds) {
  return seconds <= 0 ? "now" : "in " + util::human_duration(seconds);
}

Outcome run_show(Session& session, const ShowOptions& o) {
  const RepoContext& ctx = session.ctx;
  const auto found = CAIRN_TRY(open_campaign(ctx, o.campaign));
  gitstore::Repo* repo = &*session.repo;
  const doc::Workflow& wf = found.workflow();
  const auto now = std::chrono::system_clock::now();
  const auto history = history_of(*repo, wf.campaign);
  ConfiguredBackends backends(ctx.config, repo_qualifier(*repo, ctx));

  // ---- the stages ----
  json stages = json::array();
  std::vector<std::vector<std::string>> stage_rows;
  for (const auto& s : wf.stages) {
    const std::string backend = engine::backend_of(wf, s.name);
    const std::string pool = pool_of(wf, s, ctx.config, backend);
    const int attempts = engine::attempts_made(wf, s, history);
    stages.push_back({{"number", s.number},
                      {"name", s.name},
                      {"status", std::string(doc::to_string(s.status))},
                      {"job", null_or(s.job_id)},
                      {"backend", backend},
                      {"pool", null_or(pool)},
                      {"started", null_or(s.started)},
                      {"ended", null_or(s.completed)},
                      {"retries", s.retries},
                      {"attempts", attempts}});
    stage_rows.push_back({dash(s.number), s.name, std::string(doc::to_string(s.status)), dash(s.job_id),
                          backend, dash(pool), dash(s.started), dash(s.completed), std::to_string(attempts),
                          std::to_string(s.retries)});
  }

  // ---- the current job, live: one status query through its backend ----
  std::optional<Error> unreachable;  // the backend could not be asked: exit 3 once all is printed
  json job = nullptr;
  std::string job_line;
  const doc::Stage* current = wf.stage(wf.current_stage);
  if (current == nullptr) current = wf.first_open_stage();
  if (current != nullptr && !current->job_id.empty()) {
    const std::string backend = engine::backend_of(wf, current->name);
    job = {{"id", current->job_id}, {"stage", current->name}, {"backend", backend},   {"state", nullptr},
           {"exit_code", nullptr},  {"reason", nullptr},      {"submitted", nullptr}, {"started", nullptr},
           {"ended", nullptr},      {"pool", nullptr},        {"nodes", nullptr},     {"work_dir", nullptr},
           {"error", nullptr}};
    auto sched = backends.require(backend);
    auto answer = sched ? (*sched)->status({current->job_id})
                        : Expected<std::map<std::string, engine::JobStatus>>(sched.error());
    if (!answer) {
      unreachable = fail(fmt::format("job {} of stage {}: {}", current->job_id, current->name,
                                     util::redact(answer.error().message)),
                         sched ? ExitCode::unreachable : ExitCode::findings);
      job["error"] = util::redact(answer.error().message);
      job_line = fmt::format("job {} ({} on {}): state unknown: {}", current->job_id, current->name, backend,
                             util::redact(answer.error().message));
    } else if (auto it = answer->find(current->job_id); it == answer->end()) {
      job["error"] = fmt::format("{} does not know the job", backend);
      job_line =
          fmt::format("job {} ({} on {}): not known to {}", current->job_id, current->name, backend, backend);
    } else {
      const engine::JobStatus& st = it->second;
      job["state"] = std::string(engine::to_string(st.state));
      job["exit_code"] = st.exit_code ? json(*st.exit_code) : json(nullptr);
      job["reason"] = null_or(util::redact(st.reason));
      job["submitted"] = time_or_null(st.submitted);
      job["started"] = time_or_null(st.started);
      job["ended"] = time_or_null(st.ended);
      job["pool"] = null_or(st.pool);
      job["nodes"] = null_or(st.nodes);
      job["work_dir"] = null_or(st.work_dir);
      job_line = fmt::format("job {} ({} on {}): {}", current->job_id, current->name, backend,
                             status_colour(engine::to_string(st.state)));
      if (st.exit_code) job_line += fmt::format(", exit {}", *st.exit_code);
      if (st.started) job_line += fmt::format(", started {}", util::table_time(*st.started));
      if (st.ended) job_line += fmt::format(", ended {}", util::table_time(*st.ended));
      if (!st.pool.empty()) job_line += fmt::format(", on {}", st.pool);
      if (!st.reason.empty() && st.reason != engine::to_string(st.state)) {
        job_line += fmt::format(" ({})", util::redact(st.reason));
      }
    }
  }

  // ---- escalation, failures, action items, cadence ----
  json escalation = nullptr;
  ForgeLinks links;
  if (wf.escalation_required) {
    links = forge_links(ctx, *repo, wf.campaign);
    if (!links.note.empty()) std::fprintf(stderr, "cairn show: note: %s\n", links.note.c_str());
    escalation = {{"reason", wf.escalation_reason},
                  {"stage", engine::escalated_stage(wf)},
                  {"resume", fmt::format("cairn clear {} --reason TEXT", wf.campaign)},
                  {"issue", null_or(links.issue)},
                  {"pull_request", null_or(links.pull)}};
  }
  json failures = json::array();
  std::vector<std::vector<std::string>> failure_rows;
  const std::size_t first = wf.failures.size() > kFailureRows ? wf.failures.size() - kFailureRows : 0;
  for (std::size_t i = first; i < wf.failures.size(); ++i) {
    const doc::FailureRow& f = wf.failures[i];
    failures.push_back({{"date", f.date},
                        {"stage", f.stage},
                        {"error_class", f.error_class},
                        {"message", f.message},
                        {"action", f.action},
                        {"result", f.result}});
    failure_rows.push_back({f.date, f.stage, f.error_class, f.message, f.action, f.result});
  }
  json actions = json::array();
  for (const auto& a : wf.actions) {
    if (!a.checked) actions.push_back(a.text);
  }
  const std::int64_t due = engine::seconds_until_due(wf, now);

  if (o.json) {
    json out = {{"version", 1},
                {"campaign", wf.campaign},
                {"path", found.input.path},
                {"status", std::string(doc::to_string(wf.status))},
                {"current_stage", null_or(wf.current_stage)},
                {"paused", wf.paused},
                {"last_tick", null_or(wf.last_tick)},
                {"next_due_seconds", due},
                {"next_due", util::iso8601(now + std::chrono::seconds(due))},
                {"stages", stages},
                {"job", job},
                {"escalation", escalation},
                {"failures", failures},
                {"failures_total", wf.failures.size()},
                {"actions", actions}};
    std::printf("%s\n", out.dump(2).c_str());
    return unreachable ? Outcome(*unreachable) : Outcome();
  }
  std::printf("%s  %s\n", bold(wf.campaign).c_str(), found.input.path.c_str());
  std::printf("status %s, stage %s%s; last tick %s; next tick works it %s\n",
              status_colour(doc::to_string(wf.status)).c_str(), dash(wf.current_stage).c_str(),
              wf.paused ? " (paused)" : "", dash(wf.last_tick).c_str(), in_words(due).c_str());
  std::printf("\n%s", render_table({"#", "STAGE", "STATUS", "JOB", "BACKEND", "POOL", "STARTED", "ENDED",
                                    "ATTEMPTS", "RETRIES"},
                                   stage_rows)
                          .c_str());
  if (!job_line.empty()) std::printf("\n%s\n", job_line.c_str());
  if (wf.escalation_required) {
    std::printf("\n%s (stage %s): %s\n", status_colour("escalated").c_str(),
                engine::escalated_stage(wf).c_str(), dash(wf.escalation_reason).c_str());
    if (!links.issue.empty()) std::printf("  issue: %s\n", links.issue.c_str());
    if (!links.pull.empty()) std::printf("  pull request (merge it to resume): %s\n", links.pull.c_str());
    std::printf("  resume: cairn clear %s --reason TEXT\n", wf.campaign.c_str());
  }
  if (!failure_rows.empty()) {
    std::printf(
        "\nFailure log (%s):\n%s",
        first > 0 ? fmt::format("last {} of {}", failure_rows.size(), wf.failures.size()).c_str() : "all",
        render_table({"DATE", "STAGE", "ERROR CLASS", "MESSAGE", "ACTION", "RESULT"}, failure_rows).c_str());
  }
  if (!actions.empty()) {
    std::printf("\nOpen action items:\n");
    for (const auto& a : actions) std::printf("  - [ ] %s\n", a.get<std::string>().c_str());
  }
  return unreachable ? Outcome(*unreachable) : Outcome();
}

}  // namespace

void define_show(CLI::App& sub, Runner& run) {
  auto o = std::make_shared<ShowOptions>();
  sub.add_option("campaign", o->campaign, "Campaign name")->required();
  sub.add_flag("--json", o->json, "Print the campaign as JSON (docs/json.md, `## show`)");
  run = [o](Session& session) { return run_show(session, *o); };
}

}  // namespace cairn::cli
