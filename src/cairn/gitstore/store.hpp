#pragma once

// The engine's Store on a real repository. Commits are built in memory (libgit2's
// mempack ODB backend): commit() writes the blob, trees and commit object there, and
// flush() makes the whole batch durable in one go — one packfile, then the work-tree
// files, then the branch ref (compare-and-swap against the tip the batch started
// from), then the index entries of the touched paths. Nothing reaches the disk before
// flush(), so a process killed mid-tick leaves the repository exactly as it was.

#include <map>
#include <memory>
#include <optional>
#include <string>

#include <cairn/engine/ports.hpp>
#include <cairn/gitstore/handles.hpp>
#include <cairn/gitstore/remote.hpp>
#include <cairn/util/expected.hpp>

namespace cairn::gitstore {

class GitStore : public engine::Store {
 public:
  // Opens the repository containing `path` (searching parent directories) and
  // attaches the in-memory object store. Fails (exit 3) when there is no repository,
  // it is bare, or the backend cannot be attached.
  static Expected<std::unique_ptr<GitStore>> open(const std::string& path);

  // Discards commits that were never flushed; the repository is left untouched.
  ~GitStore() override;
  GitStore(const GitStore&) = delete;
  GitStore& operator=(const GitStore&) = delete;

  // Creates a commit on the current branch (or detached HEAD) whose tree is the
  // previous commit's with `request.path` (repo-relative, or absolute inside the work
  // tree) set to `request.content`; author = committer = `identity`, time = now;
  // parent = the previous commit of this batch, else HEAD (none when HEAD is unborn).
  // The file keeps its mode when it already exists. Returns the commit id (hex); the
  // commit is visible to git only after flush(). Fails (exit 3) on a path outside the
  // work tree or inside .git, an invalid identity, or a libgit2 error.
  Expected<std::string> commit(const engine::CommitRequest& request,
                               const engine::Identity& identity) override;

  // Makes every commit since the last flush durable: writes their objects as one
  // packfile, writes the touched files into the work tree (temp file + rename),
  // moves the branch to the last commit with one reflog entry — failing (exit 3) if
  // the branch moved since the batch began — and updates only those paths in the
  // index. A no-op when nothing is pending. After a failure the batch stays pending
  // and flush() may be retried.
  Expected<void> flush() override;

  // flush(), then — when a remote was set — push the branch as a compare-and-swap
  // (gitstore/remote.hpp). True when it landed (or there is no remote), false when the
  // server refused it because another writer moved the tip. Fails (exit 3) when the
  // flush fails or the remote cannot be reached.
  Expected<bool> publish() override;

  // Where publish() pushes; without it publish() only flushes.
  void set_remote(RemoteBranch where) { m_remote = std::move(where); }

  // Number of commits made since the last successful flush.
  int pending_commits() const { return m_commits; }

  // The repository's work tree root (no trailing slash).
  const std::string& workdir() const { return m_workdir; }

 private:
  struct PendingFile {
    std::string content;
    git_oid blob{};
    git_filemode_t mode = GIT_FILEMODE_BLOB;
  };

  GitStore(RepositoryPtr repo, git_odb_backend* mempack, git_odb_backend* pack, std::string workdir,
           std::string objects);

  Expected<void> begin_batch();
  Expected<std::string> relative_path(const std::string& path) const;
  Expected<void> write_pack();
  Expected<void> write_work_tree();
  Expected<void> update_ref();
  Expected<void> update_index();

  RepositoryPtr m_repo;
  git_odb_backend* m_mempack;  // owned by the repository's ODB
  git_odb_backend* m_pack;     // the packfile reader inside our ODB; null with alternates
  std::string m_workdir;
  std::string m_objects;  // the object directory

  // The batch since the last flush.
  bool m_started = false;
  std::string m_ref_name;         // "refs/heads/<branch>", or "HEAD" when detached
  std::optional<git_oid> m_base;  // the tip when the batch began; nullopt when unborn
  std::optional<git_oid> m_tip;   // the batch's last commit
  git_oid m_tip_tree{};
  int m_commits = 0;
  bool m_packed = false;  // the batch's objects are already on disk
  std::string m_first_subject;
  std::string m_last_subject;
  std::map<std::string, PendingFile> m_files;
  std::optional<RemoteBranch> m_remote;
};

}  // namespace cairn::gitstore
