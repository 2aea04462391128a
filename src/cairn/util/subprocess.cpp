#include <cairn/util/subprocess.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <mutex>

#include <cairn/util/redact.hpp>

extern char** environ;

namespace cairn::util {

namespace {

// Pipe ends closed exactly once, whichever way the function leaves.
struct Pipe {
  int fd[2] = {-1, -1};
  Pipe() = default;
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  ~Pipe() {
    close_end(0);
    close_end(1);
  }
  bool open() { return ::pipe2(fd, O_CLOEXEC) == 0; }
  void close_end(int i) {
    if (fd[i] >= 0) ::close(fd[i]);
    fd[i] = -1;
  }
};

}  // namespace

namespace {

std::string_view name_of(std::string_view entry) {
  return entry.substr(0, entry.find('='));
}

// `name` is `pattern`, or starts with it when the pattern ends in `*`.
bool name_matches(std::string_view name, std::string_view pattern) {
  if (!pattern.empty() && pattern.back() == '*')
    return name.starts_with(pattern.substr(0, pattern.size() - 1));
  return name == pattern;
}

std::mutex g_secret_mutex;
std::vector<std::string>& extra_secret_names() {
  static std::vector<std::string> names;
  return names;
}

std::vector<std::string> merged(std::vector<std::string> env, const std::vector<std::string>& extra) {
  std::erase_if(env, [&](const std::string& e) {
    return std::any_of(extra.begin(), extra.end(),
                       [&](const std::string& x) { return name_of(x) == name_of(e); });
  });
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

}  // namespace

std::vector<std::string> environment_with(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  return merged(std::move(env), extra);
}

bool is_secret_variable(std::string_view entry) {
  static constexpr std::array<std::string_view, 8> kNames = {
      "CAIRN_TOKEN",  "CAIRN_FORGE_TOKEN", "GITHUB_TOKEN", "GH_TOKEN", "GITLAB_TOKEN",
      "CI_JOB_TOKEN", "GITEA_TOKEN",       "ACTIONS_*"};  // ACTIONS_*: the runner's runtime and OIDC tokens
  const std::string_view name = name_of(entry);
  for (auto n : kNames) {
    if (name_matches(name, n)) return true;
  }
  {
    std::lock_guard lock(g_secret_mutex);
    for (const auto& n : extra_secret_names()) {
      if (name == n) return true;
    }
  }
  // The entry (a `*TOKEN=` name) and the value alone (a ghp_ token right after `=`).
  const auto eq = entry.find('=');
  const std::string_view value = eq == std::string_view::npos ? std::string_view() : entry.substr(eq + 1);
  return redact(entry) != entry || redact(value) != value;
}

void add_secret_variable(std::string name) {
  if (name.empty()) return;
  std::lock_guard lock(g_secret_mutex);
  auto& names = extra_secret_names();
  if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(std::move(name));
}

void scrub_own_environment() {
  std::vector<std::string> names;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (!is_secret_variable(*e)) continue;
    names.emplace_back(name_of(*e));
    char* value = std::strchr(*e, '=');
    if (value != nullptr) std::memset(value + 1, 'x', std::strlen(value + 1));
  }
  for (const auto& n : names) ::unsetenv(n.c_str());
}

std::vector<std::string> workload_environment(const std::vector<std::string>& extra,
                                              const std::vector<std::string>& only) {
  static constexpr std::array<std::string_view, 20> kClientBasics = {"PATH",
                                                                     "HOME",
                                                                     "USER",
                                                                     "LOGNAME",
                                                                     "SHELL",
                                                                     "LANG",
                                                                     "LANGUAGE",
                                                                     "LC_*",
                                                                     "TZ",
                                                                     "TMPDIR",
                                                                     "XDG_*",
                                                                     "http_proxy",
                                                                     "https_proxy",
                                                                     "no_proxy",
                                                                     "HTTP_PROXY",
                                                                     "HTTPS_PROXY",
                                                                     "NO_PROXY",
                                                                     "SSL_CERT_*",
                                                                     "REQUESTS_CA_BUNDLE",
                                                                     "CURL_CA_BUNDLE"};
  auto wanted = [&](std::string_view name) {
    if (only.empty()) return true;
    return std::any_of(kClientBasics.begin(), kClientBasics.end(),
                       [&](auto p) { return name_matches(name, p); }) ||
           std::any_of(only.begin(), only.end(), [&](const std::string& p) { return name_matches(name, p); });
  };
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    if (wanted(name_of(entry)) && !is_secret_variable(entry)) env.emplace_back(entry);
  }
  return merged(std::move(env), extra);
}

