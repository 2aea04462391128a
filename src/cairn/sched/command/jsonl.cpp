// A command backend without a preset: its status command speaks JSON lines, one object
// per job (or per task of an array), README.md "command backend".

#include <cairn/sched/command/parsing.hpp>
#include <cairn/sched/command/preset.hpp>

namespace cairn::sched {

using engine::JobState;

std::optional<JobState> parse_command_state(std::string_view text) {
  static const std::map<std::string, JobState, std::less<>> kStates = {
      {"pending", JobState::pending},     {"running", JobState::running},
      {"completed", JobState::completed}, {"failed", JobState::failed},
      {"timeout", JobState::timeout},     {"out_of_memory", JobState::out_of_memory},
      {"node_fail", JobState::node_fail}, {"preempted", JobState::preempted},
      {"cancelled", JobState::cancelled}, {"boot_fail", JobState::boot_fail},
      {"unknown", JobState::unknown}};
  auto it = kStates.find(command::lower(command::trim(text)));
  if (it == kStates.end()) return std::nullopt;
  return it->second;
}

namespace command {

namespace {

class JsonLines : public Preset {
 public:
  std::string_view name() const override { return ""; }

  // Fields: id, state, exit_code, reason, blocked, cost_usd, cpu_hours, and optionally
  // name, log, task, work_dir.
  Expected<std::vector<CommandJob>> parse_status(std::string_view text, engine::TimePoint) const override {
    JobRows rows;
    for (const auto& [n, line] : numbered_lines(text)) {
      const std::string where = "status line " + std::to_string(n) + " (" + clip(line, 120) + ")";
      json j = json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object()) return fail(where + ": not a JSON object");
      CommandJob job;
      job.status.job_id = json_str(j, "id");
      if (job.status.job_id.empty()) return fail(where + ": no \"id\"");
      const std::string state = json_str(j, "state");
      auto st = parse_command_state(state);
      if (!st) {
        return fail(where + ": unknown state \"" + state +
                    "\" (expected pending, running, completed, failed, timeout, out_of_memory, node_fail, "
                    "preempted, cancelled, boot_fail or unknown)");
      }
      job.status.state = *st;
      if (auto e = json_int(j, "exit_code")) job.status.exit_code = static_cast<int>(*e);
      if (!job.status.exit_code && *st == JobState::completed) job.status.exit_code = 0;
      job.status.reason = json_str(j, "reason");
      // `"blocked": true`: pending for a reason that will not clear by itself (a hold).
      const auto blocked = j.find("blocked");
      job.status.blocked = *st == JobState::pending && blocked != j.end() && *blocked == true;
      job.status.cost_usd = json_double(j, "cost_usd");
      job.status.cpu_hours = json_double(j, "cpu_hours");
      job.name = json_str(j, "name");
      job.log_path = json_str(j, "log");
      job.status.work_dir = json_str(j, "work_dir");
      rows.add(std::move(job), json_str(j, "task"));
    }
    return std::move(rows).fold();
  }
};

}  // namespace

const Preset& jsonl_preset() {
  static const JsonLines preset;
  return preset;
}

}  // namespace command
}  // namespace cairn::sched
