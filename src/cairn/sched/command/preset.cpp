#include <cairn/sched/command/preset.hpp>

#include <cairn/sched/command/parsing.hpp>

namespace cairn::sched::command {

namespace {

// Every preset: the JSON-lines protocol first, then the named ones in the order
// messages list them. A new preset is a file of this folder and its entry here.
constexpr const Preset& (*kPresets[])() = {jsonl_preset, pbs_preset, lsf_preset, kubernetes_preset,
                                           vastai_preset};

}  // namespace

PresetDefaults Preset::defaults() const {
  return {};
}

bool Preset::find_answers_as_status() const {
  return false;
}

bool Preset::partial_answer(const CommandResult&) const {
  return false;
}

Expected<std::string> Preset::submit_id(const std::string&, std::string_view out) const {
  auto ls = numbered_lines(out);
  return ls.empty() ? std::string() : std::string(ls.front().second);
}

bool Preset::makes_output_dir() const {
  return false;
}

std::string Preset::submit_input(const engine::SubmitRequest&, const Values&, const Values&) const {
  return "";
}

bool Preset::outputs_are_files(const Values&) const {
  return true;
}

const Preset* find_preset(std::string_view name) {
  for (const auto preset : kPresets) {
    if (preset().name() == name) return &preset();
  }
  return nullptr;
}

const Preset& preset_or_jsonl(std::string_view name) {
  const Preset* p = find_preset(name);
  return p != nullptr ? *p : jsonl_preset();
}

std::vector<std::string_view> preset_names() {
  std::vector<std::string_view> out;
  for (const auto preset : kPresets) {
    if (!preset().name().empty()) out.push_back(preset().name());
  }
  return out;
}

}  // namespace cairn::sched::command
