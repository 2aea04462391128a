#include <cairn/engine/tick.hpp>

#include <algorithm>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cairn/engine/cadence.hpp>
#include <cairn/parse/workflow_file.hpp>
#include <cairn/util/redact.hpp>
#include <cairn/util/time.hpp>

namespace cairn::engine {

namespace {

using doc::Status;

constexpr std::string_view kActionPrefix = "cairn:";
constexpr std::string_view kIntentWord = "submitting";
constexpr int kMaxRetries = 2;
// Adoption skips keys whose jobs the file records as ended; past this many the file and
// the scheduler disagree too much to guess.
constexpr int kMaxSkippedAttempts = 16;
constexpr int kConditionLogLines = 20000;

// The backend a stage runs on: its own, else the campaign's budget backend, else local.
std::string backend_of(const doc::Workflow& wf, const doc::StageSpec* spec) {
  if (spec != nullptr && !spec->backend.empty()) return spec->backend;
  if (!wf.budget.backend.empty()) return wf.budget.backend;
  return "local";
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// The first line of `text` that looks like an error, else its last non-empty line.
std::string evidence_line(std::string_view text) {
  std::string_view fallback;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (!line.empty()) {
      const std::string l = lower(line);
      if (l.find("error") != std::string::npos || l.find("fatal") != std::string::npos ||
          l.find("killed") != std::string::npos || l.find("exception") != std::string::npos) {
        return std::string(line);
      }
      fallback = line;
    }
    pos = end + 1;
  }
  return std::string(fallback);
}

// A failure-log cell: one line, no pipes, bounded.
std::string cell_text(std::string_view s, std::size_t max = 120) {
  std::string out;
  for (char c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (c == '|') {
      out += "\\|";
      continue;
    }
    out += c;
  }
  out = util::redact(out);
  if (out.size() > max) out = out.substr(0, max - 3) + "...";
  return out;
}

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

// What to do about a failure, decided once from the evidence and the failure history.
struct Decision {
  enum class Kind { retry, transient_retry, escalate } kind = Kind::escalate;
  std::string error_class;
  std::string reason;  // escalation reason / human summary
  std::string fix;
  std::vector<SpecEdit> edits;
  std::string summary;   // what the fix changes ("resources.time 00:30:00 -> 01:00:00")
  std::string message;   // one-line evidence for the failure log
  std::string proposal;  // an escalation's fix that was not applied (beyond a ceiling), with its change
  bool excludes_nodes = false;  // `exclude-node`: the retry avoids the nodes the row names

  // The failure log's "Action taken": what was tried, with the values it changed, so
  // the row alone says what resolved a failure later.
  std::string action() const {
    if (kind == Kind::escalate)
      return proposal.empty() ? "escalated" : fmt::format("escalated; proposed {}", proposal);
    if (fix.empty() || fix == "resubmit")
      return kind == Kind::transient_retry ? "resubmit (transient)" : "resubmit";
    return summary.empty() ? fix : fmt::format("{} ({})", fix, summary);
  }
};

// A failure-log message names an array's failed tasks and the nodes a job that ended
// badly ran on: "job 41: tasks 3,7; nodes c[07-08]; ...". A retry reads them back.
constexpr std::string_view kTasksWord = "tasks";
constexpr std::string_view kNodesWord = "nodes";
constexpr std::string_view kRetrying = "RETRYING";
constexpr std::string_view kResolved = "RESOLVED";

// The action-queue items that record what the anomaly scan saw: "cairn anomaly:
// <fingerprint>: <message> ...". Not "cairn:", which is the one item cairn rewrites.
constexpr std::string_view kAnomalyPrefix = "cairn anomaly:";
// The offer made with a stuck escalation: "cairn cancel: job 750 (run): ...". A human
// ticks it (and clears the escalation) to approve cancelling that one job and
// resubmitting the stage; cairn then rewrites it as done ("... cancelled at ...").
constexpr std::string_view kCancelPrefix = "cairn cancel:";
constexpr std::string_view kCancelledWord = "cancelled at";
constexpr std::string_view kOrchestrationCheck = "ORCHESTRATION_CHECK.md";

// What the tick does about one anomaly at one campaign: the seed's confidence ladder,
// except that a systemic error escalates once (its first campaign not yet escalated)
// and pauses the others.
struct AnomalyAction {
  enum class Kind { note, pause, escalate } kind = Kind::note;
  const Anomaly* anomaly = nullptr;
};

class CampaignTick {
 public:
  CampaignTick(Ports& ports, const TickOptions& options, const CampaignInput& input, parse::WorkflowFile file,
               const StatusCache& statuses, TimePoint now, const std::vector<AnomalyAction>& anomalies,
               const std::vector<HistoryEvent>& history, CampaignReport& report)
      : m_ports(ports),
        m_options(options),
        m_input(input),
        m_file(std::move(file)),
        m_statuses(statuses),
        m_now(now),
        m_anomalies(anomalies),
        m_history(history),
        m_report(report) {}

  void run() {
    const auto& wf = m_file.workflow();
    if (wf.escalation_required) {
      note(fmt::format("escalated ({}); skipped at {}", wf.escalation_reason, util::iso8601(m_now)));
      return;
    }
    if (!on_anomalies()) return;
    // Bounded: every stage can move at most a few times in one tick.
    const std::size_t max_steps = wf.stages.size() * 4 + 4;
    for (std::size_t i = 0; i < max_steps && !m_stop; ++i) {
      if (!step()) break;
    }
  }

 private:
  const doc::Workflow& wf() const { return m_file.workflow(); }

  void note(std::string text) { m_report.note = std::move(text); }

  // One state transition. Returns true when the loop should look at the campaign again.
  bool step() {
    const doc::Stage* open = wf().first_open_stage();
    if (open == nullptr) {
      if (wf().status != Status::done)
        finish_campaign();
      else
        note("done");
      return false;
    }
    // A copy: every edit re-derives the workflow, so references into it do not last.
    const doc::Stage stage = *open;
    switch (stage.status) {
      case Status::pending: return on_pending(stage);
      case Status::ready: return on_ready(stage);
      case Status::running: return on_running(stage);
      case Status::failed: return on_failed(stage);
      case Status::escalated: return on_cleared(stage);
      case Status::done: break;
    }
    return false;
  }

  // ---- anomalies ------------------------------------------------------------------

  // Acts on each anomaly the scan found about this campaign once: an action item keyed
  // by the anomaly's fingerprint records that it was seen (a human may tick it off; an
  // item deleted while the anomaly persists lets it act again). Low: the item. Medium:
  // `paused: true` and ORCHESTRATION_CHECK.md. High: escalation, the stage left as it is
  // (a running job stays tracked and is polled again once cleared). Returns false when
  // the campaign stops here.
  bool on_anomalies() {
    for (const AnomalyAction& action : m_anomalies) {
      const Anomaly& a = *action.anomaly;
      const std::string key = fmt::format("{} {}:", kAnomalyPrefix, a.fingerprint);
      if (std::any_of(wf().actions.begin(), wf().actions.end(),
                      [&](const doc::ActionItem& item) { return item.text.rfind(key, 0) == 0; })) {
        continue;
      }
      const doc::Stage* open = wf().first_open_stage();
      if (open == nullptr) return true;  // a finished campaign has nothing left to protect
      const doc::Stage stage = *open;
      const std::string item = fmt::format("{} {} ({}, {})", key, cell_text(a.message, 200),
                                           to_string(a.confidence), util::table_time(m_now));
      if (!check(m_file.upsert_action(key, item, false))) return false;
      if (action.kind == AnomalyAction::Kind::escalate) {
        escalate(stage, fmt::format("anomaly-{}", to_string(a.pattern)), a.message, a.evidence,
                 /*keep_stage=*/true);
        return false;
      }
      const std::string status(to_string(stage.status));
      Transition t = transition(stage, status, status);
      t.anomaly = a.fingerprint;
      t.anomaly_summary = fmt::format("{} ({})", to_string(a.pattern), to_string(a.confidence));
      t.body.push_back(a.message);
      if (!a.evidence.empty()) t.body.push_back(fmt::format("{}", fmt::join(a.evidence, "\n")));
      std::vector<FileWrite> also;
      if (action.kind == AnomalyAction::Kind::pause) {
        if (!check(m_file.set_optional_scalar("paused", "true"))) return false;
        std::vector<Anomaly> mine;
        for (const auto& other : m_anomalies) mine.push_back(*other.anomaly);
        also.push_back(
            {sibling_path(kOrchestrationCheck), render_orchestration_check(wf().campaign, mine, m_now)});
        t.body.push_back(
            fmt::format("Paused (`paused: true`): no new submissions until a human sets `paused: "
                        "false`; see {} in the campaign directory.",
                        kOrchestrationCheck));
      } else {
        t.body.push_back("Noted in the action queue; nothing else changes.");
      }
      if (!commit(std::move(t), std::move(also))) return false;
    }
    return true;
  }

