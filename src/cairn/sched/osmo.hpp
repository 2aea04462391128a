#pragma once

// The OSMO backend: NVIDIA OSMO workflows driven through the `osmo` CLI (which holds the
// login), by a CommandRunner so tests replay recorded outputs.
//
//   osmo pool list --format-type json               pools, status, quota and capacity
//   osmo resource list [-p POOL] --format-type json nodes and their free GPUs
//   osmo workflow submit FILE --pool P [--set k=v ...] [--priority LOW] --format-type json
//   osmo workflow query ID --format-type json       status, groups, tasks, exit codes
//   osmo workflow logs ID [--task T] -n N           task output
//   osmo workflow events ID                         Kubernetes events (scheduling, pulls)
//   osmo workflow cancel ID
//
// The stage's `run:` is the user's workflow YAML; it is submitted as is (cairn never
// reads it into its own structures, never rewrites it), with the stage's `set:` values
// as `--set k=v` and the pool from `pool:`, else the configured pool, else choose_pool.
//
// The CLI has no batch query: status() runs one `workflow query` per workflow (plus one
// `workflow events` per workflow still pending, to see why). A campaign has at most one
// job in flight, so a tick costs one or two calls per running OSMO campaign.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cairn/engine/ports.hpp>
#include <cairn/sched/command_runner.hpp>
#include <cairn/sched/settings.hpp>

