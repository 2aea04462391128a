#pragma once

// UTC time stamps in the forms WORKFLOW.md uses. Pure: no clock reads here.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cairn::util {

using TimePoint = std::chrono::system_clock::time_point;

// "2026-05-05T20:10:00Z" (frontmatter `last_tick`, commit trailer `Cairn-Tick`).
std::string iso8601(TimePoint t);
// "2026-05-05 20:10Z" (stage-table Started/Completed cells).
std::string table_time(TimePoint t);
// "2026-05-05" (failure-log Date column).
std::string date(TimePoint t);
// "20:10Z" (action-queue notes).
std::string clock_time(TimePoint t);

// The time `seconds` after the Unix epoch; nullopt outside what a TimePoint holds
// (system_clock counts nanoseconds in 64 bits: about the years 1678 to 2262).
std::optional<TimePoint> time_from_unix(std::int64_t seconds);

// Reads any of the three forms above, and a bare date (midnight UTC). Accepts
// "YYYY-MM-DDTHH:MM[:SS][Z]" and "YYYY-MM-DD HH:MM[Z]". nullopt for anything else,
// and for a time a TimePoint cannot hold (time_from_unix).
std::optional<TimePoint> parse_time(std::string_view text);

// "5m", "45m", "3h", "1h30m", "2d" -- the shortest human form of a duration.
std::string human_duration(std::int64_t seconds);

}  // namespace cairn::util