  // The repo-relative path of `name` next to this campaign's WORKFLOW.md.
  std::string sibling_path(std::string_view name) const {
    const auto slash = m_input.path.rfind('/');
    return slash == std::string::npos ? std::string(name)
                                      : m_input.path.substr(0, slash + 1) + std::string(name);
  }

  // ---- transitions --------------------------------------------------------------

  bool on_pending(const doc::Stage& stage) {
    if (!stage.entry_condition.checkable()) {
      escalate(stage, "condition-not-checkable",
               fmt::format("entry condition not machine checkable: {}",
                           stage.entry_condition.uncheckable.front().text),
               {});
      return false;
    }
    auto met = evaluate(stage, stage.entry_condition, nullptr);
    if (!met) return unchecked(stage, "entry", met.error());
    if (!met->empty()) {
      note(fmt::format("{} waits: {}", stage.name, *met));
      return false;
    }
    const std::string name = stage.name;
    Transition t = transition(stage, "pending", "ready");
    t.body.push_back(fmt::format("Entry condition \"{}\" holds.", stage.entry));
    if (!edit_cell(name, doc::Column::status, "ready")) return false;
    return commit(std::move(t));
  }

  bool on_ready(const doc::Stage& stage) {
    const std::string name = stage.name;
    const doc::StageSpec* spec = wf().spec(name);
    if (!stage.exit_condition.checkable()) {
      escalate(stage, "condition-not-checkable",
               fmt::format("exit condition not machine checkable: {}",
                           stage.exit_condition.uncheckable.front().text),
               {});
      return false;
    }
    if (wf().budget.cap_usd > 0 && wf().budget.spent_usd > wf().budget.cap_usd) {
      escalate(stage, "cost-cap-exceeded",
               fmt::format("cost cap exceeded: spent ${:.2f} of ${:.2f}", wf().budget.spent_usd,
                           wf().budget.cap_usd),
               {});
      return false;
    }
    if (spec == nullptr || spec->run.empty()) {
      // A gate stage: nothing to run, done when its exit condition holds.
      auto met = evaluate(stage, stage.exit_condition, nullptr);
      if (!met) return unchecked(stage, "exit", met.error());
      if (!met->empty()) {
        note(fmt::format("{} (no run:) waits: {}", name, *met));
        return false;
      }
      Transition t = transition(stage, "ready", "done");
      t.body.push_back(fmt::format("Exit condition \"{}\" holds; stage has no job.", stage.exit));
      if (!edit_cell(name, doc::Column::completed, util::table_time(m_now))) return false;
      if (!edit_cell(name, doc::Column::status, "done")) return false;
      return commit(std::move(t));
    }
    if (wf().paused) {
      note(fmt::format("paused (`paused: true`); {} not submitted", name));
      return false;
    }
    return submit(stage, *spec, "ready");
  }

  bool submit(const doc::Stage& stage, doc::StageSpec spec,
              std::string_view from) {  // a copy: edits re-derive the workflow
    const std::string name = stage.name;
    const std::string backend = backend_of(wf(), &spec);
    Scheduler* sched = m_ports.backends.get(backend);
    if (sched == nullptr) {
      escalate(stage, "unknown-backend",
               fmt::format("backend `{}` is not configured (cairn.yaml `backends:`)", backend), {});
      return false;
    }
    JobKey key = key_for(stage, next_attempt(stage));
    if (m_options.dry_run) {
      Transition t = transition(stage, std::string(from), "running");
      t.attempt = key.attempt;
      t.body.push_back(fmt::format("Would submit {} on {} as {}.", spec.run, backend, key.str()));
      m_report.transitions.push_back(std::move(t));
      m_stop = true;
      return false;
    }
    // A job found under the key is adopted only while its outcome is not recorded (a
    // tick that died between submit and commit); a job the file already records as
    // ended (the JobID of a stage that is not running, a failure-log row) is an earlier
    // attempt, so the next key is tried.
    std::string job;
    for (int skipped = 0;; ++skipped) {
      auto existing = sched->find(key);
      if (!existing) return infrastructure(backend, existing.error());
      if (!*existing || !recorded_job(stage, **existing)) {
        if (*existing) job = **existing;
        break;
      }
      if (skipped >= kMaxSkippedAttempts) {
        escalate(stage, "attempt-keys-exhausted",
                 fmt::format("jobs under {} and the {} keys before it are all recorded as ended; the stage's "
                             "failure log and JobID disagree with the scheduler",
                             key.str(), kMaxSkippedAttempts),
                 {});
        return false;
      }
      ++key.attempt;
    }
    const bool adopted = !job.empty();
    std::string only_tasks;  // a retry of an array's failed tasks
    std::string not_on;      // a retry away from the nodes it failed on
    if (!adopted) {
      if (!announce_submit(stage, key)) return false;
      SubmitRequest request = request_for(key, spec);
      if (!spec.array.empty()) request.array = only_tasks = retry_indices(stage);
      request.exclude_nodes = not_on = retry_excluded_nodes(stage);
      auto submitted = sched->submit(request);
      if (!submitted) {
        if (submitted.error().exit == ExitCode::unreachable) {
          return infrastructure(backend, submitted.error());
        }
        escalate(stage, "submit-failed",
                 fmt::format("submit of {} failed: {}{}", spec.run, submitted.error().message,
                             not_on.empty() ? "" : fmt::format(" (the retry excluded {})", not_on)),
                 {});
        return false;
      }
      job = *submitted;
    }
    Transition t = transition(stage, std::string(from), "running");
    t.job = job;
    t.attempt = key.attempt;
    t.body.push_back(
        adopted
            ? fmt::format("Adopted job {} ({}) already known to {}: submitted by a tick that stopped before "
                          "recording it.",
                          job, key.str(), backend)
            : fmt::format("Submitted {} to {} as job {} ({}, attempt {}){}{}.", spec.run, backend, job,
                          key.str(), key.attempt,
                          only_tasks.empty() ? "" : fmt::format(", array tasks {} only", only_tasks),
                          not_on.empty() ? "" : fmt::format(", not on {}", not_on)));
    if (!edit_cell(name, doc::Column::job_id, job)) return false;
    if (!edit_cell(name, doc::Column::started, util::table_time(m_now))) return false;
    if (!edit_cell(name, doc::Column::status, "running")) return false;
    const std::int64_t cadence = cadence_for_expect(expected_seconds(spec));
    if (!upsert_action(
            fmt::format("{} job {} ({}) submitted {}; next check ≈ {}", kActionPrefix, job, name,
                        util::clock_time(m_now), util::clock_time(m_now + std::chrono::seconds(cadence))),
            false)) {
      return false;
    }
    commit(std::move(t));
    return false;  // a job just submitted is polled next tick
  }

