#include <cairn/parse/units.hpp>

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>

#include <fmt/format.h>

#include <cairn/util/strings.hpp>

namespace cairn::parse {

namespace {

std::optional<std::int64_t> digits(std::string_view s) {
  if (s.empty() || s.size() > 12) return std::nullopt;
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

}  // namespace

Expected<std::int64_t> parse_walltime(std::string_view text) {
  const std::string_view t = util::trim(text);
  auto bad = [&] {
    return fail(fmt::format("`{}` is not a walltime (write HH:MM:SS, D-HH:MM:SS or minutes)", t));
  };
  std::int64_t days = 0;
  std::string_view rest = t;
  const auto dash = t.find('-');
  if (dash != std::string_view::npos) {
    auto d = digits(t.substr(0, dash));
    if (!d) return bad();
    days = *d;
    rest = t.substr(dash + 1);
  }
  // One to three `:`-separated fields, read in place: every stage's `time` comes here.
  std::array<std::int64_t, 3> n{};
  std::size_t fields = 0;
  for (;;) {
    const auto colon = rest.find(':');
    const auto v = digits(rest.substr(0, colon));
    if (!v || fields == n.size()) return bad();
    n[fields++] = *v;
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  std::int64_t secs = 0;
  if (dash == std::string_view::npos) {
    // MM, MM:SS, HH:MM:SS
    if (fields == 1)
      secs = n[0] * 60;
    else if (fields == 2)
      secs = n[0] * 60 + n[1];
    else if (fields == 3)
      secs = n[0] * 3600 + n[1] * 60 + n[2];
    else
      return bad();
  } else {
    // D-HH, D-HH:MM, D-HH:MM:SS
    if (fields == 1)
      secs = n[0] * 3600;
    else if (fields == 2)
      secs = n[0] * 3600 + n[1] * 60;
    else if (fields == 3)
      secs = n[0] * 3600 + n[1] * 60 + n[2];
    else
      return bad();
  }
  // Fields of up to 12 digits cannot overflow here, but such a time overflows every clock
  // it is later added to: no job runs for a century.
  constexpr std::int64_t kCentury = std::int64_t{100} * 365 * 86400;
  if (days > kCentury / 86400 || days * 86400 + secs > kCentury) {
    return fail(fmt::format("`{}` is longer than a century: not a walltime", t));
  }
  return days * 86400 + secs;
}

std::string format_walltime(std::int64_t seconds) {
  if (seconds < 0) seconds = 0;
  const std::int64_t d = seconds / 86400, h = seconds % 86400 / 3600, m = seconds % 3600 / 60,
                     s = seconds % 60;
  if (d > 0) return fmt::format("{}-{:02}:{:02}:{:02}", d, h, m, s);
  return fmt::format("{:02}:{:02}:{:02}", h, m, s);
}

Expected<std::int64_t> parse_duration(std::string_view text) {
  const std::string_view t = util::trim(text);
  auto bad = [&] { return fail(fmt::format("`{}` is not a duration (write e.g. 30m, 2h, 1d, 1h30m)", t)); };
  if (t.empty()) return bad();
  if (t.find(':') != std::string_view::npos || t.find('-') != std::string_view::npos) {
    auto w = parse_walltime(t);
    if (!w || *w == 0) return bad();
    return w;
  }
  double total = 0;
  std::size_t i = 0;
  bool any = false;
  while (i < t.size()) {
    while (i < t.size() && t[i] == ' ') ++i;
    const std::size_t b = i;
    while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) != 0 || t[i] == '.')) ++i;
    if (i == b) return bad();
    double v = 0;
    auto [p, ec] = std::from_chars(t.data() + b, t.data() + i, v);
    if (ec != std::errc() || p != t.data() + i) return bad();
    while (i < t.size() && t[i] == ' ') ++i;
    const std::size_t u = i;
    while (i < t.size() && std::isalpha(static_cast<unsigned char>(t[i])) != 0) ++i;
    const std::string_view unit = t.substr(u, i - u);
    double scale = 0;
    if (unit == "s" || unit == "sec" || unit == "secs")
      scale = 1;
    else if (unit == "m" || unit == "min" || unit == "mins")
      scale = 60;
    else if (unit == "h" || unit == "hr" || unit == "hrs" || unit == "hour" || unit == "hours")
      scale = 3600;
    else if (unit == "d" || unit == "day" || unit == "days")
      scale = 86400;
    else if (unit.empty() && !any && i == t.size())
      scale = 60;  // a bare number: minutes, as Slurm
    else
      return bad();
    total += v * scale;
    any = true;
  }
  if (total > 1e12) return bad();  // also keeps the cast below defined
  const auto secs = static_cast<std::int64_t>(total + 0.5);
  if (secs <= 0) return bad();
  return secs;
}

Expected<std::int64_t> parse_mem_mb(std::string_view text) {
  const std::string_view t = util::trim(text);
  auto bad = [&] { return fail(fmt::format("`{}` is not a memory size (write e.g. 512M, 8G)", t)); };
  // The number: whole, or with a fraction ("1.5G"), which Slurm itself refuses but we can
  // turn into whole MiB before anything reaches the scheduler.
  std::size_t i = 0;
  while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) != 0 || t[i] == '.')) ++i;
  const std::string_view number = t.substr(0, i);
  if (number.empty() || number.size() > 15 || number.front() == '.' || number.back() == '.') return bad();
  double value = 0;
  auto [p, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || p != number.data() + number.size()) return bad();
  std::string unit;
  for (char c : t.substr(i)) unit += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  // "8G", "8GB", "8GiB", "8Gi" are the same size here (binary units, as Slurm means them).
  if (unit.size() > 1 && (unit.substr(1) == "B" || unit.substr(1) == "IB" || unit.substr(1) == "I"))
    unit.resize(1);
  double scale = 0;
  if (unit.empty() || unit == "M")
    scale = 1;
  else if (unit == "K")
    scale = 1.0 / 1024;
  else if (unit == "G")
    scale = 1024;
  else if (unit == "T")
    scale = 1024.0 * 1024;
  else
    return bad();
  const double mb = std::ceil(value * scale);  // never round a request down
  if (mb > 1e15) return bad();
  return static_cast<std::int64_t>(mb);
}

std::string format_mem(std::int64_t mb) {
  if (mb > 0 && mb % (1024 * 1024) == 0) return fmt::format("{}T", mb / (1024 * 1024));
  if (mb > 0 && mb % 1024 == 0) return fmt::format("{}G", mb / 1024);
  return fmt::format("{}M", mb);
}

}  // namespace cairn::parse
