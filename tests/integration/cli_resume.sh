#!/usr/bin/env bash
# Resuming a campaign end to end, through the CLI, on real git repositories and real
# local-backend jobs (docs/tick.md "Attempts and job names", "Where checks run", "When a
# campaign is due"; docs/escalation.md). Each story is a block of checks:
#   1. `cairn clear` after a human fixed the job script: the stage runs anew (a new
#      attempt, not the failed job adopted again) and ends done; one Failure log row, one
#      escalation; the lesson names the reason that was cleared.
#   2. the same resumed by editing WORKFLOW.md by hand and committing with plain git.
#   3. the same through the forge: the fix pushed to `cairn/clear/<campaign>/1`, the pull
#      request merged; the issue is closed as resumed and no second issue is opened.
#   4. a transient failure (`ssh: connect to host ...: Connection refused`) is re-run once
#      as a new attempt; the Failure log row ends RESOLVED.
#   5. two clones of one remote on one machine: clone B validates `out.txt exists` in the
#      job's own working directory (clone A's campaign dir), not in its own checkout; a
#      stale out.txt in B's checkout does not make a job that wrote none done.
#   6. a cleared campaign is due at once: the first plain tick after a clear (or a hand
#      edit) works it, even though its last tick was seconds ago.
#   7. an unpushed `cairn clear` in a clone with a remote is never dropped by a tick.
#   8. a cairn.yaml pushed from another clone governs the very next tick in this one (the
#      tick reads its settings after fetching, not from the checkout it found).
# Ticks are plain `cairn tick` wherever a user would run one. `--force` is used only for
# the ticks that poll a running job: a running stage with `expect: 1m` is due every
# 5 minutes (the cadence table of docs/tick.md), so a plain tick right after would rightly say
# "not due"; each such tick stands for "5 minutes later" and is marked `# cadence`.
source "$(dirname "$0")/lib.sh"
[ -x "$CAIRN" ] || { echo "FAIL - $CAIRN is not an executable (build it first)"; exit 1; }

command -v python3 >/dev/null || { echo "SKIP: python3 is not installed (the fake forge needs it)"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl is not installed (the fake forge's control API needs it)"; exit 77; }
started=$SECONDS

# --- servers: a git daemon with receive-pack (stories 3 and 5) and the fake forge (3) ---
mkdir -p "$T/srv"
TOKEN="ghp_ResumeForgeToken0123456789abcdefABCD"
python3 "$CAIRN_SOURCE_DIR/tests/servers/fake_forge.py" --token "$TOKEN" --port-file "$T/forge.port" \
  2>"$T/forge.err" &
forge=$!
daemon=""
trap 'kill $daemon $forge 2>/dev/null || true; [ -n "${CAIRN_KEEP_TMP:-}" ] || rm -rf "$T"' EXIT
git init -q --bare -b main "$T/srv/probe.git"
for try in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 12000))
  git daemon --reuseaddr --listen=127.0.0.1 --port=$port --base-path="$T/srv" --export-all \
    --enable=receive-pack "$T/srv" >"$T/daemon.log" 2>&1 &
  daemon=$!
  for _ in $(seq 1 50); do
    git ls-remote "git://127.0.0.1:$port/probe.git" >/dev/null 2>&1 && break
    kill -0 $daemon 2>/dev/null || break
    sleep 0.1
  done
  git ls-remote "git://127.0.0.1:$port/probe.git" >/dev/null 2>&1 && break
  kill $daemon 2>/dev/null || true
done
git ls-remote "git://127.0.0.1:$port/probe.git" >/dev/null 2>&1 ||
  { echo "SKIP: git daemon did not start (last port $port): $(cat "$T/daemon.log")"; exit 77; }
for _ in $(seq 1 100); do [ -s "$T/forge.port" ] && break; sleep 0.05; done
[ -s "$T/forge.port" ] || { echo "SKIP: the fake forge did not start: $(cat "$T/forge.err")"; exit 77; }
API="http://127.0.0.1:$(cat "$T/forge.port")"
export FAKE_FORGE_TOKEN=$TOKEN CAIRN_FORGE_MIN_INTERVAL_MS=0 CAIRN_FORGE_BACKOFF_MS=10
unset CAIRN_TOKEN GITHUB_TOKEN CI_JOB_TOKEN
ok "git daemon on 127.0.0.1:$port and a fake forge at $API"

