#include <cairn/engine/tick.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <variant>

#include <fmt/format.h>

#include <cairn/engine/apply.hpp>
#include <cairn/engine/cadence.hpp>
#include <cairn/engine/facts.hpp>
#include <cairn/engine/plan.hpp>
#include <cairn/parse/workflow_file.hpp>
#include <cairn/util/time.hpp>

namespace cairn::engine {

namespace {

using doc::Status;

// Adoption skips keys whose jobs the file records as ended; past this many the file and
// the scheduler disagree too much to guess.
constexpr int kMaxSkippedAttempts = 16;
// A step gathers at most this many Needs (a log tail, a probe, outputs) before it decides.
constexpr int kMaxNeeds = 8;

// Statuses of every in-flight job, fetched once per backend before any campaign runs.
struct StatusCache {
  std::map<std::string, std::map<std::string, JobStatus>> by_backend;
  std::set<std::string> failed_backends;

  const JobStatus* find(const std::string& backend, const std::string& job) const {
    auto b = by_backend.find(backend);
    if (b == by_backend.end()) return nullptr;
    auto j = b->second.find(job);
    return j == b->second.end() ? nullptr : &j->second;
  }
};

// Runs one campaign through the plan: asks plan_step() for the next action, gathers
// what a Need asks for, applies Moves (engine/apply) and talks to the scheduler for
// submits and the approved cancel. The only place of the tick that does I/O per campaign.
class CampaignRun {
 public:
  CampaignRun(Ports& ports, const TickOptions& options, const CampaignInput& input, parse::WorkflowFile file,
              const StatusCache& statuses, TimePoint now, const std::vector<AnomalyAction>& anomalies,
              const std::vector<HistoryEvent>& history, CampaignReport& report)
      : m_ports(ports),
        m_options(options),
        m_place{input.path, input.dir},
        m_file(std::move(file)),
        m_statuses(statuses),
        m_now(now),
        m_anomalies(anomalies),
        m_policy{ports.catalog,   options.ceilings,       options.usd_per_cpu_hour,
                 options.repo_id, options.log_tail_lines, now,
                 history},
        m_context{options.identity, options.run_url, options.tick_id, options.dry_run},
        m_report(report) {}

  void run() {
    if (wf().escalation_required) {
      note(fmt::format("escalated ({}); skipped at {}", wf().escalation_reason, util::iso8601(m_now)));
      return;
    }
    const std::optional<AgentReading> reading = explain_anomalies();
    auto [moves, go_on] = plan_anomalies(wf(), m_place, m_anomalies, m_now, reading ? &*reading : nullptr);
    for (auto& m : moves) {
      if (!commit(std::move(m))) return;
    }
    if (!go_on) return;
    // Bounded: every stage can move at most a few times in one tick.
    const std::size_t max_steps = wf().stages.size() * 4 + 4;
    Observed seen = observe();
    int needs = 0;
    for (std::size_t step = 0; step < max_steps;) {
      Action action = plan_step(wf(), m_place, seen, m_policy);
      if (auto* need = std::get_if<Need>(&action)) {
        if (++needs > kMaxNeeds) {
          note("the plan kept asking for facts; stopped");
          return;
        }
        gather(*need, seen);
        continue;
      }
      ++step;
      needs = 0;
      if (auto* wait = std::get_if<Wait>(&action)) {
        note(std::move(wait->note));
        return;
      }
      if (auto* c = std::get_if<Commit>(&action)) {
        for (auto& m : c->moves) {
          if (!commit(std::move(m))) return;
        }
        if (!c->again) return;
      } else if (auto* s = std::get_if<Submit>(&action)) {
        submit(*s);
        return;  // a job just submitted is polled next tick
      } else if (auto* x = std::get_if<Cancel>(&action)) {
        if (!cancel(*x)) return;
      } else if (auto* u = std::get_if<Unreachable>(&action)) {
        infrastructure(u->backend, u->message);
        return;
      }
      seen = observe();
    }
  }

  std::vector<std::string> m_errors;
  bool m_lost_race = false;
  const parse::WorkflowFile& file() const { return m_file; }

 private:
  const doc::Workflow& wf() const { return m_file.workflow(); }
  void note(std::string text) { m_report.note = std::move(text); }

