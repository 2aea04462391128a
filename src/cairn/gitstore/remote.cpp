#include <cairn/gitstore/remote.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include <cairn/gitstore/deadline.hpp>
#include <cairn/util/redact.hpp>
#include <cairn/util/subprocess.hpp>

namespace cairn::gitstore {

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

// Whether libgit2 reaches `url` through its local transport: file:// or a path, not a
// scheme://host URL or scp-like `host:path`.
bool is_local_url(std::string_view url) {
  if (url.rfind("file://", 0) == 0) return true;
  if (url.find("://") != std::string_view::npos) return false;
  const auto colon = url.find(':');
  return colon == std::string_view::npos || url.find('/') < colon;
}

// What the credential and header callbacks need; lives for one fetch or push.
struct Auth {
  std::string user;
  std::string token;
  std::vector<std::string> headers;  // "Name: value"
  int asked = 0;
};

// What libgit2's callbacks see during one fetch or push: the credentials, the bound on
// silence (every callback is progress), and a refused ref update's reason.
struct Session {
  Auth* auth;
  NetworkDeadline* deadline;
  std::string refused;
  bool reported = false;  // the server said what became of a ref we pushed
};

int on_progress(Session* s) {
  if (s->deadline->expired()) return GIT_EUSER;
  s->deadline->touch();
  return 0;
}

// Every callback of `c` counts as progress; the credentials come from `s->auth`.
void set_callbacks(git_remote_callbacks& c, Session& s);

Auth auth_for(Repo& repo, const std::string& url) {
  Auth a;
  if (!(a.token = env("CAIRN_TOKEN")).empty()) {
    a.user = env("CAIRN_TOKEN_USER").empty() ? "x-access-token" : env("CAIRN_TOKEN_USER");
  } else if (!(a.token = env("GITHUB_TOKEN")).empty()) {
    a.user = "x-access-token";
  } else if (!(a.token = env("CI_JOB_TOKEN")).empty()) {
    a.user = "gitlab-ci-token";
  }
  // `http.<prefix>.extraheader` entries whose prefix the remote URL starts with, as
  // actions/checkout writes them ("AUTHORIZATION: basic ..."). Filtered by hand:
  // libgit2's regex matching over config leaks with the system PCRE2.
  git_config* raw = nullptr;
  if (git_repository_config_snapshot(&raw, repo.raw()) == 0) {
    ConfigPtr config(raw);
    git_config_iterator* it = nullptr;
    if (git_config_iterator_new(&it, config.get()) == 0) {
      constexpr std::string_view kSuffix = ".extraheader";
      git_config_entry* e = nullptr;
      while (git_config_next(&e, it) == 0) {
        const std::string_view name = e->name;
        if (name.size() <= 5 + kSuffix.size() || name.substr(0, 5) != "http." ||
            name.substr(name.size() - kSuffix.size()) != kSuffix) {
          continue;
        }
        const std::string_view prefix = name.substr(5, name.size() - 5 - kSuffix.size());
        if (url.rfind(prefix, 0) == 0 && e->value != nullptr && *e->value != '\0')
          a.headers.emplace_back(e->value);
      }
      git_config_iterator_free(it);
    }
  }
  return a;
}

int credentials(git_credential** out, const char* /*url*/, const char* user_from_url, unsigned int allowed,
                void* payload) {
  auto* s = static_cast<Session*>(payload);
  if (on_progress(s) != 0) return GIT_EUSER;
  Auth* a = s->auth;
  // libgit2 asks again after a refusal; a second refusal of the same secret is final.
  if (++a->asked > 2) return GIT_EUSER;
  if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) != 0 && !a->token.empty()) {
    return git_credential_userpass_plaintext_new(out, a->user.c_str(), a->token.c_str());
  }
  if ((allowed & GIT_CREDENTIAL_SSH_KEY) != 0) {
    return git_credential_ssh_key_from_agent(out, user_from_url != nullptr ? user_from_url : "git");
  }
  return GIT_PASSTHROUGH;
}

