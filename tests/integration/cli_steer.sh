#!/usr/bin/env bash
# See and steer one campaign, end to end on a real git repository and real local jobs:
#   1. `cairn show` of a campaign before, during and after its job; unknown names get
#      exit 2 and a did-you-mean; the `--json` shape is the one docs/json.md documents.
#   2. `cairn logs`: the job's own output (a known line), redacted, `-n`; exit 1 when
#      the stage has no job.
#   3. `cairn cancel`: the job's process is really gone, ONE commit `running -> failed
#      [cancelled]` with a Failure-log row, the campaign escalated; a plain tick then
#      resubmits nothing; `cairn clear` and a plain tick run attempt 2.
#   4. `cairn logs --follow` prints the job's lines as they come and ends by itself when
#      the job ends.
#   5. Human output: colour on a terminal (`script` gives one), none with NO_COLOR or
#      piped; tables fitted to COLUMNS with the full text in --json; intents in `cairn
#      log` read `intent: submit KEY`; a dry run's table says `running` next to a submit.
source "$(dirname "$0")/lib.sh"
[ -x "$CAIRN" ] || { echo "FAIL - $CAIRN is not an executable (build it first)"; exit 1; }
command -v python3 >/dev/null || { echo "SKIP: python3 is not installed (the JSON shape check needs it)"; exit 77; }

runs() { local n; n=$(wc -l <"$T/runs.txt" 2>/dev/null) || true; echo "${n:-0}"; }
widest() { python3 -c 'import sys; print(max([len(l.rstrip("\n")) for l in open(sys.argv[1], encoding="utf-8")] + [0]))' "$1"; }
wait_for() {  # wait_for FILE: at most 20 s
  for _ in $(seq 1 100); do [ -e "$1" ] && return 0; sleep 0.2; done
  return 1
}

# A fake GitHub for the escalation's issue and pull request (`cairn show`, story 1).
TOKEN="ghp_SteerForgeToken0123456789abcdefABCDEF"
python3 "$CAIRN_SOURCE_DIR/tests/servers/fake_forge.py" --token "$TOKEN" --port-file "$T/forge.port" 2>"$T/forge.err" &
forge=$!
trap 'kill $forge 2>/dev/null || true; [ -n "${CAIRN_KEEP_TMP:-}" ] || rm -rf "$T"' EXIT
for _ in $(seq 1 100); do [ -s "$T/forge.port" ] && break; sleep 0.05; done
API="http://127.0.0.1:$(cat "$T/forge.port" 2>/dev/null)"
unset FAKE_FORGE_TOKEN CAIRN_FORGE_TOKEN GITHUB_TOKEN

R=$T/repo && mkdir -p "$R" && cd "$R" && git init -q && "$CAIRN" init >/dev/null
echo "forge: {kind: github, repo: acme/steer, api: \"$API\", token_env: FAKE_FORGE_TOKEN}" >>cairn.yaml
campaign . c1
# The job: says which attempt it is (a known line, and a token the output must not show),
# records its pid, then runs until the test lets it finish.
cat >campaigns/c1/jobs/run.sh <<SH
#!/bin/sh
echo "\$CAIRN_ATTEMPT" >> "$T/runs.txt"
echo \$\$ > "$T/pid.\$CAIRN_ATTEMPT"
echo "steer-marker: attempt \$CAIRN_ATTEMPT started"
echo "pushing with ghp_SteerSecretToken0123456789abcdefABCD"
while [ ! -e "$T/finish.\$CAIRN_ATTEMPT" ]; do sleep 0.1; done
echo "steer-marker: attempt \$CAIRN_ATTEMPT done"
SH
chmod +x campaigns/c1/jobs/run.sh
sed -i 's/time: "00:01:00"/time: "00:05:00"/' campaigns/c1/WORKFLOW.md
git add -A && git commit -qm "campaign c1"

