// `cairn generate-docs --out DIR` (hidden): the shell completions (bash, zsh, fish) and
// the man page, written from the verb table as CLI11 holds it once every verb has
// defined its options. The build runs it (CMakeLists.txt), so a new verb or flag is in
// all four files without anyone editing them.

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <cairn/cli/verbs.hpp>
#include <cairn/util/expected.hpp>

namespace cairn::cli {

namespace {

struct Flag {
  std::string long_name;             // "--json": the first long name
  std::string short_name;            // "-n", or ""
  std::vector<std::string> aliases;  // further names: "--exit-code" of "--exit,--exit-code"
  bool takes_value = false;
  std::string help;
};

struct Positional {
  std::string name;  // "campaign"
  bool required = false;
  bool many = false;
  std::string help;
};

struct VerbDoc {
  std::string name;
  std::string help;
  std::vector<Flag> flags;
  std::vector<Positional> positionals;
  std::vector<VerbDoc> subverbs;  // `catalog promote`
};

VerbDoc describe(const CLI::App& app) {
  VerbDoc v{app.get_name(), app.get_description(), {}, {}, {}};
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->get_lnames().size() == 1 && opt->get_lnames().front() == "help") continue;
    if (opt->nonpositional()) {
      Flag f;
      for (const auto& l : opt->get_lnames()) {
        if (f.long_name.empty()) {
          f.long_name = "--" + l;
        } else {
          f.aliases.push_back("--" + l);
        }
      }
      for (const auto& s : opt->get_snames()) {
        if (f.short_name.empty()) {
          f.short_name = "-" + s;
        } else {
          f.aliases.push_back("-" + s);
        }
      }
      f.takes_value = opt->get_type_size() != 0;
      f.help = opt->get_description();
      v.flags.push_back(std::move(f));
    } else if (opt->get_positional()) {
      v.positionals.push_back({opt->get_name(true), opt->get_required(), opt->get_items_expected_max() > 1,
                               opt->get_description()});
    }
  }
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (!sub->get_group().empty()) v.subverbs.push_back(describe(*sub));
  }
  return v;
}

// The visible verbs of the root app, in table order.
std::vector<VerbDoc> verb_docs(const CLI::App& root) {
  std::vector<VerbDoc> out;
  for (const CLI::App* sub : root.get_subcommands([](const CLI::App*) { return true; })) {
    if (!sub->get_group().empty()) out.push_back(describe(*sub));
  }
  return out;
}

bool takes_campaign(const VerbDoc& v) {
  return !v.positionals.empty() && v.positionals.front().name == "campaign";
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (std::size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size())
    s.replace(at, from.size(), to);
  return s;
}

std::string all_flags(const VerbDoc& v) {
  std::string out = "--help";
  for (const auto& f : v.flags) {
    if (!f.short_name.empty()) out += " " + f.short_name;
    if (!f.long_name.empty()) out += " " + f.long_name;
    for (const auto& a : f.aliases) out += " " + a;
  }
  for (const auto& s : v.subverbs)
    out += " " + s.name + " " + all_flags(s).substr(std::string("--help").size() + 1);
  return out;
}

constexpr std::string_view kCampaignNames =
    "cairn status --json 2>/dev/null | sed -n 's/^ *\"campaign\": *\"\\(.*\\)\",\\{0,1\\}$/\\1/p'";