# --- helpers ---
# tick_in LOG DIR [ARGS...]: one `cairn tick` in DIR; its output in $T/out, and appended to
# LOG (a story's transcript, printed under a failing check). Returns the tick's exit code.
tick_in() {
  local log=$1 d=$2 rc=0; shift 2
  (cd "$d" && "$CAIRN" tick "$@") >"$T/out" 2>&1 || rc=$?
  { echo "\$ cairn tick $* (in ${d#"$T"/}, exit $rc)"; sed 's/^/    /' "$T/out"; } >>"$log"
  return $rc
}
lessons() { awk '/^## /{ s = ($0 == "## Lessons learned") ; next } s' "$(wf_of "$1" "$2")"; }
FAILING='echo "step 1 of 3"
echo "frobnicator exploded" >&2
exit 3'
FIXED='echo "step 1 of 3"
echo "all steps done"'
# Waits (at most 20 s) until NAME's job ran N times in all.
wait_ran() {  # wait_ran NAME N
  for _ in $(seq 1 100); do [ "$(ran "$1")" -ge "$2" ] && return 0; sleep 0.2; done
  return 1
}
# Ticks (at most 40, --force: see the header) while the stage is `running`, i.e. until
# the tick has seen the job end. Returns 1 if it never does.
poll() {  # poll LOG DIR NAME
  local i
  for i in $(seq 1 40); do
    [ "$(stage_status "$2" "$3")" = running ] || return 0
    sleep 0.25
    tick_in "$1" "$2" --force || true  # cadence
  done
  [ "$(stage_status "$2" "$3")" != running ]
}
# The commit (after BASE) that submitted NAME's stage: the first `run ready -> running`.
submit_commit() {  # submit_commit DIR NAME BASE
  git -C "$1" log --reverse --format='%H %s' "$3..HEAD" | awk -v s="$2: run ready -> running" '
    { h = $1; $1 = ""; sub(/^ /, "") } $0 == s { print h; exit }'
}
escalations() {  # escalations DIR NAME: the tick's `-> escalated` commits
  git -C "$1" log --format=%s | grep -c -E "^$2: run [a-z]+ -> escalated" || true
}

