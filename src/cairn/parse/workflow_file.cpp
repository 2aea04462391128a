#include <cairn/parse/workflow_file.hpp>

#include <algorithm>
#include <charconv>
#include <filesystem>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cairn/parse/condition.hpp>
#include <cairn/parse/frontmatter.hpp>
#include <cairn/parse/markdown.hpp>
#include <cairn/parse/stage_spec.hpp>
#include <cairn/parse/units.hpp>
#include <cairn/util/strings.hpp>
#include <cairn/util/suggest.hpp>

namespace cairn::parse {

namespace detail {

// A section opened by a `## ` heading (0-based lines).
struct Section {
  int heading = -1;       // -1 = the file has no such section
  int end = -1;           // first line after the section
  int last_content = -1;  // last non-blank line of the section (the heading when empty)
  bool present() const { return heading >= 0; }
};

struct Item {
  int first = 0;
  int last = 0;
  std::size_t text_begin = 0;  // byte offset where `[ ] text` (or the text) starts
};

// An append-only table under its own heading (`## Failure log`, `## Learnings`).
struct LogTable {
  Section section;
  std::vector<int> rows;            // 0-based lines of the data rows, in order
  int last_row = -1;                // last table line (header when no rows); -1 = no table
  int header = -1;                  // the table's header line (its rule is the next one)
  std::vector<std::size_t> widths;  // header cell widths, for padding new rows
};

// Where things are, as 0-based lines and byte offsets. Thousands of parsed files can be
// held at once, so no line index is kept: the edits that need one rebuild it (~1 us).
struct FileSpans {
  std::vector<int> stage_rows;  // the line of each row, aligned with Workflow::stages
  Section actions;
  Section lessons;
  LogTable failures;               // rows aligned with Workflow::failures
  LogTable learnings;              // rows aligned with Workflow::learnings
  std::vector<Item> action_items;  // aligned with Workflow::actions
  int action_last_line = -1;       // last line of the last action list item
  std::string action_bullet = "- ";
  int lessons_placeholder = -1;  // the `(none yet)` line
  int lessons_last_line = -1;
  std::string lessons_bullet = "- ";
};

}  // namespace detail

struct WorkflowFile::Spans : detail::FileSpans {};

namespace {

using detail::FileSpans;
using detail::Section;

constexpr std::string_view kStatusList = "pending, ready, running, done, failed, escalated";

std::string lower_trimmed(std::string_view s) {
  std::size_t b = md::leading_blanks(s);
  std::size_t e = s.size();
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  std::string out(s.substr(b, e - b));
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// `- [ ] text` -> where the bullet's text starts and whether it is a task item.
struct ItemHead {
  std::size_t bullet_end = 0;  // offset after the bullet and its spaces
  std::size_t text = 0;        // offset of the item text (after the box, if any)
  bool task = false;
  bool checked = false;
};

ItemHead item_head(std::string_view line) {
  ItemHead h;
  std::size_t p = md::leading_blanks(line);
  if (p < line.size() && (line[p] == '-' || line[p] == '*' || line[p] == '+')) {
    ++p;
  } else {
    while (p < line.size() && line[p] >= '0' && line[p] <= '9') ++p;
    if (p < line.size() && (line[p] == '.' || line[p] == ')')) ++p;
  }
  while (p < line.size() && (line[p] == ' ' || line[p] == '\t')) ++p;
  h.bullet_end = p;
  h.text = p;
  if (p + 2 < line.size() + 0 && line[p] == '[' && line[p + 2] == ']' &&
      (line[p + 1] == ' ' || line[p + 1] == 'x' || line[p + 1] == 'X') &&
      (p + 3 == line.size() || line[p + 3] == ' ' || line[p + 3] == '\t')) {
    h.task = true;
    h.checked = line[p + 1] != ' ';
    h.text = std::min(line.size(), p + 4);
  }
  return h;
}

// ` value` padded with spaces to `width` code points when it fits.
std::string padded_cell(std::string_view value, std::size_t width, std::size_t lead, std::size_t trail) {
  const std::size_t w = md::display_width(value);
  const std::size_t total = std::max(width, lead + w + trail);
  std::string out(lead, ' ');
  out += value;
  out.append(total - lead - w, ' ');
  return out;
}

// `| a | b |`, each cell escaped, empty as `—`, padded to `widths` where given.
std::string table_line(const std::vector<std::string>& values, const std::vector<std::size_t>& widths) {
  std::string line = "|";
  const std::size_t columns = std::max(values.size(), widths.size());
  for (std::size_t c = 0; c < columns; ++c) {
    const std::string v =
        c < values.size() && !values[c].empty() ? md::escape_cell(values[c]) : std::string("—");
    line += padded_cell(v, c < widths.size() ? widths[c] : 0, 1, 1);
    line += '|';
  }
  return line;
}

// A new table's header, rule and first row, each column as wide as its title.
std::vector<std::string> new_table(const std::vector<std::string>& header,
                                   const std::vector<std::string>& row) {
  std::vector<std::size_t> widths;
  std::string rule = "|";
  for (const auto& h : header) {
    widths.push_back(md::display_width(h) + 2);
    rule += std::string(widths.back(), '-') + "|";
  }
  return {table_line(header, widths), rule, table_line(row, widths)};
}

class Builder {
 public:
  Builder(const std::string& path, const std::string& text, doc::Workflow& wf, FileSpans& spans,
          std::vector<doc::Diagnostic>& fatal, std::vector<doc::Diagnostic>& notes)
      : m_path(path), m_text(text), m_wf(wf), m_spans(spans), m_fatal(fatal), m_notes(notes) {}

  void run() {
    if (m_text.size() > kMaxWorkflowBytes) {
      error(
          1, 1,
          fmt::format("file is {} bytes, over the {} byte (1 MiB) limit", m_text.size(), kMaxWorkflowBytes));
      return;
    }
    m_lines = md::LineIndex(m_text);
    const md::LineIndex& lines = m_lines;
    if (auto bad = md::find_invalid_utf8(m_text)) {
      const int l = lines.line_of(*bad);
      error(l + 1, static_cast<int>(*bad - lines.begin(l)) + 1,
            fmt::format("invalid UTF-8 (byte 0x{:02X})",
                        static_cast<unsigned>(static_cast<unsigned char>(m_text[*bad]))));
      return;
    }
    if (auto cr = md::find_lone_cr(m_text)) {
      const int l = lines.line_of(*cr);
      error(l + 1, static_cast<int>(*cr - lines.begin(l)) + 1,
            "a carriage return without a line feed (lines end in \\n or \\r\\n)");
      return;
    }
    int fm_line = 0;
    auto bounds = fm::locate(m_text, lines, &fm_line);
    if (!bounds) {
      error(fm_line + 1, 1, bounds.error().message);
      return;
    }
    m_yaml_line = bounds->open_line + 1;
    const std::string_view yaml =
        std::string_view(m_text).substr(bounds->yaml_begin, bounds->yaml_end - bounds->yaml_begin);
    if (!read_frontmatter(yaml)) return;
    read_body(bounds->close_line + 1);
    check_specs();
    check_stage_names();
    check_upkeep();
  }

 private:
  void error(int line, int col, std::string msg) {
    m_fatal.push_back({m_path, line, col, doc::Severity::error, std::move(msg)});
  }
  void error_at(const fm::Value& v, std::string msg) {
    error(v.line + m_yaml_line + 1, v.column + 1, std::move(msg));
  }
  int col_of(std::size_t offset, int line) const {
    return static_cast<int>(offset - m_lines.begin(line)) + 1;
  }

  std::string scalar(const fm::Value& v, std::string_view key) {
    if (v.kind == fm::Value::Kind::scalar) return v.scalar;
    if (v.kind != fm::Value::Kind::null) error_at(v, fmt::format("`{}` must be a single value", key));
    return {};
  }
  double number(const fm::Value& v, std::string_view key) {
    if (v.kind == fm::Value::Kind::null) return 0;
    if (v.kind == fm::Value::Kind::scalar) {
      if (auto d = fm::to_double(v.scalar)) return *d;
    }
    error_at(v, fmt::format("`{}` must be a number, not `{}`", key,
                            v.kind == fm::Value::Kind::scalar ? v.scalar : "..."));
    return 0;
  }
  bool boolean(const fm::Value& v, std::string_view key, bool fallback) {
    if (v.kind == fm::Value::Kind::null) return fallback;
    if (v.kind == fm::Value::Kind::scalar) {
      if (auto b = fm::to_bool(v.scalar)) return *b;
    }
    error_at(v, fmt::format("`{}` must be true or false", key));
    return fallback;
  }

  void yaml_error(const YAML::Exception& e, int line_offset) {
    error(e.mark.line + line_offset + m_yaml_line + 1, e.mark.column + 1, "invalid YAML: " + e.msg);
  }

  bool read_frontmatter(std::string_view yaml) {
    if (auto p = fm::find_anchor_or_error(yaml)) {
      error(p->line + m_yaml_line + 1, p->column + 1, p->message);
      return false;
    }
    fm::Value root;
    // Most files stay within the plain subset the fast reader takes; yaml-cpp (which
    // costs ~150 ns a byte to scan) only sees the others.
    if (auto simple = fm::read_simple(yaml)) {
      root = std::move(*simple);
      if (root.map.empty()) root.kind = fm::Value::Kind::null;
    } else {
      try {
        root = fm::to_value(YAML::Load(std::string(yaml)));
      } catch (const YAML::Exception& e) {
        yaml_error(e, 0);
        return false;
      }
    }
    if (root.kind != fm::Value::Kind::map) {
      error(m_yaml_line + 1, 1, "the frontmatter must be a YAML mapping (`key: value` lines)");
      return false;
    }
    const fm::Value* campaign = nullptr;
    for (const auto& [key, v] : root.map) {
      if (key == "campaign") {
        campaign = &v;
        m_wf.campaign = scalar(v, key);
      } else if (key == "project") {
        m_wf.project = scalar(v, key);
      } else if (key == "created") {
        m_wf.created = scalar(v, key);
      } else if (key == "last_tick") {
        m_wf.last_tick = scalar(v, key);
      } else if (key == "status") {
        m_status_at = {v.line + m_yaml_line + 1, v.column + 1};
        const std::string st = scalar(v, key);
        if (auto parsed = doc::parse_status(st)) {
          m_wf.status = *parsed;
        } else if (!st.empty()) {
          error_at(v, fmt::format("unknown status `{}` (allowed: {})", st, kStatusList));
        }
      } else if (key == "current_stage") {
        m_current_stage_at = {v.line + m_yaml_line + 1, v.column + 1};
        m_wf.current_stage = scalar(v, key);
      } else if (key == "escalation_required") {
        m_wf.escalation_required = boolean(v, key, false);
      } else if (key == "paused") {
        m_wf.paused = boolean(v, key, false);
      } else if (key == "escalation_reason") {
        m_wf.escalation_reason = scalar(v, key);
      } else if (key == "budget") {
        read_budget(v);
      } else if (key == "notify") {
        read_notify(v);
      } else if (key == "references") {
        read_references(v);
      } else if (key == "deploy") {
        if (v.kind == fm::Value::Kind::map) {
          for (const auto& [k, d] : v.map) {
            if (d.kind == fm::Value::Kind::scalar) m_wf.deploy[k] = d.scalar;
          }
        } else if (v.kind != fm::Value::Kind::null) {
          error_at(v, "`deploy` must be a mapping");
        }
      } else if (key != "stages") {
        warn_if_typo(key, v);  // unknown keys are kept as bytes and ignored otherwise
      }
    }
    if (const fm::Value* stages = root.find("stages")) {
      if (stages->kind == fm::Value::Kind::map) {
        std::vector<doc::Diagnostic> out;
        m_wf.specs = parse_stage_specs(*stages, m_yaml_line + 1, m_path, out);
        for (auto& d : out) (d.severity == doc::Severity::error ? m_fatal : m_notes).push_back(std::move(d));
      } else if (stages->kind != fm::Value::Kind::null) {
        error_at(*stages, "`stages` must be a mapping of stage name -> how it runs");
      }
    }
    if (campaign == nullptr) {
      error(m_yaml_line, 1, "the frontmatter has no `campaign:`");
    } else {
      check_dirname(*campaign);
    }
    return true;
  }

  // WORKFLOW.md allows fields of one's own (docs/workflow-file.md); only one a single
  // edit away from a field cairn reads is worth a word (`escalation_requried: false`
  // would never clear).
  void warn_if_typo(const std::string& key, const fm::Value& v) {
    static constexpr std::string_view kFields[] = {"campaign",
                                                   "project",
                                                   "created",
                                                   "last_tick",
                                                   "status",
                                                   "current_stage",
                                                   "escalation_required",
                                                   "paused",
                                                   "escalation_reason",
                                                   "budget",
                                                   "notify",
                                                   "references",
                                                   "deploy",
                                                   "stages"};
    for (const auto& field : kFields) {
      if (util::edit_distance(key, field) != 1) continue;
      m_notes.push_back({m_path, v.key_line + m_yaml_line + 1, v.key_column + 1, doc::Severity::warning,
                         fmt::format("unknown field `{}` (kept, not read); did you mean `{}`?", key, field)});
      return;
    }
  }

  void check_dirname(const fm::Value& campaign) {
    namespace fs = std::filesystem;
    const fs::path parent = fs::path(m_path).parent_path();
    if (parent.empty() || parent == ".") return;
    const std::string dir = parent.filename().string();
    if (dir.empty() || dir == "." || dir == "..") return;
    if (m_wf.campaign != dir) {
      error_at(campaign, fmt::format("campaign `{}` must equal the directory name `{}`", m_wf.campaign, dir));
    }
  }

  void read_budget(const fm::Value& v) {
    if (v.kind != fm::Value::Kind::map) {
      if (v.kind != fm::Value::Kind::null)
        error_at(v, "`budget` must be a mapping {backend, cap_usd, spent_usd}");
      return;
    }
    for (const auto& [k, x] : v.map) {
      if (k == "backend") m_wf.budget.backend = scalar(x, "budget.backend");
      if (k == "cap_usd") m_wf.budget.cap_usd = number(x, "budget.cap_usd");
      if (k == "spent_usd") m_wf.budget.spent_usd = number(x, "budget.spent_usd");
    }
  }

  void read_notify(const fm::Value& v) {
    if (v.kind != fm::Value::Kind::map) {
      if (v.kind != fm::Value::Kind::null)
        error_at(v, "`notify` must be a mapping {on_advance, on_escalate}");
      return;
    }
    for (const auto& [k, x] : v.map) {
      if (k == "on_advance") m_wf.notify.on_advance = boolean(x, "notify.on_advance", false);
      if (k == "on_escalate") m_wf.notify.on_escalate = boolean(x, "notify.on_escalate", true);
    }
  }

  void read_references(const fm::Value& v) {
    if (v.kind != fm::Value::Kind::seq) {
      if (v.kind != fm::Value::Kind::null) error_at(v, "`references` must be a list of {path, section}");
      return;
    }
    for (const auto& r : v.seq) {
      doc::Reference ref;
      if (r.kind == fm::Value::Kind::scalar) {
        ref.path = r.scalar;
      } else if (r.kind == fm::Value::Kind::map) {
        for (const auto& [k, x] : r.map) {
          if (k == "path") ref.path = scalar(x, "references[].path");
          if (k == "section") ref.section = scalar(x, "references[].section");
        }
      }
      m_wf.references.push_back(std::move(ref));
    }
  }

  Section section(const std::vector<md::Block>& blocks, std::size_t i, std::size_t* end_block) const {
    const md::LineIndex& lines = m_lines;
    Section s;
    s.heading = blocks[i].first_line;
    std::size_t j = i + 1;
    while (j < blocks.size() && !(blocks[j].kind == md::Block::Kind::heading && blocks[j].level <= 2)) ++j;
    *end_block = j;
    s.end = j < blocks.size() ? blocks[j].first_line : lines.count();
    s.last_content = s.heading;
    for (int l = s.end - 1; l > s.heading; --l) {
      if (!util::is_blank(lines.line(m_text, l))) {
        s.last_content = l;
        break;
      }
    }
    return s;
  }

  void read_body(int first_line) {
    const std::vector<md::Block> blocks = md::outline(m_text, m_lines, first_line);
    bool stages_seen = false;
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      const md::Block& b = blocks[i];
      if (b.kind != md::Block::Kind::heading) continue;
      if (b.level == 1 && m_wf.title.empty()) m_wf.title = b.text;
      if (b.level != 2) continue;
      std::size_t end_block = 0;
      const Section s = section(blocks, i, &end_block);
      const std::string name = lower_trimmed(b.text);
      const auto first = blocks.begin() + static_cast<std::ptrdiff_t>(i) + 1;
      const auto last = blocks.begin() + static_cast<std::ptrdiff_t>(end_block);
      if (name == "stages" && !stages_seen) {
        stages_seen = true;
        read_stages(s, first, last);
      } else if (name == "action queue" && !m_spans.actions.present()) {
        m_spans.actions = s;
        read_actions(first, last);
      } else if (name == "failure log" && !m_spans.failures.section.present()) {
        m_spans.failures.section = s;
        for (auto& cells : read_log_table(m_spans.failures, first, last)) {
          cells.resize(6);
          m_wf.failures.push_back({cells[0], cells[1], cells[2], cells[3], cells[4], cells[5]});
        }
      } else if (name == "learnings" && !m_spans.learnings.section.present()) {
        m_spans.learnings.section = s;
        for (auto& cells : read_log_table(m_spans.learnings, first, last)) {
          cells.resize(9);
          m_wf.learnings.push_back(
              {cells[0], cells[1], cells[2], cells[3], cells[4], cells[5], cells[6], cells[7], cells[8]});
        }
      } else if (name == "lessons learned" && !m_spans.lessons.present()) {
        m_spans.lessons = s;
        read_lessons(s, first, last);
      }
    }
    if (!stages_seen) error(first_line + 1, 1, "missing `## Stages` section with the stage table");
  }

  using BlockIt = std::vector<md::Block>::const_iterator;

  static const md::Block* first_of(BlockIt first, BlockIt last, md::Block::Kind kind) {
    for (auto it = first; it != last; ++it) {
      if (it->kind == kind) return &*it;
    }
    return nullptr;
  }

  void read_stages(const Section& s, BlockIt first, BlockIt last) {
    const md::Block* table = first_of(first, last, md::Block::Kind::table);
    if (table == nullptr) {
      error(s.heading + 1, 1, "`## Stages` has no table");
      return;
    }
    const md::LineIndex& lines = m_lines;
    const int header = table->rows[0];
    const auto head = md::split_row(m_text, lines.begin(header), lines.content_end(header));
    std::vector<std::string> missing;
    bool bad_header = false;
    for (std::size_t c = 0; c < 9; ++c) {
      const auto title = doc::column_title(static_cast<doc::Column>(c));
      if (c >= head.size()) {
        missing.emplace_back(title);
        continue;
      }
      const std::string_view raw =
          std::string_view(m_text).substr(head[c].begin, head[c].end - head[c].begin);
      const std::string got = md::cell_value(raw);
      if (lower_trimmed(got) != lower_trimmed(title)) {
        error(
            header + 1, col_of(head[c].begin + md::leading_blanks(raw), header),
            fmt::format(
                "stage table column {} is `{}`, expected `{}` (the columns are # | Name | Entry condition | "
                "Exit condition | Status | JobID | Started | Completed | Retries)",
                c + 1, got, title));
        bad_header = true;
      }
    }
    if (!missing.empty()) {
      error(header + 1, col_of(lines.content_end(header), header),
            fmt::format("stage table is missing column(s) {}", fmt::join(missing, ", ")));
      bad_header = true;
    }
    if (bad_header) return;

    const std::size_t rows = table->rows.size() > 2 ? table->rows.size() - 2 : 0;
    m_wf.stages.reserve(rows);
    m_spans.stage_rows.reserve(rows);
    for (std::size_t r = 2; r < table->rows.size(); ++r) {
      const int line = table->rows[r];
      const auto cells = md::split_row(m_text, lines.begin(line), lines.content_end(line));
      if (cells.size() < 9) {
        error(line + 1, 1, fmt::format("stage row has {} cells, expected 9", cells.size()));
        continue;
      }
      auto raw = [&](std::size_t c) {
        return std::string_view(m_text).substr(cells[c].begin, cells[c].end - cells[c].begin);
      };
      auto col = [&](std::size_t c) { return col_of(cells[c].begin + md::leading_blanks(raw(c)), line); };
      doc::Stage st;
      st.line = line + 1;
      st.number = md::cell_value(raw(0));
      st.name = md::cell_value(raw(1));
      st.entry = md::cell_value(raw(2));
      st.exit = md::cell_value(raw(3));
      const std::string status = md::cell_value(raw(4));
      if (auto v = doc::parse_status(status)) {
        st.status = *v;
      } else {
        error(line + 1, col(4), fmt::format("unknown Status `{}` (allowed: {})", status, kStatusList));
      }
      st.job_id = md::cell_value(raw(5));
      st.started = md::cell_value(raw(6));
      st.completed = md::cell_value(raw(7));
      const std::string retries = md::cell_value(raw(8));
      if (!retries.empty()) {
        const auto [ptr, ec] = std::from_chars(retries.data(), retries.data() + retries.size(), st.retries);
        if (ec != std::errc() || ptr != retries.data() + retries.size() || st.retries < 0) {
          error(line + 1, col(8), fmt::format("Retries `{}` is not a count", retries));
        }
      }
      // A table holds a handful of stages: a scan of the rows read so far finds repeats.
      if (st.name.empty()) {
        error(line + 1, col(1), "stage row has no Name");
      } else if (const doc::Stage* other = m_wf.stage(st.name)) {
        error(line + 1, col(1),
              fmt::format("duplicate stage name `{}` (also on line {})", st.name, other->line));
      }
      if (!st.number.empty()) {
        const auto other = std::find_if(m_wf.stages.begin(), m_wf.stages.end(),
                                        [&](const doc::Stage& o) { return o.number == st.number; });
        if (other != m_wf.stages.end()) {
          error(line + 1, col(0),
                fmt::format("duplicate stage number `{}` (also on line {})", st.number, other->line));
        }
      }
      st.entry_condition = parse_condition(st.entry, col(2));
      st.exit_condition = parse_condition(st.exit, col(3));
      report_uncheckable(st.entry_condition, "entry", line);
      report_uncheckable(st.exit_condition, "exit", line);
      m_wf.stages.push_back(std::move(st));
      m_spans.stage_rows.push_back(line);
    }
  }

  void report_uncheckable(const doc::Condition& c, std::string_view which, int line) {
    for (const auto& u : c.uncheckable) {
      std::string msg = fmt::format("{} condition not machine checkable: `{}`", which, u.text);
      if (!u.suggestion.empty()) msg += fmt::format(" ({})", u.suggestion);
      // A warning: the file is valid (hand-written campaign files often hold prose conditions);
      // a tick escalates instead of guessing when it reaches the clause.
      m_notes.push_back({m_path, line + 1, u.column, doc::Severity::warning, std::move(msg)});
    }
  }

  void read_actions(BlockIt first, BlockIt last) {
    const md::LineIndex& lines = m_lines;
    for (auto it = first; it != last; ++it) {
      if (it->kind != md::Block::Kind::list) continue;
      for (const auto& [a, b] : it->items) {
        const std::string_view head_line = lines.line(m_text, a);
        const ItemHead h = item_head(head_line);
        doc::ActionItem item;
        item.checked = h.checked;
        item.line = a + 1;
        item.text = std::string(head_line.substr(h.text));
        for (int l = a + 1; l <= b; ++l) {
          const std::string_view cont = lines.line(m_text, l);
          item.text += ' ';
          item.text += cont.substr(md::leading_blanks(cont));
        }
        m_spans.action_items.push_back({a, b, lines.begin(a) + h.bullet_end});
        m_spans.action_last_line = b;
        m_spans.action_bullet = bullet_of(head_line, h);
        m_wf.actions.push_back(std::move(item));
      }
    }
  }

  static std::string bullet_of(std::string_view line, const ItemHead& h) {
    const std::size_t b = md::leading_blanks(line);
    if (b < line.size() && (line[b] == '-' || line[b] == '*' || line[b] == '+')) {
      return std::string(line.substr(0, h.bullet_end));
    }
    return "- ";
  }

  // The first table of a log section: its spans into `t`, its data rows as cell values.
  std::vector<std::vector<std::string>> read_log_table(detail::LogTable& t, BlockIt first, BlockIt last) {
    std::vector<std::vector<std::string>> rows;
    const md::Block* table = first_of(first, last, md::Block::Kind::table);
    if (table == nullptr) return rows;
    const md::LineIndex& lines = m_lines;
    const std::string_view text = m_text;
    const int header = table->rows[0];
    t.header = header;
    for (const auto& c : md::split_row(text, lines.begin(header), lines.content_end(header))) {
      t.widths.push_back(md::display_width(text.substr(c.begin, c.end - c.begin)));
    }
    t.last_row = table->rows.back();
    for (std::size_t r = 2; r < table->rows.size(); ++r) {
      const int line = table->rows[r];
      std::vector<std::string> values;
      for (const auto& c : md::split_row(text, lines.begin(line), lines.content_end(line))) {
        values.push_back(md::cell_value(text.substr(c.begin, c.end - c.begin)));
      }
      t.rows.push_back(line);
      rows.push_back(std::move(values));
    }
    return rows;
  }

  void read_lessons(const Section& s, BlockIt first, BlockIt last) {
    const md::LineIndex& lines = m_lines;
    int b = s.heading + 1;
    while (b <= s.last_content && util::is_blank(lines.line(m_text, b))) ++b;
    if (b <= s.last_content) {
      m_wf.lessons = m_text.substr(lines.begin(b), lines.content_end(s.last_content) - lines.begin(b));
    }
    for (int l = s.heading + 1; l <= s.last_content; ++l) {
      if (lower_trimmed(lines.line(m_text, l)) == "(none yet)") {
        m_spans.lessons_placeholder = l;
        break;
      }
    }
    for (auto it = first; it != last; ++it) {
      if (it->kind != md::Block::Kind::list || it->items.empty()) continue;
      m_spans.lessons_last_line = it->items.back().second;
      const std::string_view head_line = lines.line(m_text, it->items.back().first);
      m_spans.lessons_bullet = bullet_of(head_line, item_head(head_line));
    }
  }

  void check_specs() {
    for (const auto& spec : m_wf.specs) {
      if (m_wf.stage(spec.name) != nullptr || m_wf.stages.empty()) continue;
      int col = 1;
      if (spec.line >= 1 && spec.line <= m_lines.count()) {
        col = static_cast<int>(md::leading_blanks(m_lines.line(m_text, spec.line - 1))) + 1;
      }
      error(spec.line, col,
            fmt::format("stages.{} names no row of the `## Stages` table{}", spec.name,
                        util::did_you_mean(spec.name, stage_names())));
    }
  }

  std::vector<std::string> stage_names() const {
    std::vector<std::string> names;
    for (const auto& st : m_wf.stages) names.push_back(st.name);
    return names;
  }

  // Names a tick looks up in the stage table: `current_stage` and `stage NAME done`.
  // Errors (validate fails) that leave the file readable: the tick goes by the table.
  void check_stage_names() {
    if (m_wf.stages.empty()) return;
    const std::vector<std::string> names = stage_names();
    if (!m_wf.current_stage.empty() && m_wf.stage(m_wf.current_stage) == nullptr &&
        m_current_stage_at.first > 0) {
      m_notes.push_back({m_path, m_current_stage_at.first, m_current_stage_at.second, doc::Severity::error,
                         fmt::format("current_stage `{}` names no row of the `## Stages` table{}",
                                     m_wf.current_stage, util::did_you_mean(m_wf.current_stage, names))});
    }
    for (const auto& st : m_wf.stages) {
      for (const doc::Condition* c : {&st.entry_condition, &st.exit_condition}) {
        for (const auto& clause : c->clauses) {
          if (clause.kind != doc::Clause::Kind::stage_done) continue;
          const bool found = std::any_of(m_wf.stages.begin(), m_wf.stages.end(), [&](const doc::Stage& o) {
            return o.number == clause.operand || o.name == clause.operand;
          });
          if (found) continue;
          m_notes.push_back({m_path, st.line, clause.column, doc::Severity::error,
                             fmt::format("`{}`: no stage `{}` in the `## Stages` table{}", clause.text,
                                         clause.operand, util::did_you_mean(clause.operand, names))});
        }
      }
    }
  }

  // `status` is what a tick reads to decide whether the campaign is due (peek_schedule);
  // say so when a hand edit left it behind the table.
  void check_upkeep() {
    if (m_status_at.first == 0 || m_wf.stages.empty()) return;
    const doc::Stage* open = m_wf.first_open_stage();
    doc::Status derived = open == nullptr ? doc::Status::done : open->status;
    if (m_wf.escalation_required) derived = doc::Status::escalated;
    // Only a `status` that would make a tick wait longer than the table allows matters:
    // work waiting (ready, failed) or a running job the frontmatter calls idle.
    const bool waiting = derived == doc::Status::ready || derived == doc::Status::failed;
    const bool says_due = m_wf.status == doc::Status::ready || m_wf.status == doc::Status::failed;
    if (derived == m_wf.status || says_due || !(waiting || derived == doc::Status::running)) return;
    m_notes.push_back(
        {m_path, m_status_at.first, m_status_at.second, doc::Severity::warning,
         fmt::format("`status: {}` but the stage table says `{}`{}; ticks read `status` to decide when "
                     "the campaign is due (write `status: {}`)",
                     doc::to_string(m_wf.status), doc::to_string(derived),
                     open != nullptr ? fmt::format(" (stage {})", open->name) : std::string(),
                     doc::to_string(derived))});
  }

  std::pair<int, int> m_status_at{0, 0};
  std::pair<int, int> m_current_stage_at{0, 0};
  const std::string& m_path;
  const std::string& m_text;
  doc::Workflow& m_wf;
  FileSpans& m_spans;
  md::LineIndex m_lines;
  std::vector<doc::Diagnostic>& m_fatal;
  std::vector<doc::Diagnostic>& m_notes;
  int m_yaml_line = 1;  // 0-based file line of the first YAML line
};

}  // namespace

Expected<WorkflowFile, std::vector<doc::Diagnostic>> WorkflowFile::parse(std::string path, std::string text) {
  WorkflowFile f;
  f.m_path = std::move(path);
  f.m_text = std::move(text);
  auto spans = std::make_shared<Spans>();
  std::vector<doc::Diagnostic> fatal;
  Builder(f.m_path, f.m_text, f.m_workflow, *spans, fatal, f.m_diagnostics).run();
  if (!fatal.empty()) {
    fatal.insert(fatal.end(), f.m_diagnostics.begin(), f.m_diagnostics.end());
    std::stable_sort(fatal.begin(), fatal.end(),
                     [](const doc::Diagnostic& a, const doc::Diagnostic& b) { return a.line < b.line; });
    return fatal;
  }
  // Thousands of parsed files can be held at once (a tick over every campaign): give
  // back what string and vector growth over-allocated (an edit's text, for one).
  f.m_text.shrink_to_fit();
  f.m_workflow.stages.shrink_to_fit();
  f.m_workflow.specs.shrink_to_fit();
  f.m_workflow.actions.shrink_to_fit();
  f.m_workflow.failures.shrink_to_fit();
  f.m_workflow.learnings.shrink_to_fit();
  spans->stage_rows.shrink_to_fit();
  spans->action_items.shrink_to_fit();
  f.m_spans = std::move(spans);
  return f;
}

std::pair<int, int> WorkflowFile::position(std::size_t offset) const {
  const md::LineIndex lines(m_text);
  const int l = lines.line_of(offset);
  return {l + 1, static_cast<int>(offset - lines.begin(l)) + 1};
}

Expected<void> WorkflowFile::replace(std::size_t begin, std::size_t end, std::string_view bytes) {
  std::string candidate = m_text;
  candidate.replace(begin, end - begin, bytes);
  auto reparsed = parse(m_path, std::move(candidate));
  if (!reparsed) {
    const auto& ds = reparsed.error();
    return fail(fmt::format("edit refused, it would make {} invalid: {}", m_path,
                            ds.empty() ? std::string("unknown error") : doc::format(ds.front())));
  }
  *this = std::move(*reparsed);
  return {};
}

namespace {

// What Replacement::creates names: an edit that adds a structure other edits append to.
enum Creates : int { kNothing = 0, kFailureTable, kLearnings, kActionList, kLessonList, kFrontmatterKey };

}  // namespace

Expected<WorkflowFile::Planned> WorkflowFile::plan_block(int after,
                                                         const std::vector<std::string>& block) const {
  const md::LineIndex lines(m_text);
  const std::string_view eol = lines.crlf() ? "\r\n" : "\n";
  std::string bytes(eol);
  for (const auto& l : block) {
    bytes += eol;
    bytes += l;
  }
  if (after + 1 < lines.count() && !util::is_blank(lines.line(m_text, after + 1))) bytes += eol;
  const std::size_t at = lines.content_end(after);
  return Planned(Replacement{at, at, std::move(bytes)});
}

Expected<WorkflowFile::Planned> WorkflowFile::plan_cell(std::string_view stage, doc::Column column,
                                                        std::string_view value) const {
  if (value.find_first_of("|\r\n") != std::string_view::npos) {
    return fail(fmt::format("{}: cell value `{}` holds `|` or a line break", m_path, value));
  }
  std::size_t index = m_workflow.stages.size();
  for (std::size_t i = 0; i < m_workflow.stages.size(); ++i) {
    if (m_workflow.stages[i].name == stage) index = i;
  }
  if (index == m_workflow.stages.size()) return fail(fmt::format("{}: no stage `{}`", m_path, stage));
  const md::LineIndex lines(m_text);
  const int line = m_spans->stage_rows[index];
  const auto cells = md::split_row(m_text, lines.begin(line), lines.content_end(line));
  return plan_replace_cell(cells[static_cast<std::size_t>(column)], value);
}

Expected<WorkflowFile::Planned> WorkflowFile::plan_replace_cell(const md::CellSpan& cell,
                                                                std::string_view value) const {
  if (value.find_first_of("\r\n") != std::string_view::npos) {
    return fail(fmt::format("{}: cell value `{}` holds a line break", m_path, value));
  }
  const std::string_view old = std::string_view(m_text).substr(cell.begin, cell.end - cell.begin);
  const std::string shown = value.empty() ? std::string("—") : md::escape_cell(value);
  std::size_t lead = md::leading_blanks(old);
  std::size_t trail = 0;
  if (lead == old.size()) {
    lead = std::min<std::size_t>(old.size(), 1);
    trail = old.size() >= 2 ? 1 : 0;
  } else {
    trail = (old.back() == ' ' || old.back() == '\t') ? 1 : 0;
  }
  if (shown.back() == '\\') trail = 1;  // else it would escape the closing pipe
  std::string cell_bytes = padded_cell(shown, md::display_width(old), lead, trail);
  if (cell_bytes == old) return Planned();
  return Planned(Replacement{cell.begin, cell.end, std::move(cell_bytes)});
}

Expected<WorkflowFile::Frontmatter> WorkflowFile::frontmatter() const {
  const md::LineIndex lines(m_text);
  int fence = 0;
  auto bounds = fm::locate(m_text, lines, &fence);
  if (!bounds) return fail(fmt::format("{}: {}", m_path, bounds.error().message));
  return Frontmatter{bounds->yaml_begin, bounds->yaml_end,
                     m_text.substr(bounds->yaml_begin, bounds->yaml_end - bounds->yaml_begin), lines.crlf()};
}

Expected<WorkflowFile::Planned> WorkflowFile::plan_scalar(std::string_view dotted_key,
                                                          std::string_view value) const {
  const Frontmatter bounds = CAIRN_TRY(frontmatter());
  const std::string& yaml = bounds.yaml;
  auto span = fm::locate_scalar(yaml, dotted_key);
  if (!span) return fail(fmt::format("{}: {}", m_path, span.error().message));
  std::string bytes = fm::render_scalar(value, *span);
  if (span->insert) bytes.insert(0, " ");
  if (!span->insert && yaml.compare(span->begin, span->end - span->begin, bytes) == 0) return Planned();
  std::string edited = yaml;
  edited.replace(span->begin, span->end - span->begin, bytes);
  // An edit must read back as exactly the value written (guards against plain
  // scalars that continue on the next line and similar surprises).
  const auto back = fm::read_scalar(edited, dotted_key);
  if (!back || *back != value) {
    return fail(fmt::format("{}: cannot set `{}` to `{}` in place", m_path, dotted_key, value));
  }
  return Planned(
      Replacement{bounds.yaml_begin + span->begin, bounds.yaml_begin + span->end, std::move(bytes)});
}

Expected<WorkflowFile::Planned> WorkflowFile::plan_optional_scalar(std::string_view key,
                                                                   std::string_view value) const {
  const Frontmatter bounds = CAIRN_TRY(frontmatter());
  if (key.find('.') != std::string_view::npos || !fm::lacks_top_level_key(bounds.yaml, key))
    return plan_scalar(key, value);
  // Absent: a new last line of the frontmatter.
  std::string line = fmt::format("{}: {}{}", key, fm::render_scalar(value, {}), bounds.crlf ? "\r\n" : "\n");
  const auto back = fm::read_scalar(bounds.yaml + line, key);
  if (!back || *back != value)
    return fail(fmt::format("{}: cannot add `{}: {}` to the frontmatter", m_path, key, value));
  return Planned(Replacement{bounds.yaml_end, bounds.yaml_end, std::move(line), kFrontmatterKey});
}

Expected<WorkflowFile::Planned> WorkflowFile::plan_failure(const doc::FailureRow& row) const {
  if (!m_spans->failures.section.present())
    return fail(fmt::format("{}: no `## Failure log` section", m_path));
  return plan_log_row(m_spans->failures,
                      {row.date, row.stage, row.error_class, row.message, row.action, row.result},
                      {"Date", "Stage", "Error class", "Error msg", "Action taken", "Result"});
}

Expected<WorkflowFile::Planned> WorkflowFile::plan_failure_result(std::size_t row,
                                                                  std::string_view result) const {
  if (row >= m_spans->failures.rows.size())
    return fail(fmt::format("{}: no failure-log row {}", m_path, row + 1));
  const md::LineIndex lines(m_text);
  const int line = m_spans->failures.rows[row];
  const auto cells = md::split_row(m_text, lines.begin(line), lines.content_end(line));
  if (cells.size() < 6)
    return fail(fmt::format("{}:{}: failure-log row has no Result cell", m_path, line + 1));
  return plan_replace_cell(cells[5], result);
}

Expected<WorkflowFile::Planned> WorkflowFile::plan_learning(const doc::LearningRow& row) const {
  std::vector<std::string> values = {row.date,      row.stage,      row.backend,
                                     row.pool,      row.queue_wait, row.run_time,
                                     row.resources, row.job,        row.pool_failures};
  const std::vector<std::string> header = {"Date",         "Stage",    "Backend",   "Pool / partition",
                                           "Queue wait",   "Run time", "Resources", "Job",
                                           "Pool failures"};
  const detail::LogTable& table = m_spans->learnings;
  if (table.section.present()) {
    // A table from before the Pool failures column: it gets the column when a row has
    // something to put there, else stays as it is.
    if (table.last_row >= 0 && table.widths.size() == header.size() - 1) {
      if (row.pool_failures.empty()) {
        values.pop_back();
      } else {
        return plan_widened_learning(values, header.back());
      }
    }
    auto p = plan_log_row(table, values, header);
    if (p && *p && (*p)->creates != kNothing) (*p)->creates = kLearnings;
    return p;
  }
  // No section yet: add one after Lessons learned (else at the end of the file).
  const int after =
      m_spans->lessons.present() ? m_spans->lessons.last_content : md::LineIndex(m_text).count() - 1;
  std::vector<std::string> block = {"## Learnings", ""};
  for (auto& l : new_table(header, values)) block.push_back(std::move(l));
  auto p = plan_block(after, block);
  if (p && *p) (*p)->creates = kLearnings;
  return p;
}

Expected<WorkflowFile::Planned> WorkflowFile::plan_widened_learning(const std::vector<std::string>& values,
                                                                    const std::string& title) const {
  const detail::LogTable& table = m_spans->learnings;
  const md::LineIndex lines(m_text);
  const std::string_view text = m_text;
  const int header = table.header;
  const int rule = header + 1;
  // `| ... |` gets one more cell (the rule's as its dashes are written: `---|`); a
  // table written without outer pipes one more `| x`.
  auto widen = [&](int line, const std::string& cell, bool is_rule) {
    std::string out(lines.line(text, line));
    if (out.empty() || out.back() != '|') return out + " | " + cell;
    return out + (is_rule ? "-" + cell + "-|" : " " + cell + " |");
  };
  std::vector<std::size_t> widths = table.widths;
  widths.push_back(md::display_width(title) + 2);
  std::string bytes = widen(header, title, false);
  bytes += text.substr(lines.content_end(header), lines.begin(rule) - lines.content_end(header));
  bytes += widen(rule, std::string(md::display_width(title), '-'), true);
  bytes += text.substr(lines.content_end(rule), lines.content_end(table.last_row) - lines.content_end(rule));
  bytes += std::string(lines.crlf() ? "\r\n" : "\n") + table_line(values, widths);
  // Marked as creating the table: a second row in the same batch is written after this one.
  return Planned(
      Replacement{lines.begin(header), lines.content_end(table.last_row), std::move(bytes), kLearnings});
}

Expected<WorkflowFile::Planned> WorkflowFile::plan_log_row(const detail::LogTable& table,
                                                           const std::vector<std::string>& values,
                                                           const std::vector<std::string>& header) const {
  const md::LineIndex lines(m_text);
  if (table.last_row < 0) {
    auto p = plan_block(table.section.last_content, new_table(header, values));
    if (p && *p) (*p)->creates = kFailureTable;
    return p;
  }
  std::vector<std::size_t> widths = table.widths;
  widths.resize(std::max(widths.size(), values.size()), 0);
  const std::size_t at = lines.content_end(table.last_row);
  return Planned(Replacement{at, at, std::string(lines.crlf() ? "\r\n" : "\n") + table_line(values, widths)});
}

Expected<WorkflowFile::Planned> WorkflowFile::plan_action(std::string_view prefix, std::string_view text,
                                                          bool checked) const {
  if (!m_spans->actions.present()) return fail(fmt::format("{}: no `## Action queue` section", m_path));
  const md::LineIndex lines(m_text);
  std::string item = std::string(checked ? "[x] " : "[ ] ") + util::one_line(text);
  for (std::size_t i = 0; i < m_workflow.actions.size(); ++i) {
    if (m_workflow.actions[i].text.compare(0, prefix.size(), prefix) != 0) continue;
    const auto& span = m_spans->action_items[i];
    const std::size_t end = lines.content_end(span.last);
    if (std::string_view(m_text).substr(span.text_begin, end - span.text_begin) == item) return Planned();
    return Planned(Replacement{span.text_begin, end, std::move(item)});
  }
  if (m_spans->action_last_line >= 0) {
    const std::size_t at = lines.content_end(m_spans->action_last_line);
    return Planned(
        Replacement{at, at, std::string(lines.crlf() ? "\r\n" : "\n") + m_spans->action_bullet + item});
  }
  auto p = plan_block(m_spans->actions.last_content, {"- " + item});
  if (p && *p) (*p)->creates = kActionList;
  return p;
}

Expected<WorkflowFile::Planned> WorkflowFile::plan_lesson(std::string_view text) const {
  if (!m_spans->lessons.present()) return fail(fmt::format("{}: no `## Lessons learned` section", m_path));
  const md::LineIndex lines(m_text);
  const std::string bullet_text = util::one_line(text);
  if (m_spans->lessons_placeholder >= 0) {
    const int l = m_spans->lessons_placeholder;
    const std::size_t b = lines.begin(l) + md::leading_blanks(lines.line(m_text, l));
    return Planned(Replacement{b, lines.content_end(l), "- " + bullet_text, kLessonList});
  }
  if (m_spans->lessons_last_line >= 0) {
    const std::size_t at = lines.content_end(m_spans->lessons_last_line);
    return Planned(Replacement{
        at, at, std::string(lines.crlf() ? "\r\n" : "\n") + m_spans->lessons_bullet + bullet_text});
  }
  auto p = plan_block(m_spans->lessons.last_content, {"- " + bullet_text});
  if (p && *p) (*p)->creates = kLessonList;
  return p;
}

Expected<void> WorkflowFile::apply_planned(Expected<Planned> planned) {
  if (!planned) return std::move(planned.error());
  if (!*planned) return {};
  const Replacement& r = **planned;
  return replace(r.begin, r.end, r.bytes);
}

Expected<void> WorkflowFile::set_cell(std::string_view stage, doc::Column column, std::string_view value) {
  return apply_planned(plan_cell(stage, column, value));
}
Expected<void> WorkflowFile::set_scalar(std::string_view dotted_key, std::string_view value) {
  return apply_planned(plan_scalar(dotted_key, value));
}
Expected<void> WorkflowFile::set_optional_scalar(std::string_view key, std::string_view value) {
  return apply_planned(plan_optional_scalar(key, value));
}
Expected<void> WorkflowFile::append_failure(const doc::FailureRow& row) {
  return apply_planned(plan_failure(row));
}
Expected<void> WorkflowFile::set_failure_result(std::size_t row, std::string_view result) {
  return apply_planned(plan_failure_result(row, result));
}
Expected<void> WorkflowFile::append_learning(const doc::LearningRow& row) {
  return apply_planned(plan_learning(row));
}
Expected<void> WorkflowFile::upsert_action(std::string_view prefix, std::string_view text, bool checked) {
  return apply_planned(plan_action(prefix, text, checked));
}
Expected<void> WorkflowFile::append_lesson(std::string_view text) {
  return apply_planned(plan_lesson(text));
}

Expected<void> WorkflowFile::apply_each(const std::vector<Edit>& edits) {
  for (const Edit& e : edits) {
    Expected<void> r = std::visit(
        [&](const auto& x) -> Expected<void> {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, edit::Scalar>) {
            auto done = x.optional_key ? set_optional_scalar(x.key, x.value) : set_scalar(x.key, x.value);
            if (!done && x.best_effort) return {};
            return done;
          } else if constexpr (std::is_same_v<T, edit::Cell>) {
            return set_cell(x.stage, x.column, x.value);
          } else if constexpr (std::is_same_v<T, edit::Failure>) {
            return append_failure(x.row);
          } else if constexpr (std::is_same_v<T, edit::FailureResult>) {
            return set_failure_result(x.row, x.result);
          } else if constexpr (std::is_same_v<T, edit::Learning>) {
            return append_learning(x.row);
          } else if constexpr (std::is_same_v<T, edit::Action>) {
            return upsert_action(x.prefix, x.text, x.checked);
          } else {
            return append_lesson(x.text);
          }
        },
        e);
    CAIRN_TRY(r);
  }
  return {};
}

