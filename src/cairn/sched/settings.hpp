#pragma once

// What the backends' settings readers (osmo_config_from, parse_command_config,
// slurm_config_from) share: cairn.yaml's `backends.NAME` settings, and the error that
// names the setting a backend refuses.

#include <map>
#include <string>
#include <utility>

#include <cairn/util/expected.hpp>

namespace cairn::sched {

// A backend's settings as cairn.yaml writes them: key -> value (a nested value as YAML
// text).
using BackendSettings = std::map<std::string, std::string>;

// A setting its backend cannot use: an Error (ExitCode::usage) that also names the
// setting, so the caller can point at its line in cairn.yaml.
struct SettingError : Error {
  std::string key;  // the setting at fault; "" when no one setting is
};

// The SettingError about `key` saying `message`. Never fails.
inline SettingError bad_setting(std::string key, std::string message) {
  return SettingError{{std::move(message), ExitCode::usage}, std::move(key)};
}

}  // namespace cairn::sched