std::string bash(const std::vector<VerbDoc>& verbs) {
  std::string names, cases, campaign_verbs;
  for (const auto& v : verbs) {
    names += (names.empty() ? "" : " ") + v.name;
    cases += fmt::format("    {}) flags=\"{}\" ;;\n", v.name, all_flags(v));
    if (takes_campaign(v)) campaign_verbs += (campaign_verbs.empty() ? "" : " | ") + v.name;
  }
  std::string out = fmt::format(
      "# bash completion for cairn. Generated from the verb table by `cairn generate-docs`; do not edit.\n"
      "_cairn() {{\n"
      "  local cur=${{COMP_WORDS[COMP_CWORD]}} verb=${{COMP_WORDS[1]}}\n"
      "  if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
      "    COMPREPLY=($(compgen -W \"{} --help --version\" -- \"$cur\"))\n"
      "    return\n"
      "  fi\n"
      "  local flags=\"--help\"\n"
      "  case $verb in\n{}  esac\n"
      "  case $cur in\n"
      "    -*) COMPREPLY=($(compgen -W \"$flags\" -- \"$cur\")) ;;\n"
      "    *)\n"
      "      case $verb in\n",
      names, cases);
  if (!campaign_verbs.empty()) {
    out += fmt::format("        {}) COMPREPLY=($(compgen -W \"$({})\" -- \"$cur\")) ;;\n", campaign_verbs,
                       kCampaignNames);
  }
  out +=
      "        *) COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n"
      "      esac\n"
      "      ;;\n"
      "  esac\n"
      "}\n"
      "complete -F _cairn cairn\n";
  return out;
}

// zsh `_arguments`/`_describe` text: no brackets, colons escaped, inside single quotes.
std::string zsh_text(const std::string& s) {
  std::string out = replace_all(replace_all(replace_all(s, "[", "("), "]", ")"), ":", "\\:");
  return replace_all(out, "'", "'\\''");
}

std::string zsh_arguments(const VerbDoc& v, const std::string& indent) {
  std::string out = indent + "_arguments \\\n" + indent + "  '--help[Print help]'";
  for (const auto& f : v.flags) {
    const std::string value = f.takes_value ? ":value:" : "";
    if (!f.short_name.empty() && !f.long_name.empty()) {
      out += fmt::format(" \\\n{}  '({} {})'{{{},{}}}'[{}]{}'", indent, f.short_name, f.long_name,
                         f.short_name, f.long_name, zsh_text(f.help), value);
    } else {
      out += fmt::format(" \\\n{}  '{}[{}]{}'", indent, f.long_name.empty() ? f.short_name : f.long_name,
                         zsh_text(f.help), value);
    }
    for (const auto& a : f.aliases)
      out += fmt::format(" \\\n{}  '{}[{}]{}'", indent, a, zsh_text(f.help), value);
  }
  if (takes_campaign(v)) {
    out += fmt::format(" \\\n{}  ':campaign:_cairn_campaigns'", indent);
  } else if (!v.positionals.empty()) {
    out += fmt::format(" \\\n{}  '*:{}:_files'", indent, zsh_text(v.positionals.front().name));
  }
  return out + "\n";
}

std::string zsh(const std::vector<VerbDoc>& verbs) {
  std::string out =
      "#compdef cairn\n"
      "# zsh completion for cairn. Generated from the verb table by `cairn generate-docs`; do not edit.\n"
      "_cairn_campaigns() {\n"
      "  local -a names\n"
      "  names=(${(f)\"$(" +
      std::string(kCampaignNames) +
      ")\"})\n"
      "  _describe 'campaign' names\n"
      "}\n"
      "_cairn() {\n"
      "  local -a verbs\n"
      "  verbs=(\n";
  for (const auto& v : verbs) out += fmt::format("    '{}:{}'\n", v.name, zsh_text(v.help));
  out +=
      "  )\n"
      "  if (( CURRENT == 2 )); then\n"
      "    _describe 'verb' verbs\n"
      "    return\n"
      "  fi\n"
      "  shift words\n"
      "  (( CURRENT-- ))\n"
      "  case $words[1] in\n";
  for (const auto& v : verbs) {
    out += fmt::format("    {})\n", v.name);
    if (!v.subverbs.empty()) {
      out += "      if (( CURRENT == 2 )); then\n        local -a subverbs\n        subverbs=(";
      for (const auto& s : v.subverbs) out += fmt::format("'{}:{}' ", s.name, zsh_text(s.help));
      out +=
          ")\n        _describe 'subcommand' subverbs\n        return\n      fi\n      shift words\n"
          "      (( CURRENT-- ))\n      case $words[1] in\n";
      for (const auto& s : v.subverbs)
        out += fmt::format("        {})\n{}          ;;\n", s.name, zsh_arguments(s, "          "));
      out += "      esac\n";
    } else {
      out += zsh_arguments(v, "      ");
    }
    out += "      ;;\n";
  }
  out += "  esac\n}\n_cairn \"$@\"\n";
  return out;
}

