#pragma once

// A campaign's WORKFLOW.md as plain data (docs/workflow-file.md). No I/O, no parsing here:
// parse/ builds these, engine/ reads them, and edits go through parse::WorkflowFile so
// the bytes on disk change surgically.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cairn/doc/condition.hpp>

namespace cairn::doc {

enum class Status { pending, ready, running, done, failed, escalated };

// "pending" -> Status::pending, ...; nullopt for anything else.
std::optional<Status> parse_status(std::string_view text);
std::string_view to_string(Status s);

// The nine stage-table columns, in the order docs/workflow-file.md "The stage table" fixes.
enum class Column { number, name, entry, exit, status, job_id, started, completed, retries };
std::string_view column_title(Column c);

// How a stage runs (the optional `stages:` frontmatter block).
struct Resources {
  std::optional<std::int64_t> time_seconds;  // `time: "00:30:00"` or "D-HH:MM:SS"
  std::string time_text;                     // as written, for messages
  std::optional<int> cpus;
  std::optional<std::int64_t> mem_mb;  // `mem: 8G` (K/M/G/T)
  std::string mem_text;
  std::optional<int> gpus;
  std::string gpu_type;
  std::string partition;
};

// Upper bounds no catalogued fix may raise a stage's resources past (cairn.yaml
// `ceilings:`); unset = no bound.
struct ResourceCeilings {
  std::optional<std::int64_t> time_seconds;
  std::string time_text;
  std::optional<std::int64_t> mem_mb;
  std::string mem_text;
  std::optional<int> gpus;
};

struct StageSpec {
  std::string name;
  std::string run;      // path inside the campaign dir
  std::string backend;  // empty = budget.backend, else local
  Resources resources;
  std::string array;  // e.g. "1-20%5"; empty = not an array
  std::optional<std::int64_t> expect_seconds;
  std::map<std::string, std::string> set;  // template values (osmo --set)
  // `env:` variables the job gets on top of what cairn passes (local, Slurm); a job never
  // sees the tick's environment beyond that (util::workload_environment).
  std::map<std::string, std::string> env;
  std::string pool;
  std::string priority;  // LOW, NORMAL or HIGH; empty = the backend's default
  // A path or glob (inside the campaign dir) the job writes its restart state to: the
  // `resubmit-from-checkpoint` fix applies only when it advanced during the attempt.
  std::string checkpoint;
  // Outputs to bring back after the job completes (`sync:`), relative to where it ran
  // (globs allowed); copied to the same paths under the campaign dir.
  std::vector<std::string> sync;
  int line = 0;  // line of the stage's key in the file
};

// One row of the `## Stages` table. Empty cells (`—`) read as "".
struct Stage {
  std::string number;
  std::string name;
  std::string entry;
  std::string exit;
  Status status = Status::pending;
  std::string job_id;
  std::string started;
  std::string completed;
  int retries = 0;
  int line = 0;
  Condition entry_condition;
  Condition exit_condition;
};

struct FailureRow {
  std::string date;
  std::string stage;
  std::string error_class;
  std::string message;
  std::string action;
  std::string result;
};

// One row of the optional `## Learnings` table: what a completed stage ran on, how
// long it waited and ran, and the resources that worked (docs/workflow-file.md
// "Learnings"); `cairn status --learnings` summarises them per pool across campaigns.
struct LearningRow {
  std::string date;
  std::string stage;
  std::string backend;
  std::string pool;        // pool (OSMO) or partition (Slurm); empty = the default
  std::string queue_wait;  // submit -> start, human ("4m"); empty = unknown
  std::string run_time;    // start -> end, human
  std::string resources;   // "time=01:00:00 cpus=4 mem=8G gpus=1"
  std::string job;
  // The pool's record in this campaign, this run included ("1 failure in 3 runs",
  // engine::pool_failures); empty without a pool, and in rows written before it existed.
  std::string pool_failures{};
};

struct ActionItem {
  bool checked = false;
  std::string text;
  int line = 0;
};

struct Budget {
  std::string backend;
  double cap_usd = 0;
  double spent_usd = 0;
};

struct Notify {
  bool on_advance = false;
  bool on_escalate = true;
};

struct Reference {
  std::string path;
  std::string section;
};

struct Workflow {
  std::string campaign;
  std::string project;
  std::string created;
  std::string last_tick;
  Status status = Status::pending;
  std::string current_stage;
  bool escalation_required = false;
  std::string escalation_reason;
  // `paused: true` (optional): jobs already running are still polled and recorded, but
  // nothing new is submitted until a human sets it false (the anomaly scan's "medium").
  bool paused = false;
  Budget budget;
  Notify notify;
  std::vector<Reference> references;
  std::map<std::string, std::string> deploy;  // `deploy:` (remote_dir), scalars only
  std::vector<StageSpec> specs;               // in file order

  std::string title;  // the first `# ` heading
  std::vector<Stage> stages;
  std::vector<ActionItem> actions;
  std::vector<FailureRow> failures;
  std::vector<LearningRow> learnings;
  std::string lessons;  // the body of `## Lessons learned`, verbatim

  // The stage row named `name`, or nullptr.
  const Stage* stage(std::string_view name) const;
  // The spec for stage `name`, or nullptr when the stage has none.
  const StageSpec* spec(std::string_view name) const;
  // The first stage whose Status is not done, or nullptr when all are done.
  const Stage* first_open_stage() const;
};

}  // namespace cairn::doc
