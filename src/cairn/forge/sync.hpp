#pragma once

// The escalation flow of docs/escalation.md "On the forge", run after a tick's commits
// are pushed. Level- triggered and idempotent: everything is derived from the campaigns
// at the pushed tip, the forge's issues (found by a hidden marker) and the remote's
// `cairn/clear/*` branches, so running it twice creates nothing new.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cairn/engine/ports.hpp>
#include <cairn/engine/report.hpp>
#include <cairn/forge/forge.hpp>
#include <cairn/util/expected.hpp>

namespace cairn::forge {

// A catalogued fix the clear-escalation branch applies to the stage spec, as the
// catalog planned it for the spec at the pushed tip.
struct ClearFix {
  std::string name;                     // "walltime x2"
  std::vector<engine::SpecEdit> edits;  // frontmatter scalars it sets; none for "resubmit"
  std::string summary;                  // "resources.time 00:30:00 -> 01:00:00"
};

// A campaign as the pushed tip has it, plus what the caller knows beyond the file.
struct CampaignView {
  std::string path;             // repo-relative path of WORKFLOW.md
  std::string text;             // its bytes at the pushed tip
  std::string log_tail;         // last lines of the escalated stage's job log ("" = unknown)
  std::string suggested_fix;    // a human hint, e.g. the catalog entry's ("" = none known)
  std::optional<ClearFix> fix;  // what the branch applies; nullopt = a human has to
};

// Publishes clear-escalation branches. gitstore/branch.hpp does it with libgit2;
// tests use a recording fake.
class BranchPublisher {
 public:
  virtual ~BranchPublisher() = default;
  // Names (without `refs/heads/`) of the remote's branches starting with `prefix`.
  // Fails (exit 3) when the remote cannot be listed.
  virtual Expected<std::vector<std::string>> list_branches(const std::string& prefix) = 0;
  // Creates `branch` on the remote holding `commits` on top of the current tip (the
  // clear commit, and a diagnosis when an agent proposed one). Fails (exit 3) when a
  // commit cannot be built or the push is refused (e.g. the branch appeared meanwhile).
  virtual Expected<void> publish(const std::string& branch,
                                 const std::vector<engine::BranchCommit>& commits) = 0;
};

// What an agent (cairn.yaml `diagnose:`) proposed for an escalated failure: the commit
// it adds to the clear-escalation branch, and what the pull request and the issue say.
struct Diagnosis {
  std::string agent;                 // the command's name, for `Cairn-Diagnosis:`
  std::string outcome;               // "proposed changes to 2 files", "timed out after 15m: killed", ...
  std::string explanation;           // the agent's DIAGNOSIS.md ("" = none written)
  std::vector<std::string> kept;     // repo-relative paths it changed within `may_edit`
  std::vector<std::string> refused;  // paths it changed outside them: discarded
  std::string catalog_row;           // the proposed row as appended ("" = none)
  std::string catalog_note;          // why a proposed row was not appended ("" = none)
  std::optional<engine::BranchCommit> commit;  // nullopt = nothing to add to the branch
};

// Runs the agent for an escalation whose clear-escalation branch is about to be made.
class Diagnoser {
 public:
  virtual ~Diagnoser() = default;
  // `cleared` is the WORKFLOW.md text the branch's first commit writes. nullopt when the
  // configuration does not ask for a diagnosis of this escalation.
  virtual std::optional<Diagnosis> diagnose(const CampaignView& view, const std::string& stage,
                                            const std::string& cleared) = 0;
};

// The Markdown a pull request body and the issue comment show for `d`.
std::string diagnosis_markdown(const Diagnosis& d);

// `<!-- cairn:escalation <campaign> <stage> <attempt> -->`: identifies an issue.
struct Marker {
  std::string campaign;
  std::string stage;
  int attempt = 0;
  std::string str() const;
};
// The first marker in `body`, or nullopt.
std::optional<Marker> find_marker(const std::string& body);

// `cairn/clear/<campaign>/<attempt>`.
std::string clear_branch(const std::string& campaign, int attempt);

// The WORKFLOW.md text of a cleared escalation: engine::clear_escalation's edits
// (`escalation_required: false`, `escalation_reason: ""`, the escalated stage back to
// `ready`, the implied `status` and `current_stage`, a Lessons learned line dated `now`
// ending in `why`), then the frontmatter scalars of `edits` set (a catalogued fix) —
// surgical edits, nothing else changes. Fails when the text does not parse, is not
// escalated, or lacks the stage row or a `## Lessons learned` section, or an edit cannot
// be made.
Expected<std::string> cleared_text(const std::string& path, const std::string& text, engine::TimePoint now,
                                   std::string_view why, const std::vector<engine::SpecEdit>& edits = {});

struct SyncOptions {
  std::string base_branch = "main";
  std::string run_url;  // CI run, linked from issues
  std::string secret;   // the token: scrubbed from everything sent, besides util::redact
  int log_lines = 30;   // of CampaignView::log_tail shown in an issue
};

struct SyncReport {
  std::vector<std::string> actions;  // "c1: opened issue #3", one per change made
  std::vector<std::string> notes;    // what needs a human and changed nothing
  std::vector<std::string> errors;   // per-campaign failures (forge or git unreachable)
  // Escalated campaign -> its issue and clear-escalation pull request, as found or made
  // (for the dashboard's links).
  std::map<std::string, engine::EscalationLinks> links;
  bool failed() const { return !errors.empty(); }
};

// For every escalated campaign: finds or opens the escalation issue (unless
// `notify.on_escalate: false`), the branch `cairn/clear/<campaign>/<n>` (applying the
// view's catalogued fix) and the pull request from it to `base_branch`, linked from the
// issue; a pull request closed without merging is said on the issue, once. For every
// campaign no longer escalated with an open escalation issue: comments how it was
// resumed ("resumed by #PR, merged by @user") and closes it. Comments carry hidden
// markers and are looked for before they are made, so a run that failed after the
// forge acted repeats nothing. For every campaign with `notify.on_advance: true` that
// has a done stage: finds (by `<!-- cairn:progress <campaign> -->`) or opens its one
// `cairn` + `progress` issue, comments "<stage> done at <completed> (job <id>)" once
// per done stage, and when the campaign is done comments so and closes it; campaigns
// without it cost no request. A failure for one campaign is reported and the others
// go on; a failure to list the issues at all is the only error for the whole run.
// With a `diagnoser`, a branch made for an escalation it asks for carries the agent's
// commit too; the pull request shows the diagnosis and the issue gets a comment with it.
SyncReport sync(Forge& forge, BranchPublisher& branches, const std::vector<CampaignView>& campaigns,
                const SyncOptions& options, Diagnoser* diagnoser = nullptr);

// `<!-- cairn:dashboard -->`: identifies the dashboard issue.
inline constexpr std::string_view kDashboardMarker = "<!-- cairn:dashboard -->";

// Keeps `markdown` (engine::render_dashboard) as the body of one open issue labelled
// `cairn` and `dashboard`, titled "cairn dashboard" and found again by its marker: opens
// it when there is none (one POST), replaces its body when it differs (one PATCH),
// else sends nothing but the one listing GET. The body is scrubbed like every issue
// (`secret` and util::redact). Returns what it did ("opened dashboard issue #4",
// "updated dashboard issue #4", "" when unchanged). Fails (exit 3) when the forge
// cannot be reached.
Expected<std::string> sync_dashboard(Forge& forge, const std::string& markdown,
                                     const std::string& secret = "");

}  // namespace cairn::forge
