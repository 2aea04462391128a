#pragma once

// The Slurm backend: sbatch / squeue / sacct / scancel / sinfo through a CommandRunner
// (locally or on a login node through ssh). Gentle to the controller: status() asks
// squeue once and sacct at most once for any number of jobs, and never polls.

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
#include <cairn/sched/workspace.hpp>

namespace cairn::sched {

struct SlurmConfig {
  std::string partition;  // used when a stage names none; empty = choose with sinfo
  std::string ssh_host;   // non-empty: run every command there through ssh
  // Where job output goes: empty = <campaign dir>/.cairn, relative = under the campaign
  // dir, absolute = as is. Files are slurm-<job name>-<job id>[_<task>].out.
  std::string output_dir;
  std::string sbatch = "sbatch";
  std::string squeue = "squeue";
  std::string sacct = "sacct";
  std::string scancel = "scancel";
  std::string sinfo = "sinfo";
  std::string scontrol = "scontrol";
  std::string rsync = "rsync";               // here; with ssh_host the login node needs one too
  std::chrono::milliseconds timeout{60000};  // per command
  // Per sync_outputs() call: big outputs take long. A copy cut short is retried next
  // tick; rsync then skips the files it already brought back.
  std::chrono::milliseconds sync_timeout{30 * 60 * 1000};
  std::string sacct_window = "now-30days";  // how far back find() looks in sacct
  std::string ssh_control_path;             // ControlPath for ssh sharing; empty = default
  std::string ssh_config;                   // `ssh -F` file; empty = ~/.ssh/config
};

// The SlurmConfig of a cairn.yaml backend's `settings`: partition, ssh_host, output_dir,
// ssh_control_path, ssh_config as written; the rest keep their defaults. Never fails.
SlurmConfig slurm_config_from(const BackendSettings& settings);

// One row of squeue or sacct output, fields as printed.
struct SlurmRecord {
  std::string job_id;     // "1234", "1234_3", "1234_[4-9%2]"
  std::string name;       // sacct JobName, squeue %j
  std::string state;      // "RUNNING", "CANCELLED by 1000", ...
  std::string reason;     // squeue %r / sacct Reason
  std::string exit_code;  // sacct "N:S"; empty from squeue
  std::string elapsed;    // sacct Elapsed, e.g. "00:01:02" or "1-02:03:04"
  int alloc_cpus = 0;
  std::string node_list;  // squeue %N / sacct NodeList: "c07", "c[01-03]"; "None assigned" when unplaced
  // Submit, start and end time as printed with SLURM_TIME_FORMAT=%s (epoch seconds), or
  // "Unknown", "None", "N/A". squeue's start is a forecast while the job is pending, its
  // end one while it runs.
  std::string submit;
  std::string start;
  std::string end;
  std::string partition;  // "debug"; a pending job's "a,b" when it named several
  // squeue %Z / sacct WorkDir: the job's --chdir. Empty in the placeholder row slurmdbd
  // shows before the job's start record arrives (name "allocation").
  std::string work_dir;
};

struct PartitionInfo {
  std::string name;  // without sinfo's default-partition '*'
  bool up = false;
  std::optional<std::int64_t> time_limit_seconds;  // nullopt = infinite
  std::string time_limit_text;
  int gpus_per_node = 0;  // largest GPU GRES count of any node
  int nodes = 0;
  int idle_nodes = 0;
  int usable_nodes = 0;  // not down, drained or failing
};

struct PartitionChoice {
  std::string partition;
  std::string reason;  // one line for the learnings: why this one, what else was considered
};

// The engine state for a Slurm state name (squeue %T or sacct State, incl. "CANCELLED by
// 123" and the short codes PD/R/CG/CD/F/CA/TO/OOM/NF/PR/BF/DL/RQ/S/CF). Unknown text
// maps to JobState::unknown.
engine::JobState map_slurm_state(std::string_view state);

// A time as printed with SLURM_TIME_FORMAT=%s (epoch seconds); nullopt for "Unknown",
// "None", "N/A" and anything else.
std::optional<engine::TimePoint> parse_slurm_time(std::string_view text);

// Rows of `squeue --noheader -o '%i|%T|%r|%V|%S|%e|%P|%N|%j|%Z'` (the order SlurmScheduler
// asks for; the fields after %r may be missing; %Z last, so a '|' in it survives). Lines
// of fewer than three fields are skipped.
std::vector<SlurmRecord> parse_squeue(std::string_view text);
// Of squeue's `rows`, the pending jobs whose name starts with `prefix`: name -> how many
// jobs (an array's pending tasks are one job: an array is one submission).
std::map<std::string, int> count_queued(const std::vector<SlurmRecord>& rows, std::string_view prefix);
// Rows of `sacct --noheader --parsable2 -o JobID,JobName,State,ExitCode,Reason,Elapsed,
// AllocCPUS,NodeList,Submit,Start,End,Partition,WorkDir` (the order SlurmScheduler asks
// for; WorkDir last, so a '|' in it survives). Short lines are skipped.
std::vector<SlurmRecord> parse_sacct(std::string_view text);
// Per requested job id: rows whose id is that job or one of its array tasks, folded
// into one JobStatus (tasks listed; any running -> running, else any pending ->
// pending, else the worst final state; exit_code = first non-zero task exit;
// submitted = the earliest submit, started = the earliest start of a task that ran,
// ended = the latest end once the job is final; pool = the partitions the rows name;
// work_dir = the first row's that has one).
// Requested ids with no row are left out.
std::map<std::string, engine::JobStatus> aggregate(const std::vector<SlurmRecord>& records,
                                                   const std::vector<std::string>& job_ids);

// Partitions from `sinfo --noheader -o '%P|%a|%l|%G|%D|%t'` (one row per partition and
// node state; rows of one partition are merged). Lines that do not parse are skipped.
std::vector<PartitionInfo> parse_sinfo(std::string_view text);
// The partition that fits `resources` (time limit and GPUs per node): up with usable
// nodes, preferring idle nodes, then the smallest sufficient time limit, then the
// fewest GPUs. Fails (ExitCode::findings) naming each partition and why it does not fit.
Expected<PartitionChoice> choose_partition(const std::vector<PartitionInfo>& partitions,
                                           const doc::Resources& resources);

class SlurmScheduler : public engine::Scheduler {
 public:
  // Takes every command through `runner`, wrapped in an SshRunner when
  // config.ssh_host is set.
  SlurmScheduler(std::unique_ptr<CommandRunner> runner, SlurmConfig config);