  // What the configured agent reads into this campaign's medium and high anomalies that
  // no earlier tick acted on (each is acted on once, so is the agent); nullopt when there
  // is no agent or nothing new. A dry run commits nothing the agent could go into.
  std::optional<AgentReading> explain_anomalies() {
    if (m_ports.explainer == nullptr || m_options.dry_run) return std::nullopt;
    std::vector<Anomaly> fresh;
    std::vector<Anomaly> all;
    for (const AnomalyAction& act : m_anomalies) {
      all.push_back(*act.anomaly);
      if (act.anomaly->confidence != Confidence::low && !anomaly_noted(wf(), *act.anomaly))
        fresh.push_back(*act.anomaly);
    }
    if (fresh.empty()) return std::nullopt;
    return m_ports.explainer->explain(m_place.path, fresh,
                                      render_orchestration_check(wf().campaign, all, m_now));
  }

  // What the tick knows of the first open stage's job: this tick's batched answer.
  Observed observe() const {
    Observed seen;
    const doc::Stage* stage = wf().first_open_stage();
    if (stage == nullptr) return seen;
    const std::string backend = backend_of(wf(), stage->name);
    Scheduler* sched = m_ports.backends.get(backend);
    seen.backend_known = sched != nullptr;
    if (sched == nullptr) seen.backend_unusable = m_ports.backends.unusable(backend);
    seen.outputs_are_files = sched == nullptr || sched->outputs_are_files();
    seen.backend_down = m_statuses.failed_backends.count(backend) != 0;
    if (!stage->job_id.empty()) {
      if (const JobStatus* job = m_statuses.find(backend, stage->job_id)) seen.job = *job;
    }
    // What the job's spec declares (OSMO: its outputs and the resources it owns), for the
    // commit that ends the job and the fix of a failed one. Only backends that read specs
    // do I/O here.
    if (const doc::StageSpec* spec = wf().spec(stage->name); sched != nullptr && spec != nullptr) {
      SubmitRequest request;
      request.campaign_dir = m_place.dir;
      request.spec = *spec;
      seen.spec = sched->inspect(request);
    }
    return seen;
  }

  // Gathers what `need` asks for into `seen`. Failures are facts too: a log that cannot
  // be read is empty, a directory that cannot be probed says why.
  void gather(const Need& need, Observed& seen) {
    const doc::Stage* stage = wf().first_open_stage();
    Scheduler* sched = need.backend.empty() ? nullptr : m_ports.backends.get(need.backend);
    if (need.sync) {
      seen.synced = sched != nullptr
                        ? sched->sync_outputs(stage != nullptr ? stage->job_id : "", need.request)
                        : Expected<void>(fail("backend `" + need.backend + "` is not configured"));
    }
    if (need.log_lines > 0) {
      std::string text;
      if (sched != nullptr && stage != nullptr && !stage->job_id.empty()) {
        if (auto tail = sched->log_tail(stage->job_id, need.log_lines)) text = std::move(*tail);
      }
      seen.log_tails[need.log_lines] = std::move(text);
    }
    if (!need.probes.empty()) {
      Workspace* ws =
          sched != nullptr && sched->workspace() != nullptr ? sched->workspace() : &m_ports.workspace;
      auto answers = ws->probe(need.dir, need.probes);
      if (answers && answers->size() != need.probes.size()) {
        answers = fail(fmt::format("the workspace of {} answered {} of {} probes", need.dir, answers->size(),
                                   need.probes.size()),
                       ExitCode::unreachable);
      }
      if (!answers) {
        seen.probe_error = answers.error();
        return;
      }
      for (std::size_t i = 0; i < need.probes.size(); ++i) {
        seen.probes[{need.probes[i].kind, need.probes[i].arg}] = (*answers)[i];
      }
    }
  }

  // ---- submission, in phases across every campaign of the tick ------------------

 public:
  // The submit the plan decided, waiting for the tick's batched phases; null when none.
  const Submit* pending() const { return m_pending ? &*m_pending : nullptr; }
  Scheduler* pending_scheduler() const {
    return m_pending ? m_ports.backends.get(m_pending->backend) : nullptr;
  }