std::string fish_text(const std::string& s) {
  return replace_all(replace_all(s, "\\", "\\\\"), "'", "\\'");
}

std::string fish_flags(const VerbDoc& v, const std::string& condition) {
  std::string out;
  for (const auto& f : v.flags) {
    out += fmt::format("complete -c cairn -n '{}'", condition);
    if (!f.long_name.empty()) out += " -l " + f.long_name.substr(2);
    if (!f.short_name.empty()) out += " -s " + f.short_name.substr(1);
    for (const auto& a : f.aliases)
      out += (a.rfind("--", 0) == 0 ? " -l " + a.substr(2) : " -s " + a.substr(1));
    if (f.takes_value) out += " -r";
    out += fmt::format(" -d '{}'\n", fish_text(f.help));
  }
  return out;
}

std::string fish(const std::vector<VerbDoc>& verbs) {
  std::string names;
  for (const auto& v : verbs) names += (names.empty() ? "" : " ") + v.name;
  std::string out =
      "# fish completion for cairn. Generated from the verb table by `cairn generate-docs`; do not edit.\n"
      "complete -c cairn -f\n"
      "complete -c cairn -n '__fish_use_subcommand' -l help -d 'Print help'\n"
      "complete -c cairn -n '__fish_use_subcommand' -l version -d 'Print the version'\n";
  for (const auto& v : verbs) {
    out += fmt::format("complete -c cairn -n '__fish_use_subcommand' -a {} -d '{}'\n", v.name,
                       fish_text(v.help));
    const std::string in_verb = "__fish_seen_subcommand_from " + v.name;
    out += fmt::format("complete -c cairn -n '{}' -l help -d 'Print help'\n", in_verb);
    out += fish_flags(v, in_verb);
    for (const auto& s : v.subverbs) {
      out += fmt::format("complete -c cairn -n '{}' -a {} -d '{}'\n", in_verb, s.name, fish_text(s.help));
      out += fish_flags(s, in_verb + "; and __fish_seen_subcommand_from " + s.name);
    }
    if (takes_campaign(v)) {
      out += fmt::format("complete -c cairn -n '{}' -a '({})'\n", in_verb,
                         fish_text(std::string(kCampaignNames)));
    } else if (!v.positionals.empty()) {
      out += fmt::format("complete -c cairn -n '{}' -F\n", in_verb);
    }
  }
  return out;
}

// roff: backslashes and hyphens escaped, a line starting with '.' or '\'' protected.
std::string roff(const std::string& s) {
  std::string out = replace_all(replace_all(s, "\\", "\\e"), "-", "\\-");
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out = "\\&" + out;
  return out;
}

std::string synopsis(const VerbDoc& v) {
  std::string out = "\\fB" + roff(v.name) + "\\fR";
  for (const auto& p : v.positionals) {
    const std::string arg = "\\fI" + roff(p.name) + "\\fR" + (p.many ? "..." : "");
    out += p.required ? " " + arg : " [" + arg + "]";
  }
  for (const auto& f : v.flags) {
    const std::string name = f.long_name.empty() ? f.short_name : f.long_name;
    out += " [\\fB" + roff(name) + "\\fR" + (f.takes_value ? " \\fIVALUE\\fR" : "") + "]";
  }
  return out;
}

std::string man_verb(const VerbDoc& v, const std::string& prefix) {
  std::string out = ".TP\n" + (prefix.empty() ? "" : "\\fB" + roff(prefix) + "\\fR ") + synopsis(v) + "\n" +
                    roff(v.help) + "\n";
  if (!v.flags.empty() || !v.positionals.empty()) {
    out += ".RS\n";
    for (const auto& p : v.positionals) out += ".TP\n\\fI" + roff(p.name) + "\\fR\n" + roff(p.help) + "\n";
    for (const auto& f : v.flags) {
      std::string names = f.short_name.empty() ? "" : "\\fB" + roff(f.short_name) + "\\fR, ";
      names += "\\fB" + roff(f.long_name) + "\\fR";
      for (const auto& a : f.aliases) names += ", \\fB" + roff(a) + "\\fR";
      if (f.takes_value) names += " \\fIVALUE\\fR";
      out += ".TP\n" + names + "\n" + roff(f.help) + "\n";
    }
    out += ".RE\n";
  }
  for (const auto& s : v.subverbs) out += man_verb(s, v.name);
  return out;
}

