// The command backend's presets: every preset's status parser and submit-id reader.

#include "fuzz.hpp"

#include <map>

#include <cairn/sched/command.hpp>

using namespace cairn;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  const engine::TimePoint now = std::chrono::system_clock::time_point(std::chrono::seconds(1795442985));
  for (const char* preset : {"", "pbs", "lsf", "kubernetes", "vastai"}) {
    (void)sched::parse_command_status(preset, text, now);
  }
  static const auto configs = [] {
    std::vector<sched::CommandBackendConfig> out;
    for (std::map<std::string, std::string> s :
         {std::map<std::string, std::string>{{"preset", "lsf"}},
          {{"preset", "pbs"}},
          {{"preset", "kubernetes"}, {"image", "busybox"}},
          {{"preset", "vastai"}, {"image", "pytorch/pytorch"}, {"offer", "1"}},
          {{"preset", "pbs"}, {"submit_regex", "job ([0-9]+)\\.[a-z]+"}}}) {
      if (auto c = sched::parse_command_config(s)) out.push_back(std::move(*c));
    }
    return out;
  }();
  for (const auto& c : configs) (void)sched::submit_id_from(c, "submit", text);
  // The input as a user's `submit_regex` (cairn.yaml), then as what the submit printed.
  if (auto c = sched::parse_command_config({{"preset", "lsf"}, {"submit_regex", std::string(text)}})) {
    (void)sched::submit_id_from(*c, "bsub", "Job <42> is submitted\n");
  }
  return 0;
}
