#include <cairn/util/fs.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace cairn::util {

namespace {

Error os_failure(const std::string& doing, ExitCode code) {
  return fail("cannot " + doing + ": " + std::strerror(errno), code);
}

}  // namespace

Expected<std::string> read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return os_failure("read " + path, ExitCode::findings);
  std::string out;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) out.reserve(static_cast<std::size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const Error e = os_failure("read " + path, ExitCode::findings);
      ::close(fd);
      return e;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

Expected<void> write_atomically(const std::string& path, std::string_view content, bool executable) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) {
    fs::create_directories(target.parent_path(), ec);
    if (ec)
      return fail("cannot create " + target.parent_path().string() + ": " + ec.message(),
                  ExitCode::unreachable);
  }
  // Unique per process: two ticks writing the same file each rename a whole file.
  const fs::path tmp =
      target.parent_path() / ("." + target.filename().string() + ".cairn-" + std::to_string(::getpid()));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, executable ? 0777 : 0666);
  if (fd < 0) return os_failure("create " + tmp.string(), ExitCode::unreachable);
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const Error e = os_failure("write " + tmp.string(), ExitCode::unreachable);
      ::close(fd);
      ::unlink(tmp.c_str());
      return e;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    const Error e = os_failure("write " + tmp.string(), ExitCode::unreachable);
    ::unlink(tmp.c_str());
    return e;
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const Error e = os_failure("rename " + tmp.string() + " to " + path, ExitCode::unreachable);
    ::unlink(tmp.c_str());
    return e;
  }
  return {};
}

namespace {

// Owns a descriptor for the length of one read.
class Fd {
 public:
  explicit Fd(int fd) : m_fd(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (m_fd >= 0) ::close(m_fd);
  }
  int get() const { return m_fd; }

 private:
  int m_fd;
};

constexpr std::size_t kTailChunk = 128 * 1024;

// Where the last `max_lines` lines of `text` start (0 when it has no more).
std::size_t lines_start(std::string_view text, int max_lines) {
  if (max_lines <= 0) return text.size();
  // A trailing newline ends the last line; it does not start another.
  std::size_t pos = !text.empty() && text.back() == '\n' ? text.size() - 1 : text.size();
  int seen = 0;
  while (pos > 0) {
    const auto nl = text.rfind('\n', pos - 1);
    if (nl == std::string_view::npos) return 0;
    if (++seen == max_lines) return nl + 1;
    pos = nl;
  }
  return 0;
}

// `from`, moved past the partial line a cut there leaves, unless that line is all
// that is left: a long last line is better evidence than none.
std::size_t next_line_start(std::string_view text, std::size_t from) {
  if (from == 0 || text[from - 1] == '\n') return from;
  const auto nl = text.find('\n', from);
  return nl == std::string_view::npos || nl + 1 == text.size() ? from : nl + 1;
}

// Newlines in `text` that end a line before the last one, which is what counting
// lines back from the end needs.
std::size_t line_breaks(std::string_view text, bool at_end) {
  auto n = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  if (at_end && n > 0 && text.back() == '\n') --n;
  return n;
}

void drop_carriage_returns(std::string& text) {
  std::size_t out = text.find('\r');  // most logs have none: one memchr, no copy
  if (out == std::string::npos) return;
  for (std::size_t i = out; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    text[out++] = text[i];
  }
  text.resize(out);
}

// Reads backwards from the end in chunks until `max_lines` lines or `window` bytes are
// in hand. The result is the file's last bytes, as many as were read.
Expected<std::string> read_backwards(const Fd& fd, const std::string& path, std::size_t size, int max_lines,
                                     std::size_t window) {
  std::vector<std::string> chunks;  // last chunk of the file first
  std::size_t pos = size;
  std::size_t breaks = 0;
  const auto wanted = static_cast<std::size_t>(std::max(max_lines, 0));
  while (pos > 0 && size - pos < window && breaks < wanted) {
    const std::size_t n = std::min({kTailChunk, pos, window - (size - pos)});
    std::string chunk(n, '\0');
    std::size_t got = 0;
    while (got < n) {
      const ssize_t r = ::pread(fd.get(), chunk.data() + got, n - got, static_cast<off_t>(pos - n + got));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return os_failure("read " + path, ExitCode::findings);
      if (r == 0) return fail("cannot read " + path + ": it shrank while being read");
      got += static_cast<std::size_t>(r);
    }
    pos -= n;
    breaks += line_breaks(chunk, pos + n == size);
    chunks.push_back(std::move(chunk));
  }
  std::string out;
  out.reserve(size - pos);
  for (auto it = chunks.rbegin(); it != chunks.rend(); ++it) out += *it;
  return out;
}

// Reads a pipe (or any file without a size) to its end, keeping the last `window`
// bytes and at most as much again before them.
Expected<std::string> read_through(const Fd& fd, const std::string& path, std::size_t window) {
  std::string out;
  std::string chunk(kTailChunk, '\0');
  for (;;) {
    const ssize_t r = ::read(fd.get(), chunk.data(), chunk.size());
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return os_failure("read " + path, ExitCode::findings);
    if (r == 0) return out;
    out.append(chunk.data(), static_cast<std::size_t>(r));
    if (out.size() > 2 * window) out.erase(0, out.size() - window);
  }
}

}  // namespace

Expected<std::string> read_log_tail(const std::string& path, int max_lines, std::size_t max_bytes) {
  const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return os_failure("read " + path, ExitCode::findings);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return os_failure("read " + path, ExitCode::findings);
  // One byte more than the limit tells whether the cut fell inside a line.
  const std::size_t window = max_bytes == std::string::npos ? max_bytes : max_bytes + 1;
  auto text = S_ISREG(st.st_mode)
                  ? read_backwards(fd, path, static_cast<std::size_t>(st.st_size), max_lines, window)
                  : read_through(fd, path, window);
  if (!text) return text;
  std::string out(tail_lines(*text, max_lines, max_bytes));
  drop_carriage_returns(out);
  return out;
}

std::string_view tail_lines(std::string_view text, int max_lines, std::size_t max_bytes) {
  std::size_t from = lines_start(text, max_lines);
  if (text.size() - from > max_bytes) from = next_line_start(text, text.size() - max_bytes);
  return text.substr(from);
}

}  // namespace cairn::util
