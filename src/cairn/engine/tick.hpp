#pragma once

// The tick: a pure function of (WORKFLOW.md files, scheduler answers, clock) to
// (transitions, commits, submissions), behind the ports of engine/ports.hpp.
// Level-triggered: everything is derived from the files and the scheduler, nothing
// from memory of an earlier tick.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <cairn/doc/diagnostic.hpp>
#include <cairn/engine/anomaly.hpp>
#include <cairn/engine/commit_message.hpp>
#include <cairn/engine/ports.hpp>

namespace cairn::engine {

struct TickOptions {
  bool dry_run = false;  // compute transitions; no submit, no commit
  bool force = false;    // work every campaign, due or not
  // How long an announced submit (another tick's, or one that died between intent and
  // submit) is waited for before a tick takes it over. Longer than any submit takes.
  std::chrono::seconds intent_grace{120};
  std::string only;  // work only this campaign
  Identity identity;
  std::string run_url;  // CI run, for `Cairn-Run-URL`
  // Unique per tick process, as `Cairn-Tick-Id`: two ticks making the same edit in the
  // same second would otherwise make byte-identical commits, and both pushes of one
  // intent would "land".
  std::string tick_id;
  // The repository's short id in job names (JobKey::repo, engine::repo_id); empty
  // leaves it out.
  std::string repo_id;
  std::map<std::string, double> usd_per_cpu_hour;  // by backend name; spend accounting
  int log_tail_lines = 200;
  // No catalogued fix raises a resource past these (cairn.yaml `ceilings:`); such a fix
  // escalates with the change it would have made.
  doc::ResourceCeilings ceilings;
  // The anomaly scan over every campaign, before any moves (engine/anomaly.hpp), with
  // these thresholds; nullopt turns it off.
  std::optional<AnomalyThresholds> anomaly;
};

struct CampaignInput {
  std::string path;  // repo-relative path of WORKFLOW.md (commits and messages)
  std::string dir;   // absolute campaign directory (job working dir, condition checks)
  std::string text;  // the file's bytes at HEAD
  // The last commit that touched the file is not a tick's (a human's edit, `cairn clear`,
  // a merged clear-escalation PR): the campaign is due at once.
  bool changed_by_human = false;
};

struct CampaignReport {
  std::string campaign;
  std::string path;
  bool worked = false;  // it was due (or forced) and processed
  std::string note;     // why it was skipped / what it waits on
  std::vector<Transition> transitions;
  std::vector<doc::Diagnostic> diagnostics;  // parse failures
  std::string status;                        // campaign status after the tick
  std::string stage;                         // current stage after the tick
  std::int64_t next_due_seconds = 0;         // from now
};

struct TickReport {
  std::vector<CampaignReport> campaigns;
  std::int64_t next_tick_seconds = 0;  // the shortest wait among campaigns
  std::vector<std::string> errors;     // infrastructure failures (exit 3)
  // A publish (the intent before a submit) lost the race to another writer: the tick
  // stopped before submitting; start over from the remote's new tip.
  bool lost_race = false;
  bool infrastructure_failed() const { return !errors.empty(); }
  bool has_invalid_files() const;
};

struct Ports {
  Backends& backends;
  Store& store;
  const Clock& clock;
  Workspace& workspace;
  const Catalog& catalog;
  // The agent that reads new medium and high anomalies (cairn.yaml `diagnose.when:
  // anomaly`); nullptr for none.
  AnomalyExplainer* explainer = nullptr;
};

// Whether a tick with `options` at `now` would work any campaign: --force, or a
// campaign whose frontmatter says it is due or cannot be peeked at. False means the
// tick will change nothing, so callers can skip work that only matters before writes.
bool any_due(const std::vector<CampaignInput>& campaigns, TimePoint now, const TickOptions& options);

// Runs one tick over `campaigns`. Never throws for a bad file or a failing backend:
// those end up in the report, and other campaigns go on. `history` is what cairn's
// recent commits say (the anomaly scan's window; see gitstore::cairn_log_since).
TickReport tick(Ports ports, const std::vector<CampaignInput>& campaigns, const TickOptions& options,
                const std::vector<HistoryEvent>& history = {});

}  // namespace cairn::engine