Expected<void> WorkflowFile::apply(const std::vector<Edit>& edits) {
  if (edits.empty()) return {};
  if (edits.size() == 1) return apply_each(edits);
  struct Placed {
    Replacement r;
    std::size_t seq = 0;
  };
  std::vector<Placed> placed;
  placed.reserve(edits.size());
  // What the batch appends that a later edit of the same kind would see one by one.
  bool created[kFrontmatterKey + 1] = {};
  bool lessons_touched = false;
  std::vector<std::string> appended_actions;  // item texts, in order
  // A cell, scalar or row edited twice: the second edit would see the first one's bytes
  // (its padding, its quoting), even when it writes back what the file had.
  std::vector<std::string> targets;
  auto twice = [&](std::string target) {
    if (std::find(targets.begin(), targets.end(), target) != targets.end()) return true;
    targets.push_back(std::move(target));
    return false;
  };
  bool one_by_one = false;
  for (std::size_t i = 0; i < edits.size() && !one_by_one; ++i) {
    const Edit& e = edits[i];
    Expected<Planned> p = Planned();
    if (const auto* sc = std::get_if<edit::Scalar>(&e)) {
      if (twice("s" + sc->key)) {
        one_by_one = true;
        break;
      }
      p = sc->optional_key ? plan_optional_scalar(sc->key, sc->value) : plan_scalar(sc->key, sc->value);
      if (!p && sc->best_effort) continue;
    } else if (const auto* ce = std::get_if<edit::Cell>(&e)) {
      if (ce->column == doc::Column::name ||
          twice(fmt::format("c{}\n{}", static_cast<int>(ce->column), ce->stage))) {
        one_by_one = true;
      }
      p = plan_cell(ce->stage, ce->column, ce->value);
    } else if (const auto* fa = std::get_if<edit::Failure>(&e)) {
      if (created[kFailureTable]) one_by_one = true;
      p = plan_failure(fa->row);
    } else if (const auto* fr = std::get_if<edit::FailureResult>(&e)) {
      // A row the batch appended has no index in the file as it was.
      if (fr->row >= m_spans->failures.rows.size() || twice(fmt::format("r{}", fr->row))) one_by_one = true;
      p = plan_failure_result(fr->row, fr->result);
    } else if (const auto* le = std::get_if<edit::Learning>(&e)) {
      if (created[kLearnings]) one_by_one = true;
      p = plan_learning(le->row);
    } else if (const auto* ac = std::get_if<edit::Action>(&e)) {
      if (created[kActionList]) one_by_one = true;
      for (const auto& t : appended_actions) {
        if (t.compare(0, ac->prefix.size(), ac->prefix) == 0) one_by_one = true;
      }
      std::size_t item = 0;
      while (item < m_workflow.actions.size() &&
             m_workflow.actions[item].text.compare(0, ac->prefix.size(), ac->prefix) != 0) {
        ++item;
      }
      if (item < m_workflow.actions.size()) {
        if (twice(fmt::format("a{}", item))) one_by_one = true;
      } else {
        appended_actions.push_back(util::one_line(ac->text));
      }
      p = plan_action(ac->prefix, ac->text, ac->checked);
    } else if (const auto* ls = std::get_if<edit::Lesson>(&e)) {
      // The first lesson may replace the placeholder or create the list; the next one
      // would append to what it wrote.
      if (lessons_touched && (created[kLessonList] || m_spans->lessons_placeholder >= 0)) one_by_one = true;
      lessons_touched = true;
      p = plan_lesson(ls->text);
    }
    if (one_by_one) break;
    if (!p) return std::move(p.error());
    if (!*p) continue;
    created[(*p)->creates] = true;
    placed.push_back({std::move(**p), i});
  }
  if (!one_by_one) {
    std::stable_sort(placed.begin(), placed.end(),
                     [](const Placed& a, const Placed& b) { return a.r.begin < b.r.begin; });
    for (std::size_t k = 1; k < placed.size() && !one_by_one; ++k) {
      const Replacement& a = placed[k - 1].r;
      const Replacement& b = placed[k].r;
      // Overlapping spans, or an insertion at the start of a rewritten span: the one-by-one
      // edits would see each other's bytes.
      if (b.begin < a.end || (b.begin == a.begin && (a.end > a.begin || b.end > b.begin))) one_by_one = true;
    }
  }
  if (!one_by_one) {
    if (placed.empty()) return {};
    std::size_t size = m_text.size();
    for (const auto& p : placed) size += p.r.bytes.size() - (p.r.end - p.r.begin);
    std::string out;
    out.reserve(size);
    std::size_t at = 0;
    for (const auto& p : placed) {
      out.append(m_text, at, p.r.begin - at);
      out += p.r.bytes;
      at = p.r.end;
    }
    out.append(m_text, at, std::string::npos);
    auto reparsed = parse(m_path, std::move(out));
    if (reparsed) {
      *this = std::move(*reparsed);
      return {};
    }
    // The one-by-one edits report which edit broke the file (and best-effort ones skip it).
  }
  return apply_each(edits);
}

