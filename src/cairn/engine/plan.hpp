#pragma once

// The tick's decisions, as values (ninja's Plan, where engine/tick is the Builder).
// From a parsed Workflow, what the tick has observed of the stage's job and its
// directory, cairn's recent history and the policy (catalogs, ceilings, rates), plan_step()
// says what one campaign does next. Pure: no I/O, no clock, no pointers into the file.
// A decision that needs a fact only I/O gives (a log tail, a probe of the job's
// directory, outputs brought back) returns a Need; the tick gathers it and plans again.
// engine/apply turns each Move into span edits and one commit.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <cairn/doc/workflow.hpp>
#include <cairn/engine/anomaly.hpp>
#include <cairn/engine/commit_message.hpp>
#include <cairn/engine/ports.hpp>

namespace cairn::engine {

// ---- what one transition writes ---------------------------------------------------

struct CellEdit {
  std::string stage;
  doc::Column column = doc::Column::status;
  std::string value;
};

struct ScalarEdit {
  std::string key;  // dotted frontmatter key ("stages.smoke.resources.time")
  std::string value;
  bool optional_key = false;  // a top-level key the file may lack (`paused`): added when absent
};

// Rewrites (or adds) the action-queue item whose text starts with `prefix`.
struct ActionItemEdit {
  std::string prefix;
  std::string text;
  bool checked = false;
};

// One transition: its edits, in the order apply writes them (scalars, cells, failure
// rows, resolved results, lessons, learning row, action items), and its commit message.
// The upkeep fields (`status`, `current_stage`, `last_tick`) are derived by apply from
// the edited file, never planned.
struct Move {
  Transition transition;  // tick time, run URL and tick id are filled by apply
  std::vector<ScalarEdit> scalars;
  std::vector<CellEdit> cells;
  std::vector<doc::FailureRow> failures;  // appended
  std::vector<std::size_t> resolved;      // Failure-log rows (0-based) whose Result becomes RESOLVED
  std::vector<std::string> lessons;
  std::optional<doc::LearningRow> learning;
  std::vector<ActionItemEdit> actions;
  std::vector<FileWrite> also;  // further files of the campaign (ORCHESTRATION_CHECK.md)
};

// ---- what the tick knows --------------------------------------------------------

// Everything plan_step() may look at beyond the file, for the campaign's first open stage.
struct Observed {
  bool backend_known = true;  // cairn.yaml names the stage's backend
  // Why the stage's backend, which cairn.yaml names, cannot be used (Backends::unusable):
  // a configuration error, reported by the tick; the campaign waits for its fix.
  std::string backend_unusable;
  bool backend_down = false;      // its batched status query failed this tick
  bool outputs_are_files = true;  // Scheduler::outputs_are_files()
  std::optional<JobStatus> job;   // the stage's job as the status query answered; nullopt: not reported
  std::optional<SpecInfo> spec;   // what the stage's job spec declares (Scheduler::inspect), if read
  // Answers to the probes a Need asked, by probe (kind, glob or command), about the dir
  // the Need named; or why the dir could not be probed.
  std::map<std::pair<Probe::Kind, std::string>, ProbeAnswer> probes;
  std::optional<Error> probe_error;
  std::map<int, std::string> log_tails;  // by line count
  std::optional<Expected<void>> synced;  // outputs brought back (Need::sync)
};

// The policy of the tick: fixed for every campaign.
struct Policy {
  const Catalog& catalog;
  doc::ResourceCeilings ceilings;
  std::map<std::string, double> usd_per_cpu_hour;  // by backend name
  std::string repo_id;                             // JobKey::repo
  int log_tail_lines = 200;                        // evidence for classification
  TimePoint now;
  const std::vector<HistoryEvent>& history;  // cairn's recent commits (attempts)
};

// Where the campaign lives: this checkout's paths.
struct Place {
  std::string path;  // repo-relative WORKFLOW.md
  std::string dir;   // absolute campaign dir in this checkout
};

// ---- actions ------------------------------------------------------------------------

// Nothing (more) to do this tick; `note` says why, for the report.
struct Wait {
  std::string note;
};

// Facts the decision needs: gather them into Observed and plan again.
struct Need {
  // Whose workspace reaches `dir` (Scheduler::workspace()); empty: this machine's.
  std::string backend;
  std::string dir;
  std::vector<Probe> probes;
  int log_lines = 0;        // > 0: the stage job's last lines, into Observed::log_tails
  bool sync = false;        // bring the completed job's declared outputs back (Scheduler::sync_outputs)
  SubmitRequest request{};  // for sync: what was submitted
};

// Submit the stage as a new attempt, or adopt the job found under one of its keys
// while the file does not record it as ended (a tick that died between submit and
// commit). Apply looks keys up from `request.key.attempt` on, skipping `recorded_jobs`.
struct Submit {
  std::string stage;
  std::string from;  // the stage's status in the file (ready, or running without a JobID)
  std::string backend;
  SubmitRequest request;
  std::set<std::string> recorded_jobs;
  std::string only_tasks;    // a retry of an array's failed tasks (also in request.array)
  std::string not_on;        // a retry away from these nodes (also in request.exclude_nodes)
  std::int64_t cadence = 0;  // seconds to the first poll, for the action item
};

// Cancel the stage's job, as a human approved; then commit `after`.
struct Cancel {
  std::string backend;
  std::string job;
  Move after;
};

// Commit `moves` in order. `again`: the campaign may move further this tick.
struct Commit {
  std::vector<Move> moves;
  bool again = false;
};

// The backend cannot be asked now: retry next tick (exit 3).
struct Unreachable {
  std::string backend;
  std::string message;
};

using Action = std::variant<Wait, Need, Submit, Cancel, Commit, Unreachable>;

// The next action of the campaign whose first open stage `seen` describes. Never fails:
// what cannot proceed escalates (a Commit) or waits.
Action plan_step(const doc::Workflow& wf, const Place& place, const Observed& seen, const Policy& policy);

// The escalation of `stage` as one Move: the stage row escalated (unless `keep_stage`:
// a job that stays the stage's, polled again once cleared), `escalation_required: true`,
// the reason, cairn's action item. Apply uses it for failures only I/O reveals (a
// submit or cancel the scheduler refused).
Move escalation(const doc::Workflow& wf, const doc::Stage& stage, const std::string& error_class,
                const std::string& reason, const std::vector<std::string>& extra, bool keep_stage,
                TimePoint now);

// A human cancelled the stage's running job (`cairn cancel`), as one Move: `running ->
// failed [cancelled]`, the stage row `failed`, a Failure-log row "job J: cancelled by WHO:
// WHY" (Result ESCALATED, so the attempt is recorded as ended and its job never adopted
// again), and the campaign escalated as "cancelled by a human": no automatic retry, the
// next step is a human's (a clear puts the stage back to ready; the next submit is a new
// attempt).
Move cancelled_by_human(const doc::Workflow& wf, const doc::Stage& stage, std::string_view who,
                        std::string_view why, TimePoint now);

// The intent commit published before `key` is submitted (docs/tick.md "Exactly-once submission").
Move intent(const doc::Workflow& wf, const doc::Stage& stage, const JobKey& key, TimePoint now);

// When cairn's action item announces a submit of `key`: since when; nullopt when none.
std::optional<TimePoint> announced_since(const doc::Workflow& wf, const JobKey& key);

// The transition that records `job` (submitted, or `adopted`) as the stage's job;
// `notes` (Scheduler::submit_notes: the pool and why, links, outputs) are lines of its body.
Move submitted(const doc::Workflow& wf, const Submit& submit, const std::string& job, const JobKey& key,
               bool adopted, TimePoint now, const std::vector<std::string>& notes = {});

// The submit of `key` was refused because the job asks more than one node of the pool
// provides (`refusal`, Scheduler::capacity_refusal; `message` the scheduler's words):
// resources adjusted to fit and the stage resubmitted, once per stage. When every
// resource over the node's capacity is a template variable of the job spec (`declared`,
// Scheduler::inspect) whose `set:` value the stage has, and one node's capacity is not
// below the stage's `resources:` (its minimum), one Move `FROM -> ready
// [capacity-validation]` lowers those `set:` values to the node's capacity, with a
// Failure-log row (the attempt's key as its job, the pool, the table; Action taken says
// what changed; RETRYING), so the next tick resubmits to the same pool. Otherwise (a
// hard-coded value, a missing `set:`, a minimum above the node, no spec read, or the
// stage was sized down before) the stage escalates, the table in its row and commit.
Move capacity_refused(const doc::Workflow& wf, const Submit& submit, const JobKey& key,
                      const CapacityRefusal& refusal, const std::optional<SpecInfo>& declared,
                      const std::string& message, TimePoint now);

// What the tick does about one anomaly at one campaign: the confidence ladder of docs/tick.md,
// except that a systemic error escalates once (its first campaign not yet escalated)
// and pauses the others.
struct AnomalyAction {
  enum class Kind { note, pause, escalate } kind = Kind::note;
  const Anomaly* anomaly = nullptr;
};

// The Moves that act on the anomalies the scan found about this campaign, once each (an
// action item keyed by the anomaly's fingerprint records that it was seen). Low: the
// item. Medium: `paused: true` and ORCHESTRATION_CHECK.md. High: an escalation, the
// stage row left as it is. The second member is false when the campaign stops here.
// `agent`: what the configured agent read into them (diagnose.when: anomaly), a section of
// ORCHESTRATION_CHECK.md, which a high anomaly then writes too; nullptr for none.
std::pair<std::vector<Move>, bool> plan_anomalies(const doc::Workflow& wf, const Place& place,
                                                  const std::vector<AnomalyAction>& acts, TimePoint now,
                                                  const AgentReading* agent = nullptr);

// Whether `wf`'s action queue already records anomaly `a` (its fingerprint's item): it
// was acted on by an earlier tick and is not acted on again.
bool anomaly_noted(const doc::Workflow& wf, const Anomaly& a);

// A failure-log cell's text: one line, redacted, at most `max` bytes. Pipes are left to
// the table writer (parse::md::escape_cell), which escapes them once.
std::string cell_text(std::string_view s, std::size_t max = 120);

// ---- attempts ---------------------------------------------------------------------

// The attempt a new submit of `stage` makes: one past every attempt the file and history
// record as ended (its Failure-log rows, the attempt its JobID names when the stage is
// not running, `Cairn-Attempt` of cairn's commits that ended one). Never the Retries cell.
int next_attempt(const doc::Workflow& wf, const doc::Stage& stage, const std::vector<HistoryEvent>& history);

// The attempt of the stage's current job: its key's when the JobID is one, else one past
// the failures recorded before it.
int current_attempt(const doc::Workflow& wf, const doc::Stage& stage);

// How many attempts of `stage` were made so far: its running job's (current_attempt), or
// the ended ones next_attempt() counts; 0 for a stage never submitted.
int attempts_made(const doc::Workflow& wf, const doc::Stage& stage, const std::vector<HistoryEvent>& history);

// How `pool` has done in the campaign, for the Learnings row of a run that completed
// there: "F failure(s) in R run(s)". The failures are the Failure-log rows whose note
// names the pool (parse_failure_note), except a submit refused before any job ran (its
// job is still the job key); the runs are those, the earlier Learnings rows of the pool,
// and the completing run. "" for an empty pool. Never fails.
std::string pool_failures(const doc::Workflow& wf, std::string_view pool);

// The jobs the file records as ended attempts of `stage` (never adopted again).
std::set<std::string> recorded_jobs(const doc::Workflow& wf, const doc::Stage& stage);

}  // namespace cairn::engine
