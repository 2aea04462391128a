#include <cairn/gitstore/repo.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>

namespace cairn::gitstore {

namespace {

std::string strip_slash(const char* p) {
  if (p == nullptr) return {};
  std::string s = p;
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

std::optional<std::string> config_string(git_config* cfg, const char* key) {
  Buf buf;
  if (git_config_get_string_buf(buf.get(), cfg, key) != 0) {
    git_error_clear();
    return std::nullopt;
  }
  std::string s(buf.view());
  if (s.empty()) return std::nullopt;
  return s;
}

}  // namespace

Expected<Repo> Repo::discover(const std::string& path) {
  git_repository* raw = nullptr;
  if (int rc = git_repository_open_ext(&raw, path.c_str(), 0, nullptr); rc != 0) {
    return git_failure("opening the git repository at " + path, rc);
  }
  return Repo(RepositoryPtr(raw));
}

std::string Repo::workdir() const {
  return strip_slash(git_repository_workdir(m_repo.get()));
}

std::string Repo::path() const {
  return strip_slash(git_repository_path(m_repo.get()));
}

Expected<std::vector<std::string>> Repo::dirty_tracked_files() {
  git_status_options opts;
  git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION);
  opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  // Untracked files are left out entirely (not merely filtered) so a large untracked
  // output directory costs nothing.
  opts.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
  git_status_list* raw = nullptr;
  if (int rc = git_status_list_new(&raw, m_repo.get(), &opts); rc != 0) {
    return git_failure("reading the work-tree status", rc);
  }
  StatusListPtr list(raw);
  std::vector<std::string> out;
  const std::size_t n = git_status_list_entrycount(list.get());
  for (std::size_t i = 0; i < n; ++i) {
    const git_status_entry* e = git_status_byindex(list.get(), i);
    const unsigned untracked_or_ignored = GIT_STATUS_WT_NEW | GIT_STATUS_IGNORED;
    if (e->status == GIT_STATUS_CURRENT || (e->status & ~untracked_or_ignored) == 0) continue;
    const git_diff_delta* d = e->head_to_index != nullptr ? e->head_to_index : e->index_to_workdir;
    if (d == nullptr) continue;
    const char* p = d->new_file.path != nullptr ? d->new_file.path : d->old_file.path;
    if (p != nullptr) out.emplace_back(p);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Expected<std::vector<StagedFile>> Repo::staged_files() {
  TreePtr head_tree;
  const int unborn = git_repository_head_unborn(m_repo.get());
  if (unborn < 0) return git_failure("reading HEAD", unborn);
  if (unborn == 0) {
    git_object* obj = nullptr;
    if (int rc = git_revparse_single(&obj, m_repo.get(), "HEAD^{tree}"); rc != 0) {
      return git_failure("reading HEAD's tree", rc);
    }
    head_tree.reset(reinterpret_cast<git_tree*>(obj));
  }
  git_index* raw_index = nullptr;
  if (int rc = git_repository_index(&raw_index, m_repo.get()); rc != 0) {
    return git_failure("opening the index", rc);
  }
  IndexPtr index(raw_index);
  git_diff_options opts;
  git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
  opts.ignore_submodules = GIT_SUBMODULE_IGNORE_ALL;
  git_diff* raw_diff = nullptr;
  if (int rc = git_diff_tree_to_index(&raw_diff, m_repo.get(), head_tree.get(), index.get(), &opts);
      rc != 0) {
    return git_failure("comparing the index with HEAD", rc);
  }
  DiffPtr diff(raw_diff);
  std::vector<StagedFile> out;
  const std::size_t n = git_diff_num_deltas(diff.get());
  for (std::size_t i = 0; i < n; ++i) {
    const git_diff_delta* d = git_diff_get_delta(diff.get(), i);
    switch (d->status) {
      case GIT_DELTA_ADDED:
      case GIT_DELTA_MODIFIED:
      case GIT_DELTA_RENAMED:
      case GIT_DELTA_COPIED:
      case GIT_DELTA_TYPECHANGE: break;
      default: continue;
    }
    if (d->new_file.mode == GIT_FILEMODE_COMMIT || d->new_file.mode == GIT_FILEMODE_TREE) continue;
    git_blob* raw_blob = nullptr;
    if (int rc = git_blob_lookup(&raw_blob, m_repo.get(), &d->new_file.id); rc != 0) {
      return git_failure(std::string("reading the staged blob of ") + d->new_file.path, rc);
    }
    BlobPtr blob(raw_blob);
    const auto size = static_cast<std::size_t>(git_blob_rawsize(blob.get()));
    out.push_back(
        {d->new_file.path, std::string(static_cast<const char*>(git_blob_rawcontent(blob.get())), size)});
  }
  std::sort(out.begin(), out.end(), [](const StagedFile& a, const StagedFile& b) { return a.path < b.path; });
  return out;
}

Expected<std::vector<std::string>> Repo::remote_urls() {
  // Read `remote.<name>.url` from the config directly: git_remote_list and
  // git_remote_lookup match every config entry against a regex, and libgit2 1.5 leaks
  // pcre2 match data on each non-match (LeakSanitizer fails the tests).
  git_config* raw_cfg = nullptr;
  if (int rc = git_repository_config_snapshot(&raw_cfg, m_repo.get()); rc != 0) {
    return git_failure("reading the git config", rc);
  }
  ConfigPtr cfg(raw_cfg);
  git_config_iterator* raw_it = nullptr;
  if (int rc = git_config_iterator_new(&raw_it, cfg.get()); rc != 0) {
    return git_failure("reading the git config", rc);
  }
  std::unique_ptr<git_config_iterator, CFree<git_config_iterator_free>> it(raw_it);
  std::vector<std::pair<std::string, std::string>> remotes;  // name, url; first url wins
  constexpr std::string_view kPrefix = "remote.";
  constexpr std::string_view kSuffix = ".url";
  git_config_entry* entry = nullptr;
  int rc = 0;
  while ((rc = git_config_next(&entry, it.get())) == 0) {
    const std::string_view key = entry->name;
    if (key.size() <= kPrefix.size() + kSuffix.size() || key.substr(0, kPrefix.size()) != kPrefix ||
        key.substr(key.size() - kSuffix.size()) != kSuffix || entry->value == nullptr ||
        *entry->value == '\0') {
      continue;
    }
    std::string name(key.substr(kPrefix.size(), key.size() - kPrefix.size() - kSuffix.size()));
    const bool seen =
        std::any_of(remotes.begin(), remotes.end(), [&](const auto& r) { return r.first == name; });
    if (!seen) remotes.emplace_back(std::move(name), entry->value);
  }
  if (rc != GIT_ITEROVER) return git_failure("reading the git config", rc);
  std::stable_partition(remotes.begin(), remotes.end(), [](const auto& r) { return r.first == "origin"; });
  std::vector<std::string> out;
  for (auto& r : remotes) out.push_back(std::move(r.second));
  return out;
}

bool Repo::is_shallow() const {
  struct stat st {};
  return ::stat((path() + "/shallow").c_str(), &st) == 0 && st.st_size > 0;
}

Expected<std::string> Repo::current_branch() {
  git_reference* raw = nullptr;
  if (int rc = git_reference_lookup(&raw, m_repo.get(), "HEAD"); rc != 0) {
    return git_failure("reading HEAD", rc);
  }
  ReferencePtr head(raw);
  if (git_reference_type(head.get()) != GIT_REFERENCE_SYMBOLIC) return std::string();
  std::string target = git_reference_symbolic_target(head.get());
  constexpr std::string_view kHeads = "refs/heads/";
  if (target.rfind(kHeads, 0) == 0) target.erase(0, kHeads.size());
  return target;
}

Expected<std::optional<std::string>> Repo::head_oid() {
  if (CAIRN_TRY(head_unborn())) return std::optional<std::string>();
  git_oid id;
  if (int rc = git_reference_name_to_id(&id, m_repo.get(), "HEAD"); rc != 0) {
    return git_failure("resolving HEAD", rc);
  }
  return std::optional<std::string>(to_hex(id));
}

Expected<bool> Repo::head_unborn() {
  const int rc = git_repository_head_unborn(m_repo.get());
  if (rc < 0) return git_failure("reading HEAD", rc);
  return rc == 1;
}

engine::Identity Repo::default_identity() {
  // As git signs a human's commit: the environment first, then the repository's config
  // (local over global over system), with $GIT_CONFIG_GLOBAL standing in for
  // ~/.gitconfig as git reads it (libgit2 itself only knows the home directory).
  auto env = [](const char* key) -> std::optional<std::string> {
    const char* v = std::getenv(key);
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
  };
  std::optional<std::string> name = env("GIT_AUTHOR_NAME");
  std::optional<std::string> email = env("GIT_AUTHOR_EMAIL");
  auto from = [&](git_config* cfg) {
    if (!name) name = config_string(cfg, "user.name");
    if (!email) email = config_string(cfg, "user.email");
  };
  const std::optional<std::string> global = env("GIT_CONFIG_GLOBAL");
  git_config* raw = nullptr;
  if (git_repository_config_snapshot(&raw, m_repo.get()) == 0) {
    ConfigPtr cfg(raw);
    if (global) {
      git_config* local = nullptr;
      if (git_config_open_level(&local, cfg.get(), GIT_CONFIG_LEVEL_LOCAL) == 0) {
        ConfigPtr level(local);
        from(level.get());
      } else {
        git_error_clear();
      }
      git_config* file = nullptr;
      if (git_config_open_ondisk(&file, global->c_str()) == 0) {
        ConfigPtr level(file);
        from(level.get());
      } else {
        git_error_clear();
      }
    }
    from(cfg.get());
  } else {
    git_error_clear();
  }
  if (!name) name = env("USER").value_or("cairn");
  return {*name, email ? *email : *name + "@localhost"};
}

}  // namespace cairn::gitstore
