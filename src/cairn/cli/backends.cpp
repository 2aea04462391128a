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

engine::TimePoint SystemClock::now() const {
  return std::chrono::system_clock::now();
}

namespace {

// The scheduler backend `name` is: configured in cairn.yaml (`cfg`), or a bare kind name
// (`cfg` null: default settings). Fails with the setting its kind refuses; nullptr for
// a name that is no kind and a kind that cannot run on defaults (command): not
// configured.
Expected<std::unique_ptr<engine::Scheduler>, sched::SettingError> build(const parse::BackendConfig* cfg,
                                                                        const std::string& name,
                                                                        const std::string& qualifier) {
  const std::string kind = cfg != nullptr ? cfg->kind : name;
  const sched::BackendSettings settings = cfg != nullptr ? cfg->settings : sched::BackendSettings{};
  if (kind == "local") {
    auto s = settings.find("state_dir");
    return std::unique_ptr<engine::Scheduler>(std::make_unique<sched::LocalScheduler>(
        s != settings.end() ? s->second : sched::default_state_dir(), qualifier));
  }
  if (kind == "slurm") {
    return std::unique_ptr<engine::Scheduler>(std::make_unique<sched::SlurmScheduler>(
        std::make_unique<sched::ProcessRunner>(), sched::slurm_config_from(settings)));
  }
  if (kind == "osmo") {
    // The OSMO CLI authenticates from its own login (`osmo login`): it gets a client's
    // basics and OSMO_* only.
    auto oc = CAIRN_TRY(sched::osmo_config_from(settings));
    return std::unique_ptr<engine::Scheduler>(std::make_unique<sched::OsmoScheduler>(
        std::make_unique<sched::ProcessRunner>(std::vector<std::string>{"OSMO_*"}), std::move(oc)));
  }
  if (kind == "command") {
    auto cc = sched::parse_command_config(settings);
    // A bare `command` has no templates to run: not configured, like an unknown name.
    if (!cc && cfg == nullptr) return std::unique_ptr<engine::Scheduler>();
    if (!cc) return std::move(cc).error();
    return std::unique_ptr<engine::Scheduler>(
        std::make_unique<sched::CommandScheduler>(std::make_unique<sched::ProcessRunner>(), std::move(*cc)));
  }
  return std::unique_ptr<engine::Scheduler>();
}

// The error about configured backend `b` refusing a setting, at the setting's value.
doc::Diagnostic refused(const parse::RepoConfig& config, const parse::BackendConfig& b,
                        const sched::SettingError& e) {
  const auto at = b.setting_places.find(e.key);
  const parse::ConfigPlace p = at != b.setting_places.end() ? at->second : b.place;
  return {config.path, p.line, p.column, doc::Severity::error,
          fmt::format("backend `{}` ({}): {}", b.name, b.kind, e.message)};
}

}  // namespace

ConfiguredBackends::ConfiguredBackends(const parse::RepoConfig& config, std::string qualifier)
    : m_config(config), m_qualifier(std::move(qualifier)) {}

ConfiguredBackends::~ConfiguredBackends() = default;

engine::Scheduler* ConfiguredBackends::get(const std::string& name) {
  if (auto it = m_built.find(name); it != m_built.end()) return it->second.get();
  if (m_refused.count(name) != 0) return nullptr;
  const parse::BackendConfig* cfg = m_config.backend(name);
  auto built = build(cfg, name, m_qualifier);
  if (!built) {
    // A setting it refuses: the stage waits for cairn.yaml to be fixed (engine: unusable),
    // it never submits with a guess.
    if (cfg != nullptr) m_refused.emplace(name, refused(m_config, *cfg, built.error()));
    return nullptr;
  }
  if (!*built) return nullptr;
  return m_built.emplace(name, std::move(*built)).first->second.get();
}

std::string ConfiguredBackends::unusable(const std::string& name) {
  get(name);
  const auto it = m_refused.find(name);
  if (it == m_refused.end()) return "";
  const doc::Diagnostic& d = it->second;
  return fmt::format("{}:{}:{}: {}", d.path, d.line, d.column, d.message);
}

Expected<engine::Scheduler*> ConfiguredBackends::require(const std::string& name) {
  if (engine::Scheduler* s = get(name)) return s;
  if (std::string why = unusable(name); !why.empty()) return fail(why);
  return fail(fmt::format("backend `{}` is not configured (cairn.yaml `backends:`)", name));
}

std::optional<doc::Diagnostic> backend_diagnostic(const parse::RepoConfig& config,
                                                  const parse::BackendConfig& b) {
  // Built to be checked only: a backend's construction starts nothing.
  auto built = build(&b, b.name, "");
  if (built) return std::nullopt;
  return refused(config, b, built.error());
}

std::vector<doc::Diagnostic> backend_diagnostics(const parse::RepoConfig& config) {
  std::vector<doc::Diagnostic> out;
  for (const auto& b : config.backends) {
    if (auto d = backend_diagnostic(config, b)) out.push_back(std::move(*d));
  }
  return out;
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

Expected<catalog::CatalogSet> load_catalog_set(const RepoContext& ctx,
                                               std::vector<doc::Diagnostic>& diagnostics) {
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
