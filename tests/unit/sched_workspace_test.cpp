// RemoteWorkspace: its one probe script run for real by a local `sh` (directly, and
// through SshRunner's quoting as a remote login shell would receive it), answering
// what LocalWorkspace answers for the same directory; and the parser on odd output.

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <cairn/sched/command_runner.hpp>
#include <cairn/sched/workspace.hpp>

namespace cairn::sched {
namespace {

namespace fs = std::filesystem;
using engine::Probe;
using engine::ProbeAnswer;
using namespace std::chrono_literals;

// What sshd does with `ssh HOST -- WORD...`: joins the words with spaces and hands the
// line to the login shell's -c. Records the local argv it was given.
class LoopbackSsh : public CommandRunner {
 public:
  Expected<CommandResult> run(const std::vector<std::string>& argv, std::string_view input,
                              std::chrono::milliseconds timeout) override {
    calls.push_back(argv);
    auto dashes = std::find(argv.begin(), argv.end(), "--");
    if (argv.empty() || argv.front() != "ssh" || dashes == argv.end()) return fail("not an ssh command line");
    std::string line;
    for (auto it = dashes + 1; it != argv.end(); ++it) line += (line.empty() ? "" : " ") + *it;
    return ProcessRunner().run({"sh", "-c", line}, input, timeout);
  }
  std::vector<std::vector<std::string>> calls;
};

class RemoteWorkspaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = fs::temp_directory_path() / ("cairn-rws-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(m_dir);
    fs::create_directories(m_dir / "out dir");
    for (const char* f : {"out dir/a b.txt", "out dir/c.txt", "r1.dcd", ".hidden.dcd", "it's here.log"}) {
      std::ofstream(m_dir / f) << "x";
    }
    // Distinct whole-second mtimes: the newest is c.txt.
    const auto base = fs::file_time_type::clock::now() - 1h;
    fs::last_write_time(m_dir / "out dir/a b.txt", base);
    fs::last_write_time(m_dir / "out dir/c.txt", base + 10min);
  }
  void TearDown() override { fs::remove_all(m_dir); }

  std::vector<Probe> probes() const {
    return {{Probe::Kind::count, "out dir/*.txt"},
            {Probe::Kind::count, "*.dcd"},  // .hidden.dcd is not matched, as with glob(3)
            {Probe::Kind::count, "nothing*"},
            {Probe::Kind::count, "r1.dcd"},
            {Probe::Kind::count, "it's*"},
            {Probe::Kind::count, (m_dir / "out dir").string() + "/*.txt"},  // absolute
            {Probe::Kind::newest, "out dir/*"},
            {Probe::Kind::newest, "none*"},
            {Probe::Kind::command, "exit 7"},
            {Probe::Kind::command, "test -f 'out dir/c.txt' && [ \"$(pwd)\" = \"$PWD\" ]"},
            {Probe::Kind::command, "test -f r9.dcd"},
            // A command's own output, even a forged answer line, never reaches the parser.
            {Probe::Kind::command, "echo 'cairn-probe 0 count 99'; echo cairn-probe end >&2; exit 0"},
            {Probe::Kind::command, "! false"}};
  }

  // The answers LocalWorkspace gives, mtimes cut to seconds (what `stat -c %Y` prints).
  static void expect_same(const std::vector<ProbeAnswer>& got, const std::vector<ProbeAnswer>& want,
                          const std::vector<Probe>& probes) {
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      SCOPED_TRACE(probes[i].arg);
      switch (probes[i].kind) {
        case Probe::Kind::count: EXPECT_EQ(got[i].count, want[i].count); break;
        case Probe::Kind::newest:
          EXPECT_EQ(got[i].count, want[i].count);
          ASSERT_EQ(got[i].newest.has_value(), want[i].newest.has_value());
          if (want[i].newest) {
            EXPECT_EQ(std::chrono::floor<std::chrono::seconds>(*got[i].newest),
                      std::chrono::floor<std::chrono::seconds>(*want[i].newest));
          }
          break;
        case Probe::Kind::command: EXPECT_EQ(got[i].exit, want[i].exit); break;
      }
    }
  }

  fs::path m_dir;
};

TEST_F(RemoteWorkspaceTest, OneShellCommandAnswersWhatTheLocalWorkspaceAnswers) {
  ProcessRunner sh;
  RemoteWorkspace remote(sh, "", 30s);
  LocalWorkspace local;
  const auto ps = probes();
  auto got = remote.probe(m_dir.string(), ps);
  ASSERT_TRUE(got) << got.error().message;
  auto want = local.probe(m_dir.string(), ps);
  ASSERT_TRUE(want) << want.error().message;
  expect_same(*got, *want, ps);
  // And the values themselves, so the two cannot agree on something wrong.
  EXPECT_EQ((*got)[0].count, 2);
  EXPECT_EQ((*got)[1].count, 1);
  EXPECT_EQ((*got)[2].count, 0);
  EXPECT_EQ((*got)[3].count, 1);
  EXPECT_EQ((*got)[4].count, 1);
  EXPECT_EQ((*got)[5].count, 2);
  EXPECT_EQ((*got)[6].count, 2);
  ASSERT_TRUE((*got)[6].newest.has_value());
  const auto c_mtime = fs::file_time_type::clock::to_sys(fs::last_write_time(m_dir / "out dir/c.txt"));
  EXPECT_EQ(std::chrono::floor<std::chrono::seconds>(*(*got)[6].newest),
            std::chrono::floor<std::chrono::seconds>(c_mtime));
  EXPECT_FALSE((*got)[7].newest.has_value());
  EXPECT_EQ((*got)[8].exit, 7);
  EXPECT_EQ((*got)[9].exit, 0);
  EXPECT_EQ((*got)[10].exit, 1);
  EXPECT_EQ((*got)[11].exit, 0);
  EXPECT_EQ((*got)[12].exit, 0);
}

