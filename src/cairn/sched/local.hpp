#pragma once

// The local backend: a small scheduler of this machine, the embedded default.
//
// Every job lives in a run directory `<state>/jobs/<repo>/<job key>/`, where <repo> is
// a hash of the campaign repo's identity (its remote URL or path), so every clone of
// one repo on the machine sees the same jobs and two repos never share one. The job id
// is the job key (`cairn.<campaign>.<stage>.<attempt>`), which makes submit idempotent:
// a tick killed between submit and commit finds the run directory again and adopts it.
//
//   job.json        what to run: campaign dir, script, tasks, wall-clock limit
//   supervisor      "pid starttime started" of the detached supervisor, once claimed
//   task-<i>.log    the task's stdout and stderr
//   task-<i>.exit   its exit record (JSON), written atomically when it ends
//   cancel          present once `cancel` was asked for
//
// Submit starts a supervisor process (double fork, setsid, so it outlives the tick)
// that runs each task with cwd = the campaign dir, enforces `resources.time` (SIGTERM
// to the task's process group, then SIGKILL after a grace period; reported as a
// timeout) and writes the exit records. status() only reads files: one pass, no
// waiting, and a supervisor that vanished (reboot, kill -9) is reported as node_fail.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <cairn/engine/ports.hpp>

namespace cairn::sched {

// $CAIRN_STATE_DIR, else $XDG_STATE_HOME/cairn, else $HOME/.local/state/cairn (else
// /tmp/cairn-state-<uid> when HOME is unset).
std::string default_state_dir();

struct LocalOptions {
  // Between SIGTERM and SIGKILL when a task outlives its wall-clock limit or is cancelled.
  std::chrono::seconds kill_grace{10};
  // Tasks of an array run at once when the array names no `%N` limit; 0 = one per CPU.
  int max_parallel = 0;
};

class LocalScheduler : public engine::Scheduler {
 public:
  // `qualifier` identifies the campaign repo (remote URL or top-level path).
  // $CAIRN_LOCAL_KILL_GRACE (seconds) overrides options.kill_grace.
  LocalScheduler(std::string state_dir, std::string qualifier, LocalOptions options = {});

  Expected<std::optional<std::string>> find(const engine::JobKey& key) override;
  // Creates the run directory (or adopts the existing one) and starts its supervisor
  // unless one was already started. Fails (exit 3) when the state dir is not writable
  // or the array text is invalid.
  Expected<std::string> submit(const engine::SubmitRequest& request) override;
  // Reads each job's files; ids without a run directory are absent from the answer.
  // work_dir is the campaign dir recorded at submit (the tasks' cwd).
  Expected<std::map<std::string, engine::JobStatus>> status(const std::vector<std::string>& job_ids) override;
  // From the run directories: the jobs of this repository whose key starts with `prefix`
  // and that are pending (an array whose tasks all wait). Only cairn submits here, so
  // nothing else can pile up. Never fails.
  Expected<std::optional<std::map<std::string, int>>> queued_by_name(const std::string& prefix) override;
  // The last `lines` lines of each task's log; for an array each task's tail is headed
  // `==> task N <==`. Fails for an unknown job.
  Expected<std::string> log_tail(const std::string& job_id, int lines) override;
  // Asks the supervisor to stop the job (SIGTERM, then SIGKILL after the grace period);
  // when the supervisor is gone, records the open tasks as cancelled. Fails for an
  // unknown job.
  Expected<void> cancel(const std::string& job_id) override;

  // The run directory of `job_id` (which need not exist).
  std::string run_dir(const std::string& job_id) const;

 private:
  std::string m_jobs_dir;  // <state>/jobs/<repo hash>
  std::string m_qualifier;
  LocalOptions m_options;
};

}  // namespace cairn::sched