Expected<Captured> run_capture(const std::vector<std::string>& argv, const std::string& input,
                               std::chrono::milliseconds timeout, const SpawnOptions& options) {
  if (argv.empty()) return fail("no command to run", ExitCode::usage);
  Pipe in, out, err, status;
  if (!in.open() || !out.open() || !err.open() || !status.open()) return fail(std::strerror(errno));
  // Everything the child needs is built before fork(): after it only async-signal-safe calls.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_strings;
  std::vector<char*> envp;
  if (options.workload || !options.env.empty()) {
    env_strings =
        options.workload ? workload_environment(options.env, options.only) : environment_with(options.env);
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
  }
  const pid_t pid = ::fork();
  if (pid < 0) return fail(std::strerror(errno));
  if (pid == 0) {
    ::setpgid(0, 0);
    ::dup2(in.fd[0], 0);
    ::dup2(out.fd[1], 1);
    ::dup2(err.fd[1], 2);
    ::signal(SIGPIPE, SIG_DFL);
    // {step, errno}: step 0 = chdir, 1 = exec.
    int why[2] = {0, 0};
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) {
      why[1] = errno;
    } else {
      if (!envp.empty()) environ = envp.data();
      ::execvp(args[0], args.data());
      why[0] = 1;
      why[1] = errno;
    }
    // Tell the parent why exec did not happen; exit quietly.
    (void)!::write(status.fd[1], why, sizeof why);
    ::_exit(127);
  }
  in.close_end(0);
  out.close_end(1);
  err.close_end(1);
  status.close_end(1);
  // exec closes the status pipe (O_CLOEXEC): EOF means exec succeeded.
  int why[2] = {0, 0};
  ssize_t got;
  while ((got = ::read(status.fd[0], why, sizeof why)) < 0 && errno == EINTR) {
  }
  if (got == sizeof why) {
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return fail((why[0] == 0 ? "cannot enter " + options.cwd : "cannot run " + argv[0]) + ": " +
                std::strerror(why[1]));
  }
  // A child that exits without reading its stdin must not kill us with SIGPIPE.
  struct sigaction ignore {
  }, previous{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &previous);
  if (input.empty()) in.close_end(1);
  std::size_t written = 0;
  Captured c;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  while (out.fd[0] >= 0 || err.fd[0] >= 0 || in.fd[1] >= 0) {
    pollfd fds[3] = {{out.fd[0], POLLIN, 0}, {err.fd[0], POLLIN, 0}, {in.fd[1], POLLOUT, 0}};
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    if (::poll(fds, 3, static_cast<int>(left.count())) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      char buf[65536];
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        (i == 0 ? c.out : c.err).append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        (i == 0 ? out : err).close_end(0);
      }
    }
    if (in.fd[1] >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
      const ssize_t n = ::write(in.fd[1], input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<std::size_t>(n);
      if ((n < 0 && errno != EINTR && errno != EAGAIN) || written == input.size()) in.close_end(1);
    }
  }
  ::sigaction(SIGPIPE, &previous, nullptr);
  if (timed_out) ::kill(-pid, SIGKILL);
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return fail("timed out after " + std::to_string(timeout.count()) + " ms");
  c.exit = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return c;
}

}  // namespace cairn::util