echo "# 1. show before the job; names that do not exist"
expect_rc 0 "cairn show c1 (nothing ran yet)" "$CAIRN" show c1
expect_grep "1: the stage table names the stage, its status and backend" "^0 +run +pending +— +local" "$T/out"
expect_rc 2 "cairn show c2 (no such campaign)" "$CAIRN" show c2
expect_grep "1: an unknown campaign gets a did-you-mean" "no campaign named .c2.*did you mean .c1.\?" "$T/err"
expect_rc 2 "cairn logs c1 rnu (no such stage)" "$CAIRN" logs c1 rnu
expect_grep "1: an unknown stage gets a did-you-mean" "no stage .rnu.*did you mean .run.\?" "$T/err"
expect_rc 1 "2: cairn logs c1 before any job" "$CAIRN" logs c1
expect_grep "2: it says the stage has no job" "has no job" "$T/err"
expect_rc 1 "3: cairn cancel c1 before any job" "$CAIRN" cancel c1 --reason "nothing to cancel"
expect_grep "3: it says there is no running job" "no running job" "$T/err"

echo "# 1-2. show and logs while the job runs"
expect_rc 0 "a plain tick submits attempt 1" "$CAIRN" tick
wait_for "$T/pid.1" || bad "attempt 1 never started"
pid1=$(cat "$T/pid.1" 2>/dev/null || echo 0)
expect_rc 0 "cairn show c1 (running)" "$CAIRN" show c1
expect_grep "1: the stage is running as attempt 1" "^0 +run +running +cairn\.[0-9a-f]+\.c1\.run\.1 +local +— +[0-9-]+ [0-9:]+Z +— +1 +0$" "$T/out"
expect_grep "1: the job's live state comes from the backend" "^job cairn\.[0-9a-f]+\.c1\.run\.1 \(run on local\): running" "$T/out"
expect_grep "1: the open action item is listed" "^  - \[ \] cairn: job cairn\..*submitted" "$T/out"
expect_grep "1: when the next tick works it (5 min cadence for expect 1m)" "next tick works it in [45]m" "$T/out"
expect_rc 0 "cairn show c1 --json" "$CAIRN" show c1 --json
cp "$T/out" "$T/show.json"
if python3 - "$CAIRN_SOURCE_DIR/docs/json.md" "$T/show.json" >"$T/shape" 2>&1 <<'PY'
import json, re, sys
# The documented shape: the first ```json block under `## `cairn show ...` in docs/json.md.
doc = open(sys.argv[1]).read()
section = re.search(r"^## `cairn show[^\n]*\n(.*?)(?=^## |\Z)", doc, re.S | re.M).group(1)
example = json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))
got = json.load(open(sys.argv[2]))
def same(doc, got, where):
    if got is None:
        return  # every field may be null (docs/json.md says which are)
    if isinstance(doc, dict):
        assert isinstance(got, dict), f"{where}: {got!r} is not an object"
        assert set(doc) == set(got), f"{where}: keys {sorted(got)} != documented {sorted(doc)}"
        for k in doc: same(doc[k], got[k], f"{where}.{k}")
    elif isinstance(doc, list):
        assert isinstance(got, list), f"{where}: not a list"
        for i, g in enumerate(got): same(doc[0], g, f"{where}[{i}]")
    elif doc is not None and got is not None:
        assert type(doc) == type(got), f"{where}: {type(got).__name__} where docs/json.md has {type(doc).__name__}"
same(example, got, "show")
assert got["version"] == 1 and got["campaign"] == "c1" and got["job"]["state"] == "running", got
assert got["stages"][0]["attempts"] == 1 and 0 < got["next_due_seconds"] <= 300, got
print("shape ok")
PY
then ok "1: show --json has exactly the shape docs/json.md documents (version 1, running, attempt 1)"
else bad "1: show --json differs from docs/json.md:"; show "$T/shape" "$T/show.json"; fi
expect_rc 0 "2: cairn logs c1" "$CAIRN" logs c1
expect_grep "2: logs prints the job's own line" "^steer-marker: attempt 1 started$" "$T/out"
grep -q "ghp_Steer" "$T/out" && { bad "2: logs shows the token"; show "$T/out"; } || ok "2: logs redacts the token"
expect_rc 0 "2: cairn logs c1 run -n 1" "$CAIRN" logs c1 run -n 1
[ "$(wc -l <"$T/out")" = 1 ] && ok "2: -n 1 prints one line" || { bad "2: -n 1 printed $(wc -l <"$T/out") lines"; show "$T/out"; }