  // Phase 2, with the batched lookup's answer for the first key (`found`: the job under
  // it, if any). Adopts a job the file does not record (a tick that died between submit
  // and commit); skips keys whose jobs the file records as ended (looked up one by one:
  // rare). Returns true when a new attempt must be announced and submitted under
  // key() — the intent is then committed, to be published with every other campaign's.
  bool resolve(std::optional<std::string> found) {
    const Submit& s = *m_pending;
    Scheduler* sched = pending_scheduler();
    const doc::Stage* stage = wf().stage(s.stage);
    m_key = s.request.key;
    for (int skipped = 0; found && s.recorded_jobs.count(*found) != 0; ++skipped) {
      if (skipped >= kMaxSkippedAttempts) {
        commit(
            escalation(wf(), *stage, "attempt-keys-exhausted",
                       fmt::format("jobs under {} and the {} keys before it are all recorded as ended; the "
                                   "stage's failure log and JobID disagree with the scheduler",
                                   m_key.str(), kMaxSkippedAttempts),
                       {}, false, m_now));
        m_pending.reset();
        return false;
      }
      ++m_key.attempt;
      auto next = sched->find(m_key);
      if (!next) {
        infrastructure(s.backend, next.error().message);
        m_pending.reset();
        return false;
      }
      found = *next;
    }
    if (found) {
      commit(submitted(wf(), s, *found, m_key, /*adopted=*/true, m_now));
      m_pending.reset();
      return false;
    }
    // Exactly-once submission (docs/tick.md): an intent for the same key already in the
    // file is a racing tick's (or one that died between intent and submit): wait for it,
    // and take it over only once it is stale, again through a published intent, so two
    // ticks never take over together.
    if (auto since = announced_since(wf(), m_key); since && m_now - *since < m_options.intent_grace) {
      note(fmt::format("{} is being submitted by another tick (intent at {}); waiting", m_key.str(),
                       util::clock_time(*since)));
      m_pending.reset();
      return false;
    }
    if (!commit(intent(wf(), *stage, m_key, m_now))) {
      m_pending.reset();
      return false;
    }
    return true;
  }

  // The batched lookup failed: nothing is submitted this tick.
  void unreachable(const std::string& message) {
    infrastructure(m_pending->backend, message);
    m_pending.reset();
  }

  // The publish of the intents did not land (`lost`: another writer moved the branch).
  void not_published(bool lost, const std::string& message) {
    if (lost) {
      note(fmt::format("lost the race to publish the intent for {}; another tick got there first",
                       m_key.str()));
      m_lost_race = true;
    } else {
      m_errors.push_back(
          fmt::format("{}: publishing the intent for {} failed: {}", wf().campaign, m_key.str(), message));
    }
    m_pending.reset();
  }

  // Phase 3, once the intent landed: submits under key() and records the job.
  void submit_now() {
    const Submit s = *m_pending;
    m_pending.reset();
    SubmitRequest request = s.request;
    request.key = m_key;
    Scheduler* sched = pending_scheduler_for(s);
    auto id = sched->submit(request);
    if (!id) {
      if (id.error().exit == ExitCode::unreachable) return infrastructure(s.backend, id.error().message);
      // More than one node of the pool provides: sized down once, or escalated with the table.
      if (auto refusal = sched->capacity_refusal(m_key)) {
        commit(
            capacity_refused(wf(), s, m_key, *refusal, sched->inspect(request), id.error().message, m_now));
        return;
      }
      commit(
          escalation(wf(), *wf().stage(s.stage), "submit-failed",
                     fmt::format("submit of {} failed: {}{}", s.request.spec.run, id.error().message,
                                 s.not_on.empty() ? "" : fmt::format(" (the retry excluded {})", s.not_on)),
                     {}, false, m_now));
      return;
    }
    commit(submitted(wf(), s, *id, m_key, /*adopted=*/false, m_now, sched->submit_notes(*id)));
  }

 private:
  Scheduler* pending_scheduler_for(const Submit& s) const { return m_ports.backends.get(s.backend); }

  // Phase 1 ends here for a campaign that submits: the plan's Submit waits for the
  // tick's batched lookup, intents and publish. A dry run only says what it would do.
  void submit(const Submit& s) {
    const doc::Stage* stage = wf().stage(s.stage);
    if (m_options.dry_run || pending_scheduler_for(s) == nullptr || stage == nullptr) {
      Move m = submitted(wf(), s, s.request.key.str(), s.request.key, false, m_now);
      m.transition.job.clear();  // no job exists
      m.transition.body = {
          fmt::format("Would submit {} on {} as {}.", s.request.spec.run, s.backend, s.request.key.str())};
      if (m_options.dry_run && stage != nullptr) {
        // Edited in memory only (a dry run commits nothing), so the report's status is
        // the one the submit leads to, `running`, next to the transition that says so.
        commit(std::move(m));
        return;
      }
      m.transition.tick = util::iso8601(m_now);
      m_report.transitions.push_back(std::move(m.transition));
      return;
    }
    m_pending = s;
  }