std::optional<Schedule> peek_schedule(std::string_view text) {
  auto first_line_end = [&](std::size_t from) { return text.find('\n', from); };
  std::size_t eol = first_line_end(0);
  if (eol == std::string_view::npos) return std::nullopt;
  std::string_view open = text.substr(0, eol);
  if (!open.empty() && open.back() == '\r') open.remove_suffix(1);
  if (open != "---") return std::nullopt;
  const std::size_t yaml_begin = eol + 1;
  std::size_t close = yaml_begin;
  for (;;) {
    const std::size_t e = first_line_end(close);
    if (e == std::string_view::npos) return std::nullopt;
    std::string_view l = text.substr(close, e - close);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l == "---") break;
    close = e + 1;
  }
  const auto root = fm::read_simple(text.substr(yaml_begin, close - yaml_begin));
  if (!root) return std::nullopt;
  auto scalar = [](const fm::Value* v) -> std::optional<std::string> {
    if (v == nullptr || v->kind == fm::Value::Kind::null) return std::string();
    if (v->kind != fm::Value::Kind::scalar) return std::nullopt;
    return v->scalar;
  };
  Schedule s;
  const auto campaign = scalar(root->find("campaign"));
  const auto status = scalar(root->find("status"));
  const auto last_tick = scalar(root->find("last_tick"));
  const auto escalation = scalar(root->find("escalation_required"));
  const auto current = scalar(root->find("current_stage"));
  if (!campaign || !status || !last_tick || !escalation || !current) return std::nullopt;
  const auto parsed_status = doc::parse_status(*status);
  if (!parsed_status) return std::nullopt;
  s.campaign = *campaign;
  s.status = *parsed_status;
  s.last_tick = *last_tick;
  s.current_stage = *current;
  if (!escalation->empty()) {
    const auto b = fm::to_bool(*escalation);
    if (!b) return std::nullopt;
    s.escalation_required = *b;
  }
  const fm::Value* stages = root->find("stages");
  const fm::Value* spec = stages != nullptr ? stages->find(*current) : nullptr;
  if (spec != nullptr) {
    if (auto expect = scalar(spec->find("expect")); expect && !expect->empty()) {
      if (auto d = parse_duration(*expect)) s.expect_seconds = *d;
    }
    const fm::Value* res = spec->find("resources");
    if (!s.expect_seconds && res != nullptr) {
      if (auto t = scalar(res->find("time")); t && !t->empty()) {
        if (auto w = parse_walltime(*t)) s.expect_seconds = *w;
      }
    }
  }
  return s;
}

}  // namespace cairn::parse