# The checks every resumed escalation shares (stories 1-3): the first tick after the
# resume is plain and works the campaign, submitting a new attempt (not adopting the
# failed job); the stage ends done; the job ran twice in all; one Failure log row; one
# escalation.
# resume_checks STORY LOG DIR NAME FIRST_JOB BASE [PLAIN_TICK_RC]
resume_checks() {
  local s=$1 log=$2 d=$3 name=$4 first=$5 base=$6 rc=${7:-0} c job attempt
  [ "$rc" = 0 ] && ok "$s: the plain tick after the resume exits 0" || { bad "$s: the plain tick after the resume exited $rc"; show "$T/resume.out"; }
  if grep -q "not due" "$T/resume.out"; then
    bad "6/$s: the first plain tick after the resume says the campaign is not due:"; show "$T/resume.out"
  else
    ok "6/$s: the first plain tick after the resume works the campaign (no \"not due\")"
  fi
  if grep -q -F "$name: run ready -> running" "$T/resume.out"; then
    ok "$s: that plain tick submits the stage"
  else
    bad "$s: that plain tick did not submit the stage:"; show "$T/resume.out"
  fi
  c=$(submit_commit "$d" "$name" "$base")
  if [ -z "$c" ]; then
    bad "$s: no \"$name: run ready -> running\" commit after the resume"
  else
    if git -C "$d" log -1 --format=%B "$c" | grep -q "Adopted"; then
      bad "$s: the resumed submit adopted the failed job instead of running it anew:"
      git -C "$d" log -1 --format=%B "$c" | show
    else
      ok "$s: the resumed submit is a new submission (no \"Adopted\")"
    fi
    job=$(trailer "$d" "$c" Cairn-Job) attempt=$(trailer "$d" "$c" Cairn-Attempt)
    [ -n "$job" ] && [ "$job" != "$first" ] && ok "$s: the second attempt's job ($job) is not the first ($first)" ||
      bad "$s: the resumed submit's Cairn-Job is \"$job\", the failed attempt's was \"$first\""
    [ "$attempt" = 2 ] && ok "$s: Cairn-Attempt: 2" || bad "$s: the resumed submit says Cairn-Attempt: $attempt, wanted 2"
  fi
  poll "$log" "$d" "$name" || bad "$s: the stage was still running after 40 ticks"
  [ "$(stage_status "$d" "$name")" = done ] && ok "$s: the stage ends done" ||
    { bad "$s: the stage ends $(stage_status "$d" "$name") (JobID $(cell "$d" "$name" 6))"; show "$log"; }
  [ "$(fm "$d" "$name" status)" = done ] && ok "$s: the campaign ends done" ||
    bad "$s: the campaign ends status: $(fm "$d" "$name" status), escalation_required: $(fm "$d" "$name" escalation_required)"
  [ "$(ran "$name")" = 2 ] && ok "$s: the job ran exactly twice (the failed attempt and the fixed one)" ||
    bad "$s: the job ran $(ran "$name") times, wanted 2 ($(grep "^$name " "$T/runs.txt" | tr '\n' ';'))"
  [ "$(failure_rows "$d" "$name" | wc -l)" = 1 ] && ok "$s: the Failure log has exactly one row" ||
    { bad "$s: the Failure log has $(failure_rows "$d" "$name" | wc -l) rows:"; failure_rows "$d" "$name" | show; }
  [ "$(escalations "$d" "$name")" = 1 ] && [ "$(fm "$d" "$name" escalation_required)" = false ] &&
    ok "$s: no second escalation" ||
    bad "$s: $(escalations "$d" "$name") escalation commits, escalation_required: $(fm "$d" "$name" escalation_required)"
}

# escalate_first STORY LOG DIR NAME: ticks a fresh campaign whose job fails with an error
# no catalog knows until it is escalated; prints nothing, checks as it goes.
escalate_first() {
  local s=$1 log=$2 d=$3 name=$4
  tick_in "$log" "$d" && ok "$s: the first plain tick exits 0" || { bad "$s: the first tick failed"; show "$T/out"; }
  grep -q -F "$name: run ready -> running" "$T/out" && ok "$s: it submits the stage" || { bad "$s: no submit"; show "$T/out"; }
  wait_ran "$name" 1 || bad "$s: the job never ran"
  poll "$log" "$d" "$name" || bad "$s: the failed job was never seen to end"
  [ "$(stage_status "$d" "$name")" = escalated ] && [ "$(fm "$d" "$name" escalation_required)" = true ] &&
    ok "$s: an error no catalog knows escalates" || { bad "$s: the stage is $(stage_status "$d" "$name")"; show "$log"; }
  grep -q "frobnicator exploded" <<<"$(fm "$d" "$name" escalation_reason)" &&
    ok "$s: escalation_reason names the error" || bad "$s: escalation_reason: $(fm "$d" "$name" escalation_reason)"
}

# ====================================================================================
echo "# 1. resume via cairn clear (and 6: a cleared campaign is due at once)"
L1=$T/story1.log
R1=$T/r1 && mkdir -p "$R1" && cd "$R1" && git init -q && "$CAIRN" init >/dev/null
campaign . c1 && job . c1 "$FAILING"
git add -A && git commit -qm "campaign c1" >/dev/null 2>&1
escalate_first 1 "$L1" "$R1" c1
first1=$(cell "$R1" c1 6)
[ "$(failure_rows "$R1" c1 | wc -l)" = 1 ] && ok "1: one Failure log row for the failure" ||
  { bad "1: $(failure_rows "$R1" c1 | wc -l) Failure log rows after the escalation"; failure_rows "$R1" c1 | show; }
