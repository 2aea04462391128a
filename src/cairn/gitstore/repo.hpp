#pragma once

// An open git repository and the read-only questions cairn asks of it: is the tree
// dirty, what is staged, where are the remotes, which branch, who is the user.

#include <optional>
#include <string>
#include <vector>

#include <cairn/engine/ports.hpp>
#include <cairn/gitstore/handles.hpp>
#include <cairn/util/expected.hpp>

namespace cairn::gitstore {

// A file staged in the index that differs from HEAD (added or modified).
struct StagedFile {
  std::string path;     // repo-relative, '/'-separated
  std::string content;  // the staged blob's bytes, not the work tree's
};

class Repo {
 public:
  // Opens the repository containing `path`, searching parent directories. Fails
  // (exit 3) when no repository encloses `path` or it cannot be opened.
  static Expected<Repo> discover(const std::string& path);

  Repo(Repo&&) noexcept = default;
  Repo& operator=(Repo&&) noexcept = default;

  // The work tree root without a trailing slash; empty for a bare repository.
  std::string workdir() const;
  // The git directory (`.git`) without a trailing slash.
  std::string path() const;

  // Tracked files whose index or work-tree content differs from HEAD (including
  // deletions and conflicts), sorted; untracked and ignored files and submodules are
  // not reported. Fails when the status cannot be computed.
  Expected<std::vector<std::string>> dirty_tracked_files();

  // Files added or modified in the index relative to HEAD (every indexed file when
  // HEAD is unborn), with their staged content, sorted by path. Deleted files and
  // submodules are skipped. Fails when the index or a blob cannot be read.
  Expected<std::vector<StagedFile>> staged_files();

  // Fetch URLs of the configured remotes, `origin` first, the rest in config order.
  // Empty when there is no remote. Fails when the config cannot be read.
  Expected<std::vector<std::string>> remote_urls();

  // The checked-out branch's short name ("main"), also when it has no commit yet;
  // empty when HEAD is detached. Fails when HEAD cannot be read.
  Expected<std::string> current_branch();

  // HEAD's commit id (hex), or nullopt when HEAD is unborn. Fails when HEAD is broken.
  Expected<std::optional<std::string>> head_oid();

  // True for a shallow clone (CI's `fetch-depth: 1`): `<gitdir>/shallow` lists grafts.
  // (libgit2 1.5's git_repository_is_shallow leaks a buffer on every call.)
  bool is_shallow() const;

  // True when HEAD names a branch without commits (a fresh `git init`).
  Expected<bool> head_unborn();

  // Who a human's commit is by, as git decides it: $GIT_AUTHOR_NAME / $GIT_AUTHOR_EMAIL,
  // else user.name / user.email of the repository's config (reading $GIT_CONFIG_GLOBAL
  // in place of ~/.gitconfig when set, as git does). Falls back to $USER (or "cairn")
  // and "<name>@localhost". The one identity of every commit cairn makes for a human
  // (clear, catalog promote).
  engine::Identity default_identity();

  // The libgit2 handle, for the rest of this module.
  git_repository* raw() const { return m_repo.get(); }

 private:
  explicit Repo(RepositoryPtr repo) : m_repo(std::move(repo)) {}
  RepositoryPtr m_repo;
};

}  // namespace cairn::gitstore
