#pragma once

// Shared by the libFuzzer targets in tests/fuzz/: each defines LLVMFuzzerTestOneInput,
// built twice: as a libFuzzer binary (clang, CAIRN_FUZZ=ON) and as a replay binary
// (replay_main.cpp, any compiler) that runs the committed corpus in the normal tests.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The input cut at each "\n--\n" line into at most `n` parts (the last takes the rest),
// so one input can feed a function several texts.
inline std::vector<std::string> parts(std::string_view text, std::size_t n) {
  std::vector<std::string> out;
  while (out.size() + 1 < n) {
    const auto at = text.find("\n--\n");
    if (at == std::string_view::npos) break;
    out.emplace_back(text.substr(0, at));
    text.remove_prefix(at + 4);
  }
  out.emplace_back(text);
  while (out.size() < n) out.emplace_back();
  return out;
}

// A property the target checks does not hold: print it and abort, so libFuzzer keeps the
// input and the replay test fails.
[[noreturn]] inline void broken(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "fuzz property broken: %s\n%.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

}  // namespace cairn::fuzz

#define CAIRN_FUZZ_CHECK(cond, detail)                 \
  do {                                                 \
    if (!(cond)) ::cairn::fuzz::broken(#cond, detail); \
  } while (0)