void set_callbacks(git_remote_callbacks& c, Session& s) {
  c.credentials = credentials;
  c.sideband_progress = [](const char* /*text*/, int /*len*/, void* payload) {
    return on_progress(static_cast<Session*>(payload));
  };
  c.transfer_progress = [](const git_indexer_progress* /*stats*/, void* payload) {
    return on_progress(static_cast<Session*>(payload));
  };
  c.pack_progress = [](int /*stage*/, std::uint32_t /*current*/, std::uint32_t /*total*/, void* payload) {
    return on_progress(static_cast<Session*>(payload));
  };
  c.push_transfer_progress = [](unsigned int /*current*/, unsigned int /*total*/, std::size_t /*bytes*/,
                                void* payload) { return on_progress(static_cast<Session*>(payload)); };
  // libgit2 returns 0 for a ref the server refused; the status arrives here.
  c.push_update_reference = [](const char* /*ref*/, const char* status, void* payload) {
    auto* session = static_cast<Session*>(payload);
    session->reported = true;
    if (status != nullptr) session->refused = status;
    return 0;
  };
  c.payload = &s;
}

// The error of a failed network call, one line, secrets removed.
Error network_failure(std::string_view doing, const std::string& url, int rc,
                      const NetworkDeadline& deadline) {
  const git_error* e = git_error_last();
  std::string why = e != nullptr && e->message != nullptr ? e->message : fmt::format("libgit2 error {}", rc);
  if (auto nl = why.find('\n'); nl != std::string::npos) why.resize(nl);
  // GIT_EUSER is one of our callbacks giving up (a second refusal of the credentials,
  // or the deadline); libgit2's last error is then stale, so say what happened instead.
  if (rc == GIT_EUSER) why = "authentication refused: the remote rejected the credentials";
  if (rc == GIT_EAUTH) why = "authentication refused (" + why + ")";
  if (deadline.expired()) why = deadline.reason();
  return fail(util::redact(fmt::format("{} {}: {}", doing, url, why)), ExitCode::unreachable);
}

struct RemoteHandle {
  RemotePtr remote;
  std::string url;
};

Expected<RemoteHandle> open_remote(Repo& repo, const std::string& name) {
  git_remote* raw = nullptr;
  if (int rc = git_remote_lookup(&raw, repo.raw(), name.c_str()); rc != 0) {
    return git_failure("looking up remote " + name, rc);
  }
  RemoteHandle h{RemotePtr(raw), ""};
  const char* url = git_remote_url(raw);
  h.url = url != nullptr ? url : "";
  return h;
}

git_strarray header_array(const Auth& a, std::vector<char*>& storage) {
  storage.clear();
  for (const auto& h : a.headers) storage.push_back(const_cast<char*>(h.c_str()));
  return git_strarray{storage.data(), storage.size()};
}

std::string hex(const git_oid& oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof buf, &oid);
  return buf;
}

// A tick's own transition commit: it carries `Cairn-Tick-Id`. A human's `cairn clear`,
// `cancel` or `catalog promote` carries `Cairn-Campaign:` too, and is a human's commit.
constexpr const char* kTickTrailer = "\nCairn-Tick-Id: ";

bool is_cairn_commit(const git_commit* c) {
  const char* msg = git_commit_message(c);
  return msg != nullptr && std::strstr(msg, kTickTrailer) != nullptr;
}

// libgit2 (1.5) cannot fetch into or push from a shallow clone, which is how CI checks
// a repository out; git itself can. The token reaches git through GIT_CONFIG_* in the
// environment, never through argv, where other users of the machine could see it.
Expected<util::Captured> run_git(Repo& repo, const std::string& url, std::vector<std::string> args) {
  Auth auth = auth_for(repo, url);
  util::SpawnOptions opts;
  opts.cwd = repo.workdir();
  opts.env = {"GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=true", "LC_ALL=C"};
  // The bound libgit2's calls get from NetworkDeadline, for git's http transport (other
  // transports: the 5 minutes below).
  const auto idle =
      std::chrono::duration_cast<std::chrono::seconds>(network_timeout() + std::chrono::milliseconds(999));
  opts.env.push_back("GIT_HTTP_LOW_SPEED_LIMIT=1");
  opts.env.push_back(fmt::format("GIT_HTTP_LOW_SPEED_TIME={}", idle.count()));
  if (!auth.token.empty() && url.rfind("http", 0) == 0) {
    const std::string pair = auth.user + ":" + auth.token;
    static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string b64;
    for (std::size_t i = 0; i < pair.size(); i += 3) {
      const unsigned n = (static_cast<unsigned char>(pair[i]) << 16) |
                         (i + 1 < pair.size() ? static_cast<unsigned char>(pair[i + 1]) << 8 : 0) |
                         (i + 2 < pair.size() ? static_cast<unsigned char>(pair[i + 2]) : 0);
      b64 += kB64[(n >> 18) & 63];
      b64 += kB64[(n >> 12) & 63];
      b64 += i + 1 < pair.size() ? kB64[(n >> 6) & 63] : '=';
      b64 += i + 2 < pair.size() ? kB64[n & 63] : '=';
    }
    opts.env.push_back("GIT_CONFIG_COUNT=1");
    opts.env.push_back("GIT_CONFIG_KEY_0=http.extraheader");
    opts.env.push_back("GIT_CONFIG_VALUE_0=Authorization: Basic " + b64);
  }
  args.insert(args.begin(), "git");
  auto r = util::run_capture(args, "", std::chrono::minutes(5), opts);
  if (!r) return fail(util::redact(r.error().message), ExitCode::unreachable);
  return r;
}

