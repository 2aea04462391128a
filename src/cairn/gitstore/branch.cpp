#include <cairn/gitstore/branch.hpp>

#include <algorithm>
#include <cstdint>

#include <fmt/format.h>

#include <cairn/gitstore/deadline.hpp>
#include <cairn/util/redact.hpp>
#include <cairn/util/subprocess.hpp>

namespace cairn::gitstore {

namespace {

struct Callbacks {
  const BranchAuth* auth;
  int asked = 0;
  std::string refused;         // the server's reason for a refused ref update
  NetworkDeadline deadline{};  // every callback is progress
};

int on_progress(void* payload) {
  auto* cb = static_cast<Callbacks*>(payload);
  if (cb->deadline.expired()) return GIT_EUSER;
  cb->deadline.touch();
  return 0;
}

int credentials(git_credential** out, const char* /*url*/, const char* user_from_url, unsigned int allowed,
                void* payload) {
  if (on_progress(payload) != 0) return GIT_EUSER;
  auto* cb = static_cast<Callbacks*>(payload);
  if (++cb->asked > 2) return GIT_EUSER;  // the same secret refused twice: give up
  if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) != 0 && !cb->auth->token.empty()) {
    return git_credential_userpass_plaintext_new(out, cb->auth->user.c_str(), cb->auth->token.c_str());
  }
  if ((allowed & GIT_CREDENTIAL_SSH_KEY) != 0) {
    return git_credential_ssh_key_from_agent(out, user_from_url != nullptr ? user_from_url : "git");
  }
  return GIT_PASSTHROUGH;
}

git_remote_callbacks callbacks_for(Callbacks& cb) {
  git_remote_callbacks c;
  git_remote_init_callbacks(&c, GIT_REMOTE_CALLBACKS_VERSION);
  c.credentials = credentials;
  c.sideband_progress = [](const char* /*text*/, int /*len*/, void* payload) { return on_progress(payload); };
  c.transfer_progress = [](const git_indexer_progress* /*stats*/, void* payload) {
    return on_progress(payload);
  };
  c.pack_progress = [](int /*stage*/, std::uint32_t /*current*/, std::uint32_t /*total*/, void* payload) {
    return on_progress(payload);
  };
  c.push_transfer_progress = [](unsigned int /*current*/, unsigned int /*total*/, std::size_t /*bytes*/,
                                void* payload) { return on_progress(payload); };
  c.push_update_reference = [](const char* /*ref*/, const char* status, void* payload) {
    if (status != nullptr) static_cast<Callbacks*>(payload)->refused = status;
    return 0;
  };
  c.payload = &cb;
  return c;
}

Error network_failure(std::string_view doing, const std::string& url, int rc, const Callbacks& cb) {
  const BranchAuth& auth = *cb.auth;
  const git_error* e = git_error_last();
  std::string why = e != nullptr && e->message != nullptr ? e->message : fmt::format("libgit2 error {}", rc);
  if (auto nl = why.find('\n'); nl != std::string::npos) why.resize(nl);
  if (rc == GIT_EUSER) why = "authentication refused: the remote rejected the credentials";
  if (cb.deadline.expired()) why = cb.deadline.reason();
  std::string msg = fmt::format("{} {}: {}", doing, url, why);
  if (!auth.token.empty()) {
    for (auto p = msg.find(auth.token); p != std::string::npos; p = msg.find(auth.token, p)) {
      msg.replace(p, auth.token.size(), "[REDACTED]");
    }
  }
  return fail(util::redact(msg), ExitCode::unreachable);
}

Expected<RemotePtr> lookup(Repo& repo, const std::string& name) {
  git_remote* raw = nullptr;
  if (int rc = git_remote_lookup(&raw, repo.raw(), name.c_str()); rc != 0) {
    return git_failure("looking up remote " + name, rc);
  }
  return RemotePtr(raw);
}

std::string base64(const std::string& in) {
  static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    const unsigned n = (static_cast<unsigned char>(in[i]) << 16) |
                       (i + 1 < in.size() ? static_cast<unsigned char>(in[i + 1]) << 8 : 0) |
                       (i + 2 < in.size() ? static_cast<unsigned char>(in[i + 2]) : 0);
    out += kB64[(n >> 18) & 63];
    out += kB64[(n >> 12) & 63];
    out += i + 1 < in.size() ? kB64[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kB64[n & 63] : '=';
  }
  return out;
}