# 6: the premise: the campaign was just worked, so its idle cadence says it is not due.
tick_in "$L1" "$R1" || true
grep -q -E "c1 .*not due for (11|12)h" "$T/out" && ok "6: premise: a plain tick before the clear says c1 is not due for ~12h" ||
  { bad "6: premise: a plain tick before the clear does not say \"not due for 12h\":"; show "$T/out"; }
job . c1 "$FIXED"
git commit -qam "c1: fix the job script" >/dev/null 2>&1
base1=$(git rev-parse HEAD)
expect_rc 0 "1: cairn clear c1 --reason \"fixed the script\"" "$CAIRN" clear c1 --reason "fixed the script"
git log -1 --format=%B >"$T/clear.msg"
expect_grep "1: the clear commit names the old escalation reason" "frobnicator exploded" "$T/clear.msg"
expect_grep "1: the clear commit gives the human's reason" "fixed the script" "$T/clear.msg"
lessons "$R1" c1 >"$T/lessons"
if grep -q "fixed the script" "$T/lessons" && grep "fixed the script" "$T/lessons" | grep -q "frobnicator exploded"; then
  ok "1: the lesson line names the reason that was cleared"
else
  bad "1: the lesson line does not name the cleared reason (\"frobnicator exploded\"):"; show "$T/lessons"
fi
rc=0 && tick_in "$L1" "$R1" || rc=$?  # plain: the resume
cp "$T/out" "$T/resume.out"
resume_checks 1 "$L1" "$R1" c1 "$first1" "$base1" $rc

# ====================================================================================
echo "# 2. resume via a hand edit of WORKFLOW.md"
L2=$T/story2.log
R2=$T/r2 && mkdir -p "$R2" && cd "$R2" && git init -q && "$CAIRN" init >/dev/null
campaign . c2 && job . c2 "$FAILING"
git add -A && git commit -qm "campaign c2" >/dev/null 2>&1
escalate_first 2 "$L2" "$R2" c2
first2=$(cell "$R2" c2 6)
base2=$(git rev-parse HEAD)
# The human fixes the script and edits two things by hand, as the escalation commit says
# ("Resume by setting `escalation_required: false`"): the flag and the stage's Status cell.
job . c2 "$FIXED"
sed -i -e 's/^escalation_required: true$/escalation_required: false/' \
  -e 's/^\(| 0 | run  |[^|]*|[^|]*|\) escalated |/\1 ready     |/' campaigns/c2/WORKFLOW.md
[ "$(stage_status "$R2" c2)" = ready ] && [ "$(fm "$R2" c2 escalation_required)" = false ] &&
  ok "2: the hand edit: escalation_required false, Status escalated -> ready" || bad "2: the sed did not apply"
if git commit -qam "c2: fix the job script and resume by hand" >"$T/commit.out" 2>&1; then
  ok "2: committed with plain git (the pre-commit hook accepts it)"
else
  bad "2: git commit refused:"; show "$T/commit.out"
fi
rc=0 && tick_in "$L2" "$R2" || rc=$?  # plain: the resume
cp "$T/out" "$T/resume.out"
resume_checks 2 "$L2" "$R2" c2 "$first2" "$base2" $rc