echo "# 3. cancel"
before=$(git rev-parse HEAD)
kill -0 "$pid1" 2>/dev/null && ok "3: premise: the job's process $pid1 runs" || bad "3: premise: process $pid1 is not running"
expect_rc 0 "3: cairn cancel c1 --reason \"wrong input deck\"" "$CAIRN" cancel c1 --reason "wrong input deck"
cp "$T/out" "$T/cancel.out"
kill -0 "$pid1" 2>/dev/null && bad "3: process $pid1 still runs after cancel returned" || ok "3: the job's process $pid1 is gone"
[ "$(git rev-list --count "$before"..HEAD)" = 1 ] && ok "3: one commit" ||
  { bad "3: $(git rev-list --count "$before"..HEAD) commits:"; git log --oneline "$before"..HEAD | show; }
[ "$(git log -1 --format=%s)" = "c1: run running -> failed [cancelled]" ] && ok "3: its subject is 'c1: run running -> failed [cancelled]'" ||
  bad "3: subject: $(git log -1 --format=%s)"
[ "$(trailer "$R" HEAD Cairn-Transition)" = "running -> failed" ] && [ "$(trailer "$R" HEAD Cairn-Attempt)" = 1 ] &&
  ok "3: trailers Cairn-Transition: running -> failed, Cairn-Attempt: 1" || { bad "3: trailers:"; git log -1 --format=%B | show; }
# The human's git identity (libgit2 reads it from ~/.gitconfig), not the tick's (cairn.yaml).
me=$(git log -1 --format=%an)
[ -n "$me" ] && [ "$me" != cairn-bot ] && ok "3: committed as the human who cancelled ($me)" || bad "3: author \"$me\""
git diff --quiet HEAD && ok "3: the work tree matches the commit" || bad "3: the work tree differs from the commit"
[ "$(failure_rows "$R" c1 | wc -l)" = 1 ] && failure_rows "$R" c1 | grep -q -F "job $(cell "$R" c1 6): cancelled by $me: wrong input deck" &&
  failure_rows "$R" c1 | grep -q -E "\| *cancelled *\| *job [^|]*\| *cancelled by a human *\| *ESCALATED *\|$" &&
  ok "3: one Failure-log row: job ...: cancelled by $me: wrong input deck" || { bad "3: Failure log:"; failure_rows "$R" c1 | show; }
[ "$(stage_status "$R" c1)" = failed ] && [ "$(fm "$R" c1 escalation_required)" = true ] && [ "$(fm "$R" c1 status)" = escalated ] &&
  ok "3: stage failed, campaign escalated" || bad "3: stage $(stage_status "$R" c1), escalation_required $(fm "$R" c1 escalation_required), status $(fm "$R" c1 status)"
fm "$R" c1 escalation_reason | grep -q -F "cancelled by a human ($me): wrong input deck" && ok "3: escalation_reason says cancelled by a human" ||
  bad "3: escalation_reason: $(fm "$R" c1 escalation_reason)"
expect_grep "3: cancel says how to resume and which attempt comes next" "cairn clear c1 --reason TEXT.*attempt 2" "$T/cancel.out"
expect_rc 1 "3: a second cancel finds no running job" "$CAIRN" cancel c1 --reason again
before=$(git rev-parse HEAD)
expect_rc 0 "3: a plain tick after the cancel" "$CAIRN" tick
sleep 1
[ "$(runs)" = 1 ] && ! grep -q -- "-> running" "$T/out" && ok "3: the plain tick resubmits nothing (the job ran once)" ||
  { bad "3: after the cancel the job ran $(runs) times"; show "$T/out"; }
[ "$(git rev-list --count "$before"..HEAD)" = 0 ] && ok "3: and commits nothing" || bad "3: it committed: $(git log --oneline "$before"..HEAD)"
expect_rc 0 "1: cairn show c1 (escalated)" "$CAIRN" show c1
expect_grep "1: show names the escalation and how to resume" "^escalated \(stage run\): cancelled by a human" "$T/out"
expect_grep "1: show lists the Failure-log row" "cancelled +job cairn\." "$T/out"

