// A command backend's settings (cairn.yaml `backends.NAME`) read into its configuration.

#include <set>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <re2/re2.h>

#include <cairn/sched/command/parsing.hpp>
#include <cairn/sched/command/preset.hpp>
#include <cairn/sched/command/template.hpp>
#include <cairn/util/suggest.hpp>

namespace cairn::sched {

CommandBackendConfig command_preset(std::string_view preset) {
  CommandBackendConfig c;
  c.preset = std::string(preset);
  const command::Preset* p = command::find_preset(preset);
  if (p == nullptr) return c;
  const command::PresetDefaults d = p->defaults();
  // The presets' own templates parse: the unit tests hold every one of them.
  const std::pair<std::string_view, CommandTemplate*> templates[] = {{d.submit, &c.submit},
                                                                     {d.status, &c.status},
                                                                     {d.find, &c.find},
                                                                     {d.cancel, &c.cancel},
                                                                     {d.logs, &c.logs}};
  for (const auto& [text, into] : templates) {
    if (!text.empty()) *into = *parse_command_template(text);
  }
  for (const auto& s : d.settings) c.vars[s] = "";
  return c;
}

Expected<CommandBackendConfig, SettingError> parse_command_config(const BackendSettings& settings) {
  auto get = [&](const char* k) -> std::string {
    auto it = settings.find(k);
    return it == settings.end() ? "" : it->second;
  };
  const std::string name = get("preset");
  const command::Preset* preset = command::find_preset(name);
  if (preset == nullptr) {
    const auto names = command::preset_names();
    const std::string hint = util::did_you_mean(name, names);
    return bad_setting(
        "preset", fmt::format("unknown preset `{}`{}", name,
                              hint.empty() ? fmt::format("; presets: {}", fmt::join(names, ", ")) : hint));
  }
  CommandBackendConfig c = command_preset(name);
  const std::set<std::string, std::less<>> reserved = {"preset", "submit",       "status",   "cancel", "logs",
                                                       "find",   "submit_regex", "ssh_host", "timeout"};
  for (const auto& [k, v] : settings) {
    if (reserved.count(k)) continue;
    if (!command::is_identifier(k))
      return bad_setting(k, "setting `" + k + "` is not a placeholder name ([a-z_][a-z0-9_]*)");
    if (command::builtin_placeholders().count(k))
      return bad_setting(k, "setting `" + k + "` would shadow the built-in {" + k + "}");
    c.vars[k] = v;
  }
  c.submit_regex = get("submit_regex");
  if (!c.submit_regex.empty()) {
    // RE2, as every pattern a user writes: linear time. A job-id pattern is short; a
    // huge one (thousands of nested groups) is refused before RE2 builds it.
    constexpr std::size_t kMaxPattern = 512;
    if (c.submit_regex.size() > kMaxPattern) {
      return bad_setting(
          "submit_regex",
          fmt::format("`submit_regex` is {} characters long; a job-id pattern needs at most {}",
                      c.submit_regex.size(), kMaxPattern));
    }
    const RE2 re(c.submit_regex, RE2::Quiet);
    if (!re.ok()) return bad_setting("submit_regex", "`submit_regex` is not an RE2 regex: " + re.error());
    if (re.NumberOfCapturingGroups() < 1)
      return bad_setting("submit_regex", "`submit_regex` needs a (group) around the job id");
  }
  c.ssh_host = get("ssh_host");
  if (auto t = get("timeout"); !t.empty()) {
    auto secs = command::to_int(t);
    if (!secs || *secs <= 0) return bad_setting("timeout", "`timeout` must be a number of seconds");
    c.timeout = std::chrono::seconds(*secs);
  }
  const std::pair<const char*, CommandTemplate*> templates[] = {{"submit", &c.submit},
                                                                {"status", &c.status},
                                                                {"cancel", &c.cancel},
                                                                {"logs", &c.logs},
                                                                {"find", &c.find}};
  for (const auto& [key, into] : templates) {
    if (auto text = get(key); !text.empty()) {
      auto parsed = parse_command_template(text);
      if (!parsed) return bad_setting(key, "`" + std::string(key) + "`: " + parsed.error().message);
      *into = std::move(*parsed);
    }
    std::string unknown;
    for (const auto& e : *into) {
      command::for_each_placeholder(e, [&](std::string_view p) {
        if (!command::builtin_placeholders().count(p) && !c.vars.count(std::string(p)) && unknown.empty())
          unknown = p;
      });
    }
    if (!unknown.empty()) {
      return bad_setting(key, "`" + std::string(key) + "` uses {" + unknown +
                                  "}, which is neither built in nor a setting of this backend");
    }
  }
  for (const auto& [key, into] :
       {std::pair{"submit", &c.submit}, {"status", &c.status}, {"cancel", &c.cancel}}) {
    if (into->empty()) return bad_setting("", std::string("no `") + key + "` template (or `preset`)");
  }
  for (const auto& n : preset->defaults().required) {
    if (c.vars[n].empty()) return bad_setting("preset", "preset " + name + " needs the setting `" + n + "`");
  }
  return c;
}

}  // namespace cairn::sched