  // The job named `key` among this user's jobs (`squeue --me`, then `sacct --user=USER`
  // over config.sacct_window, USER being `id -un` where the commands run, asked once);
  // the most recent one when several carry the name. Fails with ExitCode::unreachable
  // when a query fails or the user cannot be told.
  Expected<std::optional<std::string>> find(const engine::JobKey& key) override;
  // find() for every key at once: one `squeue --me --name=K1,K2,...`, then (for the
  // keys it does not show) one `id -un` at most per scheduler and one `sacct
  // --user=USER --name=...`. A key holding a comma (squeue splits --name on commas) is
  // asked alone. Fails like find().
  Expected<std::map<std::string, std::string>> find_all(const std::vector<engine::JobKey>& keys) override;
  // Adopts the job found under the key, else creates the output dir and runs sbatch with
  // the spec's resources in work_dir(request) (the script is `run` there). Returns the
  // job id. Fails per classify_tool_error, or with ExitCode::findings when no partition
  // fits or request.remote_dir is not an absolute path (e.g. a template's `<user>`).
  Expected<std::string> submit(const engine::SubmitRequest& request) override;
  // One `squeue --me` (all states, every job of the user: the pile-up check reads the same
  // answer) filtered to the ids, then one sacct for those squeue no longer shows
  // or shows finished (for exit codes, CPU time, submit/start/end times, partition and
  // the working directory, squeue's %Z while queued and sacct's WorkDir after),
  // both asked for epoch times (`env SLURM_TIME_FORMAT=%s`). A job seen by neither is pending
  // (just submitted); a job gone from squeue whose accounting record is still the
  // placeholder is left out (unknown: retry next tick). Fails with
  // ExitCode::unreachable when a query fails; no job is ever failed for that.
  Expected<std::map<std::string, engine::JobStatus>> status(const std::vector<std::string>& job_ids) override;
  // count_queued() over the `squeue --me` that status() asked this tick; one such squeue
  // when status() did not run. Fails with ExitCode::unreachable when squeue fails.
  Expected<std::optional<std::map<std::string, int>>> queued_by_name(const std::string& prefix) override;
  // The last `lines` lines of each output file of the job (tasks in order, with tail's
  // "==> file <==" headers for arrays), then a "[slurm] ..." line with the state,
  // reason and exit code. Fails with ExitCode::unreachable when Slurm cannot be asked
  // or accounting has not recorded the job yet, ExitCode::findings when it is unknown.
  Expected<std::string> log_tail(const std::string& job_id, int lines) override;
  // The same without the "[slurm] ..." evidence line: what the job printed.
  Expected<std::string> output(const std::string& job_id, int lines) override;
  // `scancel <job_id>`. Fails per classify_tool_error.
  Expected<void> cancel(const std::string& job_id) override;
  // Runs rsync_argv(request) here, when it is not empty. Fails with ExitCode::findings
  // when an output is missing or cannot be written (rsync exit 23/24, syntax, file
  // selection), ExitCode::unreachable otherwise (ssh, timeout, a broken connection).
  Expected<void> sync_outputs(const std::string& job_id, const engine::SubmitRequest& request) override;

