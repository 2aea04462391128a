#pragma once

// The only place real backends, catalogs and clocks are built from configuration.

#include <map>
#include <memory>
#include <string>

#include <cairn/catalog/catalog.hpp>
#include <cairn/cli/context.hpp>
#include <cairn/engine/ports.hpp>

namespace cairn::cli {

class SystemClock : public engine::Clock {
 public:
  engine::TimePoint now() const override;
};

// Backends named by cairn.yaml (or bare kind names), built on first use.
class ConfiguredBackends : public engine::Backends {
 public:
  // `qualifier` names the repository (remote URL or path) so local jobs of two repos
  // never share keys.
  ConfiguredBackends(const parse::RepoConfig& config, std::string qualifier);
  ~ConfiguredBackends() override;
  engine::Scheduler* get(const std::string& name) override;

 private:
  const parse::RepoConfig& m_config;
  std::string m_qualifier;
  std::map<std::string, std::unique_ptr<engine::Scheduler>> m_built;
};

// Loads the catalogs of `ctx`: the project's (cairn.yaml `catalogs:`) first, then the
// shipped generic one (the repo's copy at catalogs/failure-catalog.md when present, else
// the built-in). Diagnostics of malformed entries are appended to `diagnostics`; fails
// only when a named catalog file cannot be read.
Expected<std::unique_ptr<engine::Catalog>> load_catalog(const RepoContext& ctx, std::vector<doc::Diagnostic>& diagnostics);
// The same catalogs with their entries visible (`cairn catalog`).
Expected<catalog::CatalogSet> load_catalog_set(const RepoContext& ctx, std::vector<doc::Diagnostic>& diagnostics);

}  // namespace cairn::cli
