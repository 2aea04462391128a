// util/fs: the tail of a log, read by seeking from the end.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cairn/util/fs.hpp>

namespace cairn::util {
namespace {

namespace fs = std::filesystem;

class LogTailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = fs::temp_directory_path() / fmt::format("cairn-fs-test-{}", ::getpid());
    fs::create_directories(m_dir);
  }
  void TearDown() override { fs::remove_all(m_dir); }

  std::string write(const std::string& name, const std::string& content) {
    const fs::path p = m_dir / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }

  fs::path m_dir;
};

// "line 0\n" ... "line N-1\n".
std::string numbered(int from, int to) {
  std::string out;
  for (int i = from; i < to; ++i) out += fmt::format("line {}\n", i);
  return out;
}

// Lines of about 60 bytes, so 10,000 of them span several read chunks.
std::string long_lines(int from, int to) {
  std::string out;
  for (int i = from; i < to; ++i)
    out += fmt::format("{:06} step={} loss=0.{:04} lr=8.2e-05 grad_norm=1.{}\n", i, i, i % 9973, i % 7);
  return out;
}

// Bytes this process has read through read(2)/pread(2) so far; -1 when not reported.
long long bytes_read() {
  std::ifstream in("/proc/self/io");
  std::string key;
  long long value = -1;
  while (in >> key >> value) {
    if (key == "rchar:") return value;
  }
  return -1;
}

TEST_F(LogTailTest, AFileSmallerThanTheTailIsReadWhole) {
  const std::string text = "first\nsecond\nthird\n";
  const auto tail = read_log_tail(write("small.log", text), 10000, 1 << 20);
  ASSERT_TRUE(tail) << tail.error().message;
  EXPECT_EQ(*tail, text);
  EXPECT_EQ(*read_log_tail(write("empty.log", ""), 10, 100), "");
}

TEST_F(LogTailTest, AFileWithoutTrailingNewlineKeepsItsLastLine) {
  const std::string path = write("open.log", "a\nb\nc\nlast words");
  EXPECT_EQ(*read_log_tail(path, 2, 1 << 20), "c\nlast words");
  EXPECT_EQ(*read_log_tail(path, 1, 1 << 20), "last words");
  // With a trailing newline the same count gives the same lines.
  EXPECT_EQ(*read_log_tail(write("closed.log", "a\nb\nc\nlast words\n"), 2, 1 << 20), "c\nlast words\n");
}

TEST_F(LogTailTest, TenThousandLinesOfALargerFile) {
  // The 10,000 lines span several read chunks; the cut must land on a line start.
  const std::string path = write("big.log", long_lines(0, 50000));
  const long long before = bytes_read();
  const auto tail = read_log_tail(path, 10000, 8 << 20);
  const long long after = bytes_read();
  ASSERT_TRUE(tail);
  EXPECT_EQ(*tail, long_lines(40000, 50000));
  if (before >= 0 && after >= 0) {
    // Only the tail (in whole chunks) was read, not the file.
    EXPECT_LT(after - before, static_cast<long long>(tail->size()) + 256 * 1024);
  }
}

TEST_F(LogTailTest, TheByteBoundCutsAtALineStart) {
  const std::string path = write("bytes.log", numbered(0, 1000));
  // "line 997\nline 998\nline 999\n" is 27 bytes; 30 bytes would cut "line 996" in two.
  EXPECT_EQ(*read_log_tail(path, 10000, 30), "line 997\nline 998\nline 999\n");
  EXPECT_EQ(*read_log_tail(path, 10000, 27), "line 997\nline 998\nline 999\n");
  // A single line longer than the bound: its end is better evidence than nothing.
  const std::string one_line = std::string(1000, 'x') + " Segmentation fault\n";
  EXPECT_EQ(*read_log_tail(write("one.log", one_line), 10, 30), one_line.substr(one_line.size() - 30));
}

TEST_F(LogTailTest, CrlfLineEndsBecomeNewlines) {
  const std::string path = write("crlf.log", "one\r\ntwo\r\nthree\r\nprogress 10%\rprogress 100%\r\n");
  EXPECT_EQ(*read_log_tail(path, 2, 1 << 20), "three\nprogress 10%\rprogress 100%\n");
  EXPECT_EQ(*read_log_tail(path, 10, 1 << 20), "one\ntwo\nthree\nprogress 10%\rprogress 100%\n");
}

TEST_F(LogTailTest, APipeIsReadThroughKeepingTheTail) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const std::string text = numbered(0, 100000);  // more than a pipe buffer and a read chunk
  std::thread writer([&] {
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(fds[1], text.data() + done, text.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    ::close(fds[1]);
  });
  const auto tail = read_log_tail(fmt::format("/dev/fd/{}", fds[0]), 3, 64 << 10);
  writer.join();
  ::close(fds[0]);
  ASSERT_TRUE(tail) << tail.error().message;
  EXPECT_EQ(*tail, numbered(99997, 100000));
}

TEST_F(LogTailTest, AMissingFileIsAnErrorNamingIt) {
  const std::string path = (m_dir / "absent.log").string();
  const auto tail = read_log_tail(path, 10, 100);
  ASSERT_FALSE(tail);
  EXPECT_EQ(tail.error().exit, ExitCode::findings);
  EXPECT_NE(tail.error().message.find("cannot read " + path), std::string::npos) << tail.error().message;
}

TEST(TailLines, CutsTextInMemoryTheSameWay) {
  EXPECT_EQ(tail_lines("a\nb\nc\n", 2), "b\nc\n");
  EXPECT_EQ(tail_lines("a\nb\nc", 2), "b\nc");
  EXPECT_EQ(tail_lines("a\nb\nc\n", 5), "a\nb\nc\n");
  EXPECT_EQ(tail_lines("a\nb\nc\n", 0), "");
  EXPECT_EQ(tail_lines("", 3), "");
  EXPECT_EQ(tail_lines("\n\n\n", 2), "\n\n");
  EXPECT_EQ(tail_lines("alpha\nbeta\ngamma\n", 3, 8), "gamma\n");
  EXPECT_EQ(tail_lines("alpha\nbeta\ngamma\n", 3, 11), "beta\ngamma\n");
}

}  // namespace
}  // namespace cairn::util
