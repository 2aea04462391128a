// Commit messages: git's trailer parser as cairn calls it, and the history event the
// anomaly scan reads from the trailers.

#include "fuzz.hpp"

#include <git2.h>

#include <cairn/engine/anomaly.hpp>
#include <cairn/gitstore/log.hpp>

using namespace cairn;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const int initialised = git_libgit2_init();  // libgit2's allocator
  (void)initialised;
  const std::string text(fuzz::as_text(data, size));  // NUL-terminated for libgit2
  const auto trailers = gitstore::parse_trailers(text.c_str());
  (void)engine::history_event_from_trailers(trailers, std::chrono::system_clock::time_point());
  return 0;
}
