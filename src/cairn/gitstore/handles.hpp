#pragma once

// libgit2 handles wrapped the moment they are obtained, the library-init guard, and
// the conversion of libgit2's last error into an Error value.

#include <git2.h>

#include <memory>
#include <string>
#include <string_view>

#include <cairn/util/c_handle.hpp>
#include <cairn/util/expected.hpp>

namespace cairn::gitstore {

using util::CFree;

using RepositoryPtr = std::unique_ptr<git_repository, CFree<git_repository_free>>;
using IndexPtr = std::unique_ptr<git_index, CFree<git_index_free>>;
using TreePtr = std::unique_ptr<git_tree, CFree<git_tree_free>>;
using TreeEntryPtr = std::unique_ptr<git_tree_entry, CFree<git_tree_entry_free>>;
using CommitPtr = std::unique_ptr<git_commit, CFree<git_commit_free>>;
using SignaturePtr = std::unique_ptr<git_signature, CFree<git_signature_free>>;
using ReferencePtr = std::unique_ptr<git_reference, CFree<git_reference_free>>;
using RemotePtr = std::unique_ptr<git_remote, CFree<git_remote_free>>;
using ObjectPtr = std::unique_ptr<git_object, CFree<git_object_free>>;
using BlobPtr = std::unique_ptr<git_blob, CFree<git_blob_free>>;
using RevwalkPtr = std::unique_ptr<git_revwalk, CFree<git_revwalk_free>>;
using ConfigPtr = std::unique_ptr<git_config, CFree<git_config_free>>;
using OdbPtr = std::unique_ptr<git_odb, CFree<git_odb_free>>;
using StatusListPtr = std::unique_ptr<git_status_list, CFree<git_status_list_free>>;
using DiffPtr = std::unique_ptr<git_diff, CFree<git_diff_free>>;
using IndexerPtr = std::unique_ptr<git_indexer, CFree<git_indexer_free>>;

// A git_buf that disposes of its memory when it goes out of scope.
class Buf {
 public:
  Buf() = default;
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  ~Buf() { git_buf_dispose(&m_buf); }

  git_buf* get() { return &m_buf; }
  // The bytes held (empty when nothing was written).
  std::string_view view() const {
    return m_buf.ptr == nullptr ? std::string_view{} : std::string_view(m_buf.ptr, m_buf.size);
  }

 private:
  git_buf m_buf = GIT_BUF_INIT;
};

// Owns one git_libgit2_init / git_libgit2_shutdown pair. main (and each test fixture)
// holds one for as long as any other gitstore object lives. libgit2 counts nested
// inits, so several guards are harmless.
class LibGit2 {
 public:
  LibGit2();
  ~LibGit2();
  LibGit2(const LibGit2&) = delete;
  LibGit2& operator=(const LibGit2&) = delete;
};

// The Error for the libgit2 failure that just happened:
// "libgit2: <class>: <message> (while <doing>)". Reads (and clears) git_error_last;
// `code` is the failing call's return value, used when libgit2 left no message.
Error git_failure(std::string_view doing, int code = -1, ExitCode exit = ExitCode::unreachable);

// Hex form of an object id.
std::string to_hex(const git_oid& id);

}  // namespace cairn::gitstore