std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  if (line.rfind("fatal: ", 0) == 0) line.erase(0, 7);
  return line;
}

}  // namespace

Expected<std::string> tick_remote(Repo& repo) {
  git_strarray names{};
  if (int rc = git_remote_list(&names, repo.raw()); rc != 0) return git_failure("listing remotes", rc);
  std::string chosen;
  for (std::size_t i = 0; i < names.count; ++i) {
    if (std::strcmp(names.strings[i], "origin") == 0 || chosen.empty()) chosen = names.strings[i];
    if (chosen == "origin") break;
  }
  git_strarray_dispose(&names);
  return chosen;
}

Expected<std::string> attach_head(Repo& repo, const RemoteBranch& where) {
  const std::string current = CAIRN_TRY(repo.current_branch());
  if (current == where.branch) return std::string();
  if (!current.empty()) {
    return fmt::format("ticks act on branch `{}` (cairn.yaml `branch`), but `{}` is checked out",
                       where.branch, current);
  }
  const auto head = CAIRN_TRY(repo.head_oid());
  if (!head) return fmt::format("HEAD is detached and unborn; ticks act on branch `{}`", where.branch);
  const std::string ci_branch = env("CI_COMMIT_BRANCH");
  if (!ci_branch.empty() && ci_branch != where.branch) {
    return fmt::format(
        "this checkout is a pipeline of branch `{}` (CI_COMMIT_BRANCH); ticks act on `{}` "
        "(cairn.yaml `branch`): run the tick job only for that branch",
        ci_branch, where.branch);
  }
  const std::string tracking = fmt::format("refs/remotes/{}/{}", where.remote, where.branch);
  git_oid tracked{};
  const bool at_tip =
      git_reference_name_to_id(&tracked, repo.raw(), tracking.c_str()) == 0 && hex(tracked) == *head;
  if (ci_branch.empty() && !at_tip) {
    return fmt::format(
        "HEAD is detached at {}, which is not the tip of {}/{}; ticks act on branch `{}` (cairn.yaml "
        "`branch`): check it out, or set CI_COMMIT_BRANCH={} when this is that branch's pipeline",
        head->substr(0, 12), where.remote, where.branch, where.branch, where.branch);
  }
  const std::string local_ref = "refs/heads/" + where.branch;
  git_oid local{};
  const bool have_local = git_reference_name_to_id(&local, repo.raw(), local_ref.c_str()) == 0;
  if (!have_local) {
    git_oid at{};
    git_oid_fromstr(&at, head->c_str());
    git_reference* raw_ref = nullptr;
    if (int rc = git_reference_create(&raw_ref, repo.raw(), local_ref.c_str(), &at, 0,
                                      "cairn: attach detached HEAD");
        rc != 0) {
      return git_failure("creating " + local_ref, rc);
    }
    ReferencePtr ref(raw_ref);
  }
  if (int rc = git_repository_set_head(repo.raw(), local_ref.c_str()); rc != 0) {
    return git_failure("checking out " + where.branch, rc);
  }
  if (have_local && hex(local) != *head) {
    // A runner that reuses its clone keeps the branch of an earlier tick: the work tree
    // follows it (a tree with changes refuses), then the usual sync brings it to the tip.
    git_checkout_options checkout;
    git_checkout_options_init(&checkout, GIT_CHECKOUT_OPTIONS_VERSION);
    checkout.checkout_strategy = GIT_CHECKOUT_SAFE;
    if (int rc = git_checkout_head(repo.raw(), &checkout); rc != 0) {
      return git_failure("checking out " + where.branch, rc);
    }
  }
  return std::string();
}

