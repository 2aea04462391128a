#include <cairn/gitstore/store.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2/sys/commit.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>
#include <git2/sys/repository.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include <cairn/gitstore/repo.hpp>
#include <cairn/util/fs.hpp>

namespace cairn::gitstore {

namespace fs = std::filesystem;

namespace {

// Above the loose (1) and pack (2) backends, so every write lands in memory.
constexpr int kMempackPriority = 999;

std::string subject_of(const std::string& message) {
  return message.substr(0, message.find('\n'));
}

Error os_failure(const std::string& doing) {
  return fail("cannot " + doing + ": " + std::strerror(errno), ExitCode::unreachable);
}

// A read-only view of one of libgit2's own backends (pack or loose). It answers reads
// and existence checks but has no `refresh` and no `freshen`: libgit2 rescans the pack
// directory (and touches loose files) before writing every object it cannot find,
// which for a batch of new objects is pure overhead — they all go to the mempack.
// Without `refresh` libgit2 never rescans the packs at all, so the view consulted last
// (loose objects) rescans them itself when a read finds an object nowhere: it may have
// moved since the scan (`git gc --auto`, which a `git commit` of a few thousand files
// starts in the background, packs the loose objects and deletes them while a tick
// runs). A read of an object that exists is expected to succeed, so this costs a rescan
// only when something moved; existence checks (made before every write) never rescan.
struct ReadOnlyBackend {
  git_odb_backend parent;  // first member: libgit2 sees a git_odb_backend*
  git_odb_backend* inner;
  git_odb_backend* rescan = nullptr;  // the pack backend to rescan and read again on a miss
};

git_odb_backend* inner_of(git_odb_backend* b) {
  return reinterpret_cast<ReadOnlyBackend*>(b)->inner;
}

// The pack backend to read again from when `rc` says the object is nowhere, after a
// rescan of the pack directory; nullptr when there is nothing to retry.
git_odb_backend* rescanned(git_odb_backend* b, int rc) {
  git_odb_backend* packs = reinterpret_cast<ReadOnlyBackend*>(b)->rescan;
  if (rc != GIT_ENOTFOUND || packs == nullptr || packs->refresh == nullptr) return nullptr;
  git_error_clear();
  return packs->refresh(packs) == 0 ? packs : nullptr;
}

int ro_read(void** data, std::size_t* len, git_object_t* type, git_odb_backend* b, const git_oid* id) {
  git_odb_backend* in = inner_of(b);
  const int rc = in->read(data, len, type, in, id);
  git_odb_backend* packs = rescanned(b, rc);
  return packs != nullptr ? packs->read(data, len, type, packs, id) : rc;
}

int ro_read_prefix(git_oid* out, void** data, std::size_t* len, git_object_t* type, git_odb_backend* b,
                   const git_oid* prefix, std::size_t n) {
  git_odb_backend* in = inner_of(b);
  const int rc = in->read_prefix(out, data, len, type, in, prefix, n);
  git_odb_backend* packs = rescanned(b, rc);
  return packs != nullptr ? packs->read_prefix(out, data, len, type, packs, prefix, n) : rc;
}

int ro_read_header(std::size_t* len, git_object_t* type, git_odb_backend* b, const git_oid* id) {
  git_odb_backend* in = inner_of(b);
  const int rc = in->read_header(len, type, in, id);
  git_odb_backend* packs = rescanned(b, rc);
  return packs != nullptr ? packs->read_header(len, type, packs, id) : rc;
}

int ro_exists(git_odb_backend* b, const git_oid* id) {
  git_odb_backend* in = inner_of(b);
  return in->exists(in, id);
}
int ro_exists_prefix(git_oid* out, git_odb_backend* b, const git_oid* prefix, std::size_t n) {
  git_odb_backend* in = inner_of(b);
  return in->exists_prefix(out, in, prefix, n);
}
int ro_foreach(git_odb_backend* b, git_odb_foreach_cb cb, void* payload) {
  git_odb_backend* in = inner_of(b);
  return in->foreach (in, cb, payload);
}
void ro_free(git_odb_backend* b) {
  git_odb_backend* in = inner_of(b);
  in->free(in);
  delete reinterpret_cast<ReadOnlyBackend*>(b);
}

// Adds `inner` to `odb` behind a ReadOnlyBackend; takes ownership of `inner` either way.
// `rescan`: the pack backend a read that finds nothing rescans and retries (not owned).
int add_read_only(git_odb* odb, git_odb_backend* inner, int priority, git_odb_backend* rescan = nullptr) {
  auto* ro = new ReadOnlyBackend{};
  ro->inner = inner;
  ro->rescan = rescan;
  git_odb_init_backend(&ro->parent, GIT_ODB_BACKEND_VERSION);
  ro->parent.read = inner->read != nullptr ? ro_read : nullptr;
  ro->parent.read_prefix = inner->read_prefix != nullptr ? ro_read_prefix : nullptr;
  ro->parent.read_header = inner->read_header != nullptr ? ro_read_header : nullptr;
  ro->parent.exists = inner->exists != nullptr ? ro_exists : nullptr;
  ro->parent.exists_prefix = inner->exists_prefix != nullptr ? ro_exists_prefix : nullptr;
  ro->parent.foreach = inner->foreach != nullptr ? ro_foreach : nullptr;
  ro->parent.free = ro_free;
  const int rc = git_odb_add_backend(odb, &ro->parent, priority);
  if (rc != 0) ro_free(&ro->parent);
  return rc;
}

}  // namespace

Expected<std::unique_ptr<GitStore>> GitStore::open(const std::string& path) {
  git_repository* raw_repo = nullptr;
  if (int rc = git_repository_open_ext(&raw_repo, path.c_str(), 0, nullptr); rc != 0) {
    return git_failure("opening the git repository at " + path, rc);
  }
  RepositoryPtr repo(raw_repo);
  const char* wd = git_repository_workdir(repo.get());
  if (wd == nullptr)
    return fail("the repository at " + path + " is bare: cairn needs a work tree", ExitCode::unreachable);
  std::string workdir = wd;
  while (workdir.size() > 1 && workdir.back() == '/') workdir.pop_back();
  Buf objects_buf;
  if (int rc = git_repository_item_path(objects_buf.get(), repo.get(), GIT_REPOSITORY_ITEM_OBJECTS);
      rc != 0) {
    return git_failure("locating the object directory", rc);
  }
  std::string objects(objects_buf.view());
  while (objects.size() > 1 && objects.back() == '/') objects.pop_back();

  git_odb_backend* mempack = nullptr;
  if (int rc = git_mempack_new(&mempack); rc != 0)
    return git_failure("creating the in-memory object store", rc);
  git_odb_backend* pack = nullptr;
  std::error_code ec;
  if (!fs::exists(objects + "/info/alternates", ec)) {
    // Our own object database: mempack for writes, the repository's packs and loose
    // objects read-only. (With alternates we keep libgit2's, which knows them.)
    git_odb* raw_odb = nullptr;
    if (int rc = git_odb_new(&raw_odb); rc != 0) {
      mempack->free(mempack);
      return git_failure("creating an object database", rc);
    }
    OdbPtr odb(raw_odb);
    if (int rc = git_odb_add_backend(odb.get(), mempack, kMempackPriority); rc != 0) {
      mempack->free(mempack);
      return git_failure("attaching the in-memory object store", rc);
    }
    if (int rc = git_odb_backend_pack(&pack, objects.c_str()); rc != 0)
      return git_failure("opening packfiles", rc);
    if (int rc = add_read_only(odb.get(), pack, 2); rc != 0) return git_failure("attaching packfiles", rc);
    git_odb_backend* loose = nullptr;
    if (int rc = git_odb_backend_loose(&loose, objects.c_str(), -1, 0, 0, 0); rc != 0) {
      return git_failure("opening loose objects", rc);
    }
    if (int rc = add_read_only(odb.get(), loose, 1, pack); rc != 0)
      return git_failure("attaching loose objects", rc);
    if (int rc = git_repository_set_odb(repo.get(), odb.get()); rc != 0) {
      return git_failure("installing the object database", rc);
    }
  } else {
    git_odb* raw_odb = nullptr;
    if (int rc = git_repository_odb(&raw_odb, repo.get()); rc != 0) {
      mempack->free(mempack);
      return git_failure("opening the object database", rc);
    }
    OdbPtr odb(raw_odb);
    if (int rc = git_odb_add_backend(odb.get(), mempack, kMempackPriority); rc != 0) {
      mempack->free(mempack);  // not yet owned by the ODB
      return git_failure("attaching the in-memory object store", rc);
    }
  }
  return std::unique_ptr<GitStore>(
      new GitStore(std::move(repo), mempack, pack, std::move(workdir), std::move(objects)));
}

GitStore::GitStore(RepositoryPtr repo, git_odb_backend* mempack, git_odb_backend* pack, std::string workdir,
                   std::string objects)
    : m_repo(std::move(repo)),
      m_mempack(mempack),
      m_pack(pack),
      m_workdir(std::move(workdir)),
      m_objects(std::move(objects)) {}

GitStore::~GitStore() = default;

Expected<std::string> GitStore::relative_path(const std::string& path) const {
  fs::path p = fs::path(path).lexically_normal();
  if (p.is_absolute()) {
    const fs::path rel = p.lexically_relative(fs::path(m_workdir).lexically_normal());
    if (rel.empty() || *rel.begin() == "..") {
      return fail("cannot commit " + path + ": outside the work tree " + m_workdir, ExitCode::unreachable);
    }
    p = rel;
  }
  if (p.empty() || p == ".") return fail("cannot commit an empty path", ExitCode::unreachable);
  for (const auto& part : p) {
    if (part == ".." || part == ".git" || part.empty()) {
      return fail("cannot commit " + path + ": not a plain path inside the work tree", ExitCode::unreachable);
    }
  }
  return p.generic_string();
}

Expected<void> GitStore::begin_batch() {
  git_reference* raw = nullptr;
  if (int rc = git_reference_lookup(&raw, m_repo.get(), "HEAD"); rc != 0)
    return git_failure("reading HEAD", rc);
  ReferencePtr head(raw);
  m_base.reset();
  if (git_reference_type(head.get()) == GIT_REFERENCE_SYMBOLIC) {
    m_ref_name = git_reference_symbolic_target(head.get());
    git_oid id;
    const int rc = git_reference_name_to_id(&id, m_repo.get(), m_ref_name.c_str());
    if (rc == 0) {
      m_base = id;
    } else if (rc == GIT_ENOTFOUND) {
      git_error_clear();  // unborn branch: the first commit has no parent
    } else {
      return git_failure("resolving " + m_ref_name, rc);
    }
  } else {
    m_ref_name = "HEAD";
    m_base = *git_reference_target(head.get());
  }
  m_tip = m_base;
  if (m_base) {
    git_commit* raw_commit = nullptr;
    if (int rc = git_commit_lookup(&raw_commit, m_repo.get(), &*m_base); rc != 0) {
      return git_failure("reading the HEAD commit", rc);
    }
    CommitPtr c(raw_commit);
    m_tip_tree = *git_commit_tree_id(c.get());
  }
  m_started = true;
  return {};
}

Expected<std::string> GitStore::commit(const engine::CommitRequest& request,
                                       const engine::Identity& identity) {
  struct Staged {
    std::string path;
    const std::string* content;
    git_oid blob{};
    git_filemode_t mode = GIT_FILEMODE_BLOB;
  };
  std::vector<Staged> files;
  files.push_back({CAIRN_TRY(relative_path(request.path)), &request.content});
  for (const auto& f : request.also) files.push_back({CAIRN_TRY(relative_path(f.path)), &f.content});
  if (!m_started) CAIRN_TRY(begin_batch());

  TreePtr baseline;
  if (m_tip) {
    git_tree* raw_tree = nullptr;
    if (int rc = git_tree_lookup(&raw_tree, m_repo.get(), &m_tip_tree); rc != 0) {
      return git_failure("reading the tree of the previous commit", rc);
    }
    baseline.reset(raw_tree);
  }
  std::vector<git_tree_update> updates(files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    Staged& f = files[i];
    if (baseline) {
      git_tree_entry* raw_entry = nullptr;
      const int rc = git_tree_entry_bypath(&raw_entry, baseline.get(), f.path.c_str());
      if (rc == 0) {
        TreeEntryPtr entry(raw_entry);
        const git_filemode_t existing = git_tree_entry_filemode(entry.get());
        if (existing == GIT_FILEMODE_BLOB_EXECUTABLE) {
          f.mode = existing;
        } else if (existing != GIT_FILEMODE_BLOB) {
          return fail("cannot commit " + f.path + ": it is not a regular file in HEAD",
                      ExitCode::unreachable);
        }
      } else if (rc == GIT_ENOTFOUND) {
        git_error_clear();
      } else {
        return git_failure("looking up " + f.path + " in the previous commit", rc);
      }
    }
    if (int rc = git_blob_create_from_buffer(&f.blob, m_repo.get(), f.content->data(), f.content->size());
        rc != 0) {
      return git_failure("writing the blob of " + f.path, rc);
    }
    updates[i].action = GIT_TREE_UPDATE_UPSERT;
    updates[i].id = f.blob;
    updates[i].filemode = f.mode;
    updates[i].path = f.path.c_str();
  }
  git_oid tree;
  if (int rc = git_tree_create_updated(&tree, m_repo.get(), baseline.get(), updates.size(), updates.data());
      rc != 0) {
    return git_failure("writing the tree for " + files.front().path, rc);
  }

  git_signature* raw_sig = nullptr;
  if (int rc = git_signature_now(&raw_sig, identity.name.c_str(), identity.email.c_str()); rc != 0) {
    return git_failure("making the signature " + identity.name + " <" + identity.email + ">", rc);
  }
  SignaturePtr sig(raw_sig);
  std::string message = request.message;
  if (message.empty() || message.back() != '\n') message += '\n';
  git_oid id;
  const git_oid* parents[1] = {m_tip ? &*m_tip : nullptr};
  if (int rc = git_commit_create_from_ids(&id, m_repo.get(), nullptr, sig.get(), sig.get(), nullptr,
                                          message.c_str(), &tree, m_tip ? 1 : 0, parents);
      rc != 0) {
    return git_failure("creating the commit for " + files.front().path, rc);
  }

  m_tip = id;
  m_tip_tree = tree;
  m_last_subject = subject_of(message);
  if (m_commits == 0) m_first_subject = m_last_subject;
  ++m_commits;
  m_packed = false;
  for (const Staged& f : files) m_files[f.path] = PendingFile{*f.content, f.blob, f.mode};
  return to_hex(id);
}

Expected<void> GitStore::write_pack() {
  if (m_packed) return {};
  Buf pack;
  if (int rc = git_mempack_dump(pack.get(), m_repo.get(), m_mempack); rc != 0) {
    return git_failure("packing the new objects", rc);
  }
  git_indexer* raw = nullptr;
  const std::string pack_dir = m_objects + "/pack";
  if (int rc = git_indexer_new(&raw, pack_dir.c_str(), 0, nullptr, nullptr); rc != 0) {
    return git_failure("opening a packfile writer", rc);
  }
  IndexerPtr indexer(raw);
  git_indexer_progress stats{};
  const std::string_view bytes = pack.view();
  if (int rc = git_indexer_append(indexer.get(), bytes.data(), bytes.size(), &stats); rc != 0) {
    return git_failure("writing the packfile", rc);
  }
  if (int rc = git_indexer_commit(indexer.get(), &stats); rc != 0)
    return git_failure("indexing the packfile", rc);
  indexer.reset();
  // The objects are on disk now: make the ODB see the new pack, then drop the memory
  // copies, so later lookups (the next batch) find them there.
  int rc = 0;
  if (m_pack != nullptr) {
    rc = m_pack->refresh(m_pack);
  } else {
    git_odb* raw_odb = nullptr;
    rc = git_repository_odb(&raw_odb, m_repo.get());
    OdbPtr odb(raw_odb);
    if (rc == 0) rc = git_odb_refresh(odb.get());
  }
  if (rc != 0) return git_failure("rescanning packfiles", rc);
  if (int reset = git_mempack_reset(m_mempack); reset != 0) {
    return git_failure("clearing the in-memory object store", reset);
  }
  m_packed = true;
  return {};
}

Expected<void> GitStore::write_work_tree() {
  for (const auto& [path, f] : m_files) {
    CAIRN_TRY(util::write_atomically((fs::path(m_workdir) / path).string(), f.content,
                                     f.mode == GIT_FILEMODE_BLOB_EXECUTABLE));
  }
  return {};
}

Expected<void> GitStore::update_ref() {
  std::string log =
      m_commits == 1
          ? "commit" + std::string(m_base ? "" : " (initial)") + ": " + m_last_subject
          : "cairn: " + std::to_string(m_commits) + " commits: " + m_first_subject + " .. " + m_last_subject;
  git_reference* raw = nullptr;
  // Compare-and-swap: a branch that moved under us (a human commit mid-tick) is not
  // overwritten; an unborn branch must still be unborn.
  const int rc = m_base
                     ? git_reference_create_matching(&raw, m_repo.get(), m_ref_name.c_str(), &*m_tip, 1,
                                                     &*m_base, log.c_str())
                     : git_reference_create(&raw, m_repo.get(), m_ref_name.c_str(), &*m_tip, 0, log.c_str());
  ReferencePtr ref(raw);
  if (rc == GIT_EMODIFIED || rc == GIT_EEXISTS) {
    git_error_clear();
    return fail(m_ref_name + " moved while cairn was committing; nothing was overwritten, run the tick again",
                ExitCode::unreachable);
  }
  if (rc != 0) return git_failure("updating " + m_ref_name, rc);
  return {};
}

Expected<void> GitStore::update_index() {
  git_index* raw = nullptr;
  if (int rc = git_repository_index(&raw, m_repo.get()); rc != 0) return git_failure("opening the index", rc);
  IndexPtr index(raw);
  if (int rc = git_index_read(index.get(), 0); rc != 0) return git_failure("reading the index", rc);
  for (const auto& [path, f] : m_files) {
    // The entry records the blob we committed plus the file's stat data, so git sees
    // the work-tree file as unchanged without re-hashing it (and filters such as
    // autocrlf cannot turn it into a different blob).
    struct stat st {};
    const std::string full = m_workdir + "/" + path;
    if (::lstat(full.c_str(), &st) != 0) return os_failure("stat " + full);
    git_index_entry e{};
    e.ctime.seconds = static_cast<int32_t>(st.st_ctim.tv_sec);
    e.ctime.nanoseconds = static_cast<uint32_t>(st.st_ctim.tv_nsec);
    e.mtime.seconds = static_cast<int32_t>(st.st_mtim.tv_sec);
    e.mtime.nanoseconds = static_cast<uint32_t>(st.st_mtim.tv_nsec);
    e.dev = static_cast<uint32_t>(st.st_dev);
    e.ino = static_cast<uint32_t>(st.st_ino);
    e.mode = f.mode;
    e.uid = st.st_uid;
    e.gid = st.st_gid;
    e.file_size = static_cast<uint32_t>(st.st_size);
    e.id = f.blob;
    e.path = path.c_str();
    if (int rc = git_index_add(index.get(), &e); rc != 0) return git_failure("staging " + path, rc);
  }
  if (int rc = git_index_write(index.get()); rc != 0) return git_failure("writing the index", rc);
  return {};
}

Expected<bool> GitStore::publish() {
  CAIRN_TRY(flush());
  if (!m_remote) return true;
  // A handle of its own: this store's object database is the in-memory one.
  auto repo = CAIRN_TRY(Repo::discover(m_workdir));
  return push_branch(repo, *m_remote);
}

Expected<void> GitStore::flush() {
  if (m_commits == 0) return {};
  // Order matters: objects before the ref that names them; the work tree before the
  // ref so a crash in between leaves at worst an edited file, never a branch whose
  // files are missing; the index last, describing the files as they now are.
  CAIRN_TRY(write_pack());
  CAIRN_TRY(write_work_tree());
  CAIRN_TRY(update_ref());
  m_base = m_tip;
  CAIRN_TRY(update_index());
  m_started = false;
  m_commits = 0;
  m_files.clear();
  return {};
}

}  // namespace cairn::gitstore
