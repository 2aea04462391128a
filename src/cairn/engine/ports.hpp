#pragma once

// The engine's view of the world: small interfaces for every side effect (scheduler,
// git store, clock, filesystem probes, failure catalog). One real implementation each
// lives in sched/, gitstore/, catalog/ and util/; tests use recording fakes.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cairn/doc/workflow.hpp>
#include <cairn/util/expected.hpp>

namespace cairn::engine {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

// `cairn.<repo>.<campaign>.<stage>.<attempt>`: the name a job carries in its scheduler,
// so a tick that died between submit and commit finds the job again instead of
// submitting a second copy. `repo` is a short, stable id of the campaign repository
// (engine::repo_id: the same for every clone of one repository), so two repositories
// that share a campaign name never see each other's jobs; empty leaves it out.
// `attempt` counts every submit of the stage (engine::next_attempt), never the Retries cell.
struct JobKey {
  std::string campaign;
  std::string stage;
  int attempt = 1;
  std::string repo{};
  std::string str() const { return prefix(repo, campaign) + stage + "." + std::to_string(attempt); }
  // What every key of `repo` starts with ("cairn.<repo>."), and with a campaign, every
  // key of that campaign ("cairn.<repo>.<campaign>."): the names the anomaly scan counts.
  static std::string prefix(const std::string& repo, const std::string& campaign = {}) {
    return "cairn." + (repo.empty() ? std::string() : repo + ".") +
           (campaign.empty() ? std::string() : campaign + ".");
  }
};

struct SubmitRequest {
  JobKey key;
  std::string campaign_dir;  // absolute; the job's working directory unless remote_dir is set
  doc::StageSpec spec;       // run path (relative to campaign_dir), resources, array
  std::string array;         // overrides spec.array (a retry of failed indices only)
  // The frontmatter's `deploy.remote_dir`: the job's working directory on a cluster
  // whose filesystem is not this machine's; empty = campaign_dir.
  std::string remote_dir{};  // `{}`: brace-initializers that stop at `array` stay warning-free
  // Nodes this attempt must not run on (a retry after `exclude-node`), in the
  // scheduler's own notation ("c07", "c[01-03],gpu2"); empty = anywhere.
  std::string exclude_nodes{};
  // The pool the stage's first attempt ran in, as the file records it (the first
  // Failure-log row of the stage that names one); empty for a first attempt. A backend
  // with pools (OSMO) resubmits there unless the stage names a pool or that one is gone.
  std::string first_pool{};
};

enum class JobState {
  pending,    // queued, configuring, not yet visible after submit
  running,    // running, completing, suspended
  completed,  // finished; see exit_code
  failed,     // finished with a non-zero exit or a signal
  timeout,    // hit its wall-clock limit
  out_of_memory,
  node_fail,
  preempted,
  cancelled,
  boot_fail,
  unknown,  // the scheduler could not say (query failed): retry next tick
};
std::string_view to_string(JobState s);
// True for states after which the job will not change again.
bool is_final(JobState s);

struct TaskStatus {
  std::string index;  // array index, as the scheduler prints it
  JobState state = JobState::unknown;
  std::optional<int> exit_code;
  std::string reason;
  std::optional<TimePoint> started = {};  // when the task began running, if known
};

struct JobStatus {
  std::string job_id;
  JobState state = JobState::unknown;  // aggregated over tasks: worst final state wins
  std::optional<int> exit_code;        // non-zero exit of any task wins over 0
  std::string reason;                  // scheduler's reason / state text, for evidence
  // Pending for a reason that will not clear by itself (held, a dependency that can
  // never be met, a partition down, a request past the partition's limits), as opposed
  // to waiting its turn. The engine calls such a job stuck after 3x the stage's expect.
  bool blocked = false;
  std::vector<TaskStatus> tasks;  // empty for a single job
  std::optional<double> cpu_hours;
  std::optional<double> cost_usd;
  std::optional<TimePoint> submitted;  // when the scheduler accepted the job (queue wait)
  std::optional<TimePoint> started;
  std::optional<TimePoint> ended;
  std::string pool;  // the pool or partition the job ran in, as the scheduler reports it
  // A web page a human opens for the job (OSMO's workflow overview); empty when none.
  std::string link;
  // Where it ran, in the scheduler's notation: for a job that ended badly, the nodes of
  // its failed tasks (the ones `exclude-node` avoids); empty when unknown or not yet placed.
  std::string nodes;
  // The job's working directory as its scheduler reports it (the local job's recorded
  // campaign dir, Slurm's WorkDir), on the machine Scheduler::workspace() reaches: where
  // file and command clauses and the checkpoint check run. Empty when the backend
  // cannot say.
  std::string work_dir;
};

// Derives an array job's state, exit code and reason from its `tasks` (sorted by index
// on return): any task running -> running, else pending, else unknown; when all are
// final the worst final state wins (boot_fail > node_fail > out_of_memory > timeout >
// failed > cancelled > preempted > completed); the first non-zero task exit wins.
void summarize_tasks(JobStatus& job);

// One question about a job's working directory. A condition's file and command clauses
// and the stage's checkpoint are asked together, so a remote workspace answers them in
// one round trip.
struct Probe {
  enum class Kind {
    count,    // paths matching `arg` (a glob, relative to the dir unless absolute)
    newest,   // modification time of the newest path matching `arg`
    command,  // exit status of `/bin/sh -c arg` run in the dir (bounded in time)
  } kind = Kind::count;
  std::string arg;
};

// One resource a job spec sets, as written there: what a fix may change through the
// stage's `set:` (a template variable) and what only the spec's owner can.
struct ResourceBinding {
  std::string resource;  // in the fix language: "mem", "gpus", "cpus", "storage"
  std::string key;       // where the spec sets it: "resources.default.memory"
  std::string value;     // as written: "256Gi", "{{memory}}"
  std::string variable;  // the template variable the value is made of ("memory"); empty: hard-coded
};

// What a stage's job spec (the file its `run:` names) declares, as far as a backend reads
// it: for OSMO, the workflow YAML's outputs and resources. Read from the tick's checkout,
// which holds the spec the job was submitted from.
struct SpecInfo {
  std::vector<std::string> outputs;  // where the job's results go ("s3://bucket/run/", "dataset NAME")
  // The spec, not the stage's `resources:`, sets what the job gets (OSMO): resource fixes
  // go through `bindings` (a template variable's `set:` value) or are refused.
  bool owns_resources = false;
  std::string file;  // the spec as the stage names it ("osmo/train.yaml"), for messages
  std::vector<ResourceBinding> bindings;
};

// One resource of a submit the scheduler refused for capacity: what the job asked for and
// what one node of the pool provides, as the scheduler printed them.
struct CapacityLimit {
  std::string resource;   // in the fix language: "cpus", "gpus", "mem", "storage"
  std::string name;       // the scheduler's word: "cpu", "memory"
  std::string requested;  // "2000Gi"
  std::string capacity;   // "1500Gi"
  bool over = false;      // requested > capacity: this row is why the submit was refused
};

// A submit refused because the job asks more than any single node of the pool provides
// (OSMO's capacity validation): the requested vs node-capacity table.
struct CapacityRefusal {
  std::string pool;
  std::vector<CapacityLimit> limits;  // in the scheduler's order, one row per resource
};

struct ProbeAnswer {
  int count = 0;                    // Kind::count
  std::optional<TimePoint> newest;  // Kind::newest; nullopt for no match
  int exit = 0;                     // Kind::command
};

// Filesystem checks used by conditions, in a job's working directory.
class Workspace {
 public:
  virtual ~Workspace() = default;
  // Answers `probes` about `dir`, in order. Fails with ExitCode::findings and a message
  // that starts "directory DIR does not exist" when `dir` is gone; with
  // ExitCode::unreachable when the machine holding it cannot be asked.
  virtual Expected<std::vector<ProbeAnswer>> probe(const std::string& dir,
                                                   const std::vector<Probe>& probes) = 0;
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // The job already submitted under `key`, if any (pending, running or finished).
  // Fails only when the scheduler cannot be asked (exit 3).
  virtual Expected<std::optional<std::string>> find(const JobKey& key) = 0;
  // The jobs already submitted under `keys`, by key string (a key with no job is absent),
  // in as few scheduler calls as the backend allows: the tick asks once per backend for
  // every submit it plans. Fails only when the scheduler cannot be asked (exit 3). This
  // default asks find() per key; backends whose lookups are remote calls override it.
  virtual Expected<std::map<std::string, std::string>> find_all(const std::vector<JobKey>& keys) {
    std::map<std::string, std::string> out;
    for (const auto& key : keys) {
      auto job = find(key);
      if (!job) return job.error();
      if (*job) out.emplace(key.str(), **job);
    }
    return out;
  }
  // Submits and returns the job id. The tick has looked the key up (find_all) and
  // published its intent, so only it submits this key; an implementation whose submit is
  // idempotent by itself (the local backend's run directory) may still adopt.
  virtual Expected<std::string> submit(const SubmitRequest& request) = 0;
  // What the backend's answer to the submit that returned `job_id` said beyond the id,
  // one line each, for the submit commit (OSMO: the pool and why, the overview and
  // dashboard links). Empty by default and for a job this object did not submit.
  virtual std::vector<std::string> submit_notes(const std::string& /*job_id*/) const { return {}; }
  // Why the last submit of `key` by this object was refused for capacity (the requested
  // vs node-capacity table), so the engine can size the job to one node; nullopt when it
  // was not (or for a backend without such a check).
  virtual std::optional<CapacityRefusal> capacity_refusal(const JobKey& /*key*/) const {
    return std::nullopt;
  }
  // What the stage's job spec declares (SpecInfo), read where `request.campaign_dir`
  // holds it; nullopt for a backend that does not read specs or a spec it cannot read.
  virtual std::optional<SpecInfo> inspect(const SubmitRequest& /*request*/) const { return std::nullopt; }
  // One batched query for every listed job. A job absent from the answer is unknown.
  virtual Expected<std::map<std::string, JobStatus>> status(const std::vector<std::string>& job_ids) = 0;
  // The last `lines` lines of the job's output (all tasks, concatenated), for
  // classification and `no WORD in log` clauses.
  virtual Expected<std::string> log_tail(const std::string& job_id, int lines) = 0;
  // The job's own output for a person to read (`cairn logs`): its last `lines` lines (all
  // tasks, an array's headed `==> task N <==`), without the evidence log_tail() adds for
  // the classifier (scheduler states, events), so fetching it again only ever grows it
  // while the job runs. Fails as log_tail() does. This default is log_tail() itself, for
  // backends that add nothing.
  virtual Expected<std::string> output(const std::string& job_id, int lines) {
    return log_tail(job_id, lines);
  }
  // Cancels one job.
  virtual Expected<void> cancel(const std::string& job_id) = 0;
  // The submitting user's queued (pending) jobs whose names start with `prefix`, as name ->
  // how many (an array counts once), whoever submitted them (a campaign's own scripts
  // too): what the anomaly scan's pile-up check counts. Read from the answer status()
  // already fetched this tick when the backend can (Slurm: the one `squeue --me`).
  // nullopt when the backend cannot list its user's jobs by name (this default): the
  // check does not run for it, which is no error. Fails only when the scheduler cannot
  // be asked.
  virtual Expected<std::optional<std::map<std::string, int>>> queued_by_name(const std::string& /*prefix*/) {
    return std::optional<std::map<std::string, int>>{};
  }
  // Brings a completed job's declared outputs (`request.spec.sync`, relative to where the
  // job ran) back into request.campaign_dir. A scheduler whose jobs write into the
  // campaign dir itself has nothing to do. Fails with ExitCode::unreachable when the
  // copy could not be made (retry next tick), ExitCode::findings when an output is
  // missing or cannot be written.
  virtual Expected<void> sync_outputs(const std::string& /*job_id*/, const SubmitRequest& /*request*/) {
    return {};
  }
  // Where this backend's job directories (JobStatus::work_dir) are probed: nullptr for
  // this machine's filesystem (Ports::workspace), else a workspace that runs its probes
  // where the jobs ran (over the backend's ssh connection). Owned by the scheduler.
  virtual Workspace* workspace() { return nullptr; }
  // Whether a job's outputs are files a Workspace can look at. False for backends whose
  // jobs write to object storage or containers (OSMO): file and command clauses then
  // fail with a precise message instead of looking in the tick's checkout.
  virtual bool outputs_are_files() const { return true; }
};

// Resolves a backend name (`local`, `slurm`, or an instance named in cairn.yaml) to a
// scheduler.
class Backends {
 public:
  virtual ~Backends() = default;
  // The scheduler of backend `name`; nullptr for an unknown name, and for a configured
  // one that cannot be built (then unusable() says why).
  virtual Scheduler* get(const std::string& name) = 0;
  // Why the configured backend `name` cannot be built: a setting it refuses, where the
  // configuration writes it ("cairn.yaml:9:40: backend `gpu` (osmo): priority must
  // be ..."). "" when it can be, or when nothing is configured under that name (not
  // configured: get() alone answers that).
  virtual std::string unusable(const std::string& name) = 0;
};

// What a failed job left behind, as evidence for the catalog.
struct Evidence {
  std::optional<int> exit_code;
  std::string state;   // e.g. "TIMEOUT", "OUT_OF_MEMORY", "FAILED"
  std::string reason;  // scheduler reason / events
  std::string log_tail;
};

struct Classification {
  std::string error_class;  // e.g. "walltime-exceeded"
  std::string fix;          // auto-fix action ("walltime x2", "mem x2", "resubmit"); empty = none
  bool safe_to_retry = false;
  bool transient = false;    // retry next tick, never counted as a stage failure
  bool destructive = false;  // the fix needs a destructive change: escalate
  int max_auto_fixes = 1;
  std::string hint;     // for humans: what to do
  std::string matched;  // the evidence text the signature matched (one line)
  std::string source;   // catalog file and line of the entry
};

// One frontmatter scalar a catalogued fix changes, e.g.
// {"stages.smoke.resources.time", "01:00:00"}.
struct SpecEdit {
  std::string key;
  std::string value;
};

// What applying a catalogued fix to a stage's spec means.
struct FixPlan {
  std::vector<SpecEdit> edits;
  std::string summary;  // e.g. "resources.time 00:30:00 -> 01:00:00"; for the failure log and lessons
  // Non-empty when the edits would raise a resource past its ceiling (which one, e.g.
  // "resources.time 48:00:00 is above the ceiling 36:00:00"): never applied, only proposed.
  std::string beyond_ceiling = {};
  // The fix resubmits only if the stage's checkpoint advanced during the attempt.
  bool needs_checkpoint = false;
  // The fix resubmits away from the nodes the failed attempt ran on (JobStatus::nodes).
  bool excludes_failed_nodes = false;
};

class Catalog {
 public:
  virtual ~Catalog() = default;
  // The first entry (project catalogs before the generic one) whose signature matches,
  // or nullopt for an error no catalog knows.
  virtual std::optional<Classification> classify(const Evidence& evidence) const = 0;
  // The edits that apply auto-fix `fix` ("walltime x2", "mem x2", "gpus +1",
  // "partition=long", "priority=LOW", "resubmit", ...) to `spec`, what they change, and
  // whether that passes a ceiling. Fails with the reason when the fix cannot apply
  // (e.g. no walltime to double).
  // `declared`: what the stage's job spec says (Scheduler::inspect); when it owns the
  // resources, a resource fix changes the `set:` value of the template variable the spec
  // uses, or fails saying which key of which file is hard-coded.
  virtual Expected<FixPlan> plan_fix(std::string_view fix, const doc::StageSpec& spec,
                                     const doc::ResourceCeilings& ceilings,
                                     const SpecInfo* declared) const = 0;
};

}  // namespace cairn::engine

