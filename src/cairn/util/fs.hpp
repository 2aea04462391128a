#pragma once

// Small filesystem helpers with errors as values. Writes are atomic (temp file in the
// same directory, then rename(2)) so a reader -- another tick, an editor, a crash
// recovery -- never sees half a file.

#include <string>
#include <string_view>

#include <cairn/util/expected.hpp>

namespace cairn::util {

// The whole file. Fails (ExitCode::findings) with "cannot read PATH: reason".
Expected<std::string> read_file(const std::string& path);

// Replaces `path` with `content` atomically, creating parent directories. The file is
// made executable (0777 & ~umask) when `executable`. Fails with ExitCode::unreachable
// and the path and reason; the temp file is removed then.
Expected<void> write_atomically(const std::string& path, std::string_view content, bool executable = false);

// The byte bound every backend puts on Scheduler::log_tail: a few hundred lines of
// ordinary output fit, a runaway progress line does not flood classification or issues.
inline constexpr std::size_t kLogTailBytes = 256 * 1024;

// The tail of a log: its last `max_lines` lines, cut further to the last `max_bytes`
// bytes when longer (then starting at a line boundary, unless a single line is all
// that is left). Read by seeking from the end, so a 100 MB log costs what its tail
// costs; a pipe or other unseekable file is read through, keeping only a window.
// `\r\n` line ends become `\n`, so a signature's `$` matches at the end of a CRLF line.
// Fails (ExitCode::findings) with "cannot read PATH: reason".
Expected<std::string> read_log_tail(const std::string& path, int max_lines, std::size_t max_bytes);

// The same cut over text already in memory: the last `max_lines` lines of `text` (all
// of it when it has fewer; none when `max_lines` <= 0), then at most `max_bytes` bytes.
// A trailing newline ends the last line; it does not start another.
std::string_view tail_lines(std::string_view text, int max_lines,
                            std::size_t max_bytes = std::string_view::npos);

}  // namespace cairn::util
