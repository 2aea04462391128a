// Vast.ai: one rented instance per stage through the `vastai` CLI (`--raw` JSON).

#include <algorithm>
#include <chrono>

#include <cairn/sched/command/parsing.hpp>
#include <cairn/sched/command/preset.hpp>
#include <cairn/util/number.hpp>
#include <cairn/util/time.hpp>

namespace cairn::sched::command {

namespace {

using engine::JobState;

class Vastai : public Preset {
 public:
  std::string_view name() const override { return "vastai"; }

  PresetDefaults defaults() const override {
    return {.submit =
                "vastai create instance {offer} --image {image} [ --disk {disk} ] --label {key} "
                "--onstart {run} --raw",
            .status = "vastai show instances --raw",
            .cancel = "vastai destroy instance {job_id}",
            .logs = "vastai logs {job_id} --tail {lines}",
            .settings = {"offer", "image", "disk"},
            .required = {"offer", "image"}};
  }

  // --raw: {"success": true, "new_contract": 7835610}
  Expected<std::string> submit_id(const std::string& prog, std::string_view out) const override {
    json j = json::parse(out, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::string();
    if (j.contains("success") && j["success"].is_boolean() && !j["success"].get<bool>()) {
      return fail(prog + ": " + json_str(j, "error") + " " + json_str(j, "msg"));
    }
    return json_str(j, "new_contract");
  }

  // An instance's disk is gone with it.
  bool outputs_are_files(const Values&) const override { return false; }

  Expected<std::vector<CommandJob>> parse_status(std::string_view text,
                                                 engine::TimePoint now) const override {
    std::vector<CommandJob> out;
    auto doc = CAIRN_TRY(parse_document("vastai show instances", text));
    const json* list = &doc;
    if (doc.is_object() && doc.contains("instances")) list = &doc["instances"];
    if (!list->is_array()) return fail("vastai show instances: not a list of instances");
    const double now_s = std::chrono::duration<double>(now.time_since_epoch()).count();
    for (const auto& i : *list) {
      CommandJob job;
      job.status.job_id = json_str(i, "id");
      if (job.status.job_id.empty()) continue;
      job.name = json_str(i, "label");
      const std::string actual = json_str(i, "actual_status");
      const std::string intended = json_str(i, "intended_status");
      const std::string msg = std::string(trim(json_str(i, "status_msg")));
      if (actual.empty() || actual == "created" || actual == "loading" || actual == "scheduling") {
        job.status.state = JobState::pending;
      } else if (actual == "running") {
        job.status.state = JobState::running;
      } else if (actual == "exited" || actual == "stopped") {
        const bool error = icontains(msg, "error") || icontains(msg, "failed");
        job.status.state = error ? JobState::failed : JobState::completed;
        if (!error) job.status.exit_code = 0;
      } else if (actual == "offline") {
        job.status.state = JobState::node_fail;
      } else {
        job.status.state = JobState::unknown;
      }
      job.status.reason = "actual_status=" + (actual.empty() ? std::string("(none)") : actual) +
                          " intended_status=" + intended + (msg.empty() ? "" : " (" + clip(msg) + ")");
      auto start = json_double(i, "start_date");
      auto dph = json_double(i, "dph_total");
      if (start && *start > 0) {
        if (auto secs = util::to_int64(*start)) job.status.started = util::time_from_unix(*secs);
        const double hours = std::max(0.0, now_s - *start) / 3600.0;
        // Billing runs until the instance is destroyed, so the price of an instance still
        // listed is its rate times everything since it started.
        if (dph) job.status.cost_usd = *dph * hours;
        if (auto cores = json_double(i, "cpu_cores_effective")) job.status.cpu_hours = *cores * hours;
      }
      out.push_back(std::move(job));
    }
    return out;
  }
};

}  // namespace

const Preset& vastai_preset() {
  static const Vastai preset;
  return preset;
}

}  // namespace cairn::sched::command