# ====================================================================================
echo "# 3. resume via the forge: fix pushed to the clear branch, pull request merged"
L3=$T/story3.log
git init -q --bare -b main "$T/srv/forge.git"
url3="git://127.0.0.1:$port/forge.git"
git clone -q "$url3" "$T/h3" 2>/dev/null
(
  cd "$T/h3" && git checkout -q -B main
  "$CAIRN" init >/dev/null
  cat > cairn.yaml <<YAML
root: campaigns
branch: main
identity: {name: cairn-bot, email: cairn-bot@test.invalid}
catalogs: [catalogs/failure-catalog.md]
forge: {kind: github, repo: acme/resume, api: "$API", token_env: FAKE_FORGE_TOKEN}
YAML
  campaign . c3 && job . c3 "$FAILING"
  git add -A && git commit -qm "campaign c3" >/dev/null 2>&1 && git push -q origin main
) && ok "3: a human pushed campaign c3 to the remote" || bad "3: seeding the remote"
git clone -q "$url3" "$T/r3" 2>/dev/null
R3=$T/r3
escalate_first 3 "$L3" "$R3" c3
first3=$(cell "$R3" c3 6)
grep -q -E "opened issue #[0-9]+" "$L3" && ok "3: the escalating tick opened an issue" || { bad "3: no issue opened"; show "$L3"; }
grep -q "pushed branch cairn/clear/c3/1" "$L3" && ok "3: ... and pushed cairn/clear/c3/1" || bad "3: no clear branch pushed"
forge_json() { curl -s "$API/_control/state?kind=github"; }
pr3=$(forge_json | python3 -c 'import json,sys
for r in json.load(sys.stdin):
    for p in r["pulls"]:
        if p.get("head", "").endswith("cairn/clear/c3/1"): print(p["number"])' 2>/dev/null | head -1)
[ -n "$pr3" ] && ok "3: a pull request #$pr3 from cairn/clear/c3/1" || { bad "3: no pull request"; forge_json | head -c 2000; echo; }
base3=$(git -C "$R3" rev-parse HEAD)
# The human: fixes the job script on the clear branch, merges it into main, pushes.
if (
  cd "$T/h3" && git fetch -q origin && git checkout -q -b fix origin/cairn/clear/c3/1 &&
    job . c3 "$FIXED" && git commit -qam "c3: fix the job script" &&
    git push -q origin HEAD:cairn/clear/c3/1 && git checkout -q main && git pull -q --ff-only origin main &&
    git merge -q --no-ff -m "Merge cairn/clear/c3/1" origin/cairn/clear/c3/1 && git push -q origin main
) >"$T/human3.out" 2>&1; then
  ok "3: the human pushed the fix to the branch and merged it into main"
else
  bad "3: the human's push/merge failed:"; show "$T/human3.out"
fi
curl -s -X POST "$API/_control/merge" -d "{\"kind\": \"github\", \"number\": ${pr3:-0}, \"user\": \"alice\"}" >/dev/null
rc=0 && tick_in "$L3" "$R3" || rc=$?  # plain: the tick after the merge (CI runs one on the push)
cp "$T/out" "$T/resume.out"
resume_checks 3 "$L3" "$R3" c3 "$first3" "$base3" $rc
git -C "$R3" fetch -q origin
[ "$(git -C "$R3" rev-parse HEAD)" = "$(git -C "$R3" rev-parse origin/main)" ] && ok "3: the remote has the ticks' commits" ||
  bad "3: the tick clone and origin/main differ"
forge_json | python3 -c 'import json,sys
issues = [i for r in json.load(sys.stdin) if r["repo"] == "acme/resume" for i in r["issues"]
          if "cairn:escalation c3 " in i["body"]]
for i in issues:
    print(i["number"], i["state"], int(any("esumed" in c for c in i["comments"])))' >"$T/issues3" 2>"$T/issues3.err" || true
[ "$(wc -l <"$T/issues3")" = 1 ] && ok "3: exactly one escalation issue for c3 (no new one)" ||
  { bad "3: $(wc -l <"$T/issues3") escalation issues for c3 (number state resumed-comment):"; show "$T/issues3" "$T/issues3.err"; }
grep -q -E "^[0-9]+ closed 1$" "$T/issues3" && ok "3: the escalation issue is closed with a \"resumed\" comment" ||
  { bad "3: the escalation issue is not closed with a \"resumed\" comment (number state resumed-comment):"; show "$T/issues3"; }
grep -q -E "closed issue #[0-9]+ \(Resumed by #${pr3:-x}, merged by @alice" "$L3" &&
  ok "3: a tick said \"closed issue ... (Resumed by #$pr3, merged by @alice.)\"" ||
  bad "3: no tick said it closed the issue as resumed by #$pr3"
[ "$(git ls-remote "$url3" 'refs/heads/cairn/clear/c3/*' | wc -l)" = 1 ] && ok "3: no second clear branch" ||
  bad "3: clear branches: $(git ls-remote "$url3" 'refs/heads/cairn/clear/c3/*' | awk '{print $2}' | tr '\n' ' ')"

# ====================================================================================
echo "# 4. a transient failure is re-run once as a new attempt"
L4=$T/story4.log
R4=$T/r4 && mkdir -p "$R4" && cd "$R4" && git init -q && "$CAIRN" init >/dev/null
campaign . c4
# Fails once with the shipped catalog's transient ssh error, then succeeds.
job . c4 "if [ ! -e \"$T/c4.marker\" ]; then
  touch \"$T/c4.marker\"
  echo \"ssh: connect to host login1 port 22: Connection refused\" >&2
  exit 255
fi
echo \"all steps done\""
git add -A && git commit -qm "campaign c4" >/dev/null 2>&1
grep -q -F '`Connection refused\|ssh: connect to host` | transient' "$CAIRN_SOURCE_DIR/catalogs/failure-catalog.md" &&
  ok "4: the shipped catalog lists \`Connection refused\\|ssh: connect to host\` as transient" ||
  bad "4: the shipped catalog no longer has the transient ssh row this story relies on"
base4=$(git rev-parse HEAD)
tick_in "$L4" "$R4" && grep -q -F "c4: run ready -> running" "$T/out" && ok "4: the first plain tick submits the stage" ||
  { bad "4: the first tick did not submit"; show "$T/out"; }
first4=$(cell "$R4" c4 6)
wait_ran c4 1 || bad "4: the job never ran"
poll "$L4" "$R4" c4 || bad "4: the failed job was never seen to end"
grep -q "\[transient-connection\]" "$L4" && ok "4: the failure is classified transient-connection" ||
  { bad "4: the failure was not classified transient-connection:"; show "$L4"; }
# Plain ticks from here: a transient failure is retried by the next tick (at most 3 of
# them, then the polls of the new job).
plain4=""
for _ in 1 2 3; do
  case $(stage_status "$R4" c4) in ready|failed|pending) ;; *) break ;; esac
  rc=0 && tick_in "$L4" "$R4" || rc=$?  # plain: the retry
  [ "$rc" = 0 ] || { bad "4: a plain tick exited $rc"; show "$T/out"; }
  [ -n "$plain4" ] || cp "$T/out" "$T/retry4.out"
  plain4=1
