#pragma once

// The units a stage spec is written in: Slurm walltimes, `expect:` durations and memory
// sizes. One parser each, shared by parse/ (validation), catalog/ (auto-fixes that
// double a value) and sched/ (what the scheduler is told).

#include <cstdint>
#include <string>
#include <string_view>

#include <cairn/util/expected.hpp>

namespace cairn::parse {

// Slurm walltime text -> seconds: "MM", "MM:SS", "HH:MM:SS", "D-HH", "D-HH:MM",
// "D-HH:MM:SS". Fails with what was expected on anything else (negative, empty, junk).
Expected<std::int64_t> parse_walltime(std::string_view text);

// Seconds -> "HH:MM:SS", or "D-HH:MM:SS" from one day up (Slurm accepts both).
std::string format_walltime(std::int64_t seconds);

// An `expect:` duration -> seconds: unit sums such as "90s", "30m", "2h", "1d",
// "1h30m", "1.5h", or any walltime form. Fails on anything else or on zero.
Expected<std::int64_t> parse_duration(std::string_view text);

// A memory size -> MiB: "512M", "8G", "1T", "1024K" (K/M/G/T, optional trailing B, i or
// iB, case-insensitive; all binary); a bare number is MiB, as for Slurm. A fraction
// ("1.5G") is rounded up to whole MiB. Fails on anything else (empty, negative, junk).
Expected<std::int64_t> parse_mem_mb(std::string_view text);

// MiB -> the largest whole unit: 8192 -> "8G", 1536 -> "1536M", 1048576 -> "1T".
std::string format_mem(std::int64_t mb);

}  // namespace cairn::parse