  // ---- attempts -------------------------------------------------------------------

  JobKey key_for(const doc::Stage& stage, int attempt) const {
    return JobKey{wf().campaign, stage.name, attempt, m_options.repo_id};
  }

  // The attempt a job id names when it is one of cairn's keys for this stage (the local
  // backend's ids are keys): "cairn.<repo>.c1.smoke.3" -> 3.
  std::optional<int> key_attempt(const doc::Stage& stage, const std::string& job_id) const {
    const std::string tail = fmt::format(".{}.{}.", wf().campaign, stage.name);
    if (job_id.rfind("cairn.", 0) != 0) return std::nullopt;
    const auto at = job_id.rfind(tail);
    if (at == std::string::npos) return std::nullopt;
    const std::string number = job_id.substr(at + tail.size());
    if (number.empty() || number.find_first_not_of("0123456789") != std::string::npos || number.size() > 6) {
      return std::nullopt;
    }
    return std::stoi(number);
  }

  // How many of the stage's attempts the file records as ended: its failure-log rows,
  // the attempt its JobID names when it is not running, and what cairn's recent commits
  // say about ended attempts (the history window). Never the Retries cell, which a
  // human clear leaves alone and a transient retry does not count.
  int recorded_attempts(const doc::Stage& stage) const {
    int n = static_cast<int>(std::count_if(wf().failures.begin(), wf().failures.end(),
                                           [&](const doc::FailureRow& r) { return r.stage == stage.name; }));
    if (stage.status != Status::running) {
      if (auto a = key_attempt(stage, stage.job_id)) n = std::max(n, *a);
    }
    for (const auto& e : m_history) {
      if (e.campaign == wf().campaign && e.stage == stage.name && e.attempt > 0 && e.from == "running" &&
          e.to != "running") {
        n = std::max(n, e.attempt);
      }
    }
    return n;
  }

  // The attempt a new submit of the stage makes: one past every recorded one.
  int next_attempt(const doc::Stage& stage) const { return recorded_attempts(stage) + 1; }

  // The attempt of the stage's current job (for `Cairn-Attempt`): its key's, else one
  // past the failures recorded before it.
  int current_attempt(const doc::Stage& stage) const {
    if (auto a = key_attempt(stage, stage.job_id)) return *a;
    const std::string mine = fmt::format("job {}:", stage.job_id);
    const int before = static_cast<int>(
        std::count_if(wf().failures.begin(), wf().failures.end(), [&](const doc::FailureRow& r) {
          return r.stage == stage.name && (stage.job_id.empty() || r.message.rfind(mine, 0) != 0);
        }));
    return before + 1;
  }

  // Whether the file already records `job` as an ended attempt of the stage.
  bool recorded_job(const doc::Stage& stage, const std::string& job) const {
    if (job == stage.job_id && stage.status != Status::running) return true;
    const std::string mine = fmt::format("job {}:", job);
    return std::any_of(wf().failures.begin(), wf().failures.end(), [&](const doc::FailureRow& r) {
      return r.stage == stage.name && r.message.rfind(mine, 0) == 0;
    });
  }

  // What the scheduler is asked to run (and later to bring back) for one attempt.
  SubmitRequest request_for(const JobKey& key, const doc::StageSpec& spec) const {
    SubmitRequest r{key, m_input.dir, spec, {}};
    if (auto it = wf().deploy.find("remote_dir"); it != wf().deploy.end()) r.remote_dir = it->second;
    return r;
  }

  // "3,7": the array tasks of `status` that did not complete with exit 0; empty for a
  // single job or when none failed.
  static std::string failed_task_list(const JobStatus& status) {
    std::vector<std::string> failed;
    for (const auto& t : status.tasks) {
      if (t.state != JobState::completed || t.exit_code.value_or(0) != 0) failed.push_back(t.index);
    }
    return fmt::format("{}", fmt::join(failed, ","));
  }

  // Whether a human ticked cairn's offer to cancel the stage's job and it is not done yet.
  bool approved_cancel(const doc::Stage& stage) const {
    if (stage.job_id.empty()) return false;
    const std::string prefix = cancel_offer_prefix(stage.job_id);
    return std::any_of(wf().actions.begin(), wf().actions.end(), [&](const doc::ActionItem& a) {
      return a.checked && a.text.rfind(prefix, 0) == 0 && a.text.find(kCancelledWord) == std::string::npos;
    });
  }

  // The one cancel cairn makes: a human approved it (the stuck escalation's offer,
  // ticked, and the escalation cleared). The job's attempt ends as a failure-log row,
  // so the stage's next submit is a new attempt and adoption never finds this job.
  bool cancel_approved(const doc::Stage& stage, const std::string& backend) {
    const std::string name = stage.name;
    const std::string job = stage.job_id;
    Transition t = transition(stage, "running", "ready");
    t.error_class = "stuck";
    if (m_options.dry_run) {
      t.body.push_back(fmt::format("Would cancel job {} (approved) and submit the stage anew.", job));
      m_report.transitions.push_back(std::move(t));
      m_stop = true;
      return false;
    }
    Scheduler* sched = m_ports.backends.get(backend);
    if (sched == nullptr) {
      escalate(stage, "unknown-backend",
               fmt::format("backend `{}` is not configured (cairn.yaml `backends:`)", backend), {});
      return false;
    }
    // Cancelling an ended job is a no-op for the schedulers, so a tick that dies after
    // this and before its commit can safely cancel again.
    auto cancelled = sched->cancel(job);
    if (!cancelled && cancelled.error().exit == ExitCode::unreachable)
      return infrastructure(backend, cancelled.error());
    if (!cancelled) {
      escalate(stage, "cancel-failed",
               fmt::format("cancelling job {} failed: {}", job, cancelled.error().message), {});
      return false;
    }
    const int retries = stage.retries + 1;
    t.body.push_back(
        fmt::format("Cancelled job {}, as approved in the action queue (retry {}); the stage is "
                    "submitted anew.",
                    job, retries));
    doc::FailureRow row{util::date(m_now),
                        name,
                        "stuck",
                        cell_text(fmt::format("job {}: cancelled as approved in the action queue", job)),
                        "cancel (approved), resubmit",
                        std::string(kRetrying)};
    t.failure = row;
    if (!append_failure(row)) return false;
    if (!edit_cell(name, doc::Column::retries, std::to_string(retries))) return false;
    if (!edit_cell(name, doc::Column::status, "ready")) return false;
    if (!check(m_file.upsert_action(cancel_offer_prefix(job),
                                    fmt::format("{}({}) {} {} as approved", cancel_offer_prefix(job), name,
                                                kCancelledWord, util::clock_time(m_now)),
                                    true))) {
      return false;
    }
    return commit(std::move(t));
  }

  // The stage's latest failure-log row when it is being retried (Result RETRYING): what
  // the next submit reads back from the failed attempt. Null otherwise.
  const doc::FailureRow* retrying_row(const doc::Stage& stage) const {
    for (auto it = wf().failures.rbegin(); it != wf().failures.rend(); ++it) {
      if (it->stage == stage.name) return it->result == kRetrying ? &*it : nullptr;
    }
    return nullptr;
  }

  // The note `word` ("tasks", "nodes") of a failure-log message: "job 41: tasks 3,7;
  // nodes c07; ..." -> "3,7" / "c07". Empty when there is no such note or it holds
  // anything but `allowed` characters (a row a human edited is not passed on to the
  // scheduler).
  static std::string row_note(const std::string& message, std::string_view word, std::string_view allowed) {
    std::size_t at = std::string::npos;
    for (const std::string_view before : {": ", "; "}) {
      at = message.find(fmt::format("{}{} ", before, word));
      if (at != std::string::npos) break;
    }
    if (at == std::string::npos) return {};
    const auto begin = at + 2 + word.size() + 1;
    const auto end = message.find(';', begin);
    if (end == std::string::npos || end == begin) return {};
    std::string note = message.substr(begin, end - begin);
    return note.find_first_not_of(allowed) == std::string::npos ? note : std::string();
  }