done
if [ -n "$plain4" ]; then
  ! grep -q "not due" "$T/retry4.out" && grep -q -F "c4: run ready -> running" "$T/retry4.out" &&
    ok "4: the first plain tick after the transient failure submits the retry" ||
    { bad "4: the first plain tick after the transient failure did not submit:"; show "$T/retry4.out"; }
else
  ok "4: (the retry was submitted by the tick that saw the failure; no plain tick needed)"
fi
c=$(git log --format='%H %s' "$base4..HEAD" | awk '$2 == "c4:" && $0 ~ /run ready -> running$/ { print $1 }' | head -1)
n_submits=$(git log --format=%s "$base4..HEAD" | grep -c -x "c4: run ready -> running" || true)
[ "$n_submits" = 2 ] && ok "4: two \"ready -> running\" commits (the first attempt and the retry)" ||
  { bad "4: $n_submits \"c4: run ready -> running\" commits, wanted 2"; show "$L4"; }
if [ -n "$c" ] && [ "$n_submits" -ge 2 ]; then
  git log -1 --format=%B "$c" | grep -q Adopted && { bad "4: the retry adopted the failed job:"; git log -1 --format=%B "$c" | show; } ||
    ok "4: the retry is a new submission (no \"Adopted\")"
  [ "$(trailer "$R4" "$c" Cairn-Job)" != "$first4" ] && ok "4: the retry's job ($(trailer "$R4" "$c" Cairn-Job)) is not the first ($first4)" ||
    bad "4: the retry's Cairn-Job is the first attempt's ($first4)"
fi
poll "$L4" "$R4" c4 || bad "4: the retried job was never seen to end"
[ "$(stage_status "$R4" c4)" = done ] && ok "4: the stage ends done" ||
  { bad "4: the stage ends $(stage_status "$R4" c4), escalation_reason: $(fm "$R4" c4 escalation_reason)"; show "$L4"; }
