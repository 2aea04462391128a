// `cairn classify LOGFILE`: what the catalogs make of a job log, without a tick.

#include <cstdio>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include <cairn/cli/backends.hpp>
#include <cairn/cli/context.hpp>
#include <cairn/cli/verbs.hpp>
#include <cairn/util/fs.hpp>
#include <cairn/util/redact.hpp>

namespace cairn::cli {

namespace {

// What a tick would see of a job log, and more: the evidence of a failure is at the
// end, and a 100 MB log must cost what its tail costs.
constexpr int kTailLines = 10000;
constexpr std::size_t kTailBytes = 8 << 20;

struct ClassifyOptions {
  std::string log;
  std::optional<int> exit_code;
  std::string state;
  bool json = false;
};

Outcome run_classify(const ClassifyOptions& o) {
  // Outside a campaign repository the built-in catalog answers.
  auto ctx = CAIRN_TRY(load_context(fs::current_path(), Needs::anywhere));
  std::vector<doc::Diagnostic> diagnostics;
  auto catalog = load_catalog(ctx, diagnostics);
  print_diagnostics(diagnostics);
  if (!catalog) return std::move(catalog).error();
  engine::Evidence ev;
  if (o.log != "-") {
    auto text = util::read_log_tail(o.log, kTailLines, kTailBytes);
    if (!text) return fail(text.error().message, ExitCode::usage);
    ev.log_tail = std::move(*text);
  }
  ev.exit_code = o.exit_code;
  ev.state = o.state;
  const auto cls = (*catalog)->classify(ev);
  if (o.json) {
    nlohmann::json j = {{"version", 1}, {"classified", cls.has_value()}};
    if (cls) {
      j.update({{"error_class", cls->error_class},
                {"fix", cls->fix},
                {"safe_to_retry", cls->safe_to_retry},
                {"transient", cls->transient},
                {"destructive", cls->destructive},
                {"hint", cls->hint},
                {"matched", util::redact(cls->matched)},
                {"source", cls->source}});
    }
    std::printf("%s\n", j.dump(2).c_str());
  } else if (cls) {
    std::printf(
        "class:     %s\nfix:       %s\nretry:     %s%s\nhint:      %s\nmatched:   %s\nentry:     %s\n",
        cls->error_class.c_str(), cls->fix.empty() ? "none (escalate)" : cls->fix.c_str(),
        cls->safe_to_retry ? "safe" : "not safe", cls->transient ? " (transient)" : "", cls->hint.c_str(),
        util::redact(cls->matched).c_str(), cls->source.c_str());
  } else {
    std::printf("unclassified: no catalog entry matches; a tick would escalate\n");
  }
  if (!cls) return findings_reported();
  return {};
}

}  // namespace

void define_classify(CLI::App& sub, Runner& run) {
  auto o = std::make_shared<ClassifyOptions>();
  sub.add_option("logfile", o->log, "Job log to classify (its last 10,000 lines; `-` for none)")->required();
  sub.add_option("--exit,--exit-code", o->exit_code, "The job's exit code");
  sub.add_option("--state", o->state, "The scheduler's final state (e.g. TIMEOUT, OUT_OF_MEMORY)");
  sub.add_flag("--json", o->json, "Print the classification as JSON");
  run = [o](Session&) { return run_classify(*o); };
}

}  // namespace cairn::cli
