#!/usr/bin/env bash
# `cairn report` on a real repository ticked on the local backend: the Markdown parses
# with cmark-gfm (a GFM table, one Mermaid block per campaign), each block names every
# stage and has one bar per stage attempt the commit trailers record (the failed one
# `crit`); --out writes the file; --html is one self-contained page.
source "$(dirname "$0")/lib.sh"
command -v cmark-gfm >/dev/null || { echo "SKIP: cmark-gfm is not installed (ci/deps.sh installs it)"; exit 77; }

R=$T/repo
dashboard_demo "$R"

expect_rc 0 "cairn report prints the dashboard" "$CAIRN" report
cp "$T/out" "$T/report.md"
expect_grep "a heading and the counts per status" '^3 campaigns: 2 done, 1 escalated' "$T/report.md"

# The Markdown as GitHub's own parser reads it.
cmark-gfm -e table "$T/report.md" > "$T/report.html"
rows=$(grep -c '^<tr>' "$T/report.html" || true)
[ "$rows" -eq 4 ] && ok "cmark-gfm reads a table of 3 campaigns (+ header)" || bad "table rows: $rows, wanted 4"
expect_grep "the escalated campaign's row says why" '<td>c-stuck</td>[[:space:]]*<td>escalated</td>' \
  <(tr -d '\n' < "$T/report.html" | sed 's/<tr>/\n<tr>/g')
blocks=$(grep -c '<pre><code class="language-mermaid">gantt' "$T/report.html" || true)
[ "$blocks" -eq 3 ] && ok "one Mermaid gantt block per campaign" || bad "mermaid blocks: $blocks, wanted 3"

# Each campaign's block against its history: one bar per `ready -> running` commit.
for c in c-retry c-done c-stuck; do
  awk -v c="$c" '$0 == "### " c {on=1; next} on && /^```$/ {exit} on' "$T/report.md" > "$T/$c.mmd"
  stages=$(sed -n '/^## Stages/,/^## /p' "campaigns/$c/WORKFLOW.md" | awk -F'|' 'NR>4 && NF>3 {gsub(/ /,"",$3); print $3}')
  missing=""
  for s in $stages; do grep -q "^    section $s\$" "$T/$c.mmd" || missing="$missing $s"; done
  [ -z "$missing" ] && ok "$c: the timeline names every stage ($(echo $stages))" || bad "$c: no section for$missing"
  submits=$(git log --format='%(trailers:key=Cairn-Campaign,valueonly)|%(trailers:key=Cairn-Transition,valueonly)' |
    tr -d '\n' | grep -o "$c|ready -> running" | wc -l || true)
  bars=$(grep -c '^    attempt ' "$T/$c.mmd" || true)
  [ "$bars" -eq "$submits" ] && [ "$bars" -gt 0 ] && ok "$c: $bars bar(s), one per submit in the history" ||
    bad "$c: $bars bars, $submits submits"
done
expect_grep "c-retry's failed first attempt is marked crit" '^    attempt 1 failed walltime-exceeded :crit, ' "$T/c-retry.mmd"
expect_grep "its retry is done" '^    attempt 2 done :done, ' "$T/c-retry.mmd"
expect_grep "c-stuck's only attempt is crit" '^    attempt 1 failed unclassified :crit, ' "$T/c-stuck.mmd"

expect_rc 0 "--out writes the file" "$CAIRN" report --out "$T/dash.md"
expect_grep "and says where" "wrote $T/dash.md \(3 campaigns\)" "$T/out"
cmp -s <(grep -v 'generated at' "$T/dash.md" | sed 's/ ([0-9a-z]* ago)//') <(grep -v 'generated at' "$T/report.md" | sed 's/ ([0-9a-z]* ago)//') &&
  ok "the file holds the same report" || bad "--out differs from stdout"

expect_rc 0 "--html writes a page" "$CAIRN" report --html --out "$T/dash.html"
expect_grep "the page has the table" '<th>Campaign</th>' "$T/dash.html"
if grep -q -E '<script[^>]+src=|<link[^>]+href=|https?://cdn' "$T/dash.html"; then
  bad "the page loads something from elsewhere"
else
  ok "the page loads nothing from elsewhere (no script src, no stylesheet link)"
fi
if grep -q 'cairn-no-mermaid' "$T/dash.html"; then
  echo "NOTE: this cairn was built without Mermaid: the page shows the timelines as source"
  expect_grep "--html says so on stderr" 'built without Mermaid' "$T/err"
else
  expect_grep "the page embeds Mermaid" 'Mermaid [0-9.]+ \(MIT license\), embedded' "$T/dash.html"
  [ "$(grep -c 'language-mermaid' "$T/dash.html")" -ge 3 ] && ok "the page holds the three timelines" ||
    bad "timelines missing from the page"
fi

# Under GitHub Actions the tick appends the dashboard to the step summary, after its own table.
expect_rc 0 "a tick with \$GITHUB_STEP_SUMMARY set" env GITHUB_STEP_SUMMARY="$T/summary.md" "$CAIRN" tick --force
expect_grep "the step summary has the tick's table" '^## cairn tick$' "$T/summary.md"
expect_grep "...then the dashboard's table" '^\| c-stuck \| escalated \| run \|' "$T/summary.md"
[ "$(grep -c '^```mermaid$' "$T/summary.md")" -eq 3 ] && ok "...and the three timelines" || bad "timelines in the step summary: $(grep -c '^```mermaid$' "$T/summary.md")"
if grep -q 'ago)\|generated at' "$T/summary.md"; then bad "the step summary's dashboard carries a clock"; else ok "...without a clock (the forge issue's text)"; fi

# A file that does not parse is a row that says so, and exit 1.
mkdir -p campaigns/broken && printf -- '---\ncampaign: [\n---\n' > campaigns/broken/WORKFLOW.md
expect_rc 1 "an invalid campaign file: exit 1" "$CAIRN" report
expect_grep "its row names the file and the problem" '^\| `(\./)?campaigns/broken/WORKFLOW.md` \| invalid \|.*campaigns/broken/WORKFLOW.md:[0-9]+:[0-9]+: error' "$T/out"
rm -r campaigns/broken

cd "$T" && mkdir -p nogit && cd nogit
expect_rc 2 "outside a git repository: exit 2" "$CAIRN" report
finish
