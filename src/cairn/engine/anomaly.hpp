#pragma once

// The anomaly scan (docs/tick.md "Anomaly scan"): once per tick, over every campaign at
// once, from cairn's own commit trailers (HistoryEvent) and the scheduler's answers
// (CampaignSnapshot), find the patterns that no single stage's state machine sees. Pure:
// no I/O, no clock reads; level-triggered like the tick (an anomaly is reported on every
// tick while its evidence is inside the window, so callers dedupe on
// `Anomaly::fingerprint`).
//
// What each confidence asks of the caller (the ladder docs/tick.md documents):
//   low    -> a note in the campaign's action queue;
//   medium -> pause the chain (`paused: true` in the frontmatter, no new submissions;
//             running jobs are left alone) and write ORCHESTRATION_CHECK.md in the
//             campaign dir (render_orchestration_check);
//   high   -> escalate.
//
// Patterns and the confidence each gets (windows end at `now`; counts are strict: "more
// than N" never fires at exactly N):
//   runaway_resubmits      more than max_submissions_per_stage distinct jobs submitted
//                          for one stage within submissions_window. medium: pausing is
//                          exactly what stops a resubmit loop. high above twice the
//                          threshold: the loop went on despite (or without) a pause.
//   runaway_completions    more than max_completions jobs of one campaign ended (running
//                          -> done|failed) within completions_window: many fast
//                          completions in a short time. medium; high above twice.
//   stalled                the current stage has waited (pending/ready, not submitted,
//                          or submitted but queued by the scheduler) longer than
//                          stall_after while another stage somewhere advanced within
//                          that window; when the whole repository is idle nothing is
//                          reported. low: a busy queue is the usual cause, and pausing a
//                          chain that does not move helps nothing.
//   systemic_error         one error class hit at least systemic_campaigns campaigns
//                          within systemic_window. high, as ONE anomaly naming every
//                          campaign: the cause is shared (cluster, quota, software stack)
//                          and wants one escalation, not N.
//   bad_log_while_running  a job the scheduler reports running has log-tail lines
//                          matching a log pattern (FATAL, NaN, OOM, ...) or one of the
//                          project's orchestration priors (.priors.yaml). medium: the
//                          job may still finish, but the chain must not build on its
//                          output until a human has looked.
//   pile_up                more than max_queued_per_name queued (pending) jobs of one name
//                          among the user's jobs named after this repository
//                          (`cairn.<repo>.<campaign>.`, the campaign's own scripts'
//                          submissions included; Scheduler::queued_by_name). medium;
//                          high above twice: a script that submits in a loop fills the
//                          queue faster than any stage's state shows.
//   restart_without_progress  a running job's log tail has a restart line (logs_restart)
//                          while the stage's `checkpoint:` has not been written since the
//                          previous tick (frontmatter `last_tick`), the job having run
//                          since before it. medium: a job that restarts from the same
//                          checkpoint again and again burns its allocation. Needs a
//                          `checkpoint:` in the stage spec (without one, progress is
//                          unknown and the check does not run).
//
// What is a runaway in one campaign may be normal in another: the thresholds are per
// repository (cairn.yaml `anomaly:`), and low/medium only ask a human to look; nothing
// here cancels a job.

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <cairn/doc/workflow.hpp>
#include <cairn/engine/ports.hpp>
#include <cairn/parse/config.hpp>
#include <cairn/parse/priors.hpp>

namespace cairn::engine {

// What one cairn commit's trailers say.
struct HistoryEvent {
  std::string campaign;  // Cairn-Campaign
  std::string stage;     // Cairn-Stage
  std::string from;      // Cairn-Transition: <from> -> <to>
  std::string to;
  std::string error_class;  // Cairn-Error-Class; empty when none
  std::string job;          // Cairn-Job; empty when none
  TimePoint time{};         // Cairn-Tick (else the commit's time)
  int attempt = 0;          // Cairn-Attempt; 0 when none
};

// Reads a HistoryEvent from a commit's trailers (gitstore::LogEntry::trailers), the time
// from `Cairn-Tick`, else `fallback_time`. nullopt for a commit without Cairn-Campaign,
// Cairn-Stage or a readable Cairn-Transition, for an intent (`Cairn-Intent`: it
// announces a submit, it is not one) and for the scan's own notes (`Cairn-Anomaly`).
std::optional<HistoryEvent> history_event_from_trailers(
    const std::vector<std::pair<std::string, std::string>>& trailers, TimePoint fallback_time);

// One campaign as the tick sees it now: its current (first open) stage.
struct CampaignSnapshot {
  std::string campaign;
  std::string stage;
  doc::Status status = doc::Status::pending;
  // When the stage entered its status (submit time for a running stage, the previous
  // stage's completion for a pending one); nullopt when unknown (no stall report).
  std::optional<TimePoint> stage_since;
  std::string job;               // JobID, when submitted
  std::string job_state;         // to_string(JobState) for a running stage: "pending", "running", ...
  std::string running_log_tail;  // tail of a still-running job's log; may be empty
  // The user's queued jobs whose names start with this campaign's job-name prefix
  // (JobKey::prefix), name -> count, as the stage's backend answers
  // Scheduler::queued_by_name; empty when there are none or the backend cannot say.
  std::map<std::string, int> queued_jobs;
  // The previous tick's time (frontmatter `last_tick`); nullopt when never ticked.
  std::optional<TimePoint> last_tick;
  // The stage's `checkpoint:` glob; empty when the spec names none.
  std::string checkpoint;
  // Whether the checkpoint was looked at this tick (only when the tail logs a restart),
  // and the newest modification time of what matches it (nullopt: nothing matches).
  bool checkpoint_probed = false;
  std::optional<TimePoint> checkpoint_newest;
};

// Whether `log_tail` has a line saying the program restarted (`RESTART` in capitals, as
// MD codes print it, or "Restarting from checkpoint"/"restarted from checkpoint" in any
// case): the lines restart_without_progress looks at. The tick asks this before it probes
// a checkpoint, so only a job that restarts costs a probe.
bool logs_restart(std::string_view log_tail);

struct AnomalyThresholds {
  int max_submissions_per_stage = 4;
  std::chrono::seconds submissions_window{24 * 3600};
  int max_completions = 10;
  std::chrono::seconds completions_window{15 * 60};
  std::chrono::seconds stall_after{24 * 3600};
  int systemic_campaigns = 3;
  std::chrono::seconds systemic_window{6 * 3600};
  // Pile-up: more than this many queued jobs of one name.
  int max_queued_per_name = 50;
  // RE2 patterns matched against each line of a running job's log tail; an empty list
  // turns the log check off. A pattern RE2 rejects is ignored (cairn.yaml rejects it).
  std::vector<std::string> log_patterns = parse::default_log_patterns();
  // The project's `.priors.yaml` entries of `class: orchestration` (parse/priors.hpp):
  // more log patterns, each named in the evidence when it matches.
  std::vector<parse::Prior> priors;

