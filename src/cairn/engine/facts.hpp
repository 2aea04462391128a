#pragma once

// The facts a user relies on, each owned by one function (STYLE habit 0): which backend
// a stage runs on, which stage an escalation is about, the status a stage table implies,
// what clearing an escalation writes, the action-queue prefixes, the failure-note format,
// and the repository id in job names. Every verb (tick, clear, forge, status) calls these
// instead of keeping a copy. Pure: no I/O, no clock.

#include <string>
#include <string_view>

#include <cairn/doc/workflow.hpp>
#include <cairn/engine/ports.hpp>
#include <cairn/parse/workflow_file.hpp>
#include <cairn/util/expected.hpp>

namespace cairn::engine {

// ---- backends -------------------------------------------------------------------

// The backend stage `stage` runs on (docs/workflow-file.md): its
// `stages.<stage>.backend`, else the campaign's `budget.backend`, else "local". A stage
// without a spec (or not in the file at all) takes the campaign's. Never fails.
std::string backend_of(const doc::Workflow& wf, std::string_view stage);

// ---- escalation and status --------------------------------------------------------

// The stage a campaign's escalation is about: the first stage row whose Status is
// `escalated`, else the first that is `failed`, else the first open (not done) stage
// (an anomaly escalates with the stage's row left as it is), else `current_stage`.
// Meaningful whether or not `escalation_required` is set (cairn clear, the forge's issue
// and pull request, the forge step's log tail all name this stage). Empty only for a
// file with neither stages nor `current_stage`.
std::string escalated_stage(const doc::Workflow& wf);

// The campaign status the stage table implies, as every commit of the tick writes it to
// the frontmatter: `escalated` when `escalation_required`, else the first open stage's
// Status, else (every stage done, or no stage) `done`.
doc::Status implied_status(const doc::Workflow& wf);

// The `current_stage` the stage table implies: the first open stage's name, else the
// last stage's (a done campaign), else "" (no stages).
std::string implied_current_stage(const doc::Workflow& wf);

// What clear_escalation() did.
struct ClearedEscalation {
  std::string stage;   // the stage the escalation was about (escalated_stage, before the edit)
  std::string reason;  // `escalation_reason` as it was before the edit ("" when none was recorded)
  // The stage row went from escalated or failed back to ready. False for a stage an
  // anomaly escalated while its job ran: its row stays `running`, the job is polled again.
  bool stage_reset = false;
};

// The lesson clear_escalation() appends: "2026-05-05 smoke: escalation (REASON) cleared:
// WHY" (`date` as YYYY-MM-DD). A reason that was empty reads "(no reason recorded)".
std::string clear_lesson(std::string_view date, const ClearedEscalation& cleared, std::string_view why);

// Clears the escalation of `file`, the one edit every door writes (`cairn clear`, the
// clear-escalation pull request's branch): `escalation_required: false`,
// `escalation_reason: ""`, the escalated_stage() back to `ready` when its row says
// escalated or failed, `status` and `current_stage` as implied_status() and
// implied_current_stage() say (upkeep keys: left alone when the file has none, as the
// tick does), and one Lessons learned bullet (clear_lesson(util::date(now), ..., why)).
// Surgical: no other byte changes. Returns what it did, the old reason read before it is
// blanked. Fails with ExitCode::findings when the campaign is not escalated
// (`escalation_required` is false), and with the edit's error when the file lacks
// `escalation_required`, the stage row or a `## Lessons learned` section; `file` may then
// hold some of the edits, so callers drop it.
Expected<ClearedEscalation> clear_escalation(parse::WorkflowFile& file, TimePoint now, std::string_view why);

// ---- the action queue ---------------------------------------------------------------

// The one action-queue item cairn rewrites on every commit ("cairn: job 41 (smoke)
// running at ...", "cairn: escalated at ...", "cairn: submitting <key> since <time>").
inline constexpr std::string_view kActionPrefix = "cairn:";
// The items that record what the anomaly scan saw, one per fingerprint: "cairn anomaly:
// <fingerprint>: <message> (<confidence>, <time>)". Never rewritten once written.
inline constexpr std::string_view kAnomalyPrefix = "cairn anomaly:";
// The offer a stuck escalation makes: "cairn cancel: job 750 (run): tick this ...". A
// human ticks it (and clears) to approve cancelling that one job and resubmitting.
inline constexpr std::string_view kCancelPrefix = "cairn cancel:";

// The start of the cancel offer for job `job_id`: "cairn cancel: job 750 " (with the
// trailing space, so job 75 never matches job 750's item).
std::string cancel_offer_prefix(const std::string& job_id);

// ---- the failure note -------------------------------------------------------------

// What a failure-log message says about the failed attempt, ahead of the evidence:
// "job 41: tasks 3,7; nodes c07; DUE TO TIME LIMIT", and on OSMO "job oom-train-1: pool
// h100-east; link https://...; ...". A retry reads the tasks back (an array resubmits
// only those), after `exclude-node` the nodes to avoid, and the pool it goes back to.
inline constexpr std::string_view kTasksWord = "tasks";
inline constexpr std::string_view kNodesWord = "nodes";
inline constexpr std::string_view kPoolWord = "pool";
inline constexpr std::string_view kLinkWord = "link";
// The characters a tasks note may hold (array indices) and a nodes note (hostlist
// notation, "c[01-03],gpu2"); a note with anything else was edited by hand and reads as
// empty, so it never reaches a scheduler's command line.
inline constexpr std::string_view kTaskChars = "0123456789,";
inline constexpr std::string_view kNodeChars =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.[],";
// A pool name (a Kubernetes-style name) and a link (a URL without spaces or ';').
inline constexpr std::string_view kPoolChars =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.";
inline constexpr std::string_view kLinkChars =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~:/?#[]@!$&'()*+,=%";

// "job 41: tasks 3,7; nodes c07; MESSAGE": the notes only when non-empty ("job 41:
// MESSAGE" for a single job that failed on no node worth naming). Not escaped for a
// table cell: the caller makes it one (one line, pipes escaped, redacted).
std::string format_failure_note(std::string_view job, std::string_view tasks, std::string_view nodes,
                                std::string_view message);

struct FailureNote {
  std::string job;    // "41"; empty when the text does not start with "job <id>:"
  std::string tasks;  // "3,7"; empty when absent or holding anything but kTaskChars
  std::string nodes;  // "c07"; empty when absent or holding anything but kNodeChars
  std::string pool;   // where the attempt ran, when the scheduler said (kPoolChars)
  std::string link;   // the job's web page, when the scheduler has one (kLinkChars)
};

// "job ID: tasks T; nodes N; pool P; link URL; MESSAGE", each note only when non-empty.
std::string format_failure_note(const FailureNote& note, std::string_view message);

// Reads back what format_failure_note() wrote. Tolerant: a note is found after ": " or
// "; " and ends at the next ';' (a note that ends the text, with no ';' after it, is not
// one); a field a human garbled reads as empty. Never fails.
FailureNote parse_failure_note(std::string_view text);

// ---- the repository id -------------------------------------------------------------

// `remote` in one spelling for every clone of one repository: the scheme, credentials
// (`user:password@`), port and a trailing `/` and `.git` dropped, the scp form
// (`git@host:owner/name`) read as a URL, host and path lowercased (forges treat
// owner/name case-insensitively): "git@GitHub.com:Owner/Name.git" ->
// "github.com/owner/name". A local path (no scheme, no `host:`) or `file://` URL keeps
// its case and only loses a trailing `/` and `.git`. Never fails.
std::string normalized_remote(std::string_view remote);

// The repository's short id in job names (`cairn.<repo-id>.<campaign>.<stage>.<attempt>`,
// TickOptions::repo_id): 8 lowercase hex digits hashing normalized_remote(`remote_url_or_path`)
// and `branch` (FNV-1a, stable across platforms and releases), so every clone of one
// repository and branch gets the same id and two repositories almost never share one.
// Pass the repository's absolute path when it has no remote. Valid in Slurm job names
// and Kubernetes label values. Never fails.
std::string repo_id(std::string_view remote_url_or_path, std::string_view branch);

}  // namespace cairn::engine