Expected<std::string> fetch_tip(Repo& repo, const RemoteBranch& where) {
  auto remote = CAIRN_TRY(open_remote(repo, where.remote));
  Auth auth = auth_for(repo, remote.url);
  std::vector<char*> header_storage;
  git_fetch_options opts;
  git_fetch_options_init(&opts, GIT_FETCH_OPTIONS_VERSION);
  opts.custom_headers = header_array(auth, header_storage);
  opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
  const std::string tracking = fmt::format("refs/remotes/{}/{}", where.remote, where.branch);
  const std::string spec = fmt::format("+refs/heads/{}:{}", where.branch, tracking);
  if (repo.is_shallow()) {
    // No --depth: that would cut the history deepen() brought back down again; git
    // fetches only the commits after the local tip.
    auto r = CAIRN_TRY(run_git(repo, remote.url, {"fetch", "--quiet", "--no-tags", where.remote, spec}));
    if (r.exit != 0) {
      // "couldn't find remote ref": the remote has no such branch yet.
      if (r.err.find("couldn't find remote ref") != std::string::npos) return std::string();
      return fail(
          util::redact(fmt::format("fetching {} from {}: {}", where.branch, remote.url, first_line(r.err))),
          ExitCode::unreachable);
    }
  } else {
    char* specs[] = {const_cast<char*>(spec.c_str())};
    git_strarray refspecs{specs, 1};
    NetworkDeadline deadline;
    Session session{&auth, &deadline, {}};
    set_callbacks(opts.callbacks, session);
    if (int rc = git_remote_fetch(remote.remote.get(), &refspecs, &opts, "cairn: fetch"); rc != 0) {
      return network_failure("fetching " + where.branch + " from", remote.url, rc, deadline);
    }
  }
  // A remote without the branch yet (a fresh repository) fetches nothing.
  git_oid oid{};
  if (git_reference_name_to_id(&oid, repo.raw(), tracking.c_str()) != 0) return std::string();
  return hex(oid);
}

std::string deepen(Repo& repo, const RemoteBranch& where,
                   std::optional<std::chrono::system_clock::time_point> since) {
  if (!repo.is_shallow()) return "";
  auto remote = open_remote(repo, where.remote);
  std::string why;
  if (!remote) {
    why = remote.error().message;
  } else {
    const std::string spec = fmt::format("+refs/heads/{0}:refs/remotes/{1}/{0}", where.branch, where.remote);
    std::vector<std::string> args = {"fetch", "--quiet", "--no-tags"};
    if (since) {
      args.push_back(fmt::format("--shallow-since={}", std::chrono::system_clock::to_time_t(*since)));
    } else {
      args.push_back("--unshallow");
    }
    args.push_back(where.remote);
    args.push_back(spec);
    auto r = run_git(repo, remote->url, args);
    if (!r) {
      why = r.error().message;
    } else if (r->exit != 0 && since && r->err.find("no commits selected") != std::string::npos) {
      return "";  // nothing on the branch is that recent: the window holds no history to fetch
    } else if (r->exit != 0) {
      why = util::redact(first_line(r->err));
    }
  }
  if (why.empty() && (since || !repo.is_shallow())) return "";
  // What stays out of sight: the history behind the shallow boundary.
  std::string boundary;
  std::ifstream shallow(repo.path() + "/shallow");
  std::string first;
  if (std::getline(shallow, first)) {
    auto r = run_git(repo, "", {"log", "-1", "--format=%cI (%h)", first});
    boundary = r && r->exit == 0 ? r->out.substr(0, r->out.find('\n')) : first.substr(0, 12);
  }
  return fmt::format("history before {} is not in this shallow clone: {}", boundary,
                     why.empty() ? "the remote did not send it" : why);
}

