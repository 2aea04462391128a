#pragma once

// `cairn.yaml` at a campaign repository's root (DESIGN.md §2). Every key is optional;
// a missing file is the default configuration.

#include <map>
#include <string>
#include <vector>

#include <cairn/doc/diagnostic.hpp>
#include <cairn/util/expected.hpp>

namespace cairn::parse {

struct BackendConfig {
  std::string name;  // the key under `backends:`
  std::string kind;  // local | slurm | osmo | command (a key that is a kind needs no `kind:`)
  std::map<std::string, std::string> settings;  // scalar settings (ssh_host, partition, pool, ...)
  double usd_per_cpu_hour = 0;                  // spend accounting; 0 = free
};

struct ForgeConfig {
  std::string kind;  // github | gitlab | gitea; empty = none / inferred
  std::string repo;
  std::string api;
  std::string token_env;
};

struct RepoConfig {
  std::string root = ".";
  std::string branch = "main";
  std::string identity_name = "cairn";
  std::string identity_email = "cairn@localhost";
  std::vector<std::string> catalogs;  // paths, optionally `file.md#section`
  std::vector<BackendConfig> backends;
  ForgeConfig forge;

  // The backend named `name`: a configured instance, or a bare kind name.
  const BackendConfig* backend(const std::string& name) const;
};

inline constexpr std::string_view kKnownBackendKinds[] = {"local", "slurm", "osmo", "command"};

// Parses cairn.yaml text. Fails with `path:line:col` diagnostics for invalid YAML,
// wrong types, or a backend with an unknown kind; unknown keys are warnings (in `warnings`).
Expected<RepoConfig, std::vector<doc::Diagnostic>> parse_config(const std::string& path, const std::string& text,
                                                                std::vector<doc::Diagnostic>* warnings = nullptr);

}  // namespace cairn::parse