[ "$(ran c4)" = 2 ] && ok "4: the job ran exactly twice" || bad "4: the job ran $(ran c4) times, wanted 2"
[ "$(escalations "$R4" c4)" = 0 ] && ok "4: no escalation" || bad "4: $(escalations "$R4" c4) escalation commits"
failure_rows "$R4" c4 >"$T/rows4"
[ "$(wc -l <"$T/rows4")" = 1 ] && grep -q -E "\| *RESOLVED *\|$" "$T/rows4" && ok "4: one Failure log row, ending RESOLVED" ||
  { bad "4: the Failure log does not have one RESOLVED row:"; show "$T/rows4"; }

# ====================================================================================
echo "# 5. two clones on one machine: conditions are checked where the job ran"
L5=$T/story5.log
git init -q --bare -b main "$T/srv/two.git"
url5="git://127.0.0.1:$port/two.git"
git clone -q "$url5" "$T/a5" 2>/dev/null
(
  cd "$T/a5" && git checkout -q -B main && "$CAIRN" init >/dev/null
  campaign . c5 && job . c5 'echo "result" > out.txt'
  # The control: a job that writes no out.txt (clone B will have a stale one of its own).
  campaign . c5x && job . c5x 'echo "forgot the output"'
  sed -i 's/^\(| 0 | run  | always          |\) exit=0         |/\1 `out.txt` exists |/' \
    campaigns/c5/WORKFLOW.md campaigns/c5x/WORKFLOW.md
  git add -A && git commit -qm "campaigns c5, c5x" >/dev/null 2>&1 && git push -q origin main
) && ok "5: clone A pushed campaigns c5 and c5x" || bad "5: seeding the remote"
grep -q '| `out.txt` exists |' "$T/a5/campaigns/c5/WORKFLOW.md" && ok "5: exit condition \`out.txt\` exists" ||
  bad "5: the exit condition was not set"
git clone -q "$url5" "$T/b5" 2>/dev/null
tick_in "$L5" "$T/a5" && grep -q -F "c5: run ready -> running" "$T/out" && grep -q -F "c5x: run ready -> running" "$T/out" &&
  ok "5: clone A's plain tick submits both jobs" || { bad "5: clone A's tick did not submit both"; show "$T/out"; }
wait_ran c5 1 || bad "5: the job never ran"
wait_ran c5x 1 || bad "5: the control job never ran"
for _ in $(seq 1 50); do [ -e "$T/a5/campaigns/c5/out.txt" ] && break; sleep 0.1; done
[ -e "$T/a5/campaigns/c5/out.txt" ] && ok "5: the job wrote out.txt in clone A's campaign dir" || bad "5: no out.txt in clone A"
sleep 0.5  # the supervisor records the exit just after the script ends
git -C "$T/b5" pull -q --ff-only origin main
[ ! -e "$T/b5/campaigns/c5/out.txt" ] && [ -z "$(git -C "$T/b5" ls-files campaigns/c5/out.txt)" ] &&
  ok "5: clone B has no out.txt (absent, untracked)" || bad "5: clone B has an out.txt"
echo "stale, from an old run in this checkout" > "$T/b5/campaigns/c5x/out.txt"
# B polls the jobs clone A submitted (--force: cadence, see the header).
poll "$L5" "$T/b5" c5 || bad "5: clone B never saw the job end"
poll "$L5" "$T/b5" c5x || bad "5: clone B never saw the control job end"
[ "$(stage_status "$T/b5" c5)" = done ] && ok "5: clone B marks the stage done" ||
  { bad "5: clone B leaves the stage $(stage_status "$T/b5" c5) (escalation_reason: $(fm "$T/b5" c5 escalation_reason)):"; show "$L5"; }
git -C "$T/a5" pull -q --ff-only origin main 2>/dev/null || true
git -C "$T/a5" show origin/main:campaigns/c5/WORKFLOW.md >"$T/remote5.md" 2>/dev/null || true
grep -q -E '^\| 0 \| run +\|.*\| done +\|' "$T/remote5.md" && ok "5: the stage is done on the remote" ||
  { bad "5: on the remote the stage is not done:"; grep -E '^\| 0 \| run' "$T/remote5.md" | show; }
