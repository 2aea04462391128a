#include <cairn/engine/plan.hpp>

#include <algorithm>
#include <charconv>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cairn/engine/cadence.hpp>
#include <cairn/engine/facts.hpp>
#include <cairn/parse/units.hpp>
#include <cairn/util/redact.hpp>
#include <cairn/util/strings.hpp>
#include <cairn/util/time.hpp>

namespace cairn::engine {

namespace {

using doc::Status;

constexpr std::string_view kIntentWord = "submitting";
constexpr int kMaxRetries = 2;
constexpr int kConditionLogLines = 20000;
constexpr std::string_view kRetrying = "RETRYING";
constexpr std::string_view kResolved = "RESOLVED";
constexpr std::string_view kCancelledWord = "cancelled at";
constexpr std::string_view kOrchestrationCheck = "ORCHESTRATION_CHECK.md";
constexpr std::string_view kCapacityClass = "capacity-validation";

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
      const std::string l = util::lower(line);
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

std::int64_t expected_seconds(const doc::StageSpec* spec) {
  if (spec == nullptr) return 0;
  if (spec->expect_seconds) return *spec->expect_seconds;
  if (spec->resources.time_seconds) return *spec->resources.time_seconds;
  return 0;
}

std::string resources_text(const doc::Resources& r) {
  std::vector<std::string> parts;
  if (!r.time_text.empty()) parts.push_back("time=" + r.time_text);
  if (r.cpus) parts.push_back(fmt::format("cpus={}", *r.cpus));
  if (!r.mem_text.empty()) parts.push_back("mem=" + r.mem_text);
  if (r.gpus) parts.push_back(fmt::format("gpus={}{}", *r.gpus, r.gpu_type.empty() ? "" : ":" + r.gpu_type));
  return fmt::format("{}", fmt::join(parts, " "));
}

// "3,7": the array tasks of `status` that did not complete with exit 0; empty for a
// single job or when none failed.
std::string failed_task_list(const JobStatus& status) {
  std::vector<std::string> failed;
  for (const auto& t : status.tasks) {
    if (t.state != JobState::completed || t.exit_code.value_or(0) != 0) failed.push_back(t.index);
  }
  return fmt::format("{}", fmt::join(failed, ","));
}

// The attempt a job id names when it is one of cairn's keys for this stage (the local
// backend's ids are keys): "cairn.<repo>.c1.smoke.3" -> 3.
std::optional<int> key_attempt(const doc::Workflow& wf, const doc::Stage& stage, const std::string& job_id) {
  const std::string tail = fmt::format(".{}.{}.", wf.campaign, stage.name);
  if (job_id.rfind("cairn.", 0) != 0) return std::nullopt;
  const auto at = job_id.rfind(tail);
  if (at == std::string::npos) return std::nullopt;
  const std::string number = job_id.substr(at + tail.size());
  if (number.empty() || number.size() > 6 || number.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return std::stoi(number);
}

// The transition of `stage` from -> to, with its campaign, job and attempt.
Transition base_transition(const doc::Workflow& wf, const doc::Stage& stage, std::string from,
                           std::string to) {
  Transition t;
  t.campaign = wf.campaign;
  t.stage = stage.name;
  t.from = std::move(from);
  t.to = std::move(to);
  t.job = stage.job_id;
  t.attempt = current_attempt(wf, stage);
  return t;
}

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

// Plans one step of one campaign. Holds references to its inputs for the duration of
// plan_step(); every method is a pure function of them.
class Planner {
 public:
  Planner(const doc::Workflow& wf, const Place& place, const Observed& seen, const Policy& policy)
      : m_wf(wf), m_place(place), m_seen(seen), m_policy(policy) {}

  Action step() {
    const doc::Stage* open = m_wf.first_open_stage();
    if (open == nullptr) {
      if (m_wf.status == Status::done) return Wait{"done"};
      const doc::Stage& last = m_wf.stages.back();
      Move m = move(last, std::string(to_string(m_wf.status)), "done");
      m.transition.body.push_back("Every stage is done.");
      return Commit{{std::move(m)}, false};
    }
    const doc::Stage& stage = *open;
    // A backend cairn.yaml configures wrongly is cairn.yaml's error, which the tick
    // reports: nothing about the stage is decided, nor escalated, until it is fixed.
    if (!m_seen.backend_unusable.empty() && stage.status != Status::escalated) {
      return Wait{
          fmt::format("{}: waits for cairn.yaml to be fixed: {}", stage.name, m_seen.backend_unusable)};
    }
    switch (stage.status) {
      case Status::pending: return on_pending(stage);
      case Status::ready: return on_ready(stage);
      case Status::running: return on_running(stage);
      case Status::failed: return on_failed(stage);
      case Status::escalated: return on_cleared(stage);
      case Status::done: break;
    }
    return Wait{};
  }

 private:
  const doc::StageSpec* spec(const doc::Stage& stage) const { return m_wf.spec(stage.name); }
  std::string backend(const doc::Stage& stage) const { return backend_of(m_wf, stage.name); }

  Move move(const doc::Stage& stage, std::string from, std::string to) const {
    Move m;
    m.transition = base_transition(m_wf, stage, std::move(from), std::move(to));
    return m;
  }

  Commit escalate(const doc::Stage& stage, const std::string& error_class, const std::string& reason,
                  const std::vector<std::string>& extra = {}, bool keep_stage = false) const {
    return Commit{{escalation(m_wf, stage, error_class, reason, extra, keep_stage, m_policy.now)}, false};
  }

  // ---- transitions ------------------------------------------------------------

  Action on_pending(const doc::Stage& stage) {
    if (!stage.entry_condition.checkable()) {
      return escalate(stage, "condition-not-checkable",
                      fmt::format("entry condition not machine checkable: {}",
                                  stage.entry_condition.uncheckable.front().text));
    }
    if (auto held = unless_holds(stage, stage.entry_condition, "entry", stage.name)) return *held;
    Move m = move(stage, "pending", "ready");
    m.transition.body.push_back(fmt::format("Entry condition \"{}\" holds.", stage.entry));
    m.cells.push_back({stage.name, doc::Column::status, "ready"});
    return Commit{{std::move(m)}, true};
  }

  Action on_ready(const doc::Stage& stage) {
    if (!stage.exit_condition.checkable()) {
      return escalate(stage, "condition-not-checkable",
                      fmt::format("exit condition not machine checkable: {}",
                                  stage.exit_condition.uncheckable.front().text));
    }
    if (m_wf.budget.cap_usd > 0 && m_wf.budget.spent_usd > m_wf.budget.cap_usd) {
      return escalate(stage, "cost-cap-exceeded",
                      fmt::format("cost cap exceeded: spent ${:.2f} of ${:.2f}", m_wf.budget.spent_usd,
                                  m_wf.budget.cap_usd));
    }
    const doc::StageSpec* s = spec(stage);
    if (s == nullptr || s->run.empty()) {
      // A gate stage: nothing to run, done when its exit condition holds.
      if (auto held = unless_holds(stage, stage.exit_condition, "exit", stage.name + " (no run:)"))
        return *held;
      Move m = move(stage, "ready", "done");
      m.transition.body.push_back(fmt::format("Exit condition \"{}\" holds; stage has no job.", stage.exit));
      m.cells.push_back({stage.name, doc::Column::completed, util::table_time(m_policy.now)});
      m.cells.push_back({stage.name, doc::Column::status, "done"});
      return Commit{{std::move(m)}, true};
    }
    if (m_wf.paused) return Wait{fmt::format("paused (`paused: true`); {} not submitted", stage.name)};
    return submit(stage, *s, "ready");
  }

  Action submit(const doc::Stage& stage, const doc::StageSpec& s, std::string from) {
    const std::string b = backend(stage);
    if (!m_seen.backend_known) {
      return escalate(stage, "unknown-backend",
                      fmt::format("backend `{}` is not configured (cairn.yaml `backends:`)", b));
    }
    Submit out;
    out.stage = stage.name;
    out.from = std::move(from);
    out.backend = b;
    out.request = request_for(stage, s, next_attempt(m_wf, stage, m_policy.history));
    if (!s.array.empty()) out.request.array = out.only_tasks = retry_note(stage).tasks;
    out.request.exclude_nodes = out.not_on = retry_excluded_nodes(stage);
    out.recorded_jobs = recorded_jobs(m_wf, stage);
    out.cadence = cadence_for_expect(expected_seconds(&s));
    return out;
  }

  // What the scheduler is asked to run (and later to bring back) for one attempt.
  SubmitRequest request_for(const doc::Stage& stage, const doc::StageSpec& s, int attempt) const {
    SubmitRequest r{JobKey{m_wf.campaign, stage.name, attempt, m_policy.repo_id}, m_place.dir, s, {}};
    if (auto it = m_wf.deploy.find("remote_dir"); it != m_wf.deploy.end()) r.remote_dir = it->second;
    // A resubmit goes back to the pool the first attempt ran in, as its Failure-log row
    // records it.
    for (const auto& row : m_wf.failures) {
      if (row.stage != stage.name) continue;
      if (auto pool = parse_failure_note(row.message).pool; !pool.empty()) {
        r.first_pool = std::move(pool);
        break;
      }
    }
    return r;
  }

  // The stage's latest failure-log row when it is being retried (Result RETRYING): what
  // the next submit reads back from the failed attempt. Null otherwise.
  const doc::FailureRow* retrying_row(const doc::Stage& stage) const {
    for (auto it = m_wf.failures.rbegin(); it != m_wf.failures.rend(); ++it) {
      if (it->stage == stage.name) return it->result == kRetrying ? &*it : nullptr;
    }
    return nullptr;
  }

  FailureNote retry_note(const doc::Stage& stage) const {
    const doc::FailureRow* row = retrying_row(stage);
    return row != nullptr ? parse_failure_note(row->message) : FailureNote{};
  }

  // The nodes a retry after `exclude-node` avoids (hostlist notation: "c[01-03],gpu2").
  std::string retry_excluded_nodes(const doc::Stage& stage) const {
    const doc::FailureRow* row = retrying_row(stage);
    if (row == nullptr || row->action.rfind("exclude-node", 0) != 0) return {};
    return parse_failure_note(row->message).nodes;
  }

  // Whether a human ticked cairn's offer to cancel the stage's job and it is not done yet.
  bool approved_cancel(const doc::Stage& stage) const {
    if (stage.job_id.empty()) return false;
    const std::string prefix = cancel_offer_prefix(stage.job_id);
    return std::any_of(m_wf.actions.begin(), m_wf.actions.end(), [&](const doc::ActionItem& a) {
      return a.checked && a.text.rfind(prefix, 0) == 0 && a.text.find(kCancelledWord) == std::string::npos;
    });
  }

  // The one cancel cairn makes: a human approved it (the stuck escalation's offer,
  // ticked, and the escalation cleared). The job's attempt ends as a failure-log row,
  // so the stage's next submit is a new attempt and adoption never finds this job.
  Action cancel(const doc::Stage& stage) {
    const std::string job = stage.job_id;
    const int retries = stage.retries + 1;
    Move m = move(stage, "running", "ready");
    m.transition.error_class = "stuck";
    m.transition.body.push_back(fmt::format(
        "Cancelled job {}, as approved in the action queue (retry {}); the stage is submitted anew.", job,
        retries));
    doc::FailureRow row{
        util::date(m_policy.now),
        stage.name,
        "stuck",
        cell_text(format_failure_note(FailureNote{job, "", "", m_seen.job ? m_seen.job->pool : "",
                                                  m_seen.job ? m_seen.job->link : ""},
                                      "cancelled as approved in the action queue"),
                  240),
        "cancel (approved), resubmit",
        std::string(kRetrying)};
    m.transition.failure = row;
    m.failures.push_back(row);
    m.cells.push_back({stage.name, doc::Column::retries, std::to_string(retries)});
    m.cells.push_back({stage.name, doc::Column::status, "ready"});
    m.actions.push_back({cancel_offer_prefix(job),
                         fmt::format("{}({}) {} {} as approved", cancel_offer_prefix(job), stage.name,
                                     kCancelledWord, util::clock_time(m_policy.now)),
                         true});
    return Cancel{backend(stage), job, std::move(m)};
  }

  Action on_running(const doc::Stage& stage) {
    const doc::StageSpec* s = spec(stage);
    if (stage.job_id.empty()) {
      // An interrupted tick left `running` without a JobID: adopt by key, or submit.
      if (s == nullptr || s->run.empty()) {
        return escalate(stage, "missing-job", "stage is running but has no JobID and no run:");
      }
      return submit(stage, *s, "running");
    }
    const std::string b = backend(stage);
    if (approved_cancel(stage)) {
      if (!m_seen.backend_known) {
        return escalate(stage, "unknown-backend",
                        fmt::format("backend `{}` is not configured (cairn.yaml `backends:`)", b));
      }
      return cancel(stage);
    }
    if (m_seen.backend_down) {
      return Wait{fmt::format("{}: status of job {} unknown ({} unreachable); retry next tick", stage.name,
                              stage.job_id, b)};
    }
    if (!m_seen.job || m_seen.job->state == JobState::unknown) {
      if (auto lost = not_reported(stage, s); !lost.empty()) return lost_job(stage, lost);
      return Wait{fmt::format("{}: job {} not reported by {}; retry next tick", stage.name, stage.job_id, b)};
    }
    const JobStatus& status = *m_seen.job;
    if (!is_final(status.state)) return still_running(stage, s, status);
    // Declared outputs come back before the exit condition looks for them.
    if (status.state == JobState::completed && s != nullptr && !s->sync.empty()) {
      if (!m_seen.synced) {
        Need need;
        need.sync = true;
        need.backend = b;
        need.request = request_for(stage, *s, current_attempt(m_wf, stage));
        return need;
      }
      if (!*m_seen.synced) {
        const Error& e = m_seen.synced->error();
        if (e.exit == ExitCode::unreachable) return Unreachable{b, e.message};
        return fail_stage(stage, status, e.message);
      }
    }
    if (status.state != JobState::completed) return fail_stage(stage, status, "");
    if (!stage.exit_condition.checkable()) {
      return escalate(stage, "condition-not-checkable",
                      fmt::format("exit condition not machine checkable: {}",
                                  stage.exit_condition.uncheckable.front().text));
    }
    auto met = evaluate(stage, stage.exit_condition, &status);
    if (auto* need = std::get_if<Need>(&met)) return *need;
    if (auto* e = std::get_if<Error>(&met)) return unchecked(stage, "exit", *e);
    if (const auto& why = std::get<std::string>(met); !why.empty()) return fail_stage(stage, status, why);
    Move m = move(stage, "running", "done");
    m.transition.body.push_back(fmt::format("Job {} completed{}; exit condition \"{}\" holds.", stage.job_id,
                                            where(status), stage.exit));
    if (m_seen.spec && !m_seen.spec->outputs.empty()) {
      m.transition.body.push_back(fmt::format("Outputs: {}.", fmt::join(m_seen.spec->outputs, ", ")));
    }
    add_spend(m, status);
    m.learning = learning(stage, status);
    resolve_failures(stage, m);
    m.cells.push_back({stage.name, doc::Column::completed, util::table_time(m_policy.now)});
    m.cells.push_back({stage.name, doc::Column::status, "done"});
    return Commit{{std::move(m)}, true};
  }

  // What the file last says of the stage's job: cairn's action item about it ("job 41
  // (smoke) running on h100-east (LINK) at 10:12Z"), else when it was submitted.
  std::string last_known(const doc::Stage& stage) const {
    const std::string head = fmt::format("{} job {} (", kActionPrefix, stage.job_id);
    for (const auto& a : m_wf.actions) {
      if (a.text.rfind(head, 0) != 0) continue;
      std::string text = a.text.substr(kActionPrefix.size() + 1);
      if (const auto next = text.find("; next check"); next != std::string::npos) text.resize(next);
      return text;
    }
    return fmt::format("job {} submitted {}", stage.job_id, stage.started);
  }

  // Why a job its scheduler no longer reports is lost, or "" while it may still show up:
  // the stuck rule (3x the stage's expect, from the table's Started) applied to silence.
  std::string not_reported(const doc::Stage& stage, const doc::StageSpec* s) const {
    const std::int64_t expect = expected_seconds(s);
    const auto since = util::parse_time(stage.started);
    if (expect <= 0 || !since) return {};
    const auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(m_policy.now - *since).count();
    if (elapsed <= 3 * expect) return {};
    return fmt::format(
        "job {} is not reported by {} {} after its submit, more than 3x the stage's expected {}",
        stage.job_id, backend(stage), util::human_duration(elapsed), util::human_duration(expect));
  }

  // The stage's job is gone from its scheduler: the attempt ends as a Failure-log row with
  // what was last known (so a clear submits a new attempt, never adopting this job), and
  // the campaign escalates.
  Commit lost_job(const doc::Stage& stage, const std::string& why) const {
    const std::string known = last_known(stage);
    Move m =
        escalation(m_wf, stage, "job-lost", fmt::format("{}; last known: {}", why, known),
                   {fmt::format("Last known: {}.", known),
                    "Find out what became of it (the scheduler's own history, its web page); clearing the "
                    "escalation submits the stage anew as a new attempt."},
                   /*keep_stage=*/false, m_policy.now);
    m.transition.from = "running";
    doc::FailureRow row{util::date(m_policy.now),
                        stage.name,
                        "job-lost",
                        cell_text(format_failure_note(stage.job_id, "", "",
                                                      fmt::format("not reported by {}; last known: {}",
                                                                  backend(stage), known)),
                                  240),
                        "escalated",
                        "ESCALATED"};
    m.transition.failure = row;
    m.failures.push_back(row);
    return Commit{{std::move(m)}, false};
  }

  // Why the stage's job is stuck, or "" when it is not (docs/tick.md "Stuck and lost jobs":
  // over 3x `expect` without checkpoint progress); a Need when the checkpoint must be looked at.
  // Time counts from when the scheduler says the job started or was queued, else from
  // the table's Started. A job waiting in the queue is stuck only when it cannot start
  // by itself (held, a dependency never met: the scheduler's `blocked`); an ordinary
  // queue wait is the anomaly scan's `stall_after`. A running job that keeps writing its
  // checkpoint is making progress, not stuck.
  std::variant<std::string, Need> stuck(const doc::Stage& stage, const doc::StageSpec* s,
                                        const JobStatus& status, std::int64_t expect) const {
    if (expect <= 0) return std::string();
    const bool running = status.state == JobState::running;
    if (!running && !status.blocked) return std::string();
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
    if (!since) return std::string();
    const auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(m_policy.now - *since).count();
    if (elapsed <= 3 * expect) return std::string();
    if (!running) {
      return fmt::format("job {} cannot start: {} for {}, more than 3x the stage's expected {}", stage.job_id,
                         status.reason.empty() ? "pending" : status.reason, util::human_duration(elapsed),
                         util::human_duration(expect));
    }
    const bool has_checkpoint = s != nullptr && !s->checkpoint.empty();
    if (has_checkpoint) {
      auto newest = probed(stage, &status, {{Probe::Kind::newest, s->checkpoint}});
      if (auto* need = std::get_if<Need>(&newest)) return *need;
      if (auto* answers = std::get_if<std::vector<ProbeAnswer>>(&newest)) {
        const auto& when = answers->front().newest;
        if (when && m_policy.now - *when <= std::chrono::seconds(expect)) return std::string();
      }
    }
    return fmt::format("job {} running for {}, more than 3x the stage's expected {}{}", stage.job_id,
                       util::human_duration(elapsed), util::human_duration(expect),
                       has_checkpoint ? fmt::format(", and checkpoint `{}` not written in the last {}",
                                                    s->checkpoint, util::human_duration(expect))
                                      : "");
  }

  Action still_running(const doc::Stage& stage, const doc::StageSpec* s, const JobStatus& status) {
    const std::int64_t expect = expected_seconds(s);
    auto verdict = stuck(stage, s, status, expect);
    if (auto* need = std::get_if<Need>(&verdict)) return *need;
    if (const auto& why = std::get<std::string>(verdict); !why.empty()) {
      // The stage keeps its job: once cleared, the job is polled again.
      Move m = escalation(
          m_wf, stage, "stuck", why,
          {fmt::format(
              "Job {} is left as it is and stays the stage's job. Release, fix or cancel it, then "
              "clear the escalation: the next tick polls it again. Or tick `{} job {}` in the action "
              "queue before clearing: cairn then cancels that one job and submits the stage anew.",
              stage.job_id, kCancelPrefix, stage.job_id)},
          /*keep_stage=*/true, m_policy.now);
      m.actions.insert(
          m.actions.begin(),
          {cancel_offer_prefix(stage.job_id),
           fmt::format("{}({}): tick this and clear the escalation to have cairn cancel the job and "
                       "resubmit the stage",
                       cancel_offer_prefix(stage.job_id), stage.name),
           false});
      return Commit{{std::move(m)}, false};
    }
    const std::int64_t cadence = cadence_for_expect(expect);
    Move m = move(stage, "running", "running");
    m.transition.body.push_back(fmt::format("Job {} still {}{} at {}.", stage.job_id, to_string(status.state),
                                            where(status), util::clock_time(m_policy.now)));
    m.actions.push_back(
        {std::string(kActionPrefix),
         fmt::format("{} job {} ({}) {}{} at {}; next check ≈ {}", kActionPrefix, stage.job_id, stage.name,
                     to_string(status.state), where(status), util::clock_time(m_policy.now),
                     util::clock_time(m_policy.now + std::chrono::seconds(cadence))),
         false});
    return Commit{{std::move(m)}, false};
  }

  // The failed attempt's row, and what is done about it, in two commits.
  Action fail_stage(const doc::Stage& stage, const JobStatus& status, const std::string& unmet) {
    auto decided = decide(stage, status, unmet, /*already_logged=*/false);
    if (auto* need = std::get_if<Need>(&decided)) return *need;
    const Decision& d = std::get<Decision>(decided);
    Move m = move(stage, "running", "failed");
    m.transition.error_class = d.error_class;
    m.transition.body.push_back(describe_failure(stage, status, unmet));
    m.transition.body.push_back(describe_decision(stage, d));
    add_spend(m, status);
    // An array names its failed tasks: the retry resubmits only those. The nodes are
    // named when they are the failure's subject: a node failure (so a recurrence on the
    // same node shows), or a fix that avoids them (retry_excluded_nodes).
    const bool node_failure = status.state == JobState::node_fail || status.state == JobState::boot_fail;
    const std::string nodes = !status.nodes.empty() && (node_failure || d.excludes_nodes) ? status.nodes : "";
    // The pool and the job's web page make the row a job reference a human can follow
    // (and the pool is where a retry goes back to).
    const FailureNote note{stage.job_id, failed_task_list(status), nodes, status.pool, status.link};
    doc::FailureRow row{
        util::date(m_policy.now),
        stage.name,
        d.error_class,
        cell_text(format_failure_note(note, d.message), 120 + status.pool.size() + status.link.size()),
        cell_text(d.action()),
        d.kind == Decision::Kind::escalate ? "ESCALATED" : std::string(kRetrying)};
    m.transition.failure = row;
    m.cells.push_back({stage.name, doc::Column::status, "failed"});
    m.failures.push_back(row);
    doc::Stage failed = stage;
    failed.status = Status::failed;
    Commit out{{std::move(m)}, false};
    out.moves.push_back(resolve(failed, d));
    return out;
  }

  Action on_failed(const doc::Stage& stage) {
    const JobStatus none;
    auto decided = decide(stage, m_seen.job ? *m_seen.job : none, "", /*already_logged=*/true);
    if (auto* need = std::get_if<Need>(&decided)) return *need;
    return Commit{{resolve(stage, std::get<Decision>(decided))}, false};
  }

  // A human cleared the escalation (escalation_required false) but the stage still says
  // escalated: it resumes from ready.
  Action on_cleared(const doc::Stage& stage) {
    Move m = move(stage, "escalated", "ready");
    m.transition.body.push_back("Escalation cleared (escalation_required is false); the stage resumes.");
    m.cells.push_back({stage.name, doc::Column::status, "ready"});
    return Commit{{std::move(m)}, true};
  }

  // A failed stage goes back to ready with its fix, or escalates.
  Move resolve(const doc::Stage& stage, const Decision& d) const {
    if (d.kind == Decision::Kind::escalate) {
      return escalation(m_wf, stage, d.error_class, d.reason, {}, false, m_policy.now);
    }
    Move m = move(stage, "failed", "ready");
    m.transition.error_class = d.error_class;
    const int retries = d.kind == Decision::Kind::retry ? stage.retries + 1 : stage.retries;
    m.transition.body.push_back(
        d.kind == Decision::Kind::retry
            ? fmt::format("Action: {}; stage back to ready (retry {} of {}).", d.reason, retries, kMaxRetries)
            : fmt::format("Action: {}.", d.reason));
    for (const auto& e : d.edits) {
      m.scalars.push_back({e.key, e.value});
      m.transition.body.push_back(fmt::format("Set {}: {}.", e.key, e.value));
    }
    m.cells.push_back({stage.name, doc::Column::retries, std::to_string(retries)});
    m.cells.push_back({stage.name, doc::Column::status, "ready"});
    return m;
  }

  // " on POOL (LINK)": where the scheduler says the job is, for the commit and the
  // action item; "" when it says nothing.
  static std::string where(const JobStatus& status) {
    std::string out;
    if (!status.pool.empty()) out += fmt::format(" on {}", status.pool);
    if (!status.link.empty()) out += fmt::format(" ({})", status.link);
    return out;
  }

  // ---- learning ---------------------------------------------------------------

  // The stage is done: its earlier failures that were retried are resolved. Each gets
  // Result RESOLVED and one line in Lessons learned saying what fixed it.
  void resolve_failures(const doc::Stage& stage, Move& m) const {
    for (std::size_t i = 0; i < m_wf.failures.size(); ++i) {
      const doc::FailureRow& row = m_wf.failures[i];
      if (row.stage != stage.name || row.result != kRetrying) continue;
      m.resolved.push_back(i);
      m.lessons.push_back(fmt::format("{}: {} resolved by {} ({}, job {} done {})", stage.name,
                                      row.error_class, row.action, row.date, stage.job_id,
                                      util::date(m_policy.now)));
      m.transition.body.push_back(fmt::format("Resolved: {} ({}).", row.error_class, row.action));
    }
  }

  // What the completed stage ran on and took, as a `## Learnings` row.
  doc::LearningRow learning(const doc::Stage& stage, const JobStatus& status) const {
    const doc::StageSpec* s = spec(stage);
    doc::LearningRow row;
    row.date = util::date(m_policy.now);
    row.stage = stage.name;
    row.backend = backend(stage);
    row.job = status.link.empty() ? stage.job_id : fmt::format("{} {}", stage.job_id, status.link);
    if (s != nullptr) {
      row.pool = !s->pool.empty() ? s->pool : s->resources.partition;
      row.resources = resources_text(s->resources);
    }
    if (!status.pool.empty()) row.pool = status.pool;  // where the scheduler actually ran it
    row.pool_failures = pool_failures(m_wf, row.pool);
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
    return row;
  }

  // The ended job's cost, added to `budget.spent_usd` by the transition that records it.
  void add_spend(Move& m, const JobStatus& status) const {
    double cost = 0;
    if (status.cost_usd) {
      cost = *status.cost_usd;
    } else if (status.cpu_hours) {
      auto rate = m_policy.usd_per_cpu_hour.find(backend_of(m_wf, m.transition.stage));
      if (rate != m_policy.usd_per_cpu_hour.end()) cost = *status.cpu_hours * rate->second;
    }
    if (cost <= 0) return;
    m.scalars.push_back({"budget.spent_usd", fmt::format("{:.2f}", m_wf.budget.spent_usd + cost)});
  }

  // ---- decisions --------------------------------------------------------------

  std::variant<Decision, Need> decide(const doc::Stage& stage, const JobStatus& status,
                                      const std::string& unmet, bool already_logged) const {
    Evidence ev;
    ev.exit_code = status.exit_code;
    ev.state = std::string(to_string(status.state));
    ev.reason = status.reason;
    if (!unmet.empty()) ev.reason += (ev.reason.empty() ? "" : "; ") + unmet;
    if (!stage.job_id.empty() && m_seen.backend_known) {
      auto it = m_seen.log_tails.find(m_policy.log_tail_lines);
      if (it == m_seen.log_tails.end()) {
        Need need;
        need.backend = backend(stage);
        need.log_lines = m_policy.log_tail_lines;
        return need;
      }
      ev.log_tail = it->second;
    }

    Decision d;
    const auto cls = m_policy.catalog.classify(ev);
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
    const doc::StageSpec* s = spec(stage);
    auto plan = m_policy.catalog.plan_fix(cls->fix, s != nullptr ? *s : empty_spec, m_policy.ceilings,
                                          m_seen.spec ? &*m_seen.spec : nullptr);
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
      const std::string& checkpoint = s != nullptr ? s->checkpoint : empty_spec.checkpoint;
      auto advanced = checkpoint_advanced(stage, checkpoint, status);
      if (auto* need = std::get_if<Need>(&advanced)) return *need;
      if (const auto& why = std::get<std::string>(advanced); !why.empty()) {
        d.reason = fmt::format("{}: fix \"{}\" not applied: {}", cls->error_class, cls->fix, why);
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

  // "" when `checkpoint` (a glob in the job's directory) was written after the attempt
  // started; otherwise why not (resubmitting "from the checkpoint" would restart from
  // zero or repeat the same attempt).
  std::variant<std::string, Need> checkpoint_advanced(const doc::Stage& stage, const std::string& checkpoint,
                                                      const JobStatus& status) const {
    const auto started = util::parse_time(stage.started);
    if (!started) return fmt::format("the attempt's start time is unknown (Started `{}`)", stage.started);
    auto answers = probed(stage, &status, {{Probe::Kind::newest, checkpoint}});
    if (auto* need = std::get_if<Need>(&answers)) return *need;
    if (auto* e = std::get_if<Error>(&answers)) return e->message;
    const auto& newest = std::get<std::vector<ProbeAnswer>>(answers).front().newest;
    if (!newest) return fmt::format("checkpoint `{}` does not exist", checkpoint);
    if (*newest < *started) {
      return fmt::format(
          "checkpoint `{}` did not advance during the attempt (last written {}, attempt started {})",
          checkpoint, util::iso8601(*newest), stage.started);
    }
    return std::string();
  }

  // How often a fix for `error_class` was applied at this stage: its failure-log rows
  // that were retried (still RETRYING, or RESOLVED by a later success of the stage).
  int fixes_used(const doc::Stage& stage, const std::string& error_class) const {
    return static_cast<int>(
        std::count_if(m_wf.failures.begin(), m_wf.failures.end(), [&](const doc::FailureRow& r) {
          return r.stage == stage.name && r.error_class == error_class &&
                 (r.result == kRetrying || r.result == kResolved) &&
                 parse_failure_note(r.message).job != stage.job_id;
        }));
  }

  // Two consecutive same-error failures at one stage: the latest earlier row for the
  // stage (skipping this failure's own row when it is already logged) has the same class.
  bool repeated(const doc::Stage& stage, const std::string& error_class, bool already_logged) const {
    bool skipped_own = !already_logged;
    const auto& rows = m_wf.failures;
    for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
      if (it->stage != stage.name) continue;
      if (!skipped_own) {
        skipped_own = true;
        if (parse_failure_note(it->message).job == stage.job_id) continue;
      }
      return it->error_class == error_class;
    }
    return false;
  }

  // ---- conditions -------------------------------------------------------------

  // The directory a stage's checks run in and whose workspace reaches it: where the job
  // ran (the scheduler's word for it), else where it would run (`deploy.remote_dir` on
  // a cluster, through the backend's workspace), else this checkout's campaign dir.
  std::pair<std::string, std::string> job_dir(const doc::Stage& stage, const JobStatus* job) const {
    if (job != nullptr && !job->work_dir.empty()) return {backend(stage), job->work_dir};
    if (auto it = m_wf.deploy.find("remote_dir"); it != m_wf.deploy.end() && !it->second.empty()) {
      return {backend(stage), it->second};
    }
    return {std::string(), m_place.dir};
  }

  // The answers to `probes` about the job's directory, or the Need that asks for them,
  // or why the directory could not be probed.
  std::variant<std::vector<ProbeAnswer>, Need, Error> probed(const doc::Stage& stage, const JobStatus* job,
                                                             const std::vector<Probe>& probes) const {
    if (m_seen.probe_error) return *m_seen.probe_error;
    std::vector<ProbeAnswer> answers;
    for (const auto& p : probes) {
      auto it = m_seen.probes.find({p.kind, p.arg});
      if (it == m_seen.probes.end()) {
        Need need;
        std::tie(need.backend, need.dir) = job_dir(stage, job);
        need.probes = probes;
        return need;
      }
      answers.push_back(it->second);
    }
    return answers;
  }

  // "" when every clause holds; otherwise the first clause that does not, and why. An
  // Error when the clauses cannot be checked at all: the job's directory is gone
  // (findings) or cannot be reached (unreachable), or its backend's outputs are not
  // files. The file and command clauses are asked in one probe of the job's directory.
  std::variant<std::string, Need, Error> evaluate(const doc::Stage& stage, const doc::Condition& cond,
                                                  const JobStatus* job) const {
    using K = doc::Clause::Kind;
    std::vector<Probe> probes;
    for (const auto& c : cond.clauses) {
      if (c.kind == K::file_exists) probes.push_back({Probe::Kind::count, c.operand});
      if (c.kind == K::command_ok) probes.push_back({Probe::Kind::command, c.operand});
      if (c.kind == K::no_word_in_log && job != nullptr &&
          m_seen.log_tails.find(kConditionLogLines) == m_seen.log_tails.end()) {
        Need need;
        need.backend = backend(stage);
        need.log_lines = kConditionLogLines;
        return need;
      }
    }
    std::vector<ProbeAnswer> answers;
    if (!probes.empty()) {
      if (job != nullptr && !m_seen.outputs_are_files) {
        return Error{
            fmt::format("`{}` cannot be checked: the jobs of backend `{}` leave no files cairn can look "
                        "at; check them with `exit=N` or `no WORD in log`",
                        probes.front().arg, backend(stage)),
            ExitCode::findings};
      }
      auto got = probed(stage, job, probes);
      if (auto* need = std::get_if<Need>(&got)) return *need;
      if (auto* e = std::get_if<Error>(&got)) return *e;
      answers = std::move(std::get<std::vector<ProbeAnswer>>(got));
    }
    std::size_t next = 0;
    for (const auto& c : cond.clauses) {
      bool held = false;
      switch (c.kind) {
        case K::file_exists: held = answers.at(next++).count >= std::max(1, c.count); break;
        case K::command_ok: held = answers.at(next++).exit == 0; break;
        default: {
          auto h = clause_holds(stage, c, job);
          if (!h) return h.error().message;  // the clause cannot hold yet (no such stage, no job)
          held = *h;
        }
      }
      if (!held) return fmt::format("`{}` does not hold", c.text);
    }
    return std::string();
  }

  // A condition without a job that moves the stage on: nullopt when it holds, else what
  // waits for it (a Need, an escalation when it cannot be checked, a Wait saying why).
  std::optional<Action> unless_holds(const doc::Stage& stage, const doc::Condition& cond,
                                     std::string_view which, const std::string& waiting) const {
    auto met = evaluate(stage, cond, nullptr);
    if (auto* need = std::get_if<Need>(&met)) return *need;
    if (auto* e = std::get_if<Error>(&met)) return unchecked(stage, which, *e);
    if (const auto& why = std::get<std::string>(met); !why.empty())
      return Wait{fmt::format("{} waits: {}", waiting, why)};
    return std::nullopt;
  }

  // The clauses that need no probe of the job's directory.
  Expected<bool> clause_holds(const doc::Stage& stage, const doc::Clause& c, const JobStatus* job) const {
    using K = doc::Clause::Kind;
    switch (c.kind) {
      case K::always: return true;
      case K::stage_done: {
        for (const auto& s : m_wf.stages) {
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
        auto it = m_seen.log_tails.find(kConditionLogLines);
        return it == m_seen.log_tails.end() || it->second.find(c.operand) == std::string::npos;
      }
      case K::approved: {
        const std::string stage_name = util::lower(stage.name);
        return std::any_of(m_wf.actions.begin(), m_wf.actions.end(), [&](const doc::ActionItem& a) {
          const std::string text = util::lower(a.text);
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
  // the reason, the stage row left as it is (a clear checks it again).
  Action unchecked(const doc::Stage& stage, std::string_view which, const Error& e) const {
    if (e.exit == ExitCode::unreachable) return Unreachable{backend(stage), e.message};
    const bool gone = e.message.rfind("directory ", 0) == 0;
    return escalate(stage, gone ? "workdir-missing" : "condition-not-checkable",
                    fmt::format("{} condition \"{}\" cannot be checked: {}", which,
                                which == "entry" ? stage.entry : stage.exit, e.message),
                    {}, /*keep_stage=*/true);
  }

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

  const doc::Workflow& m_wf;
  const Place& m_place;
  const Observed& m_seen;
  const Policy& m_policy;
};

}  // namespace

std::string cell_text(std::string_view s, std::size_t max) {
  std::string out;
  for (char c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    out += c;  // pipes stay: the table writer escapes them (parse::md::escape_cell)
  }
  out = util::redact(out);
  if (out.size() > max) out = out.substr(0, max - 3) + "...";
  return out;
}

Action plan_step(const doc::Workflow& wf, const Place& place, const Observed& seen, const Policy& policy) {
  return Planner(wf, place, seen, policy).step();
}

Move escalation(const doc::Workflow& wf, const doc::Stage& stage, const std::string& error_class,
                const std::string& reason, const std::vector<std::string>& extra, bool keep_stage,
                TimePoint now) {
  Move m;
  m.transition = base_transition(wf, stage, std::string(to_string(stage.status)), "escalated");
  Transition& t = m.transition;
  t.error_class = error_class;
  t.body.push_back(fmt::format("Escalated: {}.", reason));
  for (const auto& e : extra) t.body.push_back(e);
  t.body.push_back(
      "Resume by setting `escalation_required: false` (cairn clear, or merge the clear-escalation PR).");
  if (!keep_stage) m.cells.push_back({stage.name, doc::Column::status, "escalated"});
  m.scalars.push_back({"escalation_required", "true"});
  m.scalars.push_back({"escalation_reason", cell_text(reason, 200)});
  m.actions.push_back({std::string(kActionPrefix),
                       fmt::format("{} escalated at {} ({}): {}", kActionPrefix, stage.name,
                                   util::clock_time(now), cell_text(reason, 160)),
                       false});
  return m;
}

Move cancelled_by_human(const doc::Workflow& wf, const doc::Stage& stage, std::string_view who,
                        std::string_view why, TimePoint now) {
  const std::string reason = fmt::format("cancelled by a human ({}): {}", who, why);
  Move m = escalation(wf, stage, "cancelled", reason, {}, /*keep_stage=*/true, now);
  Transition& t = m.transition;
  t.from = "running";
  t.to = "failed";
  t.body.front() = fmt::format("Job {} cancelled by {}: {}.", stage.job_id, who, why);
  t.body.insert(t.body.begin() + 1,
                "No automatic retry: the stage waits for a human. Clearing the escalation submits it anew as "
                "a new attempt.");
  doc::FailureRow row{
      util::date(now),
      stage.name,
      "cancelled",
      cell_text(format_failure_note(stage.job_id, "", "", fmt::format("cancelled by {}: {}", who, why))),
      "cancelled by a human",
      "ESCALATED"};
  t.failure = row;
  m.failures.push_back(row);
  m.cells.push_back({stage.name, doc::Column::status, "failed"});
  return m;
}

Move intent(const doc::Workflow& wf, const doc::Stage& stage, const JobKey& key, TimePoint now) {
  Move m;
  const std::string status(to_string(stage.status));
  m.transition = base_transition(wf, stage, status, status);
  m.transition.attempt = key.attempt;
  m.transition.intent = "submit " + key.str();
  m.transition.body.push_back(fmt::format(
      "Intent to submit {}; published before the scheduler is called so that only one tick submits it.",
      key.str()));
  m.actions.push_back(
      {std::string(kActionPrefix),
       fmt::format("{} {} {} since {}", kActionPrefix, kIntentWord, key.str(), util::iso8601(now)), false});
  return m;
}

std::optional<TimePoint> announced_since(const doc::Workflow& wf, const JobKey& key) {
  const std::string head = fmt::format("{} {} {} since ", kActionPrefix, kIntentWord, key.str());
  for (const auto& a : wf.actions) {
    if (a.text.rfind(head, 0) != 0) continue;
    return util::parse_time(std::string_view(a.text).substr(head.size()));
  }
  return std::nullopt;
}

Move submitted(const doc::Workflow& wf, const Submit& submit, const std::string& job, const JobKey& key,
               bool adopted, TimePoint now, const std::vector<std::string>& notes) {
  const doc::Stage* stage = wf.stage(submit.stage);
  Move m;
  doc::Stage fallback;
  fallback.name = submit.stage;
  m.transition = base_transition(wf, stage != nullptr ? *stage : fallback, submit.from, "running");
  Transition& t = m.transition;
  t.job = job;
  t.attempt = key.attempt;
  t.body.push_back(
      adopted
          ? fmt::format("Adopted job {} ({}) already known to {}: submitted by a tick that stopped before "
                        "recording it.",
                        job, key.str(), submit.backend)
          : fmt::format(
                "Submitted {} to {} as job {} ({}, attempt {}){}{}.", submit.request.spec.run, submit.backend,
                job, key.str(), key.attempt,
                submit.only_tasks.empty() ? "" : fmt::format(", array tasks {} only", submit.only_tasks),
                submit.not_on.empty() ? "" : fmt::format(", not on {}", submit.not_on)));
  for (const auto& line : notes) t.body.push_back(line);
  m.cells.push_back({submit.stage, doc::Column::job_id, job});
  m.cells.push_back({submit.stage, doc::Column::started, util::table_time(now)});
  m.cells.push_back({submit.stage, doc::Column::status, "running"});
  m.actions.push_back(
      {std::string(kActionPrefix),
       fmt::format("{} job {} ({}) submitted {}; next check ≈ {}", kActionPrefix, job, submit.stage,
                   util::clock_time(now), util::clock_time(now + std::chrono::seconds(submit.cadence))),
       false});
  return m;
}

namespace {

// Why one node's capacity `l` is below what the stage's `resources:` ask as a minimum;
// "" when it is not (or the stage names no minimum for that resource).
std::string below_minimum(const doc::Resources& min, const CapacityLimit& l) {
  if (l.resource == "mem" && min.mem_mb) {
    if (auto cap = parse::parse_mem_mb(l.capacity); cap && *cap < *min.mem_mb) {
      return fmt::format("its memory {} is below the stage's resources.mem {}", l.capacity,
                         min.mem_text.empty() ? parse::format_mem(*min.mem_mb) : min.mem_text);
    }
    return {};
  }
  const std::optional<int> want = l.resource == "cpus"   ? min.cpus
                                  : l.resource == "gpus" ? min.gpus
                                                         : std::nullopt;
  if (!want) return {};
  double cap = 0;
  const auto [p, ec] = std::from_chars(l.capacity.data(), l.capacity.data() + l.capacity.size(), cap);
  if (ec != std::errc() || p != l.capacity.data() + l.capacity.size() || cap >= *want) return {};
  return fmt::format("its {} {} is below the stage's resources.{} {}", l.name, l.capacity, l.resource, *want);
}

}  // namespace

Move capacity_refused(const doc::Workflow& wf, const Submit& submit, const JobKey& key,
                      const CapacityRefusal& refusal, const std::optional<SpecInfo>& declared,
                      const std::string& message, TimePoint now) {
  doc::Stage fallback;
  fallback.name = submit.stage;
  const doc::Stage* found = wf.stage(submit.stage);
  const doc::Stage& stage = found != nullptr ? *found : fallback;
  const doc::StageSpec* spec = wf.spec(stage.name);
  const std::string& run = submit.request.spec.run;
  std::vector<std::string> over;
  for (const auto& l : refusal.limits) {
    if (l.over) over.push_back(fmt::format("{} {} > node {}", l.name, l.requested, l.capacity));
  }
  const std::string table = over.empty() ? cell_text(message, 200) : fmt::format("{}", fmt::join(over, ", "));
  const std::string in_pool = refusal.pool.empty() ? "" : fmt::format(" in pool {}", refusal.pool);
  const std::string node = refusal.pool.empty() ? "one node" : fmt::format("one node of {}", refusal.pool);

  // What sizing down changes, or why it cannot.
  std::string why_not;
  std::vector<SpecEdit> edits;
  std::vector<std::string> changes;
  const auto sized_before = std::find_if(
      wf.failures.begin(), wf.failures.end(),
      [&](const doc::FailureRow& r) { return r.stage == stage.name && r.error_class == kCapacityClass; });
  if (sized_before != wf.failures.end()) {
    why_not = fmt::format("the stage was sized down once already ({}: {})", sized_before->date,
                          sized_before->action);
  } else if (over.empty()) {
    why_not = "the scheduler named no resource over the node's capacity";
  } else if (!declared || !declared->owns_resources || spec == nullptr) {
    why_not = fmt::format("cairn could not read the resources {} declares", run);
  }
  std::set<std::string> done;
  for (const auto& l : refusal.limits) {
    if (!why_not.empty()) break;
    if (!l.over) continue;
    bool bound = false;
    for (const auto& b : declared->bindings) {
      if (b.resource != l.resource) continue;
      bound = true;
      if (b.variable.empty()) {
        why_not = fmt::format(
            "{} is {} in {}, not a template variable: cairn does not edit your YAML; make it `{{{{{}}}}}` or "
            "change it yourself",
            b.key, b.value, declared->file, b.key.substr(b.key.rfind('.') + 1));
        break;
      }
      auto value = spec->set.find(b.variable);
      if (value == spec->set.end()) {
        why_not = fmt::format(
            "{} is `{}` in {}, but stage {} has no set.{}: add it to the stage's `set:` so "
            "cairn can size it",
            b.key, b.value, declared->file, stage.name, b.variable);
        break;
      }
      if (auto low = below_minimum(spec->resources, l); !low.empty()) {
        why_not = fmt::format("{} cannot run the stage: {}", node, low);
        break;
      }
      if (!done.insert(b.variable).second) continue;
      edits.push_back({fmt::format("stages.{}.set.{}", stage.name, b.variable), l.capacity});
      changes.push_back(fmt::format("set.{} {} -> {}", b.variable, value->second, l.capacity));
    }
    if (!bound && why_not.empty()) {
      why_not = fmt::format("{} sets no {} under resources: that cairn could change through `set:`",
                            declared->file, l.name);
    }
  }

  const FailureNote note{key.str(), "", "", refusal.pool, ""};
  const std::string row_text = cell_text(
      format_failure_note(note, fmt::format("submit refused, capacity validation: {}", table)), 400);
  const std::string refused = fmt::format("Submit of {} as {} refused by {}: capacity validation{}: {}.", run,
                                          key.str(), submit.backend, in_pool, table);
  if (!why_not.empty()) {
    Move m = escalation(wf, stage, std::string(kCapacityClass),
                        fmt::format("capacity validation{}, not sized down: {}", in_pool, why_not), {refused},
                        /*keep_stage=*/false, now);
    m.transition.attempt = key.attempt;
    doc::FailureRow row{util::date(now), stage.name,  std::string(kCapacityClass),
                        row_text,        "escalated", "ESCALATED"};
    m.transition.failure = row;
    m.failures.push_back(row);
    return m;
  }
  const std::string what = fmt::format("{}", fmt::join(changes, ", "));
  Move m;
  m.transition = base_transition(wf, stage, submit.from, "ready");
  Transition& t = m.transition;
  t.attempt = key.attempt;
  t.error_class = std::string(kCapacityClass);
  t.body.push_back(refused);
  t.body.push_back(
      fmt::format("Action: sized down to {} ({}); the next tick resubmits there, once.", node, what));
  for (auto& e : edits) m.scalars.push_back({std::move(e.key), std::move(e.value)});
  doc::FailureRow row{util::date(now),
                      stage.name,
                      std::string(kCapacityClass),
                      row_text,
                      cell_text(fmt::format("size to {} ({})", node, what), 240),
                      std::string(kRetrying)};
  t.failure = row;
  m.failures.push_back(row);
  m.cells.push_back({stage.name, doc::Column::status, "ready"});
  m.actions.push_back({std::string(kActionPrefix),
                       fmt::format("{} {} refused for capacity at {}; sized down ({}), resubmit next tick",
                                   kActionPrefix, key.str(), util::clock_time(now), what),
                       false});
  return m;
}

bool anomaly_noted(const doc::Workflow& wf, const Anomaly& a) {
  const std::string key = fmt::format("{} {}:", kAnomalyPrefix, a.fingerprint);
  return std::any_of(wf.actions.begin(), wf.actions.end(),
                     [&](const doc::ActionItem& item) { return item.text.rfind(key, 0) == 0; });
}

std::pair<std::vector<Move>, bool> plan_anomalies(const doc::Workflow& wf, const Place& place,
                                                  const std::vector<AnomalyAction>& acts, TimePoint now,
                                                  const AgentReading* agent) {
  std::vector<Move> moves;
  const auto slash = place.path.rfind('/');
  const std::string check_path = slash == std::string::npos
                                     ? std::string(kOrchestrationCheck)
                                     : place.path.substr(0, slash + 1) + std::string(kOrchestrationCheck);
  std::vector<Anomaly> mine;
  for (const auto& other : acts) mine.push_back(*other.anomaly);
  for (const AnomalyAction& action : acts) {
    const Anomaly& a = *action.anomaly;
    const std::string key = fmt::format("{} {}:", kAnomalyPrefix, a.fingerprint);
    if (anomaly_noted(wf, a)) continue;
    const doc::Stage* open = wf.first_open_stage();
    if (open == nullptr) break;  // a finished campaign has nothing left to protect
    const ActionItemEdit item{key,
                              fmt::format("{} {} ({}, {})", key, cell_text(a.message, 200),
                                          to_string(a.confidence), util::table_time(now)),
                              false};
    if (action.kind == AnomalyAction::Kind::escalate) {
      // High: an escalation, the stage left as it is (a running job stays tracked and
      // is polled again once cleared).
      Move m = escalation(wf, *open, fmt::format("anomaly-{}", to_string(a.pattern)), a.message, a.evidence,
                          /*keep_stage=*/true, now);
      m.actions.insert(m.actions.begin(), item);
      // The agent's reading has nowhere else to go: the check file says what was seen.
      if (agent != nullptr) {
        m.also.push_back({check_path, render_orchestration_check(wf.campaign, mine, now, agent, true)});
      }
      moves.push_back(std::move(m));
      return {std::move(moves), false};
    }
    const std::string status(to_string(open->status));
    Move m;
    m.transition = base_transition(wf, *open, status, status);
    Transition& t = m.transition;
    t.anomaly = a.fingerprint;
    t.anomaly_summary = fmt::format("{} ({})", to_string(a.pattern), to_string(a.confidence));
    t.body.push_back(a.message);
    if (!a.evidence.empty()) t.body.push_back(fmt::format("{}", fmt::join(a.evidence, "\n")));
    m.actions.push_back(item);
    if (action.kind == AnomalyAction::Kind::pause) {
      m.scalars.push_back({"paused", "true", /*optional_key=*/true});
      m.also.push_back({check_path, render_orchestration_check(wf.campaign, mine, now, agent)});
      t.body.push_back(
          fmt::format("Paused (`paused: true`): no new submissions until a human sets `paused: "
                      "false`; see {} in the campaign directory.",
                      kOrchestrationCheck));
    } else {
      t.body.push_back("Noted in the action queue; nothing else changes.");
    }
    moves.push_back(std::move(m));
  }
  return {std::move(moves), true};
}

int next_attempt(const doc::Workflow& wf, const doc::Stage& stage, const std::vector<HistoryEvent>& history) {
  int n = static_cast<int>(std::count_if(wf.failures.begin(), wf.failures.end(),
                                         [&](const doc::FailureRow& r) { return r.stage == stage.name; }));
  if (stage.status != Status::running) {
    if (auto a = key_attempt(wf, stage, stage.job_id)) n = std::max(n, *a);
  }
  for (const auto& e : history) {
    if (e.campaign == wf.campaign && e.stage == stage.name && e.attempt > 0 && e.from == "running" &&
        e.to != "running") {
      n = std::max(n, e.attempt);
    }
  }
  return n + 1;
}

int current_attempt(const doc::Workflow& wf, const doc::Stage& stage) {
  if (auto a = key_attempt(wf, stage, stage.job_id)) return *a;
  const int before =
      static_cast<int>(std::count_if(wf.failures.begin(), wf.failures.end(), [&](const doc::FailureRow& r) {
        return r.stage == stage.name &&
               (stage.job_id.empty() || parse_failure_note(r.message).job != stage.job_id);
      }));
  return before + 1;
}

int attempts_made(const doc::Workflow& wf, const doc::Stage& stage,
                  const std::vector<HistoryEvent>& history) {
  const int ended = next_attempt(wf, stage, history) - 1;
  if (stage.status == Status::running && !stage.job_id.empty())
    return std::max(ended, current_attempt(wf, stage));
  return ended;
}

std::string pool_failures(const doc::Workflow& wf, std::string_view pool) {
  if (pool.empty()) return {};
  int failures = 0;
  for (const auto& r : wf.failures) {
    const FailureNote note = parse_failure_note(r.message);
    if (note.pool != pool) continue;
    doc::Stage of_row;
    of_row.name = r.stage;
    // Still the job key: the scheduler refused the submit, nothing ran in the pool.
    if (key_attempt(wf, of_row, note.job)) continue;
    ++failures;
  }
  const auto earlier = std::count_if(wf.learnings.begin(), wf.learnings.end(),
                                     [&](const doc::LearningRow& l) { return l.pool == pool; });
  const auto runs = failures + earlier + 1;
  return fmt::format("{} failure{} in {} run{}", failures, failures == 1 ? "" : "s", runs,
                     runs == 1 ? "" : "s");
}

std::set<std::string> recorded_jobs(const doc::Workflow& wf, const doc::Stage& stage) {
  std::set<std::string> out;
  if (!stage.job_id.empty() && stage.status != Status::running) out.insert(stage.job_id);
  for (const auto& r : wf.failures) {
    if (r.stage != stage.name) continue;
    if (auto job = parse_failure_note(r.message).job; !job.empty()) out.insert(std::move(job));
  }
  return out;
}

}  // namespace cairn::engine