std::string man(const std::vector<VerbDoc>& verbs, const std::string& summary) {
  std::string out =
      ".\\\" Generated from the verb table by `cairn generate-docs`; do not edit.\n"
      ".TH CAIRN 1 \"2026\" \"cairn 0.1.0\" \"User Commands\"\n"
      ".SH NAME\ncairn \\- " +
      roff(summary.substr(summary.find(": ") + 2)) +
      "\n"
      ".SH SYNOPSIS\n.B cairn\n.I verb\n.RI [ options ]\n"
      R"(.SH DESCRIPTION
.B cairn
runs long compute campaigns (multi\-stage simulation pipelines, ensembles, GPU
training) from a git repository. Each campaign's state is a
.I WORKFLOW.md
file: YAML frontmatter plus a Markdown stage table, action queue, failure log and
lessons learned. A stateless
.BR "cairn tick" ,
run from cron, a CI schedule or
.BR "cairn tick \-\-watch" ,
advances every campaign that is due and commits each state transition as its own
commit.
.SH VERBS
)";
  for (const auto& v : verbs) out += man_verb(v, "");
  out += R"(.PP
Every verb takes \fB\-\-help\fR. The shapes of every \fB\-\-json\fR output are documented,
with their \fBversion\fR, in docs/json.md.
.SH EXIT STATUS
0 ok; 1 findings (invalid files, failed checks); 2 usage; 3 infrastructure
unreachable (git remote, scheduler, forge).
.SH ENVIRONMENT
.TP
.B CAIRN_TOKEN\fR, \fBGITHUB_TOKEN\fR, \fBCI_JOB_TOKEN
Credentials for pushing over https (tokens never appear in output or commits).
.TP
.B CI_COMMIT_BRANCH
On a detached HEAD (GitLab runners), the branch this checkout is.
.TP
.B CAIRN_STATE_DIR
Where the local backend keeps its jobs (default ~/.local/state/cairn).
.TP
.B CAIRN_NETWORK_TIMEOUT
Seconds of silence after which a fetch or push gives up (default 60).
.TP
.B GITHUB_STEP_SUMMARY
Under GitHub Actions, \fBcairn tick\fR appends the tick's table and the dashboard here.
.SH FILES
.TP
.I cairn.yaml
Repository configuration: search root, branch, identity, catalogs, backends, forge.
.TP
.I /usr/lib/systemd/user/cairn\-watch@.service
A user unit running \fBcairn tick \-\-watch\fR in the clone its instance names.
.SH SEE ALSO
.BR git (1),
.BR crontab (5),
.BR scrontab (1)
)";
  return out;
}

struct GenerateOptions {
  std::string out;
};

Outcome run_generate(const CLI::App& sub, const GenerateOptions& o) {
  const CLI::App& root = *sub.get_parent();
  const auto verbs = verb_docs(root);
  const std::vector<std::pair<std::string, std::string>> files = {
      {"cairn.bash", bash(verbs)},
      {"_cairn", zsh(verbs)},
      {"cairn.fish", fish(verbs)},
      {"cairn.1", man(verbs, root.get_description())}};
  for (const auto& [name, text] : files) {
    const std::string path = o.out + "/" + name;
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << text;
    f.close();
    if (!f) return fail(fmt::format("cannot write {}", path));
  }
  return {};
}

}  // namespace

void define_generate(CLI::App& sub, Runner& run) {
  auto o = std::make_shared<GenerateOptions>();
  sub.add_option("--out", o->out, "Directory to write cairn.bash, _cairn, cairn.fish and cairn.1 into")
      ->required();
  const CLI::App* self = &sub;
  run = [o, self](Session&) { return run_generate(*self, *o); };
}

}  // namespace cairn::cli