  // The one cancel cairn makes. Cancelling an ended job is a no-op for the schedulers,
  // so a tick that dies after it and before its commit can safely cancel again.
  bool cancel(Cancel& c) {
    if (m_options.dry_run) {
      Transition t = c.after.transition;
      t.tick = util::iso8601(m_now);
      t.body = {fmt::format("Would cancel job {} (approved) and submit the stage anew.", c.job)};
      m_report.transitions.push_back(std::move(t));
      return false;
    }
    Scheduler* sched = m_ports.backends.get(c.backend);
    auto cancelled = sched != nullptr ? sched->cancel(c.job) : Expected<void>(fail("backend not configured"));
    if (!cancelled && cancelled.error().exit == ExitCode::unreachable) {
      infrastructure(c.backend, cancelled.error().message);
      return false;
    }
    if (!cancelled) {
      commit(escalation(wf(), *wf().first_open_stage(), "cancel-failed",
                        fmt::format("cancelling job {} failed: {}", c.job, cancelled.error().message), {},
                        false, m_now));
      return false;
    }
    return commit(std::move(c.after));
  }

  void infrastructure(const std::string& backend, const std::string& message) {
    m_errors.push_back(fmt::format("{}: backend {}: {}", wf().campaign, backend, message));
    note(fmt::format("backend {} unreachable; retry next tick", backend));
  }

  // One Move as one commit. An edit the file cannot take is reported as a diagnostic
  // and the campaign stops (the next tick starts from HEAD again).
  bool commit(Move move) {
    Applied done = apply_move(std::move(move), m_file, m_place.path, m_ports.store, m_context, m_now);
    if (!done.diagnostic.empty()) {
      m_report.diagnostics.push_back({m_place.path, 0, 0, doc::Severity::error, done.diagnostic});
      return false;
    }
    if (!done.error.empty()) {
      m_errors.push_back(fmt::format("{}: commit failed: {}", wf().campaign, done.error));
      return false;
    }
    m_report.transitions.push_back(std::move(done.transition));
    return true;
  }

