// PBS Pro / OpenPBS: qsub, `qstat -x -t -F json -f`, qselect, qdel.

#include <cairn/sched/command/parsing.hpp>
#include <cairn/sched/command/preset.hpp>

namespace cairn::sched::command {

namespace {

using engine::JobState;

// "HH:MM:SS" -> seconds (PBS walltime, hours unbounded).
std::optional<std::int64_t> hms_seconds(std::string_view s) {
  std::int64_t total = 0;
  int parts = 0;
  while (true) {
    auto p = s.find(':');
    auto v = to_int(s.substr(0, p));
    // Three fields of at most 10^12 each: the sum stays far inside int64.
    if (!v || *v < 0 || *v > 1'000'000'000'000 || parts == 3) return std::nullopt;
    total = total * 60 + *v;
    ++parts;
    if (p == std::string_view::npos) break;
    s.remove_prefix(p + 1);
  }
  return parts == 3 ? std::optional<std::int64_t>(total) : std::nullopt;
}

// PBS Pro's JOB_EXEC_* codes (negative Exit_status: the job never ran its script
// to the end for the scheduler's own reasons).
JobState exec_state(std::int64_t code) {
  switch (code) {
    case -1:
    case -2:
    case -4:
    case -5:
    case -6:
    case -7:
    case -10: return JobState::boot_fail;
    case -20: return JobState::node_fail;
    case -26:
    case -27: return JobState::out_of_memory;
    case -29: return JobState::timeout;
    default: return JobState::failed;
  }
}

class Pbs : public Preset {
 public:
  std::string_view name() const override { return "pbs"; }

  PresetDefaults defaults() const override {
    return {.submit =
                "qsub -N {key} -j oe -o {dir}/.cairn/{key}.out -v CAIRN_DIR={dir} [ -l walltime={time} ] "
                "-l select={pbs_select} [ -q {partition} ] [ -J {array} ] {run}",
            .status = "qstat -x -t -F json -f {job_ids}",
            .find = "qselect -x -u {user} -N {key}",
            .cancel = "qdel {job_id}"};
  }

  bool partial_answer(const CommandResult& r) const override {
    return icontains(r.err, "Unknown Job Id") || icontains(r.err, "Job has finished");
  }

  bool makes_output_dir() const override { return true; }

  Expected<std::vector<CommandJob>> parse_status(std::string_view text, engine::TimePoint) const override {
    if (trim(text).empty()) return std::vector<CommandJob>{};
    auto doc = CAIRN_TRY(parse_document("qstat", text));
    auto jobs = doc.find("Jobs");
    if (jobs == doc.end()) return std::vector<CommandJob>{};  // no job matched
    if (!jobs->is_object()) return fail("qstat: \"Jobs\" is not an object");
    JobRows rows;
    for (const auto& [id, j] : jobs->items()) {
      CommandJob job;
      // `qstat -t` lists an array's subjobs as "1234[3].server" next to "1234[].server".
      std::string task;
      job.status.job_id = id;
      if (auto lb = id.find('['), rb = id.find(']');
          lb != std::string::npos && rb != std::string::npos && rb > lb + 1) {
        task = id.substr(lb + 1, rb - lb - 1);
        job.status.job_id = id.substr(0, lb + 1) + id.substr(rb);
      }
      job.name = json_str(j, "Job_Name");
      // The preset's jobs start in $HOME and work in $CAIRN_DIR (qsub -v): that is the
      // job's directory. PBS_O_WORKDIR is only where qsub ran.
      if (auto vars = j.find("Variable_List"); vars != j.end() && vars->is_object()) {
        job.status.work_dir = json_str(*vars, "CAIRN_DIR");
      }
      const std::string path = json_str(j, "Output_Path");
      job.log_path = path.substr(path.find(':') == std::string::npos ? 0 : path.find(':') + 1);
      const std::string st = json_str(j, "job_state");
      const std::string comment = json_str(j, "comment");
      const auto exit = json_int(j, "Exit_status");
      job.status.reason = "job_state=" + st + (comment.empty() ? "" : " (" + comment + ")");
      if (st == "Q" || st == "H" || st == "W" || st == "T" || st == "M") {
        job.status.state = JobState::pending;
        job.status.blocked = st == "H";  // held: waits for a human, not for its turn
      } else if (st == "R" || st == "E" || st == "B" || st == "S" || st == "U") {
        job.status.state = JobState::running;
      } else if (st == "F" || st == "X") {
        if (!exit) {
          // Deleted before it ran: history keeps no exit status.
          job.status.state = JobState::cancelled;
        } else if (*exit < 0) {
          job.status.state = exec_state(*exit);
          job.status.exit_code = static_cast<int>(*exit);
        } else if (*exit >= 256) {
          job.status.state = JobState::failed;
          job.status.exit_code = static_cast<int>(128 + *exit - 256);
          job.status.reason += ", signal " + std::to_string(*exit - 256);
        } else {
          job.status.state = *exit == 0 ? JobState::completed : JobState::failed;
          job.status.exit_code = static_cast<int>(*exit);
        }
        // MoM says why it killed a job only in the comment.
        if (icontains(comment, "walltime") && icontains(comment, "exceed"))
          job.status.state = JobState::timeout;
        if ((icontains(comment, " mem ") || icontains(comment, "mem ") || icontains(comment, "vmem")) &&
            icontains(comment, "exceed") && !icontains(comment, "walltime")) {
          job.status.state = JobState::out_of_memory;
        }
        if (icontains(comment, "deleted")) job.status.state = JobState::cancelled;
      } else {
        job.status.state = JobState::unknown;
      }
      if (auto used = j.find("resources_used"); used != j.end() && used->is_object()) {
        auto wall = hms_seconds(json_str(*used, "walltime"));
        auto ncpus = json_int(*used, "ncpus");
        if (wall && ncpus)
          job.status.cpu_hours = static_cast<double>(*wall) / 3600.0 * static_cast<double>(*ncpus);
      }
      rows.add(std::move(job), task);
    }
    return std::move(rows).fold();
  }
};

}  // namespace

const Preset& pbs_preset() {
  static const Pbs preset;
  return preset;
}

}  // namespace cairn::sched::command