namespace cairn::engine {

struct Identity {
  std::string name = "cairn";
  std::string email = "cairn@localhost";
};

struct FileWrite {
  std::string path;     // repo-relative
  std::string content;  // the file's new bytes
};

// One commit of a side branch (a clear-escalation branch): the files it writes (an
// existing file keeps its mode, a new one is a plain file) and removes, repo-relative.
struct BranchCommit {
  std::vector<FileWrite> writes;
  std::vector<std::string> removes = {};
  std::string message;
};

struct CommitRequest {
  std::string path;     // repo-relative path of the WORKFLOW.md the commit changes
  std::string content;  // its new bytes
  std::string message;  // full message, trailers included
  // Further files of the same campaign written by the same transition (the anomaly
  // scan's ORCHESTRATION_CHECK.md); usually none.
  std::vector<FileWrite> also = {};
};

// The git side of a tick. Each commit touches exactly one WORKFLOW.md (and, rarely,
// files next to it in the campaign directory).
class Store {
 public:
  virtual ~Store() = default;
  // Writes `content` to the work tree and index and commits it on the current branch
  // as `identity`. Returns the new commit id (hex).
  virtual Expected<std::string> commit(const CommitRequest& request, const Identity& identity) = 0;
  // Makes every commit so far durable (objects written, refs updated). A store that
  // writes through has nothing to do.
  virtual Expected<void> flush() { return {}; }
  // Makes every commit so far durable and, when the repository has a remote, pushes
  // the branch as a compare-and-swap on its tip. Returns true when the commits landed,
  // false when another writer moved the tip first (lost the race: nothing of ours is
  // on the remote; the caller starts over from the new tip). Fails (exit 3) when the
  // remote cannot be reached. A store without a remote only flushes.
  virtual Expected<bool> publish() {
    if (auto r = flush(); !r) return r.error();
    return true;
  }
};

}  // namespace cairn::engine