// The commit (not yet referenced by anything) with parent `parent_id` that makes `c`'s
// writes and removals.
Expected<git_oid> build_commit(Repo& repo, const git_oid& parent_id, const BranchCommit& c,
                               const engine::Identity& identity) {
  git_commit* raw_commit = nullptr;
  if (int rc = git_commit_lookup(&raw_commit, repo.raw(), &parent_id); rc != 0)
    return git_failure("reading HEAD", rc);
  CommitPtr parent(raw_commit);
  git_tree* raw_tree = nullptr;
  if (int rc = git_commit_tree(&raw_tree, parent.get()); rc != 0)
    return git_failure("reading HEAD's tree", rc);
  TreePtr tree(raw_tree);

  std::vector<git_tree_update> updates;
  for (const auto& w : c.writes) {
    git_filemode_t mode = GIT_FILEMODE_BLOB;
    git_tree_entry* raw_entry = nullptr;
    if (git_tree_entry_bypath(&raw_entry, tree.get(), w.path.c_str()) == 0) {
      TreeEntryPtr entry(raw_entry);
      mode = git_tree_entry_filemode(entry.get());
    }
    git_oid blob{};
    if (int rc = git_blob_create_from_buffer(&blob, repo.raw(), w.content.data(), w.content.size());
        rc != 0) {
      return git_failure("writing " + w.path, rc);
    }
    git_tree_update u{};
    u.action = GIT_TREE_UPDATE_UPSERT;
    u.id = blob;
    u.filemode = mode;
    u.path = w.path.c_str();
    updates.push_back(u);
  }
  for (const auto& r : c.removes) {
    git_tree_update u{};
    u.action = GIT_TREE_UPDATE_REMOVE;
    u.path = r.c_str();
    updates.push_back(u);
  }
  git_oid new_tree_id{};
  if (int rc = git_tree_create_updated(&new_tree_id, repo.raw(), tree.get(), updates.size(), updates.data());
      rc != 0) {
    return git_failure("building the tree of a branch commit", rc);
  }
  git_tree* raw_new_tree = nullptr;
  if (int rc = git_tree_lookup(&raw_new_tree, repo.raw(), &new_tree_id); rc != 0)
    return git_failure("reading a tree", rc);
  TreePtr new_tree(raw_new_tree);
  git_signature* raw_sig = nullptr;
  if (int rc = git_signature_now(&raw_sig, identity.name.c_str(), identity.email.c_str()); rc != 0) {
    return git_failure("making the signature", rc, ExitCode::findings);
  }
  SignaturePtr sig(raw_sig);
  const git_commit* parents[] = {parent.get()};
  git_oid id{};
  if (int rc = git_commit_create(&id, repo.raw(), nullptr, sig.get(), sig.get(), "UTF-8", c.message.c_str(),
                                 new_tree.get(), 1, parents);
      rc != 0) {
    return git_failure("creating the commit", rc);
  }
  return id;
}

// The chain of `commits` on HEAD; the last one's id.
Expected<git_oid> build_chain(Repo& repo, const std::vector<BranchCommit>& commits,
                              const engine::Identity& identity) {
  git_oid id{};
  if (int rc = git_reference_name_to_id(&id, repo.raw(), "HEAD"); rc != 0)
    return git_failure("resolving HEAD", rc);
  for (const auto& c : commits) id = CAIRN_TRY(build_commit(repo, id, c, identity));
  return id;
}

Expected<void> push_with_git(Repo& repo, const std::string& remote, const std::string& url, const git_oid& id,
                             const std::string& branch, const BranchAuth& auth) {
  util::SpawnOptions opts;
  opts.cwd = repo.workdir().empty() ? repo.path() : repo.workdir();
  opts.env = {"GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=true", "LC_ALL=C"};
  if (!auth.token.empty() && url.rfind("http", 0) == 0) {
    opts.env.push_back("GIT_CONFIG_COUNT=1");
    opts.env.push_back("GIT_CONFIG_KEY_0=http.extraheader");
    opts.env.push_back("GIT_CONFIG_VALUE_0=Authorization: Basic " + base64(auth.user + ":" + auth.token));
  }
  auto r = util::run_capture(
      {"git", "push", "--porcelain", remote, fmt::format("{}:refs/heads/{}", to_hex(id), branch)}, "",
      std::chrono::minutes(5), opts);
  if (!r) return fail(util::redact(r.error().message), ExitCode::unreachable);
  if (r->exit != 0) {
    std::string why = r->err.substr(0, r->err.find('\n'));
    return fail(util::redact(fmt::format("pushing {} to {}: {}", branch, url, why)), ExitCode::unreachable);
  }
  return {};
}

}  // namespace

