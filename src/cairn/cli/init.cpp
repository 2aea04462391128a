// `cairn init`: scaffolds the current git repository as a campaign repository.

#include <cstdio>
#include <fstream>
#include <memory>

#include <fmt/format.h>

#include <cairn/cli/context.hpp>
#include <cairn/cli/verbs.hpp>
#include <cairn/gitstore/repo.hpp>
#include <cairn/util/resources.hpp>

namespace cairn::cli {

namespace {

struct InitOptions {
  std::string forge;  // override detection: github, gitlab, none
};

// Writes `bytes` to `path` unless it exists; says which.
bool place(const fs::path& top, const fs::path& rel, std::string_view bytes, bool executable) {
  const fs::path path = top / rel;
  std::error_code ec;
  if (fs::exists(path, ec)) {
    std::printf("  kept     %s (already there)\n", rel.generic_string().c_str());
    return true;
  }
  fs::create_directories(path.parent_path(), ec);
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  if (!out.flush()) {
    std::fprintf(stderr, "cairn init: cannot write %s\n", path.c_str());
    return false;
  }
  out.close();
  if (executable) {
    fs::permissions(path, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                    fs::perm_options::add, ec);
  }
  std::printf("  created  %s\n", rel.generic_string().c_str());
  return true;
}

std::string detect_forge(const std::vector<std::string>& urls) {
  for (const auto& u : urls) {
    if (u.find("github.com") != std::string::npos) return "github";
    if (u.find("gitlab") != std::string::npos) return "gitlab";
  }
  return "none";
}

int run_init(const InitOptions& o) {
  gitstore::LibGit2 git;
  auto repo = gitstore::Repo::discover(fs::current_path().string());
  if (!repo) {
    std::fprintf(stderr, "cairn init: not inside a git repository (run `git init` first): %s\n",
                 repo.error().message.c_str());
    return static_cast<int>(ExitCode::usage);
  }
  const fs::path top = repo->workdir();
  std::printf("cairn init in %s\n", top.c_str());
  bool ok = place(top, "cairn.yaml", *resources::get("templates/cairn.yaml"), false);
  ok = place(top, "catalogs/failure-catalog.md", *resources::get("catalogs/failure-catalog.md"), false) && ok;
  std::error_code ec;
  // The hook goes where git runs hooks from (this repo's hooks dir).
  const fs::path hooks = fs::path(repo->path()) / "hooks";
  // When cairn is not on PATH at commit time, the hook falls back to this binary.
  std::string hook(*resources::get("hooks/pre-commit"));
  const std::string self = fs::read_symlink("/proc/self/exe", ec).string();
  for (auto at = hook.find("@CAIRN_BINARY@"); at != std::string::npos; at = hook.find("@CAIRN_BINARY@")) {
    hook.replace(at, 14, self.empty() ? "cairn" : self);
  }
  ok = place(hooks, "pre-commit", hook, true) && ok;
  fs::create_directories(top / "campaigns", ec);

  auto urls = repo->remote_urls();
  const std::string forge = !o.forge.empty() ? o.forge : detect_forge(urls ? *urls : std::vector<std::string>{});
  if (forge == "github") {
    std::printf("forge: GitHub (from the remote URL); installing the GitHub Actions schedule\n");
    ok = place(top, ".github/workflows/cairn-tick.yml", *resources::get("ci/github/cairn-tick.yml"), false) && ok;
  } else if (forge == "gitlab") {
    std::printf("forge: GitLab (from the remote URL); installing the GitLab CI job (add a pipeline schedule)\n");
    const bool has_ci = fs::exists(top / ".gitlab-ci.yml", ec);
    ok = place(top, has_ci ? "ci/cairn-tick.gitlab-ci.yml" : ".gitlab-ci.yml",
               *resources::get("ci/gitlab/cairn-tick.gitlab-ci.yml"), false) &&
         ok;
    if (has_ci) std::printf("  note     include ci/cairn-tick.gitlab-ci.yml from your .gitlab-ci.yml\n");
  } else {
    std::printf("forge: none detected (no github.com or GitLab remote); no CI template installed.\n"
                "       run ticks from cron: */5 * * * * cd %s && cairn tick\n",
                top.c_str());
  }
  std::printf("next: cairn new NAME, then cairn validate\n");
  return ok ? 0 : static_cast<int>(ExitCode::findings);
}

}  // namespace

void define_init(CLI::App& sub, Runner& run) {
  auto o = std::make_shared<InitOptions>();
  sub.add_option("--forge", o->forge, "Skip detection: github, gitlab or none")
      ->check(CLI::IsMember({"github", "gitlab", "none"}));
  run = [o] { return run_init(*o); };
}

}  // namespace cairn::cli
