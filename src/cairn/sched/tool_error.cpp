#include <cairn/sched/tool_error.hpp>

#include <algorithm>
#include <cctype>
#include <vector>

namespace cairn::sched {

namespace {

std::string lowered(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// The non-blank lines of `text`, runs of white space collapsed to one space.
std::vector<std::string> collapsed_lines(std::string_view text) {
  std::vector<std::string> out;
  std::string line;
  auto end_line = [&] {
    if (!line.empty() && line.back() == ' ') line.pop_back();
    if (!line.empty()) out.push_back(std::move(line));
    line.clear();
  };
  for (const char c : text) {
    if (c == '\n') {
      end_line();
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      if (!line.empty() && line.back() != ' ') line += ' ';
    } else {
      line += c;
    }
  }
  end_line();
  return out;
}

}  // namespace

std::string tool_error_text(const CommandResult& result) {
  constexpr std::size_t kMax = 600;
  auto lines = collapsed_lines(result.err);
  if (lines.empty()) lines = collapsed_lines(result.out);
  if (lines.empty()) return "exit " + std::to_string(result.exit);
  // A Python traceback or a progress line comes before the line that says what failed.
  const auto first = std::find_if(lines.begin(), lines.end(), [](const std::string& l) {
    return lowered(l).find("error") != std::string::npos;
  });
  std::string text;
  for (auto it = first != lines.end() ? first : lines.begin(); it != lines.end(); ++it) {
    text += (text.empty() ? "" : " / ") + *it;
  }
  if (text.size() > kMax) text = text.substr(0, kMax) + "...";
  return text;
}

bool says_unreachable(std::string_view text) {
  static constexpr std::string_view kUnreachable[] = {
      // connections and names
      "connection refused", "connection reset", "connection timed out", "timed out", "i/o timeout",
      "connectionerror", "failed to establish a new connection", "max retries exceeded",
      "could not resolve host", "name or service not known", "temporary failure in name resolution",
      "network is unreachable", "no route to host",
      // HTTP gateways in front of a service
      "502 bad gateway", "503 service unavailable", "504 gateway time",
      // clients that say their server does not answer
      "unable to connect to the server", "cannot connect to server", "not responding",
      // Slurm
      "unable to contact slurm controller", "transport endpoint is not connected",
      "zero bytes were transmitted or received", "slurm backup controller in standby mode",
      "communication connection failure",
      // LSF
      "cannot connect to lsf", "lsf is down"};
  const std::string l = lowered(text);
  return std::any_of(std::begin(kUnreachable), std::end(kUnreachable),
                     [&](std::string_view phrase) { return l.find(phrase) != std::string::npos; });
}

Error classify_tool_error(std::string_view what, const CommandResult& result) {
  const std::string message = std::string(what) + ": " + tool_error_text(result);
  if (says_unreachable(result.err) || says_unreachable(result.out))
    return fail(message, ExitCode::unreachable);
  return fail(message, ExitCode::findings);
}

}  // namespace cairn::sched
