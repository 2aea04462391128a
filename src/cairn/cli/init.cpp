// `cairn init`: scaffolds the current git repository as a campaign repository.

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>

#include <fmt/format.h>

#include <cairn/cli/context.hpp>
#include <cairn/cli/verbs.hpp>
#include <cairn/gitstore/repo.hpp>
#include <cairn/util/resources.hpp>
#include <cairn/util/subprocess.hpp>

namespace cairn::cli {

namespace {

struct InitOptions {
  std::string forge;     // override detection: github, gitlab, none
  bool commit = false;   // commit what init created
  bool cron = false;     // print the crontab line and the scrontab entry instead of scaffolding
  bool install = false;  // with cron: put the line into the user's crontab
};

// Writes `bytes` to `path` unless it exists; says which. What it created is appended
// to `created` (when given).
bool place(const fs::path& top, const fs::path& rel, std::string_view bytes, bool executable,
           std::vector<std::string>* created = nullptr) {
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
  if (created != nullptr) created->push_back(rel.generic_string());
  return true;
}

// `git add` and `git commit` of what init created, as the user (git's own identity rules
// and hooks apply).
Outcome commit_created(const fs::path& top, const std::vector<std::string>& created) {
  if (created.empty()) {
    std::printf("nothing new to commit\n");
    return {};
  }
  std::vector<std::string> add = {"git", "-C", top.string(), "add", "--"};
  add.insert(add.end(), created.begin(), created.end());
  auto added = util::run_capture(add, "", std::chrono::seconds(60));
  if (!added || added->exit != 0) {
    return fail("--commit: git add failed: " + (added ? added->err : added.error().message),
                ExitCode::findings);
  }
  std::vector<std::string> commit = {"git",
                                     "-C",
                                     top.string(),
                                     "commit",
                                     "-q",
                                     "-m",
                                     "cairn init: configuration, project catalog and CI schedule",
                                     "--"};
  commit.insert(commit.end(), created.begin(), created.end());
  auto made = util::run_capture(commit, "", std::chrono::seconds(60));
  if (!made || made->exit != 0) {
    return fail("--commit: git commit failed: " + (made ? made->err + made->out : made.error().message),
                ExitCode::findings);
  }
  std::printf("committed %zu file(s)\n", created.size());
  return {};
}

std::string detect_forge(const std::vector<std::string>& urls) {
  for (const auto& u : urls) {
    if (u.find("github.com") != std::string::npos) return "github";
    if (u.find("gitlab") != std::string::npos) return "gitlab";
  }
  return "none";
}

// The command cron runs: in this (dedicated) clone, one tick at a time (flock -n: a tick
// still running makes the next one a no-op), with an ssh-agent for the deploy key when
// the remote is ssh (cron has no agent; libgit2 pushes over ssh through one).
std::string cron_command(const fs::path& top, const std::string& self, bool ssh_remote,
                         const std::string& log) {
  const std::string tick =
      fmt::format("cd '{}' && exec flock -n .git/cairn-tick.lock '{}' tick", top.string(), self);
  if (!ssh_remote) return fmt::format("{} >> '{}' 2>&1", tick, log);
  return fmt::format("ssh-agent sh -c \"ssh-add -q \\$HOME/.ssh/cairn_deploy; {}\" >> '{}' 2>&1", tick, log);
}

Outcome run_cron(const InitOptions& o, gitstore::Repo& repo) {
  const fs::path top = repo.workdir();
  std::error_code ec;
  const std::string self = fs::read_symlink("/proc/self/exe", ec).string();
  auto urls = repo.remote_urls();
  const bool ssh_remote =
      urls && !urls->empty() &&
      (urls->front().rfind("ssh://", 0) == 0 || urls->front().find("@") < urls->front().find(":"));
  const char* home = std::getenv("HOME");
  const std::string state = fmt::format("{}/.local/state/cairn", home != nullptr ? home : "/tmp");
  const std::string marker = fmt::format("# cairn tick: {}", top.string());
  const std::string line =
      fmt::format("*/5 * * * * {} {}",
                  cron_command(top, self.empty() ? "cairn" : self, ssh_remote, state + "/cron.log"), marker);
  std::printf(
      "# Run ticks from this clone; keep it for cron alone (git clone the repository again for your own\n"
      "# work). Campaigns keep their own cadence: a tick every 5 minutes costs nothing when none is due.\n");
  if (ssh_remote) {
    std::printf(
        "# The push uses the deploy key ~/.ssh/cairn_deploy (add its .pub as a deploy key with write\n"
        "# access on the forge); cron has no ssh-agent, so the line starts one for the tick.\n");
  } else {
    std::printf(
        "# An https remote: the push needs CAIRN_TOKEN in cron's environment (a line CAIRN_TOKEN=... at the\n"
        "# top of the crontab, readable only by you), or switch the remote to ssh and a deploy key.\n");
  }
  std::printf("\n# crontab -e\n%s\n", line.c_str());
  std::printf(
      "\n# Slurm sites without cron on the login node: scrontab -e (singleton: one tick at a time)\n"
      "#SCRON --job-name=cairn-tick --time=00:10:00 --dependency=singleton --output=%s/scron.log "
      "--open-mode=append\n%s\n",
      state.c_str(), line.c_str());
  if (!o.install) return {};
  fs::create_directories(state, ec);
  auto current = util::run_capture({"crontab", "-l"}, "", std::chrono::seconds(30));
  if (!current)
    return fail("--install: cannot run crontab: " + current.error().message, ExitCode::unreachable);
  // `crontab -l` exits 1 with "no crontab for USER" when there is none yet.
  std::string table = current->exit == 0 ? current->out : "";
  std::string kept;
  for (std::size_t at = 0; at < table.size();) {
    std::size_t nl = table.find('\n', at);
    if (nl == std::string::npos) nl = table.size();
    const std::string l = table.substr(at, nl - at);
    at = nl + 1;
    const bool ours =
        l.size() >= marker.size() && l.compare(l.size() - marker.size(), marker.size(), marker) == 0;
    if (!ours) kept += l + "\n";
  }
  kept += line + "\n";
  auto put = util::run_capture({"crontab", "-"}, kept, std::chrono::seconds(30));
  if (!put || put->exit != 0) {
    return fail("--install: crontab refused the table: " + (put ? put->err : put.error().message),
                ExitCode::unreachable);
  }
  std::printf("\ninstalled into your crontab (crontab -l shows it; ticks log to %s/cron.log)\n",
              state.c_str());
  return {};
}

Outcome run_init(const InitOptions& o) {
  // Outside a work tree: usage. An invalid cairn.yaml is printed, and kept.
  if (auto ctx = load_context(fs::current_path()); !ctx && ctx.error().exit == ExitCode::usage) {
    return std::move(ctx).error();
  }
  auto repo = gitstore::Repo::discover(fs::current_path().string());
  if (!repo) return fail(repo.error().message, ExitCode::unreachable);
  if (o.cron) return run_cron(o, *repo);
  const fs::path top = repo->workdir();
  std::printf("cairn init in %s\n", top.c_str());
  std::vector<std::string> created;
  bool ok = place(top, "cairn.yaml", *resources::get("templates/cairn.yaml"), false, &created);
  ok = place(top, "catalogs/failure-catalog.md", *resources::get("catalogs/failure-catalog.md"), false,
             &created) &&
       ok;
  // The catalog `cairn catalog promote` writes to, named first under `catalogs:`.
  ok = place(top, "catalogs/project.md", *resources::get("templates/project-catalog.md"), false, &created) &&
       ok;
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
  const std::string forge =
      !o.forge.empty() ? o.forge : detect_forge(urls ? *urls : std::vector<std::string>{});
  if (forge == "github") {
    std::printf("forge: GitHub (from the remote URL); installing the GitHub Actions schedule\n");
    ok = place(top, ".github/workflows/cairn-tick.yml", *resources::get("ci/github/cairn-tick.yml"), false,
               &created) &&
         ok;
  } else if (forge == "gitlab") {
    std::printf(
        "forge: GitLab (from the remote URL); installing the GitLab CI job (add a pipeline schedule)\n");
    const bool has_ci = fs::exists(top / ".gitlab-ci.yml", ec);
    ok = place(top, has_ci ? "ci/cairn-tick.gitlab-ci.yml" : ".gitlab-ci.yml",
               *resources::get("ci/gitlab/cairn-tick.gitlab-ci.yml"), false, &created) &&
         ok;
    if (has_ci) std::printf("  note     include ci/cairn-tick.gitlab-ci.yml from your .gitlab-ci.yml\n");
  }
  if (forge == "github" || forge == "gitlab") {
    // The template cannot know the sha256 of the tarball that holds this very binary.
    std::printf(
        "  note     pin CAIRN_SHA256 in it to the release's SHA256SUMS line for "
        "cairn-<version>-linux-x86_64.tar.gz\n"
        "           (the release also attaches copies already pinned); until then the install step fails\n");
  } else {
    std::printf(
        "forge: none detected (no github.com or GitLab remote); no CI template installed.\n"
        "       run ticks from cron on a login node: cairn init --cron (--install) prints (installs) the "
        "line\n");
  }
  if (!ok) return findings_reported();
  if (o.commit) CAIRN_TRY(commit_created(top, created));
  std::printf(
      o.commit
          ? "next: cairn new NAME, then cairn validate\n"
          : "next: git add the files above and commit them (or run `cairn init --commit`), then cairn new "
            "NAME\n");
  return {};
}

}  // namespace

void define_init(CLI::App& sub, Runner& run) {
  auto o = std::make_shared<InitOptions>();
  sub.add_option("--forge", o->forge, "Skip detection: github, gitlab or none")
      ->check(CLI::IsMember({"github", "gitlab", "none"}));
  sub.add_flag("--commit", o->commit, "Commit the files init created (git add + git commit, as you)");
  sub.add_flag(
      "--cron", o->cron,
      "Print the crontab line (and the Slurm scrontab entry) that ticks from this clone under flock");
  sub.add_flag("--install", o->install,
               "With --cron: add the line to your crontab (replacing an earlier one)")
      ->needs("--cron");
  run = [o](Session&) { return run_init(*o); };
}

}  // namespace cairn::cli
