#pragma once

// Numbers from untrusted text (scheduler JSON, YAML): conversions that never overflow.

#include <cmath>
#include <cstdint>
#include <optional>

namespace cairn::util {

// `v` truncated toward zero when it is finite and fits an int64_t (1e300, NaN and
// infinities do not: nullopt). A plain static_cast is undefined behaviour there.
inline std::optional<std::int64_t> to_int64(double v) {
  // 2^63 is exactly representable; every double below it converts without overflow.
  constexpr double kLimit = 9223372036854775808.0;
  if (!std::isfinite(v) || v >= kLimit || v < -kLimit) return std::nullopt;
  return static_cast<std::int64_t>(v);
}

}  // namespace cairn::util
