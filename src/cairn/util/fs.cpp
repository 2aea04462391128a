#include <cairn/util/fs.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

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
    if (ec) return fail("cannot create " + target.parent_path().string() + ": " + ec.message(), ExitCode::unreachable);
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

std::string read_tail(const std::string& path, std::size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  struct stat st {};
  std::string out;
  if (::fstat(fd, &st) == 0) {
    const auto size = static_cast<std::size_t>(st.st_size);
    const std::size_t from = size > max_bytes ? size - max_bytes : 0;
    out.resize(size - from);
    std::size_t got = 0;
    while (got < out.size()) {
      const ssize_t n = ::pread(fd, out.data() + got, out.size() - got, static_cast<off_t>(from + got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    out.resize(got);
    if (from > 0) {
      // Drop the partial first line.
      const auto nl = out.find('\n');
      out.erase(0, nl == std::string::npos ? 0 : nl + 1);
    }
  }
  ::close(fd);
  return out;
}

std::string_view last_lines(std::string_view text, int lines) {
  if (lines <= 0) return {};
  std::size_t end = text.size();
  // A trailing newline ends the last line; it does not start another.
  std::size_t pos = end > 0 && text[end - 1] == '\n' ? end - 1 : end;
  int seen = 0;
  while (pos > 0) {
    if (text[pos - 1] == '\n' && ++seen == lines) return text.substr(pos);
    --pos;
  }
  return text;
}

}  // namespace cairn::util