  // The job's working directory: request.remote_dir, else request.campaign_dir.
  static const std::string& work_dir(const engine::SubmitRequest& request);
  // The one rsync that brings request.spec.sync back: `rsync -a --relative -s
  // [-e 'ssh ...' HOST:]WORKDIR/./PATH... CAMPAIGN_DIR/`, through the same ssh options
  // (and shared connection) as every other command. Empty when there is nothing to
  // copy: no sync paths, or the job ran in the campaign dir on this machine. Without
  // ssh_host, globs are expanded here (no remote shell or rsync does it). Never fails.
  std::vector<std::string> rsync_argv(const engine::SubmitRequest& request) const;

  // With ssh_host, a RemoteWorkspace over the same ssh connection (the login node sees
  // the jobs' WorkDir); nullptr without: the jobs' directories are this machine's.
  engine::Workspace* workspace() override;

  // Why the last submit without a configured partition went where it did ("" if none).
  const std::string& last_partition_choice() const { return m_choice_reason; }

 private:
  Expected<CommandResult> call(const std::vector<std::string>& argv);
  // Every job of the user squeue shows (`squeue --me --states=all --array`), kept for
  // queued_by_name().
  Expected<std::vector<SlurmRecord>> user_queue();
  // log_tail() and output(): with `with_evidence`, the "[slurm] ..." line at the end.
  Expected<std::string> tail(const std::string& job_id, int lines, bool with_evidence);
  Expected<std::string> login_user();
  Expected<std::string> pick_partition(const doc::Resources& resources);
  std::string output_dir_for(const std::string& work_dir) const;

  std::unique_ptr<CommandRunner> m_runner;
  CommandRunner* m_local = nullptr;  // m_runner itself, or the runner under its ssh
  std::optional<SshOptions> m_ssh;
  SlurmConfig m_config;
  std::optional<std::vector<PartitionInfo>> m_partitions;  // sinfo, asked once
  std::string m_choice_reason;
  std::string m_user;  // `id -un` where the commands run, once asked
  std::unique_ptr<RemoteWorkspace> m_workspace;
  std::optional<std::vector<SlurmRecord>> m_queue;  // the last user_queue() answer
};

}  // namespace cairn::sched