Expected<bool> remote_moved(Repo& repo, const RemoteBranch& where) {
  auto remote = CAIRN_TRY(open_remote(repo, where.remote));
  auto r = CAIRN_TRY(
      run_git(repo, remote.url, {"ls-remote", "--heads", where.remote, "refs/heads/" + where.branch}));
  if (r.exit != 0) {
    return fail(
        util::redact(fmt::format("asking {} for {}: {}", remote.url, where.branch, first_line(r.err))),
        ExitCode::unreachable);
  }
  const std::string remote_tip = r.out.substr(0, r.out.find_first_of(" \t\n"));
  git_oid seen{};
  const std::string tracking = fmt::format("refs/remotes/{}/{}", where.remote, where.branch);
  if (git_reference_name_to_id(&seen, repo.raw(), tracking.c_str()) != 0) return !remote_tip.empty();
  return remote_tip != hex(seen);
}

Expected<int> sync_to_tip(Repo& repo, const RemoteBranch& where, const std::string& tip) {
  if (tip.empty()) return 0;
  git_oid target{};
  if (git_oid_fromstr(&target, tip.c_str()) != 0)
    return fail("not a commit id: " + tip, ExitCode::unreachable);
  const std::string local_ref = "refs/heads/" + where.branch;
  git_oid local{};
  const bool unborn = git_reference_name_to_id(&local, repo.raw(), local_ref.c_str()) != 0;
  int dropped = 0;
  if (!unborn && !git_oid_equal(&local, &target) && repo.is_shallow()) {
    // libgit2 1.5 leaks walking a shallow history: ask git which commits the remote lacks.
    auto r = CAIRN_TRY(run_git(repo, "", {"log", "-z", "--format=%H%n%B", tip + ".." + hex(local)}));
    if (r.exit != 0) return fail("listing local commits: " + first_line(r.err), ExitCode::unreachable);
    for (std::size_t at = 0; at < r.out.size();) {
      std::size_t end = r.out.find('\0', at);
      if (end == std::string::npos) end = r.out.size();
      const std::string record = r.out.substr(at, end - at);
      at = end + 1;
      if (record.empty()) continue;
      const std::string id = record.substr(0, record.find('\n'));
      if (record.find(kTickTrailer) == std::string::npos) {
        return fail(
            fmt::format("local commit {} is not on {}/{}: push it (or rebase it onto the remote) before "
                        "ticking",
                        id.substr(0, 12), where.remote, where.branch),
            ExitCode::unreachable);
      }
      ++dropped;
    }
  } else if (!unborn) {
    if (git_oid_equal(&local, &target)) return 0;
    // The commits the remote lacks: cairn's own may go (they are recomputed from the
    // new tip); a human's never.
    git_revwalk* raw_walk = nullptr;
    if (int rc = git_revwalk_new(&raw_walk, repo.raw()); rc != 0) return git_failure("walking history", rc);
    RevwalkPtr walk(raw_walk);
    git_revwalk_push(walk.get(), &local);
    git_revwalk_hide(walk.get(), &target);
    git_oid oid{};
    while (git_revwalk_next(&oid, walk.get()) == 0) {
      git_commit* raw_commit = nullptr;
      if (int rc = git_commit_lookup(&raw_commit, repo.raw(), &oid); rc != 0)
        return git_failure("reading a commit", rc);
      CommitPtr commit(raw_commit);
      if (!is_cairn_commit(commit.get())) {
        const char* summary = git_commit_summary(commit.get());
        return fail(
            fmt::format("local commit {} \"{}\" is not on {}/{}: push it (or rebase it onto the remote) "
                        "before ticking",
                        hex(oid).substr(0, 12), summary != nullptr ? summary : "", where.remote,
                        where.branch),
            ExitCode::unreachable);
      }
      ++dropped;
    }
  }
  git_object* raw_obj = nullptr;
  if (int rc = git_object_lookup(&raw_obj, repo.raw(), &target, GIT_OBJECT_COMMIT); rc != 0) {
    return git_failure("reading the remote tip", rc);
  }
  ObjectPtr obj(raw_obj);
  if (unborn) {
    git_reference* raw_ref = nullptr;
    if (int rc = git_reference_create(&raw_ref, repo.raw(), local_ref.c_str(), &target, 1,
                                      "cairn: start at remote tip");
        rc != 0) {
      return git_failure("creating " + local_ref, rc);
    }
    ReferencePtr ref(raw_ref);
  }
  git_checkout_options checkout;
  git_checkout_options_init(&checkout, GIT_CHECKOUT_OPTIONS_VERSION);
  checkout.checkout_strategy = GIT_CHECKOUT_FORCE;  // the caller checked the tree is clean
  if (int rc = git_reset(repo.raw(), obj.get(), GIT_RESET_HARD, &checkout); rc != 0) {
    return git_failure("moving " + where.branch + " to the remote tip", rc);
  }
  return dropped;
}