Expected<std::vector<std::string>> list_remote_branches(Repo& repo, const std::string& remote,
                                                        const std::string& prefix, const BranchAuth& auth) {
  RemotePtr r = CAIRN_TRY(lookup(repo, remote));
  const std::string url = git_remote_url(r.get()) != nullptr ? git_remote_url(r.get()) : "";
  Callbacks cb{&auth, 0, {}};
  git_remote_callbacks c = callbacks_for(cb);
  if (int rc = git_remote_connect(r.get(), GIT_DIRECTION_FETCH, &c, nullptr, nullptr); rc != 0) {
    return network_failure("listing branches of", url, rc, cb);
  }
  const git_remote_head** heads = nullptr;
  std::size_t count = 0;
  if (int rc = git_remote_ls(&heads, &count, r.get()); rc != 0)
    return network_failure("listing branches of", url, rc, cb);
  const std::string want = "refs/heads/" + prefix;
  std::vector<std::string> out;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string name = heads[i]->name;
    if (name.rfind(want, 0) == 0) out.push_back(name.substr(std::string_view("refs/heads/").size()));
  }
  git_remote_disconnect(r.get());
  std::sort(out.begin(), out.end());
  return out;
}

Expected<std::string> create_local_branch(Repo& repo, const std::string& branch,
                                          const std::vector<BranchCommit>& commits,
                                          const engine::Identity& identity) {
  const git_oid id = CAIRN_TRY(build_chain(repo, commits, identity));
  git_reference* raw_ref = nullptr;
  const std::string ref = "refs/heads/" + branch;
  if (int rc =
          git_reference_create(&raw_ref, repo.raw(), ref.c_str(), &id, 0, "cairn: clear-escalation branch");
      rc != 0) {
    if (rc == GIT_EEXISTS) return fail(fmt::format("branch {} exists already", branch), ExitCode::findings);
    return git_failure("creating " + ref, rc);
  }
  ReferencePtr made(raw_ref);
  return to_hex(id);
}

Expected<void> export_head(Repo& repo, const std::string& dir) {
  git_oid head{};
  if (int rc = git_reference_name_to_id(&head, repo.raw(), "HEAD"); rc != 0)
    return git_failure("resolving HEAD", rc);
  git_commit* raw_commit = nullptr;
  if (int rc = git_commit_lookup(&raw_commit, repo.raw(), &head); rc != 0)
    return git_failure("reading HEAD", rc);
  CommitPtr commit(raw_commit);
  git_checkout_options opts;
  git_checkout_options_init(&opts, GIT_CHECKOUT_OPTIONS_VERSION);
  opts.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DONT_UPDATE_INDEX;
  opts.target_directory = dir.c_str();
  if (int rc = git_checkout_tree(repo.raw(), reinterpret_cast<const git_object*>(commit.get()), &opts);
      rc != 0) {
    return git_failure("writing HEAD's files into " + dir, rc);
  }
  return {};
}

Expected<std::string> publish_branch(Repo& repo, const std::string& remote, const std::string& branch,
                                     const std::vector<BranchCommit>& commits,
                                     const engine::Identity& identity, const BranchAuth& auth) {
  const git_oid id = CAIRN_TRY(build_chain(repo, commits, identity));
  RemotePtr r = CAIRN_TRY(lookup(repo, remote));
  const std::string url = git_remote_url(r.get()) != nullptr ? git_remote_url(r.get()) : "";
  if (repo.is_shallow()) {
    CAIRN_TRY(push_with_git(repo, remote, url, id, branch, auth));
    return to_hex(id);
  }
  // git_remote_push pushes refs: a temporary local ref carries the commit, and is
  // removed whatever the push's outcome.
  const std::string ref = "refs/cairn-publish/" + branch;
  git_reference* raw_ref = nullptr;
  if (int rc =
          git_reference_create(&raw_ref, repo.raw(), ref.c_str(), &id, 1, "cairn: clear-escalation branch");
      rc != 0) {
    return git_failure("creating " + ref, rc);
  }
  ReferencePtr local(raw_ref);
  Callbacks cb{&auth, 0, {}};
  git_push_options opts;
  git_push_options_init(&opts, GIT_PUSH_OPTIONS_VERSION);
  opts.callbacks = callbacks_for(cb);
  const std::string spec = fmt::format("{}:refs/heads/{}", ref, branch);
  char* specs[] = {const_cast<char*>(spec.c_str())};
  git_strarray refspecs{specs, 1};
  const int rc = git_remote_push(r.get(), &refspecs, &opts);
  Error failure = rc != 0 ? network_failure(fmt::format("pushing {} to", branch), url, rc, cb) : Error{};
  git_reference_delete(local.get());
  if (rc != 0) return failure;
  if (!cb.refused.empty()) {
    return fail(util::redact(fmt::format("pushing {} to {}: refused: {}", branch, url, cb.refused)),
                ExitCode::unreachable);
  }
  return to_hex(id);
}

}  // namespace cairn::gitstore
