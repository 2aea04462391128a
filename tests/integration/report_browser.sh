#!/usr/bin/env bash
# The dashboard as a person sees it: `cairn report --html` of a real repository (three
# campaigns on the local backend, one with a failed attempt and its retry, one
# escalated) opened in headless Chromium (Debian's `chromium`), which runs the embedded
# Mermaid script with no network. The rendered DOM must hold one timeline SVG per
# campaign with one bar per stage attempt the commit trailers record, the failed
# attempts drawn as `crit` bars. The screenshot is kept under the build directory.
source "$(dirname "$0")/lib.sh"
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "SKIP: Chromium is not installed (ci/deps.sh installs Debian's chromium); the --html timeline was NOT checked in a browser"; exit 77; }
out_dir=${CAIRN_BUILD_DIR:-$T}/artifacts
mkdir -p "$out_dir"

R=$T/repo
dashboard_demo "$R"
expect_rc 0 "cairn report --html writes the page" "$CAIRN" report --html --out "$T/dashboard.html"
if grep -q 'cairn-no-mermaid' "$T/dashboard.html"; then
  echo "SKIP: this cairn was built without Mermaid (mermaid.min.js was not found at build time), so the page shows the timelines as source; the picture was NOT checked"
  exit 77
fi

# Expected bars per campaign, from the history itself: one per `ready -> running` commit.
declare -A submits failures
for c in c-retry c-done c-stuck; do
  log=$(git log --format='%(trailers:key=Cairn-Campaign,valueonly)|%(trailers:key=Cairn-Transition,valueonly)' | tr -d '\n')
  submits[$c]=$( (grep -o "$c|ready -> running" <<<"$log" || true) | wc -l)
  failures[$c]=$( (grep -o "$c|running -> failed" <<<"$log" || true) | wc -l)
done

chrome() {  # chrome ARGS...: headless, no sandbox (root in CI), no network, the page's scripts given time
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
    --user-data-dir="$T/chrome-profile" --proxy-server=127.0.0.1:9 --proxy-bypass-list='<-loopback>' \
    --virtual-time-budget=20000 "$@" "file://$T/dashboard.html"
}
if ! chrome --dump-dom > "$T/dom.html" 2> "$T/chrome.err" || ! grep -q '</html>' "$T/dom.html"; then
  echo "SKIP: headless Chromium did not start or render: $(tail -n 3 "$T/chrome.err" | tr '\n' ' ')"
  exit 77
fi
ok "headless Chromium rendered the page ($(wc -c < "$T/dom.html") bytes of DOM)"
if grep -q 'data-error=' "$T/dom.html"; then
  bad "Mermaid failed in the browser: $(grep -o 'data-error="[^"]*"' "$T/dom.html")"
fi

python3 - "$T/dom.html" > "$T/bars.txt" <<'PY'
# Per timeline SVG: its title, the task bars (rect.task) and how many are crit.
import re, sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.svgs = []; self.in_title = False
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg" and "aria-roledescription" in a and a["aria-roledescription"] == "gantt":
            self.svgs.append({"title": "", "bars": 0, "crit": 0})
        elif self.svgs and tag == "rect":
            cls = a.get("class", "").split()
            if "task" in cls:
                self.svgs[-1]["bars"] += 1
                if any(c.startswith("crit") for c in cls): self.svgs[-1]["crit"] += 1
        elif self.svgs and tag == "text" and "titleText" in a.get("class", ""):
            self.in_title = True
    def handle_data(self, data):
        if self.in_title: self.svgs[-1]["title"] += data
    def handle_endtag(self, tag):
        if tag == "text": self.in_title = False
p = P(); p.feed(open(sys.argv[1]).read())
for s in p.svgs: print(s["title"].split()[0] if s["title"] else "?", s["bars"], s["crit"])
PY
[ "$(wc -l < "$T/bars.txt")" -eq 3 ] && ok "three timeline SVGs, one per campaign" || { bad "timeline SVGs: $(wc -l < "$T/bars.txt")"; cat "$T/bars.txt"; }
for c in c-retry c-done c-stuck; do
  read -r _ bars crit < <(grep "^$c " "$T/bars.txt" || echo "$c 0 0")
  [ "$bars" -eq "${submits[$c]}" ] && [ "$bars" -gt 0 ] && ok "$c: the SVG has $bars bar(s), one per stage attempt" ||
    bad "$c: $bars bars drawn, ${submits[$c]} attempts in the history"
  [ "$crit" -eq "${failures[$c]}" ] && ok "$c: $crit failed attempt(s) drawn crit" || bad "$c: $crit crit bars, ${failures[$c]} failed attempts"
done

chrome --screenshot="$out_dir/report.png" --window-size=1280,2200 --hide-scrollbars >/dev/null 2>&1 || true
if [ -s "$out_dir/report.png" ]; then
  ok "screenshot saved: $out_dir/report.png"
  cp "$T/dashboard.html" "$out_dir/report.html"
  echo "    artefacts: $out_dir/report.png $out_dir/report.html"
else
  bad "no screenshot at $out_dir/report.png"
fi
finish
