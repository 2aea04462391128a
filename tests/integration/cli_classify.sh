#!/usr/bin/env bash
# `cairn classify LOGFILE [--exit N] [--state S]` on a 100 MB log: only the tail (last
# 10,000 lines) is read, so evidence there is found and evidence before it is not; the
# output names the class, the entry (catalog:line), the evidence line and the fix.
source "$(dirname "$0")/lib.sh"

R=$T/repo
mkdir -p "$R" && cd "$R" && git init -q
mkdir -p catalogs
cat > catalogs/project.md <<'MD'
# Project failure modes

| Class | Exit code | Scheduler state | Log signature (RE2) | Safe to retry | Auto-fix | Max fixes | Hint |
|---|---|---|---|---|---|---|---|
| velocity-blowup | — | — | `velocity of atom [0-9]+ exceeds` | no | destructive | 0 | Lower the timestep. |
| deck-error | 3 | — | `^FATAL: .*deck$` | no | none | — | Fix the input deck. |
MD
printf 'catalogs:\n  - catalogs/project.md\n' > cairn.yaml

noise() { awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "step=%d loss=0.1834 lr=8.2e-05 tokens/s=120433 mem=31.2GiB\n", i }'; }
{
  echo "ERROR: velocity of atom 17 exceeds the limit"  # ~1.6M lines from the end: not read
  noise 1600000
  echo "ERROR: velocity of atom 4242 exceeds the limit"  # 2,000 lines from the end
  noise 1999
} > big.log
size=$(stat -c %s big.log)
[ "$size" -gt 100000000 ] && ok "log is $size bytes" || bad "log is only $size bytes"

if [ -x /usr/bin/time ]; then
  # Against a baseline measured here on a small log (sanitizer builds start far higher):
  # loading the 100 MB file would add at least its size.
  tail -n 100 big.log > small.log
  /usr/bin/time -f 'maxrss_kb=%M' "$CAIRN" classify small.log >/dev/null 2>"$T/err" || true  # matches or not
  base=$(sed -n 's/^maxrss_kb=//p' "$T/err")
  expect_rc 0 "classify a 100 MB log" /usr/bin/time -f 'maxrss_kb=%M' "$CAIRN" classify big.log
  rss=$(sed -n 's/^maxrss_kb=//p' "$T/err")
  [ $(( ${rss:-0} - ${base:-0} )) -lt 50000 ] && ok "peak RSS ${rss} KB vs ${base} KB for a small log: the file was not loaded" ||
    bad "peak RSS ${rss} KB vs ${base} KB for a small log"
else
  expect_rc 0 "classify a 100 MB log" "$CAIRN" classify big.log
fi
expect_grep "class" '^class: +velocity-blowup' "$T/out"
expect_grep "entry is catalog:line" '^entry: +catalogs/project.md:5$' "$T/out"
expect_grep "evidence is the line in the tail" '^matched: +ERROR: velocity of atom 4242 exceeds the limit$' "$T/out"
expect_grep "fix" '^fix: +none \(escalate\)' "$T/out"

# The edge of the tail: the 10,000th line from the end is read, the 10,001st is not.
{ echo "velocity of atom 1 exceeds"; noise 9999; } > edge.log
expect_rc 0 "evidence 10,000 lines from the end is read" "$CAIRN" classify edge.log
{ echo "velocity of atom 1 exceeds"; noise 10000; } > early.log
expect_rc 1 "evidence 10,001 lines from the end is not" "$CAIRN" classify early.log
expect_grep "says unclassified" '^unclassified' "$T/out"

# --exit is --exit-code; CRLF line ends still satisfy a `$` anchor.
printf 'setup\r\nFATAL: bad input deck\r\n' > crlf.log
expect_rc 1 "exit code column must match too" "$CAIRN" classify crlf.log --exit 1
expect_rc 0 "--exit" "$CAIRN" classify crlf.log --exit 3
expect_grep "CRLF log classified" '^class: +deck-error' "$T/out"
expect_grep "evidence without the CR" '^matched: +FATAL: bad input deck$' "$T/out"
expect_rc 0 "--exit-code --json" "$CAIRN" classify crlf.log --exit-code 3 --json
expect_grep "JSON names the entry" '"source": "catalogs/project.md:6"' "$T/out"
expect_rc 2 "a missing log is a usage error" "$CAIRN" classify missing.log
expect_grep "names the file" 'cannot read missing.log' "$T/err"
finish