  // The array indices a retry of `stage` resubmits: the failed tasks; empty = the whole array.
  std::string retry_indices(const doc::Stage& stage) const {
    const doc::FailureRow* row = retrying_row(stage);
    return row != nullptr ? row_note(row->message, kTasksWord, "0123456789,") : std::string();
  }

  // The nodes a retry after `exclude-node` avoids (hostlist notation: "c[01-03],gpu2").
  std::string retry_excluded_nodes(const doc::Stage& stage) const {
    const doc::FailureRow* row = retrying_row(stage);
    if (row == nullptr || row->action.rfind("exclude-node", 0) != 0) return {};
    return row_note(row->message, kNodesWord,
                    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.[],");
  }

  bool on_running(const doc::Stage& stage) {
    const std::string name = stage.name;
    const doc::StageSpec* spec = wf().spec(name);
    if (stage.job_id.empty()) {
      // An interrupted tick left `running` without a JobID: adopt by key, or submit.
      if (spec == nullptr || spec->run.empty()) {
        escalate(stage, "missing-job", "stage is running but has no JobID and no run:", {});
        return false;
      }
      return submit(stage, *spec, "running");
    }
    const std::string backend = backend_of(wf(), spec);
    if (approved_cancel(stage)) return cancel_approved(stage, backend);
    if (m_statuses.failed_backends.count(backend) != 0) {
      note(fmt::format("{}: status of job {} unknown ({} unreachable); retry next tick", name, stage.job_id,
                       backend));
      return false;
    }
    const JobStatus* status = m_statuses.find(backend, stage.job_id);
    if (status == nullptr || status->state == JobState::unknown) {
      note(fmt::format("{}: job {} not reported by {}; retry next tick", name, stage.job_id, backend));
      return false;
    }
    if (!is_final(status->state)) return still_running(stage, spec, *status);
    // Declared outputs come back before the exit condition looks for them (before the
    // spend edit, after which `spec` would dangle).
    if (status->state == JobState::completed && spec != nullptr && !spec->sync.empty()) {
      auto synced = m_ports.backends.get(backend)->sync_outputs(
          stage.job_id, request_for(key_for(stage, current_attempt(stage)), *spec));
      if (!synced && synced.error().exit == ExitCode::unreachable)
        return infrastructure(backend, synced.error());
      if (!synced) return fail_stage(stage, *status, synced.error().message);
    }

    add_spend(backend, *status);
    if (status->state == JobState::completed) {
      if (!stage.exit_condition.checkable()) {
        escalate(stage, "condition-not-checkable",
                 fmt::format("exit condition not machine checkable: {}",
                             stage.exit_condition.uncheckable.front().text),
                 {});
        return false;
      }
      auto met = evaluate(stage, stage.exit_condition, status);
      if (!met) return unchecked(stage, "exit", met.error());
      if (met->empty()) {
        Transition t = transition(stage, "running", "done");
        t.job = stage.job_id;
        t.body.push_back(
            fmt::format("Job {} completed; exit condition \"{}\" holds.", stage.job_id, stage.exit));
        if (!record_learning(stage, backend, *status)) return false;
        if (!resolve_failures(stage, t)) return false;
        if (!edit_cell(name, doc::Column::completed, util::table_time(m_now))) return false;
        if (!edit_cell(name, doc::Column::status, "done")) return false;
        return commit(std::move(t));
      }
      return fail_stage(stage, *status, *met);
    }
    return fail_stage(stage, *status, "");
  }

  // Why the stage's job is stuck, or "" when it is not (the seed's "stuck > 3x expected
  // walltime without checkpoint progress"). Time counts from when the scheduler says the
  // job started or was queued, else from the table's Started. A job waiting in the queue
  // is stuck only when it cannot start by itself (held, a dependency never met: the
  // scheduler's `blocked`); an ordinary queue wait is the anomaly scan's `stall_after`.
  // A running job that keeps writing its checkpoint is making progress, not stuck.
  std::string stuck(const doc::Stage& stage, const doc::StageSpec* spec, const JobStatus& status,
                    std::int64_t expect) {
    if (expect <= 0) return {};
    const bool running = status.state == JobState::running;
    if (!running && !status.blocked) return {};
    std::optional<TimePoint> since = running ? status.started : status.submitted;
    if (running && !status.tasks.empty()) {
      // An array (often throttled, `1-20%5`) is stuck when a task is: from the start of
      // its longest-running task, not of the first task ever started.
      std::optional<TimePoint> oldest;
      for (const auto& task : status.tasks) {
        if (task.state == JobState::running && task.started && (!oldest || *task.started < *oldest)) {
          oldest = task.started;
        }
      }
      if (oldest) since = oldest;
    }
    if (!since) since = util::parse_time(stage.started);
    if (!since) return {};
    const auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(m_now - *since).count();
    if (elapsed <= 3 * expect) return {};
    if (!running) {
      return fmt::format("job {} cannot start: {} for {}, more than 3x the stage's expected {}", stage.job_id,
                         status.reason.empty() ? "pending" : status.reason, util::human_duration(elapsed),
                         util::human_duration(expect));
    }
    if (spec != nullptr && !spec->checkpoint.empty()) {
      auto newest = newest_checkpoint(stage, spec->checkpoint, &status);
      if (newest && *newest && m_now - **newest <= std::chrono::seconds(expect)) return {};
    }
    return fmt::format("job {} running for {}, more than 3x the stage's expected {}{}", stage.job_id,
                       util::human_duration(elapsed), util::human_duration(expect),
                       spec != nullptr && !spec->checkpoint.empty()
                           ? fmt::format(", and checkpoint `{}` not written in the last {}", spec->checkpoint,
                                         util::human_duration(expect))
                           : "");
  }

  bool still_running(const doc::Stage& stage, const doc::StageSpec* spec, const JobStatus& status) {
    const std::int64_t expect = spec != nullptr ? expected_seconds(*spec) : 0;
    if (const std::string why = stuck(stage, spec, status, expect); !why.empty()) {
      if (!check(m_file.upsert_action(
              cancel_offer_prefix(stage.job_id),
              fmt::format("{}({}): tick this and clear the escalation to have cairn cancel the job and "
                          "resubmit the stage",
                          cancel_offer_prefix(stage.job_id), stage.name),
              false))) {
        return false;
      }
      // The stage keeps its job: once cleared, the job is polled again.
      escalate(stage, "stuck", why,
               {fmt::format(
                   "Job {} is left as it is and stays the stage's job. Release, fix or cancel it, then "
                   "clear the escalation: the next tick polls it again. Or tick `{} job {}` in the action "
                   "queue before clearing: cairn then cancels that one job and submits the stage anew.",
                   stage.job_id, kCancelPrefix, stage.job_id)},
               /*keep_stage=*/true);
      return false;
    }
    const std::string name = stage.name;
    const std::int64_t cadence = cadence_for_expect(expect);
    Transition t = transition(stage, "running", "running");
    t.job = stage.job_id;
    t.body.push_back(fmt::format("Job {} still {} at {}.", stage.job_id, to_string(status.state),
                                 util::clock_time(m_now)));
    if (!upsert_action(fmt::format("{} job {} ({}) {} at {}; next check ≈ {}", kActionPrefix, stage.job_id,
                                   name, to_string(status.state), util::clock_time(m_now),
                                   util::clock_time(m_now + std::chrono::seconds(cadence))),
                       false)) {
      return false;
    }
    commit(std::move(t));
    return false;
  }

  bool fail_stage(const doc::Stage& stage, const JobStatus& status, const std::string& unmet) {
    const std::string name = stage.name;
    const Decision d = decide(stage, status, unmet, /*already_logged=*/false);
    Transition t = transition(stage, "running", "failed");
    t.job = stage.job_id;
    t.error_class = d.error_class;
    t.body.push_back(describe_failure(stage, status, unmet));
    t.body.push_back(describe_decision(stage, d));
    // An array names its failed tasks: the retry resubmits only those (retry_indices).
    // The nodes are named when they are the failure's subject: a node failure (so a
    // recurrence on the same node shows), or a fix that avoids them (retry_excluded_nodes).
    const std::string failed_tasks = failed_task_list(status);
    std::string notes = failed_tasks.empty() ? "" : fmt::format("{} {}; ", kTasksWord, failed_tasks);
    const bool node_failure = status.state == JobState::node_fail || status.state == JobState::boot_fail;
    if (!status.nodes.empty() && (node_failure || d.excludes_nodes)) {
      notes += fmt::format("{} {}; ", kNodesWord, status.nodes);
    }
    doc::FailureRow row{
        util::date(m_now),     name,
        d.error_class,         cell_text(fmt::format("job {}: {}{}", stage.job_id, notes, d.message)),
        cell_text(d.action()), d.kind == Decision::Kind::escalate ? "ESCALATED" : std::string(kRetrying)};
    t.failure = row;
    if (!edit_cell(name, doc::Column::status, "failed")) return false;
    if (!append_failure(row)) return false;
    if (!commit(std::move(t))) return false;
    apply(doc::Stage(*wf().stage(name)), d);
    return false;
  }

  bool on_failed(const doc::Stage& stage) {
    JobStatus none;
    const JobStatus* status = nullptr;
    if (!stage.job_id.empty()) {
      status = m_statuses.find(backend_of(wf(), wf().spec(stage.name)), stage.job_id);
    }
    const Decision d = decide(stage, status != nullptr ? *status : none, "", /*already_logged=*/true);
    apply(stage, d);
    return false;
  }

  // A human cleared the escalation (escalation_required false) but the stage still says
  // escalated: it resumes from ready.
  bool on_cleared(const doc::Stage& stage) {
    const std::string name = stage.name;
    Transition t = transition(stage, "escalated", "ready");
    t.body.push_back("Escalation cleared (escalation_required is false); the stage resumes.");
    if (!edit_cell(name, doc::Column::status, "ready")) return false;
    return commit(std::move(t));
  }

  // Every stage is done but the frontmatter does not say so (a hand edit).
  void finish_campaign() {
    const doc::Stage& last = wf().stages.back();
    Transition t = transition(last, std::string(to_string(wf().status)), "done");
    t.body.push_back("Every stage is done.");
    commit(std::move(t));
  }

  // ---- learning -------------------------------------------------------------------

  // The stage is done: its earlier failures that were retried are resolved. Each gets
  // Result RESOLVED and one line in Lessons learned saying what fixed it.
  bool resolve_failures(const doc::Stage& stage, Transition& t) {
    std::vector<doc::FailureRow> resolved;
    for (std::size_t i = 0; i < wf().failures.size(); ++i) {
      const doc::FailureRow& row = wf().failures[i];
      if (row.stage != stage.name || row.result != kRetrying) continue;
      resolved.push_back(row);
      if (!check(m_file.set_failure_result(i, kResolved))) return false;
    }
    for (const auto& row : resolved) {
      const std::string lesson =
          fmt::format("{}: {} resolved by {} ({}, job {} done {})", stage.name, row.error_class, row.action,
                      row.date, stage.job_id, util::date(m_now));
      if (!check(m_file.append_lesson(lesson))) return false;
      t.body.push_back(fmt::format("Resolved: {} ({}).", row.error_class, row.action));
    }
    return true;
  }

  // What the completed stage ran on and took, as a `## Learnings` row.
  bool record_learning(const doc::Stage& stage, const std::string& backend, const JobStatus& status) {
    // Looked up here: earlier edits in this step (spend) re-derived the workflow.
    const doc::StageSpec* spec = wf().spec(stage.name);
    doc::LearningRow row;
    row.date = util::date(m_now);
    row.stage = stage.name;
    row.backend = backend;
    row.job = stage.job_id;
    if (spec != nullptr) {
      row.pool = !spec->pool.empty() ? spec->pool : spec->resources.partition;
      row.resources = resources_text(spec->resources);
    }
    if (!status.pool.empty()) row.pool = status.pool;  // where the scheduler actually ran it
    // The Started cell has minute resolution: only the scheduler's own submit time
    // gives a queue wait worth comparing across pools.
    if (status.submitted && status.started && *status.started >= *status.submitted) {
      row.queue_wait = util::human_duration(
          std::chrono::duration_cast<std::chrono::seconds>(*status.started - *status.submitted).count());
    }
    if (status.started && status.ended && *status.ended >= *status.started) {
      row.run_time = util::human_duration(
          std::chrono::duration_cast<std::chrono::seconds>(*status.ended - *status.started).count());
    }
    return check(m_file.append_learning(row));
  }

  static std::string resources_text(const doc::Resources& r) {
    std::vector<std::string> parts;
    if (!r.time_text.empty()) parts.push_back("time=" + r.time_text);
    if (r.cpus) parts.push_back(fmt::format("cpus={}", *r.cpus));
    if (!r.mem_text.empty()) parts.push_back("mem=" + r.mem_text);
    if (r.gpus)
      parts.push_back(fmt::format("gpus={}{}", *r.gpus, r.gpu_type.empty() ? "" : ":" + r.gpu_type));
    return fmt::format("{}", fmt::join(parts, " "));
  }

  // ---- decisions ------------------------------------------------------------------

  Decision decide(const doc::Stage& stage, const JobStatus& status, const std::string& unmet,
                  bool already_logged) {
    Evidence ev;
    ev.exit_code = status.exit_code;
    ev.state = std::string(to_string(status.state));
    ev.reason = status.reason;
    if (!unmet.empty()) ev.reason += (ev.reason.empty() ? "" : "; ") + unmet;
    ev.log_tail = log_tail(stage, m_options.log_tail_lines);

    Decision d;
    const auto cls = m_ports.catalog.classify(ev);
    d.message = cls && !cls->matched.empty() ? cls->matched
                                             : (!ev.reason.empty() ? ev.reason : evidence_line(ev.log_tail));
    if (d.message.empty()) d.message = fmt::format("job ended {}", ev.state);
    if (!cls) {
      d.error_class = "unclassified";
      d.reason = fmt::format("unclassified failure: {}", cell_text(d.message, 200));
      return d;
    }
    d.error_class = cls->error_class;
    d.fix = cls->fix;
    if (cls->transient) {
      d.kind = Decision::Kind::transient_retry;
      d.reason = fmt::format("transient {}: resubmitted without counting a retry", cls->error_class);
      return d;
    }
    if (cls->destructive) {
      d.reason = fmt::format("destructive action proposed for {}: {}", cls->error_class,
                             cls->hint.empty() ? cls->fix : cls->hint);
      return d;
    }
    if (repeated(stage, cls->error_class, already_logged)) {
      d.reason = fmt::format("{} twice in a row at {}: the catalogued fix did not help", cls->error_class,
                             stage.name);
      return d;
    }
    if (stage.retries >= kMaxRetries) {
      d.reason = fmt::format("{} after {} retries", cls->error_class, stage.retries);
      return d;
    }
    if (const int used = fixes_used(stage, cls->error_class); used >= std::max(1, cls->max_auto_fixes)) {
      d.reason = fmt::format("{}: catalogued fix \"{}\" already used {} time(s) at {}", cls->error_class,
                             cls->fix, used, stage.name);
      return d;
    }
    if (cls->fix.empty() || cls->fix == "none" || cls->fix == "escalate") {
      d.reason = cls->hint.empty() ? fmt::format("{}: no catalogued fix", cls->error_class)
                                   : fmt::format("{}: {}", cls->error_class, cls->hint);
      return d;
    }
    doc::StageSpec empty_spec;
    empty_spec.name = stage.name;
    const doc::StageSpec* spec = wf().spec(stage.name);
    auto plan = m_ports.catalog.plan_fix(cls->fix, spec != nullptr ? *spec : empty_spec, m_options.ceilings);
    if (!plan) {
      d.reason =
          fmt::format("{}: fix \"{}\" cannot apply: {}", cls->error_class, cls->fix, plan.error().message);
      return d;
    }
    if (!plan->beyond_ceiling.empty()) {
      // Proposed, never applied: a human raises the ceiling or applies it by hand.
      d.proposal = fmt::format("{} ({})", cls->fix, plan->summary);
      d.reason = fmt::format("{}: fix \"{}\" would set {}: {} (cairn.yaml `ceilings:`); not applied",
                             cls->error_class, cls->fix, plan->summary, plan->beyond_ceiling);
      return d;
    }
    if (plan->needs_checkpoint) {
      const std::string& checkpoint = spec != nullptr ? spec->checkpoint : empty_spec.checkpoint;
      auto advanced = checkpoint_advanced(stage, checkpoint, &status);
      if (!advanced) {
        d.reason = fmt::format("{}: fix \"{}\" not applied: {}", cls->error_class, cls->fix,
                               advanced.error().message);
        return d;
      }
    }
    d.kind = Decision::Kind::retry;
    d.edits = std::move(plan->edits);
    d.summary = std::move(plan->summary);
    if (plan->excludes_failed_nodes) {
      d.fix = "exclude-node";  // as retry_excluded_nodes reads it back, however the catalog spells it
      d.excludes_nodes = !status.nodes.empty();
      d.summary = d.excludes_nodes ? fmt::format("resubmit without {}", status.nodes)
                                   : "resubmit; the scheduler named no node to avoid";
    }
    d.reason = fmt::format("catalogued fix \"{}\" applied", cls->fix);
    return d;
  }

  // Whether `checkpoint` (a glob in the campaign dir) was written after the attempt
  // started: otherwise resubmitting "from the checkpoint" would restart from zero or
  // repeat the same attempt. Fails with the reason.
  Expected<void> checkpoint_advanced(const doc::Stage& stage, const std::string& checkpoint,
                                     const JobStatus* status) {
    const auto started = util::parse_time(stage.started);
    if (!started)
      return fail(fmt::format("the attempt's start time is unknown (Started `{}`)", stage.started));
    auto newest = newest_checkpoint(stage, checkpoint, status);
    if (!newest) return newest.error();
    if (!*newest) return fail(fmt::format("checkpoint `{}` does not exist", checkpoint));
    if (**newest < *started) {
      return fail(fmt::format(
          "checkpoint `{}` did not advance during the attempt (last written {}, attempt started {})",
          checkpoint, util::iso8601(**newest), stage.started));
    }
    return {};
  }

  // How often a fix for `error_class` was applied at this stage: its failure-log rows
  // that were retried (still RETRYING, or RESOLVED by a later success of the stage).
  int fixes_used(const doc::Stage& stage, const std::string& error_class) const {
    return static_cast<int>(
        std::count_if(wf().failures.begin(), wf().failures.end(), [&](const doc::FailureRow& r) {
          return r.stage == stage.name && r.error_class == error_class &&
                 (r.result == kRetrying || r.result == kResolved) &&
                 r.message.find(fmt::format("job {}:", stage.job_id)) == std::string::npos;
        }));
  }

  // Two consecutive same-error failures at one stage: the latest earlier row for the
  // stage (skipping this failure's own row when it is already logged) has the same class.
  bool repeated(const doc::Stage& stage, const std::string& error_class, bool already_logged) const {
    bool skipped_own = !already_logged;
    const auto& rows = wf().failures;
    for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
      if (it->stage != stage.name) continue;
      if (!skipped_own) {
        skipped_own = true;
        if (it->message.find(fmt::format("job {}:", stage.job_id)) != std::string::npos) continue;
      }
      return it->error_class == error_class;
    }
    return false;
  }