namespace cairn::sched {

struct OsmoConfig {
  std::string pool;      // used when a stage names none; empty = choose_pool
  std::string priority;  // HIGH | NORMAL | LOW; empty = the service's default (NORMAL)
  std::string osmo = "osmo";
  // Attempts of one stage (JobKey::attempt) cairn submits before asking a human
  // (`max_attempts` of the osmo backend in cairn.yaml, docs/config.md).
  int max_attempts = 3;
  // Non-empty: submit with `--label KEY=<job key>` and let find() ask
  // `osmo workflow list --label KEY=<job key>` (needs an OSMO release with labels). The
  // value is label_value(job key): the key itself while it is a valid Kubernetes label
  // value, else a prefix and a hash of it (names.hpp).
  std::string label_key;
  std::chrono::milliseconds timeout{120000};  // per command
};

// The OsmoConfig of a cairn.yaml backend's `settings` (pool, priority, osmo,
// max_attempts, label_key, timeout_seconds). Fails naming the setting: a priority other
// than HIGH/NORMAL/LOW, a max_attempts or timeout_seconds that is not a positive integer.
Expected<OsmoConfig, SettingError> osmo_config_from(const BackendSettings& settings);

// One pool of `osmo pool list`, GPU counts as integers.
struct OsmoPool {
  std::string name;
  std::string status;  // ONLINE, OFFLINE, MAINTENANCE...
  std::string backend;
  std::string default_platform;
  std::vector<std::pair<std::string, std::string>> platforms;  // name, description
  std::int64_t quota_used = 0;
  std::int64_t quota_free = 0;
  std::int64_t quota_limit = 0;  // negative = unlimited
  std::int64_t total_usage = 0;
  std::int64_t total_capacity = 0;
  std::int64_t total_free = 0;
};

// One node of `osmo resource list`: GPUs free for workflows per pool and platform.
struct OsmoNode {
  std::string hostname;
  int gpus = 0;                                                 // installed
  std::map<std::string, std::map<std::string, int>> free_gpus;  // pool -> platform -> free
};

struct PoolChoice {
  std::string pool;
  std::string reason;  // one line: why this pool, what else was considered
};

// Pools of `osmo pool list --format-type json` (every node set). Fails
// (ExitCode::unreachable) when the text is not that JSON.
Expected<std::vector<OsmoPool>> parse_pool_list(std::string_view json);
// Nodes of `osmo resource list --format-type json`. Fails like parse_pool_list.
Expected<std::vector<OsmoNode>> parse_resource_list(std::string_view json);

// The pool for `gpus` GPUs of `gpu_type` (empty = any; matched case-insensitively
// against the pool's platform names and descriptions, name and backend).
// A pool fits when it is ONLINE, matches the type, one node has `gpus` GPUs free for it
// (from `nodes`; a pool no node lists falls back to its total_free, marked "unverified")
// and its quota has `gpus` free (not checked at LOW priority: OSMO runs LOW workflows on
// idle capacity beyond quota, preemptibly).
// Preference: node-verified before unverified, then the most quota left free (room for
// retries), then the most GPUs free in the pool, then the name.
// Fails (ExitCode::findings) naming every pool and why it does not fit; when some pool
// is blocked only by its quota the message says so and suggests `priority: LOW`.
Expected<PoolChoice> choose_pool(const std::vector<OsmoPool>& pools, const std::vector<OsmoNode>& nodes,
                                 int gpus, std::string_view gpu_type, std::string_view priority = "");

// The engine state of an OSMO workflow, group or task status (PENDING, WAITING,
// SUBMITTING, PROCESSING, SCHEDULING, INITIALIZING, RUNNING, RESCHEDULED, COMPLETED,
// FAILED and every FAILED_* of the OSMO lifecycle). Unknown text -> JobState::unknown.
engine::JobState map_osmo_status(std::string_view status);

// A JobStatus from `osmo workflow query --format-type json`: one TaskStatus per task
// (index "group/task", exit code, failure message as reason); the state is the
// workflow's, made precise by its tasks for a plain FAILED (e.g. OOMKilled ->
// out_of_memory). Fails (ExitCode::unreachable) when the text is not a workflow.
Expected<engine::JobStatus> parse_workflow_query(std::string_view json);

// What `osmo workflow submit` answers: the workflow id, and the links a human opens.
struct OsmoSubmitted {
  std::string id;
  std::string overview;   // "Workflow Overview - URL" (the OSMO web page); empty when absent
  std::string dashboard;  // "Workflow Dashboard - URL"; empty when absent
};

// The answer of `osmo workflow submit`: the JSON form ({"name": ..., "overview": ...,
// "dashboard_url": ...}) or the text form ("Workflow ID - NAME", "Workflow Overview -
// URL", "Workflow Dashboard - URL"). nullopt when it names no workflow id.
std::optional<OsmoSubmitted> parse_submit_response(std::string_view text);
// parse_submit_response(text)->id.
std::optional<std::string> parse_submit_output(std::string_view text);

// The outputs an OSMO workflow YAML declares, in order, each once: every task's
// `outputs:` entry as its `url` ("s3://bucket/run/") or "dataset NAME". Empty for a
// YAML without outputs or one yaml-cpp cannot read (the service is the judge of that).
std::vector<std::string> workflow_outputs(std::string_view yaml);

// What an OSMO workflow YAML declares for cairn (`file` names it in messages): its
// outputs (workflow_outputs), and every `resources.<spec>.{cpu,gpu,memory,storage}` as a
// ResourceBinding (cpus, gpus, mem, storage) whose variable is the `{{name}}` the value
// is made of ("{{memory}}", "{{num_gpu}}", quoted or not), empty when hard-coded. The
// YAML owns the resources (`owns_resources`). Never fails: a YAML yaml-cpp cannot read
// declares nothing.
engine::SpecInfo inspect_workflow(std::string_view yaml, const std::string& file);

// The template variable an OSMO workflow YAML's `workflow.name` is made of: "run_name"
// for `name: "{{ run_name }}"` (or `gr00t-{{run_name}}`, fixed text around one
// variable). nullopt when the name is hard-coded, made of several variables or absent,
// or the YAML cannot be read. Never fails.
std::optional<std::string> workflow_name_variable(std::string_view yaml);

// The Warning lines of `osmo workflow events` text (timestamp, type, reason, message
// columns), in order, whitespace runs collapsed. Never fails.
std::vector<std::string> event_warnings(std::string_view events);

// What pending-workflow events say cannot resolve by waiting: an image pull that backs
// off (ErrImagePull/ImagePullBackOff), or FailedScheduling that requests more GPUs than
// any node has ("requested R, max per node M", R > M). Returns the evidence: every
// image-pull warning line (joined by " / ", so the registry's reason is kept), or the
// FailedScheduling line; "" when nothing blocks.
std::string blocking_event(std::string_view events);

// The requested vs node-capacity table of a submit that "failed capacity validation"
// (the pool from "in pool 'NAME'", one CapacityLimit per resource row: gpu, cpu, memory,
// storage, each `over` when the request exceeds the node; a resource listed for several
// tasks keeps its largest request). nullopt when `text` is not such an error. Never fails.
std::optional<engine::CapacityRefusal> parse_capacity_error(std::string_view text);

class OsmoScheduler : public engine::Scheduler {
 public:
  OsmoScheduler(std::unique_ptr<CommandRunner> runner, OsmoConfig config);

