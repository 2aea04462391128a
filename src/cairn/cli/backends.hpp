#pragma once

// The only place real backends, catalogs and clocks are built from configuration.

#include <map>
#include <memory>
#include <optional>
#include <string>

#include <cairn/catalog/catalog.hpp>
#include <cairn/cli/context.hpp>
#include <cairn/engine/ports.hpp>
#include <cairn/gitstore/repo.hpp>

namespace cairn::cli {

class SystemClock : public engine::Clock {
 public:
  engine::TimePoint now() const override;
};

// Backends named by cairn.yaml (or bare kind names), built on first use. A backend
// cairn.yaml configures with a setting its kind refuses is not built: get() returns
// nullptr and unusable() says why, at the setting's line:col.
class ConfiguredBackends : public engine::Backends {
 public:
  // `qualifier` names the repository (remote URL or path) so local jobs of two repos
  // never share keys.
  ConfiguredBackends(const parse::RepoConfig& config, std::string qualifier);
  ~ConfiguredBackends() override;
  engine::Scheduler* get(const std::string& name) override;
  // "cairn.yaml:LINE:COL: backend `NAME` (KIND): what is wrong" for a configured backend
  // whose settings are refused; "" otherwise.
  std::string unusable(const std::string& name) override;
  // get(), for a verb about one stage's job. Fails (findings) with unusable()'s words, or
  // saying the backend is not configured (cairn.yaml `backends:`).
  Expected<engine::Scheduler*> require(const std::string& name);

 private:
  const parse::RepoConfig& m_config;
  std::string m_qualifier;
  std::map<std::string, std::unique_ptr<engine::Scheduler>> m_built;
  std::map<std::string, doc::Diagnostic> m_refused;
};

// The error about backend `b` of `config` when its kind refuses one of its settings
// (osmo's priority, a command backend's template or preset...), at that setting's
// line:col (the backend's name when no one setting is at fault); nullopt when the
// backend can be built. Never fails.
std::optional<doc::Diagnostic> backend_diagnostic(const parse::RepoConfig& config,
                                                  const parse::BackendConfig& b);
// backend_diagnostic() of every backend cairn.yaml configures: what validate, doctor and
// tick report. Never fails.
std::vector<doc::Diagnostic> backend_diagnostics(const parse::RepoConfig& config);

// What names the repository to its backends and in job keys: its first remote's URL,
// else its work tree path. Every verb that talks to a scheduler about the repo's jobs
// (tick, show, logs, cancel) builds ConfiguredBackends with it. Never fails.
std::string repo_qualifier(gitstore::Repo& repo, const RepoContext& ctx);

// Loads the catalogs of `ctx`: the project's (cairn.yaml `catalogs:`) first, then the
// shipped generic one (the repo's copy at catalogs/failure-catalog.md when present, else
// the built-in). Diagnostics of malformed entries are appended to `diagnostics`; fails
// only when a named catalog file cannot be read.
Expected<std::unique_ptr<engine::Catalog>> load_catalog(const RepoContext& ctx,
                                                        std::vector<doc::Diagnostic>& diagnostics);
// The same catalogs with their entries visible (`cairn catalog`).
Expected<catalog::CatalogSet> load_catalog_set(const RepoContext& ctx,
                                               std::vector<doc::Diagnostic>& diagnostics);

}  // namespace cairn::cli