  void apply(const doc::Stage& stage, const Decision& d) {
    const std::string name = stage.name;
    if (d.kind == Decision::Kind::escalate) {
      escalate(stage, d.error_class, d.reason, {});
      return;
    }
    Transition t = transition(stage, "failed", "ready");
    t.error_class = d.error_class;
    t.job = stage.job_id;
    const int retries = d.kind == Decision::Kind::retry ? stage.retries + 1 : stage.retries;
    t.body.push_back(
        d.kind == Decision::Kind::retry
            ? fmt::format("Action: {}; stage back to ready (retry {} of {}).", d.reason, retries, kMaxRetries)
            : fmt::format("Action: {}.", d.reason));
    for (const auto& e : d.edits) {
      if (!m_file.set_scalar(e.key, e.value)) {
        escalate(stage, d.error_class,
                 fmt::format("fix \"{}\" could not edit `{}` in WORKFLOW.md", d.fix, e.key), {});
        return;
      }
      t.body.push_back(fmt::format("Set {}: {}.", e.key, e.value));
    }
    if (!edit_cell(name, doc::Column::retries, std::to_string(retries))) return;
    if (!edit_cell(name, doc::Column::status, "ready")) return;
    commit(std::move(t));
  }

  // Stops the campaign for a human. `keep_stage` leaves the stage's row as it is (an
  // anomaly escalated while its job runs: once cleared, the job is polled again).
  void escalate(const doc::Stage& stage, const std::string& error_class, const std::string& reason,
                const std::vector<std::string>& extra, bool keep_stage = false) {
    const std::string name = stage.name;
    Transition t = transition(stage, std::string(to_string(stage.status)), "escalated");
    t.error_class = error_class;
    t.job = stage.job_id;
    t.body.push_back(fmt::format("Escalated: {}.", reason));
    for (const auto& e : extra) t.body.push_back(e);
    t.body.push_back(
        "Resume by setting `escalation_required: false` (cairn clear, or merge the "
        "clear-escalation PR).");
    if (!keep_stage && !edit_cell(name, doc::Column::status, "escalated")) return;
    if (!set_scalar("escalation_required", "true")) return;
    if (!set_scalar("escalation_reason", cell_text(reason, 200))) return;
    if (!upsert_action(fmt::format("{} escalated at {} ({}): {}", kActionPrefix, name,
                                   util::clock_time(m_now), cell_text(reason, 160)),
                       false)) {
      return;
    }
    commit(std::move(t));
    m_stop = true;
  }

