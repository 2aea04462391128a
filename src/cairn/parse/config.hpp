#pragma once

// `cairn.yaml` at a campaign repository's root (docs/config.md). Every key is optional;
// a missing file is the default configuration.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <cairn/doc/diagnostic.hpp>
#include <cairn/doc/workflow.hpp>
#include <cairn/util/expected.hpp>

namespace cairn::parse {

// Where something is written in cairn.yaml: 1-based line and column, 0 when it is not.
struct ConfigPlace {
  int line = 0;
  int column = 0;
};

struct BackendConfig {
  std::string name;  // the key under `backends:`
  std::string kind;  // local | slurm | osmo | command (a key that is a kind needs no `kind:`)
  std::map<std::string, std::string> settings;  // scalar settings (ssh_host, partition, pool, ...)
  double usd_per_cpu_hour = 0;                  // spend accounting; 0 = free
  // Where the backend's name and each setting's value are written, for a diagnostic
  // about a setting its backend refuses (cli/backends.hpp).
  ConfigPlace place;
  std::map<std::string, ConfigPlace> setting_places;
};

struct ForgeConfig {
  std::string kind;  // github | gitlab | gitea; empty = none / inferred
  std::string repo;
  std::string api;
  std::string token_env;
  // `dashboard: true`: ticks keep the dashboard (engine/report.hpp) as one issue,
  // "cairn dashboard", updated in place when it changes.
  bool dashboard = false;
};

// The log lines that count as trouble in a job that still runs (RE2 syntax,
// case-sensitive unless the pattern says `(?i)`): FATAL, NaN(s), OOM, out of memory,
// oom-kill.
std::vector<std::string> default_log_patterns();

// The `anomaly:` block: thresholds of the per-tick anomaly scan (engine/anomaly.hpp
// converts this to engine::AnomalyThresholds; the defaults are the same). Durations are
// written with units (`24h`, `15m`, `1h30m`); counts are whole numbers >= 1.
struct AnomalyConfig {
  // `enabled: false` turns the scan off.
  bool enabled = true;
  // Runaway resubmits: more than this many jobs of one stage within `submissions_window`.
  int max_submissions_per_stage = 4;
  std::int64_t submissions_window_seconds = 24 * 3600;
  // Runaway completions: more than this many jobs of one campaign ending within
  // `completions_window`.
  int max_completions = 10;
  std::int64_t completions_window_seconds = 15 * 60;
  // `stall_after`: a stage pending, ready or queued longer than this while others advance.
  std::int64_t stall_seconds = 24 * 3600;
  // Systemic: one error class in at least this many campaigns within `systemic_window`.
  int systemic_campaigns = 3;
  std::int64_t systemic_window_seconds = 6 * 3600;
  // Pile-up: more than this many of the user's queued jobs of one name (named after this
  // repository: `cairn.<repo>.`).
  int max_queued_per_name = 50;
  // `log_patterns:` replaces the whole list; `[]` turns the log check off.
  std::vector<std::string> log_patterns = default_log_patterns();
};

// The `diagnose:` block: an agent of the user's choice (any command) proposes a fix for
// an escalated failure on its clear-escalation branch (cli/diagnose.hpp), and with
// `anomaly` reads the anomaly scan's medium and high findings, read-only, into
// ORCHESTRATION_CHECK.md. `when:` is one word or a list (`[escalated, anomaly]`);
// `when: never` (the default) or no `command` turns it off.
struct DiagnoseConfig {
  std::vector<std::string> command;  // argv; `{context}` and `{out}` are replaced
  // For escalations: never, unclassified ones, or every escalated failure.
  enum class When { never, unclassified, escalated } when = When::never;
  bool on_anomaly = false;  // `anomaly` in `when:`
  std::int64_t timeout_seconds = 15 * 60;
  // Globs relative to the campaign directory (`*` within a name, `**` across
  // directories): only changes to matching files are kept.
  std::vector<std::string> may_edit = {"jobs/**"};
  bool enabled() const { return when != When::never && !command.empty(); }
  bool explains_anomalies() const { return on_anomaly && !command.empty(); }
};

struct RepoConfig {
  std::string path;  // the file parse_config read ("" for the defaults: no cairn.yaml)
  std::string root = ".";
  std::string branch = "main";
  std::string identity_name = "cairn";
  std::string identity_email = "cairn@localhost";
  std::vector<std::string> catalogs;  // paths, optionally `file.md#section`
  std::vector<BackendConfig> backends;
  ForgeConfig forge;
  AnomalyConfig anomaly;
  DiagnoseConfig diagnose;
  doc::ResourceCeilings ceilings;  // `ceilings:`: no catalogued fix raises a resource past these

  // The backend named `name`: a configured instance, or a bare kind name.
  const BackendConfig* backend(const std::string& name) const;
};

inline constexpr std::string_view kKnownBackendKinds[] = {"local", "slurm", "osmo", "command"};

// Parses cairn.yaml text. Fails with `path:line:col` diagnostics for invalid YAML,
// wrong types, a backend with an unknown kind, or an unknown key at any level (with a
// did-you-mean; a command backend's other settings are its template placeholders, so
// there only a near miss of its own keys is one). `warnings` receives the rest.
// Under `anomaly:` a count below 1 (below 2 for `systemic_campaigns`), a duration without
// a unit, or a log pattern RE2 rejects is an error.
Expected<RepoConfig, std::vector<doc::Diagnostic>> parse_config(
    const std::string& path, const std::string& text, std::vector<doc::Diagnostic>* warnings = nullptr);

}  // namespace cairn::parse