  Ports& m_ports;
  const TickOptions& m_options;
  Place m_place;
  parse::WorkflowFile m_file;
  const StatusCache& m_statuses;
  TimePoint m_now;
  const std::vector<AnomalyAction>& m_anomalies;
  Policy m_policy;
  CommitContext m_context;
  CampaignReport& m_report;
  std::optional<Submit> m_pending;
  JobKey m_key;
};

// Phases 2 and 3 of a tick (docs/tick.md "Exactly-once submission"), over every campaign
// whose plan submits: one adoption lookup per backend for all first keys, the intents
// committed (one commit per campaign) and published in one push, then the submits, each
// recorded in a commit. Only keys whose intent landed are submitted; a lost race submits
// nothing.
void submit_all(Ports& ports, std::vector<std::unique_ptr<CampaignRun>>& runs, TickReport& report) {
  std::map<Scheduler*, std::vector<CampaignRun*>> by_backend;
  for (auto& run : runs) {
    if (run->pending() != nullptr) by_backend[run->pending_scheduler()].push_back(run.get());
  }
  std::vector<CampaignRun*> announced;
  for (auto& [sched, waiting] : by_backend) {
    std::vector<JobKey> keys;
    for (CampaignRun* run : waiting) keys.push_back(run->pending()->request.key);
    auto found = sched->find_all(keys);
    for (CampaignRun* run : waiting) {
      if (!found) {
        run->unreachable(found.error().message);
        continue;
      }
      auto it = found->find(run->pending()->request.key.str());
      if (run->resolve(it == found->end() ? std::nullopt : std::optional<std::string>(it->second))) {
        announced.push_back(run);
      }
    }
  }
  if (announced.empty()) return;
  auto landed = ports.store.publish();
  for (CampaignRun* run : announced) {
    if (!landed || !*landed) {
      run->not_published(landed.has_value(), landed ? std::string() : landed.error().message);
    } else {
      run->submit_now();
    }
  }
  if (landed && !*landed) report.lost_race = true;
}

// Seconds until a peeked campaign is due; 0 when due now or its last tick is unknown.
std::int64_t peek_wait(const parse::Schedule& peek, TimePoint now) {
  const auto last = util::parse_time(peek.last_tick);
  if (!last) return 0;
  const auto due_at = *last + std::chrono::seconds(schedule_cadence(peek));
  return std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::seconds>(due_at - now).count());
}

// Backend name -> the user's queued jobs named after this repository (JobKey::prefix),
// asked once per backend that a due campaign's current stage runs on. A backend that
// cannot say, or cannot be asked, is left out: the pile-up check does not run for it,
// and an outage is reported by the status query of the same backend.
using QueuedByBackend = std::map<std::string, std::map<std::string, int>>;
template <class Parsed>
QueuedByBackend queued_jobs(Ports& ports, const std::vector<Parsed>& parsed, const std::string& repo_id) {
  QueuedByBackend out;
  std::set<std::string> asked;
  for (const auto& p : parsed) {
    const doc::Stage* stage = p.file->workflow().first_open_stage();
    if (!p.due || stage == nullptr) continue;
    const std::string backend = backend_of(p.file->workflow(), stage->name);
    if (!asked.insert(backend).second) continue;
    Scheduler* sched = ports.backends.get(backend);
    if (sched == nullptr) continue;
    auto answer = sched->queued_by_name(JobKey::prefix(repo_id));
    if (answer && *answer) out[backend] = std::move(**answer);
  }
  return out;
}

// The stage's checkpoint, looked at where the job runs (as the stuck rule does).
void probe_checkpoint(Ports& ports, Scheduler& sched, const JobStatus& job, const std::string& campaign_dir,
                      CampaignSnapshot& snap) {
  Workspace* ws = sched.workspace() != nullptr ? sched.workspace() : &ports.workspace;
  auto answers =
      ws->probe(job.work_dir.empty() ? campaign_dir : job.work_dir, {{Probe::Kind::newest, snap.checkpoint}});
  if (!answers || answers->size() != 1) return;  // unknown progress: no claim about it
  snap.checkpoint_probed = true;
  snap.checkpoint_newest = answers->front().newest;
}

// What the anomaly scan sees of one campaign: its first open stage, since when it is
// in its status, the queued jobs named after it, and for a job the scheduler says runs,
// its log tail (and, when that logs a restart, the checkpoint's age).
CampaignSnapshot snapshot_of(Ports& ports, const doc::Workflow& wf, const std::string& campaign_dir,
                             const StatusCache& statuses, const QueuedByBackend& queued,
                             const std::string& repo_id, bool due) {
  constexpr int kRunningLogLines = 200;
  CampaignSnapshot snap;
  snap.campaign = wf.campaign;
  const doc::Stage* stage = wf.first_open_stage();
  if (stage == nullptr) {
    snap.status = Status::done;
    return snap;
  }
  snap.stage = stage->name;
  snap.status = wf.escalation_required ? Status::escalated : stage->status;
  snap.job = stage->job_id;
  snap.last_tick = util::parse_time(wf.last_tick);
  if (const doc::StageSpec* spec = wf.spec(stage->name)) snap.checkpoint = spec->checkpoint;
  // A pile-up is there whether or not a human holds the campaign.
  if (auto q = queued.find(backend_of(wf, stage->name)); q != queued.end()) {
    const std::string prefix = JobKey::prefix(repo_id, wf.campaign);
    for (const auto& [name, count] : q->second) {
      if (name.rfind(prefix, 0) == 0) snap.queued_jobs[name] = count;
    }
  }
  // A campaign a human holds (paused, escalated) is not stalled.
  if (wf.paused || wf.escalation_required) return snap;
  if (stage->status == Status::running) {
    snap.stage_since = util::parse_time(stage->started);
  } else if (stage->status == Status::pending || stage->status == Status::ready) {
    const doc::Stage* previous = nullptr;
    for (const auto& s : wf.stages) {
      if (&s == stage) break;
      previous = &s;
    }
    if (previous != nullptr) snap.stage_since = util::parse_time(previous->completed);
  }
  if (!due || stage->status != Status::running || stage->job_id.empty()) return snap;
  const std::string backend = backend_of(wf, stage->name);
  const JobStatus* job = statuses.find(backend, stage->job_id);
  if (job == nullptr) return snap;
  if (job->submitted) snap.stage_since = job->submitted;  // the scheduler's clock, to the second
  snap.job_state = std::string(to_string(job->state));
  if (job->state == JobState::running) {
    if (Scheduler* sched = ports.backends.get(backend)) {
      if (auto tail = sched->log_tail(stage->job_id, kRunningLogLines))
        snap.running_log_tail = std::move(*tail);
      if (!snap.checkpoint.empty() && logs_restart(snap.running_log_tail))
        probe_checkpoint(ports, *sched, *job, campaign_dir, snap);
    }
  }
  return snap;
}

// Which campaign does what about each anomaly (AnomalyAction).
std::map<std::string, std::vector<AnomalyAction>> plan_anomaly_actions(
    const std::vector<Anomaly>& anomalies, const std::vector<CampaignSnapshot>& snapshots) {
  auto escalated = [&](const std::string& campaign) {
    return std::any_of(snapshots.begin(), snapshots.end(), [&](const CampaignSnapshot& s) {
      return s.campaign == campaign && s.status == Status::escalated;
    });
  };
  std::map<std::string, std::vector<AnomalyAction>> out;
  for (const Anomaly& a : anomalies) {
    using Kind = AnomalyAction::Kind;
    if (a.confidence == Confidence::high && a.pattern == AnomalyPattern::systemic_error) {
      // One escalation names every campaign; the others hold still meanwhile.
      bool lead_chosen = false;
      for (const auto& c : a.campaigns) {
        const bool lead = !lead_chosen && !escalated(c);
        lead_chosen = lead_chosen || lead;
        out[c].push_back({lead ? Kind::escalate : Kind::pause, &a});
      }
      continue;
    }
    const Kind kind = a.confidence == Confidence::low      ? Kind::note
                      : a.confidence == Confidence::medium ? Kind::pause
                                                           : Kind::escalate;
    for (const auto& c : a.campaigns) out[c].push_back({kind, &a});
  }
  return out;
}

}  // namespace

