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

// The last `max_bytes` bytes of a file (all of it when smaller), starting at a line
// boundary when the cut falls inside a line. "" for a missing file.
std::string read_tail(const std::string& path, std::size_t max_bytes);

// The last `lines` lines of `text` (all of it when it has fewer).
std::string_view last_lines(std::string_view text, int lines);

}  // namespace cairn::util