echo "# 1. show links the escalation's issue and pull request on the forge"
expect_grep "1: without the token show says the forge was not asked" "no token in .FAKE_FORGE_TOKEN" "$T/err"
if [ -s "$T/forge.port" ]; then
  gh() { curl -s -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" -X POST "$API/repos/acme/steer/$1" -d "$2"; }
  gh issues '{"title": "cairn: c1 escalated at run", "body": "<!-- cairn:escalation c1 run 1 -->", "labels": ["cairn", "escalation"]}' >/dev/null
  gh pulls '{"title": "cairn: resume c1 (run)", "head": "cairn/clear/c1/1", "base": "main"}' >/dev/null
  FAKE_FORGE_TOKEN=$TOKEN expect_rc 0 "1: cairn show c1 with the forge's token" "$CAIRN" show c1
  expect_grep "1: show links the escalation issue" "^  issue: http://forge.invalid/acme/steer/issues/1$" "$T/out"
  expect_grep "1: and the clear-escalation pull request" "^  pull request \(merge it to resume\): http://forge.invalid/acme/steer/pull/2$" "$T/out"
  shown=$(FAKE_FORGE_TOKEN=$TOKEN "$CAIRN" show c1 --json)
  grep -q '"pull_request": "http://forge.invalid/acme/steer/pull/2"' <<<"$shown" &&
    ok "1: --json has the pull request's URL" || bad "1: --json lacks the pull request's URL"
else
  echo "SKIPPED (loudly): the fake forge did not start, so the issue and pull request links are untested: $(cat "$T/forge.err")"
  bad "1: the fake forge did not start"
fi

echo "# 5. tables fitted to the terminal, colour"
COLUMNS=60 "$CAIRN" status >"$T/narrow" 2>&1
[ "$(widest "$T/narrow")" -le 60 ] && ok "5: COLUMNS=60: every line of cairn status fits in 60 columns" ||
  { bad "5: COLUMNS=60: cairn status is $(widest "$T/narrow") columns wide"; show "$T/narrow"; }
grep -q "…" "$T/narrow" && ok "5: the long escalation reason is cut with …" ||
  { bad "5: the reason was not cut"; show "$T/narrow"; }
[ "$(COLUMNS=1000 "$CAIRN" status | widest /dev/stdin)" -gt 60 ] && ok "5: (premise: unfitted, the table is wider than 60)" ||
  bad "5: premise: the table fits 60 columns anyway"
status_json=$(COLUMNS=60 "$CAIRN" status --json)
grep -q -F "\"escalation_reason\": \"cancelled by a human ($me): wrong input deck\"" <<<"$status_json" &&
  ok "5: --json keeps the full reason" || bad "5: --json lost the reason"
COLUMNS=60 "$CAIRN" show c1 >"$T/narrow"
awk '/^# +ST/,/^$/' "$T/narrow" >"$T/narrow.table"
[ -s "$T/narrow.table" ] && [ "$(widest "$T/narrow.table")" -le 60 ] && ok "5: COLUMNS=60: show's stage table fits" ||
  { bad "5: show's stage table is not there or wider than 60 columns"; show "$T/narrow"; }
esc=$(printf '\033[')
script -qec "env -u NO_COLOR TERM=xterm COLUMNS=200 '$CAIRN' show c1" /dev/null >"$T/tty" 2>&1 || true
grep -q -F "$esc" "$T/tty" && ok "5: on a terminal show uses colour" || { bad "5: no colour on a terminal"; show "$T/tty"; }
grep -q -F "${esc}31mescalated" "$T/tty" && ok "5: escalated in red" || bad "5: escalated is not red"
script -qec "env NO_COLOR=1 TERM=xterm '$CAIRN' show c1" /dev/null >"$T/tty" 2>&1 || true
grep -q -F "$esc" "$T/tty" && { bad "5: NO_COLOR=1 on a terminal still has colour"; show "$T/tty"; } || ok "5: NO_COLOR=1 turns colour off"
grep -q "escalated" "$T/tty" && ok "5: (and the terminal run did print the campaign)" || { bad "5: the NO_COLOR run printed nothing useful"; show "$T/tty"; }
env -u NO_COLOR TERM=xterm "$CAIRN" show c1 >"$T/piped"
grep -q -F "$esc" "$T/piped" && bad "5: piped output has colour" || ok "5: piped output has no colour"

echo "# 3. clear, then a plain tick runs attempt 2"
expect_rc 0 "3: cairn clear c1 --reason \"input fixed\"" "$CAIRN" clear c1 --reason "input fixed"
expect_rc 0 "3: a plain tick after the clear" "$CAIRN" tick
expect_grep "3: it submits the stage" "c1: run ready -> running" "$T/out"
[ "$(trailer "$R" HEAD Cairn-Attempt)" = 2 ] && ok "3: Cairn-Attempt: 2" || { bad "3: the resubmit's trailers:"; git log -1 --format=%B | show; }
wait_for "$T/pid.2" && ok "3: attempt 2 runs" || bad "3: attempt 2 never started"
grep -qx 2 "$T/runs.txt" && [ "$(runs)" = 2 ] && ok "3: the job ran twice in all, the second time as attempt 2" ||
  bad "3: runs: $(tr '\n' ' ' <"$T/runs.txt")"

echo "# 4. logs --follow"
for _ in $(seq 1 50); do "$CAIRN" logs c1 | grep -q "attempt 2 started" && break; sleep 0.2; done
"$CAIRN" logs c1 --follow --poll 0.2 >"$T/follow.out" 2>"$T/follow.err" &
follower=$!
sleep 1
kill -0 $follower 2>/dev/null && ok "4: --follow keeps running while the job runs" || bad "4: --follow ended while the job runs"
touch "$T/finish.2"
for _ in $(seq 1 100); do kill -0 $follower 2>/dev/null || break; sleep 0.2; done
if kill -0 $follower 2>/dev/null; then
  bad "4: --follow still runs 20 s after the job ended"; kill $follower
else
  rc=0; wait $follower || rc=$?
  [ $rc = 0 ] && ok "4: --follow ends by itself when the job ends (exit 0)" || bad "4: --follow exited $rc"
fi
[ "$(grep -c "^steer-marker: attempt 2 started$" "$T/follow.out")" = 1 ] && ok "4: the line printed before --follow started, once" ||
  { bad "4: 'attempt 2 started' not printed exactly once:"; show "$T/follow.out"; }
grep -q "^steer-marker: attempt 2 done$" "$T/follow.out" && ok "4: the line printed while following" || { bad "4: 'attempt 2 done' missing:"; show "$T/follow.out" "$T/follow.err"; }
expect_grep "4: --follow says how the job ended" "job cairn\..*\.c1\.run\.2 ended completed" "$T/follow.err"

echo "# 5. cairn log and the dry run"
expect_rc 0 "5: cairn log c1" "$CAIRN" log c1
expect_grep "5: cairn log shows an intent as 'intent: submit KEY'" "intent: submit cairn\.[0-9a-f]+\.c1\.run\.2" "$T/out"
grep -q "ready -> ready" "$T/out" && { bad "5: cairn log still shows 'ready -> ready'"; show "$T/out"; } || ok "5: no 'ready -> ready' in cairn log"
D=$T/dry && mkdir -p "$D" && cd "$D" && git init -q && "$CAIRN" init >/dev/null
campaign . d1 && git add -A && git commit -qm d1
expect_rc 0 "5: tick --dry-run" "$CAIRN" tick --dry-run
expect_grep "5: the dry run names the submit" "d1: run ready -> running" "$T/out"
expect_grep "5: its table says running next to it" "^d1 +running +run +2 " "$T/out"
[ ! -e "$T/runs.txt" ] || ! grep -q "^d1" "$T/runs.txt" && ok "5: the dry run ran nothing" || bad "5: the dry run ran a job"

finish