Expected<bool> push_branch(Repo& repo, const RemoteBranch& where) {
  auto remote = CAIRN_TRY(open_remote(repo, where.remote));
  if (repo.is_shallow()) {
    const std::string spec = fmt::format("refs/heads/{0}:refs/heads/{0}", where.branch);
    auto r = CAIRN_TRY(run_git(repo, remote.url, {"push", "--porcelain", where.remote, spec}));
    // --porcelain: one line per ref, flag first: "!" rejected, " " "+" "*" "=" taken.
    for (std::size_t at = 0; at < r.out.size();) {
      const std::size_t nl = r.out.find('\n', at);
      const std::string line = r.out.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
      if (line.find("refs/heads/" + where.branch) != std::string::npos && !line.empty()) {
        return line[0] != '!';
      }
      if (nl == std::string::npos) break;
      at = nl + 1;
    }
    return fail(
        util::redact(fmt::format("pushing {} to {}: {}", where.branch, remote.url, first_line(r.err))),
        ExitCode::unreachable);
  }
  Auth auth = auth_for(repo, remote.url);
  std::vector<char*> header_storage;
  git_push_options opts;
  git_push_options_init(&opts, GIT_PUSH_OPTIONS_VERSION);
  opts.custom_headers = header_array(auth, header_storage);
  const std::string spec = fmt::format("refs/heads/{0}:refs/heads/{0}", where.branch);
  char* specs[] = {const_cast<char*>(spec.c_str())};
  git_strarray refspecs{specs, 1};
  std::string refused;  // the server's reason, when it refused the update
  bool reported = false;
  {
    NetworkDeadline deadline;
    Session session{&auth, &deadline, {}};
    set_callbacks(opts.callbacks, session);
    const int rc = git_remote_push(remote.remote.get(), &refspecs, &opts);
    if (rc == GIT_ENONFASTFORWARD) return false;
    if (rc != 0) {
      const git_error* e = git_error_last();
      const std::string why = e != nullptr && e->message != nullptr ? e->message : "";
      // Transports word a refused non-fast-forward differently; none of them is an outage.
      for (const char* lost : {"non-fast-forward", "fetch first", "rejected", "stale info"}) {
        if (!deadline.expired() && why.find(lost) != std::string::npos) return false;
      }
      return network_failure("pushing " + where.branch + " to", remote.url, rc, deadline);
    }
    refused = session.refused;
    reported = session.reported;
  }
  if (!refused.empty()) return false;
  // A smart server (git://, http(s)://, ssh) moves the ref under its lock only from the
  // old value we sent, and reports each ref: "ok" is final, and costs no second round
  // trip. libgit2's local transport (a path or file:// remote) reports too, but
  // overwrites the ref without comparing, so two racing pushes that both passed the
  // fast-forward check both hear "ok"; and a transport that says nothing proves
  // nothing. There, believe only the remote's tip: our commit is on it, or under a
  // commit someone pushed since.
  if (reported && !is_local_url(remote.url)) return true;
  git_oid pushed{};
  if (int rc2 = git_reference_name_to_id(&pushed, repo.raw(), ("refs/heads/" + where.branch).c_str());
      rc2 != 0) {
    return git_failure("resolving the pushed branch", rc2);
  }
  const std::string tip = CAIRN_TRY(fetch_tip(repo, where));
  git_oid remote_tip{};
  if (tip.empty() || git_oid_fromstr(&remote_tip, tip.c_str()) != 0) return false;
  return git_oid_equal(&remote_tip, &pushed) ||
         git_graph_descendant_of(repo.raw(), &remote_tip, &pushed) == 1;
}

}  // namespace cairn::gitstore