  // ---- conditions ---------------------------------------------------------------

  // "" when every clause holds; otherwise the first clause that does not, and why.
  // Fails when the clauses cannot be checked at all: the job's directory is gone
  // (findings) or cannot be reached (unreachable), or its backend's outputs are not
  // files. The file and command clauses are asked in one probe of the job's directory.
  Expected<std::string> evaluate(const doc::Stage& stage, const doc::Condition& cond, const JobStatus* job) {
    using K = doc::Clause::Kind;
    std::vector<Probe> probes;
    for (const auto& c : cond.clauses) {
      if (c.kind == K::file_exists) probes.push_back({Probe::Kind::count, c.operand});
      if (c.kind == K::command_ok) probes.push_back({Probe::Kind::command, c.operand});
    }
    std::vector<ProbeAnswer> answers;
    if (!probes.empty()) {
      Scheduler* sched = m_ports.backends.get(backend_of(wf(), wf().spec(stage.name)));
      if (job != nullptr && sched != nullptr && !sched->outputs_are_files()) {
        return fail(
            fmt::format("`{}` cannot be checked: the jobs of backend `{}` leave no files cairn can look "
                        "at; check them with `exit=N` or `no WORD in log`",
                        probes.front().arg, backend_of(wf(), wf().spec(stage.name))));
      }
      answers = CAIRN_TRY(probe(stage, job, probes));
    }
    std::size_t next = 0;
    for (const auto& c : cond.clauses) {
      bool held = false;
      switch (c.kind) {
        case K::file_exists: held = answers.at(next++).count >= std::max(1, c.count); break;
        case K::command_ok: held = answers.at(next++).exit == 0; break;
        default: {
          auto h = clause_holds(stage, c, job);
          if (!h) return h.error().message;  // not a fault of the job's directory: the clause does not hold
          held = *h;
        }
      }
      if (!held) return fmt::format("`{}` does not hold", c.text);
    }
    return std::string();
  }