  // Identity. OSMO makes a workflow's id of the YAML's `workflow.name` and a counter
  // ("gr00t-train-1"), and cairn never edits the YAML. So the job key is found again
  // (1) in `<campaign dir>/.cairn/osmo/<job key>` holding the workflow id, written right
  // after `osmo workflow submit` answers (campaign dirs this object submitted from);
  // (2) when config.label_key is set, as a workflow label OSMO is asked for; else
  // (3) by name: a YAML whose `workflow.name` is a template variable gets it set to
  // osmo_workflow_name(key), and find() asks `osmo workflow list --name` for it, so a
  // tick on a fresh machine (a CI runner without .cairn/) that died between submit and
  // commit adopts the workflow. A YAML with a hard-coded name has only (1); its submit
  // notes say so. Fails with ExitCode::unreachable when OSMO cannot be asked.
  Expected<std::optional<std::string>> find(const engine::JobKey& key) override;
  // Adopts the workflow recorded for the key, else picks the pool and runs `osmo workflow
  // submit` on the stage's YAML, unchanged, with `--set` of the stage's `set:` values and
  // of the variable the YAML's name is made of (workflow_name_variable), which is always
  // osmo_workflow_name(key), whatever `set:` says. The pool: the stage's `pool:`, else the
  // configured one, else the first attempt's (`request.first_pool`: a resubmit goes back
  // to the same pool) while `osmo pool list` shows it ONLINE, else choose_pool's (saying
  // why the first one was not kept). Returns the workflow id. Fails (ExitCode::findings)
  // when the attempt exceeds config.max_attempts, the YAML is missing, no pool fits, or
  // the service rejects the workflow (its message, e.g. a capacity validation error);
  // ExitCode::unreachable when OSMO cannot be reached.
  Expected<std::string> submit(const engine::SubmitRequest& request) override;
  // One `workflow query` per id, and `workflow events` for those still pending: a
  // pending workflow whose events show a blocking_event() is reported failed with that
  // event as reason (it stays PENDING in OSMO until cancelled); otherwise the latest
  // warning becomes the reason. Ids OSMO does not know are left out (unknown). Fails with
  // ExitCode::unreachable when OSMO cannot be reached.
  Expected<std::map<std::string, engine::JobStatus>> status(const std::vector<std::string>& job_ids) override;
  // The last `lines` log lines of the failed tasks (all tasks when none failed), then the
  // workflow's events, then an "[osmo] ..." line per task with status, exit code and
  // failure message: what the failure catalog classifies (OOMKilled/137, ImagePullBackOff,
  // FailedScheduling, unauthorized pulls). A log or events call that fails is noted in
  // the text. Fails when the query fails (ExitCode::unreachable / findings as classified).
  Expected<std::string> log_tail(const std::string& job_id, int lines) override;
  // `osmo workflow logs <id> -n LINES` alone (a call that fails is noted as "[osmo] ..."
  // lines): what the workflow's tasks printed. Fails when OSMO cannot be run.
  Expected<std::string> output(const std::string& job_id, int lines) override;
  // `osmo workflow cancel <id>`. Fails per classify_tool_error, also when the CLI
  // prints "cancelation failed" with exit 0.
  Expected<void> cancel(const std::string& job_id) override;
  // False: a workflow's outputs are in its containers and object storage, never files
  // a Workspace can look at (file and command clauses then fail precisely).
  bool outputs_are_files() const override { return false; }
  // For a workflow submitted by this object: "Pool: NAME (why)", "Overview: URL",
  // "Dashboard: URL" (when the service printed one), "Outputs: ..." (the YAML's), and,
  // without label_key, "Note: FILE hard-codes workflow.name ..." when the YAML names the
  // workflow itself (only the state file then ties it to its key; what to template).
  std::vector<std::string> submit_notes(const std::string& job_id) const override;
  // The table of the last submit of `key` that failed capacity validation
  // (parse_capacity_error; the pool filled in from the submit when the text names none).
  std::optional<engine::CapacityRefusal> capacity_refusal(const engine::JobKey& key) const override;
  // The outputs the stage's workflow YAML declares (workflow_outputs); nullopt when the
  // YAML cannot be read.
  std::optional<engine::SpecInfo> inspect(const engine::SubmitRequest& request) const override;

  // Why the last submit without a pool went where it did ("" if none).
  const std::string& last_pool_choice() const { return m_choice_reason; }

  // `<campaign_dir>/.cairn/osmo/<key>`: where submit records the workflow id.
  static std::string state_file(const std::string& campaign_dir, const engine::JobKey& key);
  // The workflow YAML of a request: its `run:`, relative to the campaign dir unless absolute.
  static std::string spec_file(const engine::SubmitRequest& request);

 private:
  Expected<CommandResult> call(const std::vector<std::string>& argv);
  // The pool of a submit, and one line saying why it is that one: the stage's, the
  // configured one, the first attempt's while it is ONLINE, else choose_pool's.
  Expected<std::pair<std::string, std::string>> pick_pool(const engine::SubmitRequest& request);
  Expected<std::optional<std::string>> find_by_label(const engine::JobKey& key);
  // The newest of the caller's workflows whose name holds osmo_workflow_name(key).
  Expected<std::optional<std::string>> find_by_name(const engine::JobKey& key);

  std::unique_ptr<CommandRunner> m_runner;
  OsmoConfig m_config;
  std::vector<std::string> m_campaign_dirs;  // seen by submit(), for find()
  std::string m_choice_reason;
  std::map<std::string, std::vector<std::string>> m_notes;    // submit_notes, by workflow id
  std::map<std::string, engine::CapacityRefusal> m_refusals;  // capacity_refusal, by job key
};

}  // namespace cairn::sched