bool TickReport::has_invalid_files() const {
  return std::any_of(campaigns.begin(), campaigns.end(),
                     [](const CampaignReport& c) { return doc::has_errors(c.diagnostics); });
}

bool any_due(const std::vector<CampaignInput>& campaigns, TimePoint now, const TickOptions& options) {
  if (options.force) return true;
  for (const auto& input : campaigns) {
    auto peek = parse::peek_schedule(input.text);
    if (!peek) return true;
    if (!options.only.empty() && peek->campaign != options.only) continue;
    if (input.changed_by_human || peek_wait(*peek, now) == 0) return true;
  }
  return false;
}

TickReport tick(Ports ports, const std::vector<CampaignInput>& campaigns, const TickOptions& options,
                const std::vector<HistoryEvent>& history) {
  TickReport report;
  const TimePoint now = ports.clock.now();

  // 1. Parse every file; a file that does not parse is reported, never rewritten.
  struct Parsed {
    const CampaignInput* input;
    std::optional<parse::WorkflowFile> file;
    std::size_t report_index;
    bool due;
  };
  std::vector<Parsed> parsed;
  for (const auto& input : campaigns) {
    CampaignReport r;
    r.path = input.path;
    // Most campaigns are not due on most ticks: the frontmatter says so without a full
    // parse. Anything the peek cannot read is parsed (and reported) in full.
    if (!options.force) {
      if (auto peek = parse::peek_schedule(input.text)) {
        if (!options.only.empty() && peek->campaign != options.only) continue;
        if (const std::int64_t wait = peek_wait(*peek, now); wait > 0 && !input.changed_by_human) {
          r.campaign = peek->campaign;
          r.note = fmt::format("not due for {}", util::human_duration(wait));
          r.status = std::string(to_string(peek->escalation_required ? Status::escalated : peek->status));
          r.stage = peek->current_stage;
          r.next_due_seconds = wait;
          report.campaigns.push_back(std::move(r));
          continue;
        }
      }
    }
    auto file = parse::WorkflowFile::parse(input.path, input.text);
    if (!file) {
      r.diagnostics = std::move(file.error());
      r.note = "not parsed; skipped";
      report.campaigns.push_back(std::move(r));
      continue;
    }
    const auto& wf = file->workflow();
    r.campaign = wf.campaign;
    if (!options.only.empty() && wf.campaign != options.only) continue;
    // A human's edit (a clear, a merged pull request, a ticked approval) is acted on at
    // once, whatever the cadence.
    const std::int64_t wait = input.changed_by_human ? 0 : seconds_until_due(wf, now);
    const bool due = options.force || wait == 0;
    r.worked = due;
    if (!due) r.note = fmt::format("not due for {}", util::human_duration(wait));
    parsed.push_back({&input, std::move(*file), report.campaigns.size(), due});
    report.campaigns.push_back(std::move(r));
  }

  // 2. One batched status query per backend for every in-flight job of a due campaign.
  std::map<std::string, std::vector<std::string>> in_flight;
  for (const auto& p : parsed) {
    if (!p.due) continue;
    const auto& wf = p.file->workflow();
    const doc::Stage* stage = wf.first_open_stage();
    if (wf.escalation_required || stage == nullptr || stage->job_id.empty()) continue;
    if (stage->status == Status::running || stage->status == Status::failed) {
      in_flight[backend_of(wf, stage->name)].push_back(stage->job_id);
    }
  }
  StatusCache statuses;
  for (auto& [backend, jobs] : in_flight) {
    Scheduler* sched = ports.backends.get(backend);
    if (sched == nullptr) continue;
    auto answer = sched->status(jobs);
    if (!answer) {
      statuses.failed_backends.insert(backend);
      report.errors.push_back(
          fmt::format("backend {}: status query failed: {}", backend, answer.error().message));
      continue;
    }
    statuses.by_backend[backend] = std::move(*answer);
  }

  // 3. The anomaly scan, over every campaign at once and before any of them moves.
  std::vector<Anomaly> anomalies;
  std::map<std::string, std::vector<AnomalyAction>> anomaly_actions;
  if (options.anomaly) {
    const QueuedByBackend queued = queued_jobs(ports, parsed, options.repo_id);
    std::vector<CampaignSnapshot> snapshots;
    for (const auto& p : parsed) {
      snapshots.push_back(
          snapshot_of(ports, p.file->workflow(), p.input->dir, statuses, queued, options.repo_id, p.due));
    }
    anomalies = scan_anomalies(history, snapshots, now, *options.anomaly);
    anomaly_actions = plan_anomaly_actions(anomalies, snapshots);
  }
  static const std::vector<AnomalyAction> kNoAnomalies;

  // 4. Each campaign on its own up to its submit; one failing never stops the others.
  std::vector<std::unique_ptr<CampaignRun>> runs;
  for (auto& p : parsed) {
    if (!p.due) continue;
    auto acts = anomaly_actions.find(p.file->workflow().campaign);
    runs.push_back(std::make_unique<CampaignRun>(ports, options, *p.input, std::move(*p.file), statuses, now,
                                                 acts != anomaly_actions.end() ? acts->second : kNoAnomalies,
                                                 history, report.campaigns[p.report_index]));
    runs.back()->run();
  }
  // 5. Every submit of the tick: one lookup per backend, one publish of the intents.
  submit_all(ports, runs, report);

  std::size_t next_run = 0;
  for (auto& p : parsed) {
    CampaignReport& r = report.campaigns[p.report_index];
    if (p.due) {
      CampaignRun& run = *runs[next_run++];
      for (auto& e : run.m_errors) report.errors.push_back(std::move(e));
      // Another writer moved the branch: everything after this builds on a stale tip.
      report.lost_race = report.lost_race || run.m_lost_race;
      const auto& wf = run.file().workflow();
      r.status = std::string(to_string(wf.status));
      r.stage = wf.current_stage;
      r.next_due_seconds = campaign_cadence(wf);
    } else {
      const auto& wf = p.file->workflow();
      r.status = std::string(to_string(wf.status));
      r.stage = wf.current_stage;
      r.next_due_seconds = seconds_until_due(wf, now);
    }
  }

  report.next_tick_seconds = kIdleCadence;
  for (const auto& r : report.campaigns) {
    if (!r.campaign.empty())
      report.next_tick_seconds = std::min(report.next_tick_seconds, r.next_due_seconds);
  }
  // Work still waiting (ready/failed) is due now; cron's own period is the floor.
  report.next_tick_seconds = std::max<std::int64_t>(report.next_tick_seconds, 60);
  return report;
}

}  // namespace cairn::engine