  // How far back the scan reads history: its longest window.
  std::chrono::seconds history_span() const {
    return std::max({submissions_window, completions_window, stall_after, systemic_window});
  }

  bool operator==(const AnomalyThresholds&) const = default;
};

// The thresholds written in cairn.yaml (`anomaly:`). Never fails: the parser validated.
AnomalyThresholds thresholds_from(const parse::AnomalyConfig& config);

enum class AnomalyPattern {
  runaway_resubmits,
  runaway_completions,
  stalled,
  systemic_error,
  bad_log_while_running,
  pile_up,
  restart_without_progress
};
enum class Confidence { low, medium, high };

// "runaway_resubmits", ...; "low", "medium", "high".
std::string_view to_string(AnomalyPattern p);
std::string_view to_string(Confidence c);

struct Anomaly {
  AnomalyPattern pattern = AnomalyPattern::stalled;
  Confidence confidence = Confidence::low;
  std::vector<std::string> campaigns;  // sorted; more than one only for systemic_error
  std::string stage;                   // empty when not about one stage
  std::string error_class;             // systemic_error only
  std::string message;                 // one line, for a human
  std::vector<std::string> evidence;   // one fact per line (times UTC, log lines redacted)
  // Stable while the same condition persists (no counts or times in it), for callers that
  // must not note/pause/escalate twice: "<pattern> <campaign> <stage>", plus " <job>" for
  // bad_log_while_running and restart_without_progress; "pile_up <campaign> <job name>";
  // "systemic_error <class>" (a campaign joining later does not make a second escalation).
  std::string fingerprint;
};

// Scans for every pattern above. `history` in any order (it is sorted by time, ties
// keep their order); events older than the longest window only serve as context (which
// job a stage ran before). Returns the anomalies highest confidence first, then by
// pattern, campaigns and stage; the same input always gives the same output.
std::vector<Anomaly> scan_anomalies(const std::vector<HistoryEvent>& history,
                                    const std::vector<CampaignSnapshot>& campaigns, TimePoint now,
                                    const AnomalyThresholds& thresholds = {});

// What an agent read into a campaign's anomalies (cairn.yaml `diagnose.when: anomaly`):
// its explanation, or why there is none. Never verified by cairn.
struct AgentReading {
  std::string agent;        // the command's name, e.g. "claude"
  std::string explanation;  // its DIAGNOSIS.md, redacted; may be empty
  std::string failure;      // one line when it failed (exit, timeout, no DIAGNOSIS.md); else ""
};

// Runs the configured agent over a campaign's anomalies, read-only (cli/diagnose.hpp's
// runner: a scratch copy, every change discarded, no credentials in its environment).
class AnomalyExplainer {
 public:
  virtual ~AnomalyExplainer() = default;
  // What the agent reads into `anomalies` (medium or high, new this tick) of the campaign
  // whose WORKFLOW.md is `path` (repo-relative); `findings` is cairn's own text of
  // ORCHESTRATION_CHECK.md. Never fails: a failing agent is AgentReading::failure.
  virtual AgentReading explain(const std::string& path, const std::vector<Anomaly>& anomalies,
                               const std::string& findings) = 0;
};

// The text of `ORCHESTRATION_CHECK.md` for `campaign`, paused (or, `escalated`, escalated)
// at `now` because of `anomalies` (those naming it; any confidence): what was seen, the
// evidence, what a human should check, then what `agent` read into it (a section of its
// own, quoted, labelled as not verified by cairn), and how to resume. Deterministic.
std::string render_orchestration_check(std::string_view campaign, const std::vector<Anomaly>& anomalies,
                                       TimePoint now, const AgentReading* agent = nullptr,
                                       bool escalated = false);

}  // namespace cairn::engine
