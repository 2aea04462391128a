#include <cairn/util/time.hpp>

#include <charconv>
#include <limits>
#include <ratio>

#include <fmt/format.h>

namespace cairn::util {

namespace {

struct Civil {
  int year, month, day, hour, minute, second;
};

// Howard Hinnant's days-from-civil algorithm: exact for the proleptic Gregorian calendar.
std::int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = static_cast<int>(y - era * 400);
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Civil civil(TimePoint t) {
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  std::int64_t days = secs / 86400;
  std::int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const auto y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2));
  return {y,
          static_cast<int>(m),
          static_cast<int>(d),
          static_cast<int>(rem / 3600),
          static_cast<int>(rem % 3600 / 60),
          static_cast<int>(rem % 60)};
}

bool read_int(std::string_view s, std::size_t pos, std::size_t len, int& out) {
  if (pos + len > s.size()) return false;
  const char* b = s.data() + pos;
  for (std::size_t i = 0; i < len; ++i) {
    if (b[i] < '0' || b[i] > '9') return false;
  }
  return std::from_chars(b, b + len, out).ec == std::errc{};
}

}  // namespace

std::string iso8601(TimePoint t) {
  const Civil c = civil(t);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", c.year, c.month, c.day, c.hour, c.minute,
                     c.second);
}

std::string table_time(TimePoint t) {
  const Civil c = civil(t);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}Z", c.year, c.month, c.day, c.hour, c.minute);
}

std::string date(TimePoint t) {
  const Civil c = civil(t);
  return fmt::format("{:04}-{:02}-{:02}", c.year, c.month, c.day);
}

std::string clock_time(TimePoint t) {
  const Civil c = civil(t);
  return fmt::format("{:02}:{:02}Z", c.hour, c.minute);
}

std::optional<TimePoint> time_from_unix(std::int64_t seconds) {
  using Ratio = std::ratio_divide<std::ratio<1>, TimePoint::period>;  // ticks per second
  constexpr std::int64_t kLimit = std::numeric_limits<TimePoint::rep>::max() / Ratio::num;
  if (seconds > kLimit || seconds < -kLimit) return std::nullopt;
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::seconds(seconds)));
}

std::optional<TimePoint> parse_time(std::string_view s) {
  Civil c{0, 0, 0, 0, 0, 0};
  if (!read_int(s, 0, 4, c.year) || s.size() < 10 || s[4] != '-' || s[7] != '-' ||
      !read_int(s, 5, 2, c.month) || !read_int(s, 8, 2, c.day)) {
    return std::nullopt;
  }
  if (c.month < 1 || c.month > 12 || c.day < 1 || c.day > 31) return std::nullopt;
  std::string_view rest = s.substr(10);
  if (!rest.empty()) {
    if ((rest[0] != 'T' && rest[0] != ' ') || !read_int(rest, 1, 2, c.hour) || rest.size() < 6 ||
        rest[3] != ':' || !read_int(rest, 4, 2, c.minute)) {
      return std::nullopt;
    }
    rest = rest.substr(6);
    if (!rest.empty() && rest[0] == ':') {
      if (!read_int(rest, 1, 2, c.second)) return std::nullopt;
      rest = rest.substr(3);
    }
    if (rest == "Z") rest = {};
    if (!rest.empty() || c.hour > 23 || c.minute > 59 || c.second > 60) return std::nullopt;
  }
  const std::int64_t days = days_from_civil(c.year, c.month, c.day);
  return time_from_unix(days * 86400 + c.hour * 3600 + c.minute * 60 + c.second);
}

std::string human_duration(std::int64_t s) {
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m", s / 60);
  if (s < 86400) {
    return s % 3600 / 60 == 0 ? fmt::format("{}h", s / 3600) : fmt::format("{}h{}m", s / 3600, s % 3600 / 60);
  }
  return s % 86400 / 3600 == 0 ? fmt::format("{}d", s / 86400)
                               : fmt::format("{}d{}h", s / 86400, s % 86400 / 3600);
}

}  // namespace cairn::util