  // The clauses that need no probe of the job's directory.
  Expected<bool> clause_holds(const doc::Stage& stage, const doc::Clause& c, const JobStatus* job) {
    using K = doc::Clause::Kind;
    switch (c.kind) {
      case K::always: return true;
      case K::stage_done: {
        for (const auto& s : wf().stages) {
          if (s.number == c.operand || s.name == c.operand) return s.status == Status::done;
        }
        return fail(fmt::format("`{}`: no stage {}", c.text, c.operand));
      }
      case K::exit_code: {
        if (job == nullptr) return fail(fmt::format("`{}` needs a finished job", c.text));
        if (!job->tasks.empty()) {
          return std::all_of(job->tasks.begin(), job->tasks.end(),
                             [&](const TaskStatus& task) { return task.exit_code == c.exit_code; });
        }
        return job->exit_code.value_or(-1) == c.exit_code;
      }
      case K::no_word_in_log: {
        if (job == nullptr) return fail(fmt::format("`{}` needs a job log", c.text));
        return log_tail(stage, kConditionLogLines).find(c.operand) == std::string::npos;
      }
      case K::approved: {
        const std::string stage_name = lower(stage.name);
        return std::any_of(wf().actions.begin(), wf().actions.end(), [&](const doc::ActionItem& a) {
          const std::string text = lower(a.text);
          return a.checked && text.rfind(kActionPrefix, 0) != 0 && text.rfind(kAnomalyPrefix, 0) != 0 &&
                 text.rfind(kCancelPrefix, 0) != 0 && text.find("approve") != std::string::npos &&
                 text.find(stage_name) != std::string::npos;
        });
      }
      case K::file_exists:
      case K::command_ok: break;  // probed by evaluate()
    }
    return false;
  }

  // A condition that could not be checked: a directory that cannot be reached is
  // retried next tick; one that is gone, or outputs that are not files, escalate with
  // the reason. Returns false (the campaign stops here).
  bool unchecked(const doc::Stage& stage, const std::string& which, const Error& e) {
    if (e.exit == ExitCode::unreachable) {
      return infrastructure(backend_of(wf(), wf().spec(stage.name)), e);
    }
    const bool gone = e.message.rfind("directory ", 0) == 0;
    escalate(stage, gone ? "workdir-missing" : "condition-not-checkable",
             fmt::format("{} condition \"{}\" cannot be checked: {}", which,
                         which == "entry" ? stage.entry : stage.exit, e.message),
             {}, /*keep_stage=*/true);
    return false;
  }

  // Where the stage's job ran (the scheduler's word for it), else where it would run:
  // `deploy.remote_dir` on a cluster, else this checkout's campaign dir; and the
  // workspace that reaches that directory.
  std::pair<Workspace*, std::string> job_dir(const doc::Stage& stage, const JobStatus* job) {
    Scheduler* sched = m_ports.backends.get(backend_of(wf(), wf().spec(stage.name)));
    Workspace* ws =
        sched != nullptr && sched->workspace() != nullptr ? sched->workspace() : &m_ports.workspace;
    if (job != nullptr && !job->work_dir.empty()) return {ws, job->work_dir};
    if (auto it = wf().deploy.find("remote_dir"); it != wf().deploy.end() && !it->second.empty()) {
      return {ws, it->second};
    }
    return {&m_ports.workspace, m_input.dir};
  }

  // Asks the workspace of the job's directory every probe at once; one answer each.
  Expected<std::vector<ProbeAnswer>> probe(const doc::Stage& stage, const JobStatus* job,
                                           const std::vector<Probe>& probes) {
    auto [ws, dir] = job_dir(stage, job);
    auto answers = CAIRN_TRY(ws->probe(dir, probes));
    if (answers.size() != probes.size()) {
      return fail(
          fmt::format("the workspace of {} answered {} of {} probes", dir, answers.size(), probes.size()),
          ExitCode::unreachable);
    }
    return answers;
  }

  Expected<std::optional<TimePoint>> newest_checkpoint(const doc::Stage& stage, const std::string& glob,
                                                       const JobStatus* job) {
    auto a = CAIRN_TRY(probe(stage, job, {{Probe::Kind::newest, glob}}));
    return a.front().newest;
  }

  std::string log_tail(const doc::Stage& stage, int lines) {
    if (stage.job_id.empty()) return {};
    auto key = std::make_pair(stage.job_id, lines);
    if (auto it = m_logs.find(key); it != m_logs.end()) return it->second;
    Scheduler* sched = m_ports.backends.get(backend_of(wf(), wf().spec(stage.name)));
    std::string text;
    if (sched != nullptr) {
      auto tail = sched->log_tail(stage.job_id, lines);
      if (tail) text = std::move(*tail);
    }
    return m_logs.emplace(key, std::move(text)).first->second;
  }

  // ---- bookkeeping ----------------------------------------------------------------

  static std::int64_t expected_seconds(const doc::StageSpec& spec) {
    if (spec.expect_seconds) return *spec.expect_seconds;
    if (spec.resources.time_seconds) return *spec.resources.time_seconds;
    return 0;
  }

  void add_spend(const std::string& backend, const JobStatus& status) {
    double cost = 0;
    if (status.cost_usd) {
      cost = *status.cost_usd;
    } else if (status.cpu_hours) {
      auto rate = m_options.usd_per_cpu_hour.find(backend);
      if (rate != m_options.usd_per_cpu_hour.end()) cost = *status.cpu_hours * rate->second;
    }
    if (cost <= 0) return;
    set_scalar("budget.spent_usd", fmt::format("{:.2f}", wf().budget.spent_usd + cost));
  }

  Transition transition(const doc::Stage& stage, std::string from, std::string to) const {
    Transition t;
    t.campaign = wf().campaign;
    t.stage = stage.name;
    t.from = std::move(from);
    t.to = std::move(to);
    t.job = stage.job_id;
    t.attempt = current_attempt(stage);
    t.tick = util::iso8601(m_now);
    t.run_url = m_options.run_url;
    t.tick_id = m_options.tick_id;
    return t;
  }

  bool edit_cell(const std::string& stage, doc::Column column, const std::string& value) {
    return check(m_file.set_cell(stage, column, value));
  }
  bool set_scalar(const std::string& key, const std::string& value) {
    return check(m_file.set_scalar(key, value));
  }
  bool append_failure(const doc::FailureRow& row) { return check(m_file.append_failure(row)); }
  // Exactly-once submission (DESIGN §4.5): commit and publish an intent naming the job
  // key before calling the scheduler; only the tick whose publish lands goes on. An
  // intent for the same key already in the file is a racing tick's (or one that died
  // between intent and submit): wait for it, and take it over only once it is stale —
  // again through a published intent, so two ticks never take over together.
  bool announce_submit(const doc::Stage& stage, const JobKey& key) {
    if (auto since = announced_since(key.str())) {
      if (m_now - *since < m_options.intent_grace) {
        note(fmt::format("{} is being submitted by another tick (intent at {}); waiting", key.str(),
                         util::clock_time(*since)));
        m_stop = true;
        return false;
      }
    }
    Transition t =
        transition(stage, std::string(to_string(stage.status)), std::string(to_string(stage.status)));
    t.attempt = key.attempt;
    t.intent = "submit " + key.str();
    t.body.push_back(
        fmt::format("Intent to submit {}; published before the scheduler is called so that only "
                    "one tick submits it.",
                    key.str()));
    if (!upsert_action(
            fmt::format("{} {} {} since {}", kActionPrefix, kIntentWord, key.str(), util::iso8601(m_now)),
            false)) {
      return false;
    }
    if (!commit(std::move(t))) return false;
    auto landed = m_ports.store.publish();
    if (!landed) {
      m_errors.push_back(fmt::format("{}: publishing the intent for {} failed: {}", wf().campaign, key.str(),
                                     landed.error().message));
      m_stop = true;
      return false;
    }
    if (!*landed) {
      note(
          fmt::format("lost the race to publish the intent for {}; another tick got there first", key.str()));
      m_lost_race = true;
      m_stop = true;
      return false;
    }
    return true;
  }

