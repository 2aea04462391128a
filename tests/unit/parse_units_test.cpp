#include <cairn/parse/units.hpp>

#include <cstdint>
#include <string>

#include <gtest/gtest.h>

namespace cairn::parse {
namespace {

struct Seconds {
  const char* text;
  std::int64_t seconds;
};

// ---- walltime ----

class ParseWalltime : public ::testing::TestWithParam<Seconds> {};

TEST_P(ParseWalltime, SlurmFormsGiveSeconds) {
  const auto got = parse_walltime(GetParam().text);
  ASSERT_TRUE(got) << GetParam().text << ": " << got.error().message;
  EXPECT_EQ(*got, GetParam().seconds) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(Forms, ParseWalltime,
                         ::testing::Values(Seconds{"30", 30 * 60},                       // MM
                                           Seconds{"90:30", 90 * 60 + 30},               // MM:SS
                                           Seconds{"00:30:00", 1800},                    // HH:MM:SS
                                           Seconds{"12:00:00", 12 * 3600},               //
                                           Seconds{"48:00:00", 48 * 3600},               // hours past a day
                                           Seconds{"2-12", 2 * 86400 + 12 * 3600},       // D-HH
                                           Seconds{"1-02:30", 86400 + 2 * 3600 + 1800},  // D-HH:MM
                                           Seconds{"1-00:00:01", 86401},                 // D-HH:MM:SS
                                           Seconds{" 00:01:00 ", 60}));                  // trimmed

TEST(ParseWalltimeBad, FailsWithWhatWasExpected) {
  for (const char* text : {"", " ", "-5", "1:2:3:4", "1-2:3:4:5", "abc", "1h", "00:30:00x", "1--2",
                           "-00:10:00", "1-", ":30", "30:", "00:-1:00", "9999999999999:00"}) {
    const auto got = parse_walltime(text);
    ASSERT_FALSE(got) << text;
    EXPECT_NE(got.error().message.find("walltime"), std::string::npos) << got.error().message;
  }
}

TEST(FormatWalltime, HoursUnderADayAndDaysFromOne) {
  EXPECT_EQ(format_walltime(0), "00:00:00");
  EXPECT_EQ(format_walltime(59), "00:00:59");
  EXPECT_EQ(format_walltime(3661), "01:01:01");
  EXPECT_EQ(format_walltime(86399), "23:59:59");
  EXPECT_EQ(format_walltime(86400), "1-00:00:00");
  EXPECT_EQ(format_walltime(3 * 86400 + 3661), "3-01:01:01");
  EXPECT_EQ(format_walltime(-5), "00:00:00");
}

// What squeue/sacct/sinfo print (Elapsed, TimeLimit) is read by the same parser.
TEST(ParseWalltimeSlurm, WhatSqueueSacctSinfoPrint) {
  for (const auto& [text, seconds] : {std::pair{"5", 300},
                                      {"1:00:00", 3600},
                                      {"00:01:02", 62},
                                      {"1-02:03:04", 93784},
                                      {"1-00:30", 88200}}) {
    const auto got = parse_walltime(text);
    ASSERT_TRUE(got) << text;
    EXPECT_EQ(*got, seconds) << text;
  }
  // sinfo's unlimited partitions, and issue 19's overflows: not walltimes, never UB.
  for (const char* text : {"infinite", "UNLIMITED", "x:00", "999999999999999999", "99999999999-00:00:00"}) {
    EXPECT_FALSE(parse_walltime(text)) << text;
  }
}

TEST(FormatWalltime, RoundTripsThroughParse) {
  for (std::int64_t s : {1, 60, 1800, 3599, 86399, 86400, 90061, 10 * 86400 + 7}) {
    const auto back = parse_walltime(format_walltime(s));
    ASSERT_TRUE(back) << s;
    EXPECT_EQ(*back, s);
  }
}

// ---- durations ----

class ParseDuration : public ::testing::TestWithParam<Seconds> {};

TEST_P(ParseDuration, UnitSumsAndWalltimesGiveSeconds) {
  const auto got = parse_duration(GetParam().text);
  ASSERT_TRUE(got) << GetParam().text << ": " << got.error().message;
  EXPECT_EQ(*got, GetParam().seconds) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(Forms, ParseDuration,
                         ::testing::Values(Seconds{"90s", 90}, Seconds{"30m", 1800}, Seconds{"20m", 1200},
                                           Seconds{"2h", 7200}, Seconds{"1d", 86400}, Seconds{"1h30m", 5400},
                                           Seconds{"1h 30m", 5400}, Seconds{"1.5h", 5400},
                                           Seconds{"2 hours", 7200}, Seconds{"45 min", 2700},
                                           Seconds{"1d2h3m4s", 86400 + 7200 + 180 + 4},
                                           Seconds{"00:30:00", 1800}, Seconds{"1-00:00:00", 86400},
                                           Seconds{"15", 900}));  // bare number: minutes, as Slurm

TEST(ParseDurationBad, FailsOnJunkAndZero) {
  for (const char* text : {"", "m", "30x", "1h30", "h1", "-5m", "0m", "0s", "00:00:00", "1..5h", "1e3s",
                           "soon", "999999999999999999999d"}) {
    const auto got = parse_duration(text);
    ASSERT_FALSE(got) << text << " -> " << *got;
    EXPECT_NE(got.error().message.find("duration"), std::string::npos) << got.error().message;
  }
}

// ---- memory ----

struct Mb {
  const char* text;
  std::int64_t mb;
};

class ParseMem : public ::testing::TestWithParam<Mb> {};

TEST_P(ParseMem, SizesGiveMiB) {
  const auto got = parse_mem_mb(GetParam().text);
  ASSERT_TRUE(got) << GetParam().text << ": " << got.error().message;
  EXPECT_EQ(*got, GetParam().mb) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(Forms, ParseMem,
                         ::testing::Values(Mb{"512M", 512}, Mb{"8G", 8192}, Mb{"1T", 1024 * 1024},
                                           Mb{"1024K", 1}, Mb{"1000K", 1},  // rounded up, never down
                                           Mb{"4000", 4000}, Mb{"8g", 8192}, Mb{"8GB", 8192},
                                           Mb{"8GiB", 8192}, Mb{"256Gi", 256 * 1024}, Mb{"1.5G", 1536},
                                           Mb{" 16G ", 16384}));

TEST(ParseMemBad, FailsOnJunk) {
  for (const char* text : {"", "G", "lots", "-8G", "8Q", "8GG", "8 G x", ".5G", "5.G", "1.2.3G", "8P"}) {
    const auto got = parse_mem_mb(text);
    ASSERT_FALSE(got) << text << " -> " << *got;
    EXPECT_NE(got.error().message.find("memory size"), std::string::npos) << got.error().message;
  }
}

TEST(FormatMem, LargestWholeUnit) {
  EXPECT_EQ(format_mem(512), "512M");
  EXPECT_EQ(format_mem(1536), "1536M");
  EXPECT_EQ(format_mem(8192), "8G");
  EXPECT_EQ(format_mem(1024 * 1024), "1T");
  EXPECT_EQ(format_mem(3 * 1024 * 1024 + 1024), "3073G");
  EXPECT_EQ(format_mem(0), "0M");
}

TEST(FormatMem, RoundTripsThroughParse) {
  for (std::int64_t mb : {1, 1000, 1024, 1536, 8192, 1048576, 2097152 + 1}) {
    const auto back = parse_mem_mb(format_mem(mb));
    ASSERT_TRUE(back) << mb;
    EXPECT_EQ(*back, mb);
  }
}

}  // namespace
}  // namespace cairn::parse