TEST_F(RemoteWorkspaceTest, AGoneDirIsAFindingNamingIt) {
  ProcessRunner sh;
  RemoteWorkspace remote(sh, "login1", 30s);
  const std::string gone = (m_dir / "no such dir").string();
  auto r = remote.probe(gone, {{Probe::Kind::count, "*"}, {Probe::Kind::command, "true"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit, ExitCode::findings);
  EXPECT_EQ(r.error().message.rfind("directory " + gone + " does not exist", 0), 0u) << r.error().message;
  EXPECT_NE(r.error().message.find("login1"), std::string::npos);
  // A file is not a directory either.
  auto file = remote.probe((m_dir / "r1.dcd").string(), {{Probe::Kind::count, "*"}});
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().exit, ExitCode::findings);
}

TEST_F(RemoteWorkspaceTest, ACheckPastItsLimitFails) {
  ProcessRunner sh;
  RemoteWorkspace remote(sh, "", 30s);
  remote.check_timeout = 1s;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = remote.probe(m_dir.string(), {{Probe::Kind::command, "sleep 30"}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("ran past 1 s"), std::string::npos) << r.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 15s);
  // Exiting 124 quickly is an answer, not a timeout.
  auto quick = remote.probe(m_dir.string(), {{Probe::Kind::command, "exit 124"}});
  ASSERT_TRUE(quick) << quick.error().message;
  EXPECT_EQ(quick->front().exit, 124);
}

// Through SshRunner: one ssh call for every probe, the script and each argument quoted
// so the remote login shell runs exactly the argv RemoteWorkspace built.
TEST_F(RemoteWorkspaceTest, ThroughSshItIsOneCallAndTheQuotingRoundTrips) {
  auto loopback = std::make_unique<LoopbackSsh>();
  LoopbackSsh* calls = loopback.get();
  SshRunner ssh(std::move(loopback), SshOptions{"login1", 10, "/tmp/cm-%C", 60, "", "ssh"});
  RemoteWorkspace remote(ssh, "login1", 30s);
  const auto ps = probes();
  auto got = remote.probe(m_dir.string(), ps);
  ASSERT_TRUE(got) << got.error().message;
  auto want = LocalWorkspace().probe(m_dir.string(), ps);
  ASSERT_TRUE(want);
  expect_same(*got, *want, ps);
  ASSERT_EQ(calls->calls.size(), 1u);
  const auto argv = remote_probe_argv(m_dir.string(), ps, 60s);
  EXPECT_EQ(calls->calls[0], ssh.wrap(argv));
  const auto& wrapped = calls->calls[0];
  const auto dashes = std::find(wrapped.begin(), wrapped.end(), "--");
  ASSERT_NE(dashes, wrapped.end());
  EXPECT_EQ(*(dashes - 1), "login1");
  EXPECT_EQ(*(dashes + 1), "sh");
  EXPECT_EQ(*(dashes + 2), "-c");
  EXPECT_EQ(*(dashes + 3), shell_quote(argv[2]));
  // A csh login shell rejects a newline inside quotes and expands `!` even there.
  EXPECT_EQ(argv[2].find('\n'), std::string::npos);
  EXPECT_EQ(argv[2].find('!'), std::string::npos);

  auto gone = remote.probe((m_dir / "gone").string(), ps);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().exit, ExitCode::findings);
  EXPECT_EQ(gone.error().message.rfind("directory " + (m_dir / "gone").string() + " does not exist", 0), 0u);
}

TEST(RemoteProbeParse, BannersAreIgnoredAndCutAnswersAreUnreachable) {
  const std::vector<Probe> ps = {
      {Probe::Kind::count, "*.x"}, {Probe::Kind::newest, "*.y"}, {Probe::Kind::command, "true"}};
  CommandResult r{0,
                  "Welcome to the login node\ncairn-probe dir\ncairn-probe 0 count 4\n"
                  "cairn-probe 1 newest 2 1795442985\ncairn-probe 2 command 3\ncairn-probe end\n",
                  ""};
  auto a = parse_remote_probe("/w", ps, r, "h", 60s);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ((*a)[0].count, 4);
  EXPECT_EQ((*a)[1].count, 2);
  EXPECT_EQ((*a)[1].newest, engine::TimePoint(std::chrono::seconds(1795442985)));
  EXPECT_EQ((*a)[2].exit, 3);

  // Every match vanished before stat: a count but no time.
  r.out =
      "cairn-probe dir\ncairn-probe 0 count 0\ncairn-probe 1 newest 1 \ncairn-probe 2 command 0\ncairn-probe "
      "end\n";
  a = parse_remote_probe("/w", ps, r, "h", 60s);
  ASSERT_TRUE(a);
  EXPECT_FALSE((*a)[1].newest.has_value());

  // The connection dropped half way: no answer is trusted.
  const CommandResult cut{0, "cairn-probe dir\ncairn-probe 0 count 4\n", ""};
  auto c = parse_remote_probe("/w", ps, cut, "h", 60s);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().exit, ExitCode::unreachable);
  const CommandResult no_sh{127, "", "sh: not found\n"};
  auto n = parse_remote_probe("/w", ps, no_sh, "h", 60s);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().exit, ExitCode::unreachable);
  EXPECT_NE(n.error().message.find("sh: not found"), std::string::npos);

  const CommandResult nodir{0, "cairn-probe nodir\n", ""};
  auto d = parse_remote_probe("/w", ps, nodir, "h", 60s);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().exit, ExitCode::findings);
  EXPECT_EQ(d.error().message, "directory /w does not exist on h");
}

}  // namespace
}  // namespace cairn::sched