  // When cairn's own action item announces a submit of `key`: since when.
  std::optional<TimePoint> announced_since(const std::string& key) const {
    const std::string head = fmt::format("{} {} {} since ", kActionPrefix, kIntentWord, key);
    for (const auto& a : wf().actions) {
      if (a.text.rfind(head, 0) != 0) continue;
      return util::parse_time(std::string_view(a.text).substr(head.size()));
    }
    return std::nullopt;
  }

  bool upsert_action(const std::string& text, bool checked) {
    return check(m_file.upsert_action(kActionPrefix, text, checked));
  }

  // An edit that fails means the file lacks what the schema promises: report it, and
  // drop this campaign's uncommitted edits (the next tick starts from HEAD again).
  bool check(const Expected<void>& r) {
    if (r) return true;
    m_report.diagnostics.push_back({m_input.path, 0, 0, doc::Severity::error, r.error().message});
    m_stop = true;
    return false;
  }

  bool infrastructure(const std::string& backend, const Error& e) {
    m_errors.push_back(fmt::format("{}: backend {}: {}", wf().campaign, backend, e.message));
    note(fmt::format("backend {} unreachable; retry next tick", backend));
    m_stop = true;
    return false;
  }

  // Sets the frontmatter upkeep fields (derived from the table, never remembered) and
  // commits the file as one transition.
  bool commit(Transition t, std::vector<FileWrite> also = {}) {
    const doc::Stage* open = wf().first_open_stage();
    Status status = open == nullptr ? Status::done : open->status;
    if (wf().escalation_required) status = Status::escalated;
    const std::string current = open != nullptr ? open->name : wf().stages.back().name;
    if (status == Status::done &&
        !upsert_action(fmt::format("{} campaign done at {}", kActionPrefix, util::table_time(m_now)), true)) {
      return false;
    }
    // Upkeep keys may be absent from hand-written files; the transition still stands.
    (void)m_file.set_scalar("status", std::string(to_string(status)));
    (void)m_file.set_scalar("current_stage", current);
    (void)m_file.set_scalar("last_tick", util::iso8601(m_now));
    if (!m_options.dry_run) {
      auto id = m_ports.store.commit({m_input.path, m_file.text(), render_commit_message(t), std::move(also)},
                                     m_options.identity);
      if (!id) {
        m_errors.push_back(fmt::format("{}: commit failed: {}", wf().campaign, id.error().message));
        m_stop = true;
        return false;
      }
    }
    m_report.transitions.push_back(std::move(t));
    return true;
  }

 public:
  std::vector<std::string> m_errors;
  bool m_lost_race = false;
  const parse::WorkflowFile& file() const { return m_file; }

 private:
  Ports& m_ports;
  const TickOptions& m_options;
  const CampaignInput& m_input;
  parse::WorkflowFile m_file;
  const StatusCache& m_statuses;
  TimePoint m_now;
  const std::vector<AnomalyAction>& m_anomalies;
  const std::vector<HistoryEvent>& m_history;
  CampaignReport& m_report;
  bool m_stop = false;
  std::map<std::pair<std::string, int>, std::string> m_logs;

  std::string describe_failure(const doc::Stage& stage, const JobStatus& status,
                               const std::string& unmet) const {
    if (!unmet.empty()) {
      return fmt::format("Job {} completed but the exit condition failed: {}.", stage.job_id, unmet);
    }
    std::string s = fmt::format("Job {} ended {}", stage.job_id, to_string(status.state));
    if (status.exit_code) s += fmt::format(" with exit code {}", *status.exit_code);
    if (!status.reason.empty()) s += fmt::format(" ({})", status.reason);
    return s + ".";
  }

  static std::string describe_decision(const doc::Stage& stage, const Decision& d) {
    switch (d.kind) {
      case Decision::Kind::retry:
        return fmt::format("Action: {}; stage back to ready (retry {} of {}).", d.reason, stage.retries + 1,
                           kMaxRetries);
      case Decision::Kind::transient_retry: return fmt::format("Action: {}.", d.reason);
      case Decision::Kind::escalate: break;
    }
    return fmt::format("Action: escalate ({}).", d.reason);
  }
};

// Seconds until a peeked campaign is due; 0 when due now or its last tick is unknown.
std::int64_t peek_wait(const parse::Schedule& peek, TimePoint now) {
  const auto last = util::parse_time(peek.last_tick);
  if (!last) return 0;
  const auto due_at = *last + std::chrono::seconds(schedule_cadence(peek));
  return std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::seconds>(due_at - now).count());
}

// Whether a campaign is due: its last tick plus its cadence has passed.
std::int64_t seconds_until_due(const doc::Workflow& wf, TimePoint now) {
  const auto last = util::parse_time(wf.last_tick);
  if (!last) return 0;
  const auto due = *last + std::chrono::seconds(campaign_cadence(wf));
  return std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::seconds>(due - now).count());
}

// What the anomaly scan sees of one campaign: its first open stage, since when it is
// in its status, and for a job the scheduler says runs, its log tail.
CampaignSnapshot snapshot_of(Ports& ports, const doc::Workflow& wf, const StatusCache& statuses, bool due) {
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
  const std::string backend = backend_of(wf, wf.spec(stage->name));
  const JobStatus* job = statuses.find(backend, stage->job_id);
  if (job == nullptr) return snap;
  if (job->submitted) snap.stage_since = job->submitted;  // the scheduler's clock, to the second
  snap.job_state = std::string(to_string(job->state));
  if (job->state == JobState::running) {
    if (Scheduler* sched = ports.backends.get(backend)) {
      if (auto tail = sched->log_tail(stage->job_id, kRunningLogLines))
        snap.running_log_tail = std::move(*tail);
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

std::string cancel_offer_prefix(const std::string& job_id) {
  return fmt::format("{} job {} ", kCancelPrefix, job_id);
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
      in_flight[backend_of(wf, wf.spec(stage->name))].push_back(stage->job_id);
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
    std::vector<CampaignSnapshot> snapshots;
    for (const auto& p : parsed) snapshots.push_back(snapshot_of(ports, p.file->workflow(), statuses, p.due));
    anomalies = scan_anomalies(history, snapshots, now, *options.anomaly);
    anomaly_actions = plan_anomaly_actions(anomalies, snapshots);
  }
  static const std::vector<AnomalyAction> kNoAnomalies;

  // 4. Each campaign on its own; one failing never stops the others.
  for (auto& p : parsed) {
    CampaignReport& r = report.campaigns[p.report_index];
    if (p.due && !report.lost_race) {
      auto acts = anomaly_actions.find(p.file->workflow().campaign);
      CampaignTick run(ports, options, *p.input, std::move(*p.file), statuses, now,
                       acts != anomaly_actions.end() ? acts->second : kNoAnomalies, history, r);
      run.run();
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
