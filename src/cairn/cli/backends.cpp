#include <cairn/cli/backends.hpp>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include <cairn/catalog/catalog.hpp>
#include <cairn/sched/command.hpp>
#include <cairn/sched/local.hpp>
#include <cairn/sched/osmo.hpp>
#include <cairn/sched/slurm.hpp>
#include <cairn/util/resources.hpp>

namespace cairn::cli {

engine::TimePoint SystemClock::now() const { return std::chrono::system_clock::now(); }

ConfiguredBackends::ConfiguredBackends(const parse::RepoConfig& config, std::string qualifier)
    : m_config(config), m_qualifier(std::move(qualifier)) {}

ConfiguredBackends::~ConfiguredBackends() = default;

engine::Scheduler* ConfiguredBackends::get(const std::string& name) {
  if (auto it = m_built.find(name); it != m_built.end()) return it->second.get();
  const parse::BackendConfig* cfg = m_config.backend(name);
  const std::string kind = cfg != nullptr ? cfg->kind : name;
  std::unique_ptr<engine::Scheduler> built;
  if (kind == "local") {
    std::string state = sched::default_state_dir();
    if (cfg != nullptr) {
      if (auto s = cfg->settings.find("state_dir"); s != cfg->settings.end()) state = s->second;
    }
    built = std::make_unique<sched::LocalScheduler>(state, m_qualifier);
  } else if (kind == "slurm") {
    sched::SlurmConfig sc;
    if (cfg != nullptr) {
      auto get = [&](const char* key, std::string& into) {
        if (auto s = cfg->settings.find(key); s != cfg->settings.end()) into = s->second;
      };
      get("partition", sc.partition);
      get("ssh_host", sc.ssh_host);
      get("output_dir", sc.output_dir);
      get("ssh_control_path", sc.ssh_control_path);
      get("ssh_config", sc.ssh_config);
    }
    built = std::make_unique<sched::SlurmScheduler>(std::make_unique<sched::ProcessRunner>(), std::move(sc));
  } else if (kind == "osmo") {
    // An invalid setting (e.g. priority: urgent) leaves the backend unbuilt, so the
    // stage escalates instead of submitting with a guess.
    auto oc = sched::osmo_config_from(cfg != nullptr ? cfg->settings : std::map<std::string, std::string>{});
    // The OSMO CLI authenticates from its own login (`osmo login`): it gets a client's
    // basics and OSMO_* only.
    if (oc) {
      built = std::make_unique<sched::OsmoScheduler>(
          std::make_unique<sched::ProcessRunner>(std::vector<std::string>{"OSMO_*"}), std::move(*oc));
    }
  } else if (kind == "command") {
    // Same rule as osmo: a template that does not parse leaves the backend unbuilt
    // (`cairn doctor` names the setting).
    auto cc = sched::parse_command_config(cfg != nullptr ? cfg->settings : std::map<std::string, std::string>{});
    if (cc) built = std::make_unique<sched::CommandScheduler>(std::make_unique<sched::ProcessRunner>(), std::move(*cc));
  }
  if (!built) return nullptr;
  return m_built.emplace(name, std::move(built)).first->second.get();
}

std::string repo_qualifier(gitstore::Repo& repo, const RepoContext& ctx) {
  auto urls = repo.remote_urls();
  return urls && !urls->empty() ? urls->front() : ctx.top.string();
}

Expected<std::unique_ptr<engine::Catalog>> load_catalog(const RepoContext& ctx,
                                                        std::vector<doc::Diagnostic>& diagnostics) {
  auto set = load_catalog_set(ctx, diagnostics);
  if (!set) return std::move(set).error();
  return std::unique_ptr<engine::Catalog>(std::make_unique<catalog::CatalogSet>(std::move(*set)));
}

Expected<catalog::CatalogSet> load_catalog_set(const RepoContext& ctx, std::vector<doc::Diagnostic>& diagnostics) {
  std::vector<catalog::Source> sources;
  bool have_generic = false;
  for (const auto& entry : ctx.config.catalogs) {
    const auto hash = entry.find('#');
    const std::string file = entry.substr(0, hash);
    const std::string section = hash == std::string::npos ? "" : entry.substr(hash + 1);
    std::ifstream in(ctx.top / file, std::ios::binary);
    if (!in) return fail(fmt::format("catalog {} named in cairn.yaml cannot be read", file));
    std::stringstream ss;
    ss << in.rdbuf();
    sources.push_back({file, ss.str(), section});
    if (file == "catalogs/failure-catalog.md") have_generic = true;
  }
  if (!have_generic) {
    // The repo's copy when it has one, else the catalog built into cairn.
    std::ifstream in(ctx.top / "catalogs/failure-catalog.md", std::ios::binary);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      sources.push_back({"catalogs/failure-catalog.md", ss.str(), ""});
    } else {
      sources.push_back({"(built-in) catalogs/failure-catalog.md",
                         std::string(*resources::get("catalogs/failure-catalog.md")), ""});
    }
  }
  auto set = catalog::load_catalogs(std::move(sources));
  if (!set) {
    diagnostics.insert(diagnostics.end(), set.error().begin(), set.error().end());
    return fail("failure catalogs do not load");
  }
  // Bad rows were skipped; say so, the rest of the catalog still works.
  diagnostics.insert(diagnostics.end(), set->diagnostics().begin(), set->diagnostics().end());
  return std::move(*set);
}

}  // namespace cairn::cli
