#pragma once

// The dashboard of every campaign (`cairn report`, the forge's "cairn dashboard" issue,
// the CI step summary): a summary table and one Mermaid `gantt` timeline per campaign,
// one bar per stage attempt, read back from cairn's commit trailers. Pure: no I/O and no
// clock reads, so the same files and history always render the same bytes (the forge
// issue is updated only when they change).

#include <optional>
#include <string>
#include <vector>

#include <cairn/doc/workflow.hpp>
#include <cairn/engine/anomaly.hpp>
#include <cairn/engine/ports.hpp>

namespace cairn::engine {

enum class AttemptOutcome { running, done, failed };

// One submit of a stage, from the `ready -> running` commit that submitted it to the
// commit that recorded how it ended.
struct StageAttempt {
  std::string stage;
  int attempt = 0;    // Cairn-Attempt
  std::string job;    // Cairn-Job
  TimePoint start{};  // the submitting commit's Cairn-Tick
  // The commit that ended it (`running -> done|failed|escalated`); for a running attempt
  // the last commit that saw it running (a poll), else the start.
  TimePoint end{};
  AttemptOutcome outcome = AttemptOutcome::running;
  std::string ended_as;     // the transition's target: "done", "failed", "escalated"; "" while running
  std::string error_class;  // Cairn-Error-Class of the ending commit
};

// The attempts of `campaign` in `history` (oldest first, as gitstore::cairn_log_since
// reads it), in the order they started. An end without a recorded start (history cut
// by a shallow clone) becomes an attempt that starts where it ends.
std::vector<StageAttempt> stage_attempts(const std::vector<HistoryEvent>& history,
                                         const std::string& campaign);

// Where a campaign's escalation lives on the forge, when the caller knows.
struct EscalationLinks {
  std::string issue_ref;  // "#12"
  std::string issue_url;
  std::string pull_ref;  // "#13" or "!13"
  std::string pull_url;
};

struct DashboardCampaign {
  std::string path;                       // repo-relative WORKFLOW.md
  std::optional<doc::Workflow> workflow;  // nullopt: the file does not parse
  std::string error;                      // then its first diagnostic, "path:line:col: message"
  std::vector<StageAttempt> attempts;     // stage_attempts() of it
  // When the current stage entered its state: its last transition in the history.
  std::optional<TimePoint> since;
  EscalationLinks links;
};

struct DashboardOptions {
  std::string title = "cairn dashboard";
  // Printed as "generated at" with ages relative to it (`cairn report`); nullopt keeps
  // the text free of the clock, as the forge issue needs.
  std::optional<TimePoint> generated_at;
  bool timelines = true;  // the Mermaid gantt blocks after the table
};

// The summary table alone: `| Campaign | Status | Stage | Job | Since | Retries |
// Escalation |`, one row per campaign (an unparsable file says so), GFM with cells
// escaped.
std::string render_summary_table(const std::vector<DashboardCampaign>& campaigns,
                                 const DashboardOptions& options);

// One campaign's timeline as a Mermaid block (```mermaid ... ```): `gantt`, times UTC
// (dateFormat `YYYY-MM-DD HH:mm:ss`), a section per stage in table order, a bar per
// attempt tagged `done`, `crit` (failed, escalated) or `active` (running). A campaign
// without attempts gets no block (""): a gantt needs at least one bar.
std::string render_gantt(const DashboardCampaign& campaign);

// The whole dashboard in GitHub-flavoured Markdown: a heading, the counts per status,
// the summary table and, per campaign with attempts, a heading and its gantt block.
std::string render_dashboard(const std::vector<DashboardCampaign>& campaigns,
                             const DashboardOptions& options);

}  // namespace cairn::engine
