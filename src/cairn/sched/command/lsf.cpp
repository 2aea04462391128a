// IBM Spectrum LSF: bsub, `bjobs -json -o ...`, bkill.

#include <cairn/sched/command/parsing.hpp>
#include <cairn/sched/command/preset.hpp>

namespace cairn::sched::command {

namespace {

using engine::JobState;

std::optional<double> seconds_of(const std::string& text) {
  // "123 second(s)", "0.4 second(s)", "-" when not started
  try {
    std::size_t used = 0;
    double v = std::stod(text, &used);
    return used > 0 ? std::optional<double>(v) : std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// bsub's %J (job id) and %I (array index) in an output path, each written once, left to
// right: a replacement is never scanned again (a job id may itself hold "%J").
std::string expand_lsf_path(std::string_view path, std::string_view job_id, std::string_view index) {
  std::string out;
  out.reserve(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 1 < path.size() && (path[i + 1] == 'J' || path[i + 1] == 'I')) {
      out += path[i + 1] == 'J' ? job_id : index;
      ++i;
    } else {
      out += path[i];
    }
  }
  return out;
}

class Lsf : public Preset {
 public:
  std::string_view name() const override { return "lsf"; }

  PresetDefaults defaults() const override {
    return {.submit =
                "bsub -J {key} -cwd {dir} -oo {dir}/.cairn/{key}.out [ -W {time_minutes} ] [ -n {cpus} ] "
                "[ -R rusage[mem={mem_mb}] ] [ -gpu num={gpus} ] [ -q {partition} ] {run}",
            .status =
                "bjobs -a -json -o \"jobid stat exit_code job_name exit_reason pend_reason cpu_used run_time "
                "output_file exec_cwd\" {job_ids}",
            .find = "bjobs -a -json -o \"jobid stat job_name\" -J {key}",
            .cancel = "bkill {job_id}"};
  }

  bool find_answers_as_status() const override { return true; }

  bool partial_answer(const CommandResult& r) const override {
    return icontains(r.err, "is not found") || icontains(r.out, "is not found");
  }

  // bsub: "Job <1234> is submitted to default queue <normal>."
  Expected<std::string> submit_id(const std::string&, std::string_view out) const override {
    return first_group(R"(Job <(\d+)>)", out);
  }

  bool makes_output_dir() const override { return true; }

  Expected<std::vector<CommandJob>> parse_status(std::string_view text, engine::TimePoint) const override {
    // Without a match some LSF versions print "Job <name> is not found" instead of JSON.
    if (trim(text).empty() || (trim(text).front() != '{' && icontains(text, "is not found"))) {
      return std::vector<CommandJob>{};
    }
    auto doc = CAIRN_TRY(parse_document("bjobs", text));
    auto records = doc.find("RECORDS");
    if (records == doc.end() || !records->is_array()) return fail("bjobs: no \"RECORDS\" list in its JSON");
    JobRows rows;
    for (const auto& r : *records) {
      if (r.contains("ERROR")) continue;  // "Job <123> is not found"
      CommandJob job;
      job.status.job_id = json_str(r, "JOBID");
      if (job.status.job_id.empty()) continue;
      job.name = json_str(r, "JOB_NAME");
      std::string task;
      // An array element's name is "name[3]".
      if (auto lb = job.name.rfind('['); lb != std::string::npos && job.name.back() == ']') {
        const std::string idx = job.name.substr(lb + 1, job.name.size() - lb - 2);
        if (to_int(idx)) {
          task = idx;
          job.name.resize(lb);
        }
      }
      const std::string st = json_str(r, "STAT");
      const std::string why = json_str(r, "EXIT_REASON");
      const std::string pend = json_str(r, "PEND_REASON");
      auto exit = to_int(json_str(r, "EXIT_CODE"));
      job.status.reason = st;
      if (!why.empty() && why != "-") job.status.reason += " (" + why + ")";
      if (!pend.empty() && pend != "-" && st == "PEND") job.status.reason += " (" + pend + ")";
      if (st == "PEND" || st == "PSUSP" || st == "WAIT") {
        job.status.state = JobState::pending;
      } else if (st == "RUN" || st == "USUSP" || st == "SSUSP" || st == "PROV") {
        job.status.state = JobState::running;
      } else if (st == "DONE") {
        job.status.state = JobState::completed;
        job.status.exit_code = 0;
      } else if (st == "EXIT") {
        job.status.state = JobState::failed;
        job.status.exit_code = static_cast<int>(exit.value_or(1));
        if (icontains(why, "RUNLIMIT") || icontains(why, "run time limit")) {
          job.status.state = JobState::timeout;
        } else if (icontains(why, "MEMLIMIT") || icontains(why, "memory limit")) {
          job.status.state = JobState::out_of_memory;
        } else if (icontains(why, "PREEMPT")) {
          job.status.state = JobState::preempted;
        } else if (icontains(why, "TERM_OWNER") || icontains(why, "TERM_ADMIN") ||
                   icontains(why, "TERM_FORCE") || icontains(why, "killed by owner") ||
                   icontains(why, "killed by root")) {
          job.status.state = JobState::cancelled;
        } else if (icontains(why, "TERM_ZOMBIE") || icontains(why, "TERM_HOST") ||
                   icontains(why, "host failure")) {
          job.status.state = JobState::node_fail;
        }
      } else if (st == "ZOMBI") {
        job.status.state = JobState::node_fail;
      } else {
        job.status.state = JobState::unknown;  // UNKWN: mbatchd lost the execution host for now
      }
      if (auto cpu = seconds_of(json_str(r, "CPU_USED"))) job.status.cpu_hours = *cpu / 3600.0;
      const std::string out =
          expand_lsf_path(json_str(r, "OUTPUT_FILE"), job.status.job_id, task.empty() ? "0" : task);
      job.log_path = out == "-" ? "" : out;
      // Where it runs (bsub -cwd); "-" or absent until it has started.
      if (const std::string cwd = json_str(r, "EXEC_CWD"); cwd != "-") job.status.work_dir = cwd;
      rows.add(std::move(job), task);
    }
    return std::move(rows).fold();
  }
};

}  // namespace

const Preset& lsf_preset() {
  static const Lsf preset;
  return preset;
}

}  // namespace cairn::sched::command