[ "$(ran c5)" = 1 ] && ok "5: the job ran once" || bad "5: the job ran $(ran c5) times"
[ -e "$T/a5/campaigns/c5/out.txt" ] && [ ! -e "$T/b5/campaigns/c5/out.txt" ] && ok "5: out.txt exists only in clone A" ||
  bad "5: out.txt in A: $([ -e "$T/a5/campaigns/c5/out.txt" ] && echo yes || echo no), in B: $([ -e "$T/b5/campaigns/c5/out.txt" ] && echo yes || echo no)"

[ "$(stage_status "$T/b5" c5x)" != done ] &&
  ok "5: control: a job that wrote no out.txt is not done, though clone B's checkout has a stale one (stage $(stage_status "$T/b5" c5x))" ||
  bad "5: control: clone B marked c5x done from the out.txt in its own checkout, not the job's directory"

echo "# 7. an unpushed cairn clear is a human's commit: a tick never drops it"
# Clone B's c5x escalated above (its job wrote no out.txt). The human clears it in B
# and ticks there before pushing.
if [ "$(fm "$T/b5" c5x escalation_required)" = true ]; then
  ok "7: premise: c5x is escalated in clone B"
  (cd "$T/b5" && "$CAIRN" clear c5x --reason "the job writes out.txt now") >"$T/out" 2>&1 &&
    ok "7: cairn clear c5x in clone B" || { bad "7: cairn clear failed"; show "$T/out"; }
  expect_grep "7: clear says to push it" "push it \(git push\)" "$T/out"
  cleared=$(git -C "$T/b5" rev-parse HEAD)
  rc=0; tick_in "$L5" "$T/b5" || rc=$?
  [ "$rc" = 3 ] && grep -q "is not on origin/main: push it" "$T/out" &&
    ok "7: the tick refuses: the unpushed clear must be pushed first (exit 3)" ||
    { bad "7: the tick exited $rc:"; show "$T/out"; }
  [ "$(git -C "$T/b5" rev-parse HEAD)" = "$cleared" ] && [ "$(fm "$T/b5" c5x escalation_required)" = false ] &&
    ok "7: the clear commit is still the branch's tip" || bad "7: the tick dropped the human's clear commit"
  git -C "$T/b5" push -q origin main 2>/dev/null && ok "7: the human pushes" || bad "7: push failed"
  tick_in "$L5" "$T/b5" && grep -q -F "c5x: run ready -> running" "$T/out" &&
    ok "7: the next plain tick runs c5x again" || { bad "7: the tick after the push:"; show "$T/out"; }
else
  bad "7: premise: c5x is not escalated in clone B ($(fm "$T/b5" c5x escalation_required))"
fi

echo "# 8. settings pushed from another clone apply at the next tick, not the one after"
# Clone A changes the tick's identity and adds a campaign; clone B, not pulled, ticks.
(
  cd "$T/a5" && git pull -q --ff-only origin main 2>/dev/null
  sed -i 's/^identity: .*/identity: {name: Renamed Bot, email: renamed-bot@example.invalid}/' cairn.yaml
  campaign . c8 && job . c8 'echo "eight"'
  git add -A && git commit -qm "rename the bot; campaign c8" && git push -q origin main
) >/dev/null 2>&1 && ok "8: clone A pushed a new identity and campaign c8" || bad "8: clone A could not push"
grep -q '^identity: {name: Renamed Bot' "$T/b5/cairn.yaml" && bad "8: premise: clone B already has it" ||
  ok "8: premise: clone B's checkout still has the old identity"
tick_in "$L5" "$T/b5" && grep -q -F "c8: run ready -> running" "$T/out" &&
  ok "8: clone B's plain tick fetches and submits c8" || { bad "8: clone B's tick:"; show "$T/out"; }
author=$(git -C "$T/b5" log -1 --format='%an <%ae>' --grep='^c8: run ready -> running')
[ "$author" = "Renamed Bot <renamed-bot@example.invalid>" ] &&
  ok "8: the submit is committed as the identity pushed from clone A" ||
  bad "8: the submit is committed as '$author', the identity of the checkout before the fetch"

echo "figures: cli_resume.sh ran in $((SECONDS - started)) s"
finish
