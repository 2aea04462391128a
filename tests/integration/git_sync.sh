#!/usr/bin/env bash
# Many ticks, one truth, against a real git server (`git daemon` with receive-pack on
# loopback; a local-path remote would skip receive-pack and its compare-and-swap):
# a tick killed at each effect boundary is recovered by the ticks after it, with no job
# submitted twice and no transition lost (CAIRN_FAULT_RUNS crashes per boundary, 20 by
# default); a depth-1 clone ticks; a server that refuses pushes, one that hangs on a
# push, a host name that does not resolve, a server that never answers and a server
# that is down are a clean exit 3 with a one-line reason, leaving nothing the next tick
# trips over. (Racing ticks over HTTP: git_http.sh.)
source "$(dirname "$0")/lib.sh"
need_fault_injection

command -v python3 >/dev/null || { echo "SKIP: python3 is not installed (the fake forge and the silent server need it; ci/test installs it)"; exit 77; }
runs_per=${CAIRN_FAULT_RUNS:-20}
reduced=""
[ "$runs_per" -lt 20 ] && reduced=" (reduced counts${CAIRN_REDUCED_WHY:+ $CAIRN_REDUCED_WHY}: CAIRN_FAULT_RUNS=$runs_per, 20 by default)"
[ -n "$reduced" ] && echo "NOTE:$reduced"
started=$SECONDS

mkdir -p "$T/srv"
git init -q --bare -b main "$T/srv/campaigns.git"
git init -q --bare -b main "$T/srv/forge.git"
# The escalation side of a tick talks to a stateful fake forge (as forge_flow.sh does).
FORGE_TOKEN="ghp_CrashForgeToken0123456789abcdefABCDEF"
python3 "$CAIRN_SOURCE_DIR/tests/servers/fake_forge.py" --token "$FORGE_TOKEN" --port-file "$T/forge.port" \
  2>"$T/forge.err" &
forge=$!
# A server that accepts connections and never says a word.
python3 -c '
import os, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(64)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1])); os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    held.append(s.accept()[0])
' "$T/silent.port" 2>"$T/silent.err" &
silent=$!
daemon=""
trap 'kill $daemon $forge $silent 2>/dev/null || true; [ -n "${CAIRN_KEEP_TMP:-}" ] || rm -rf "$T"' EXIT
# A port below the ephemeral range, another one if it is taken.
for try in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 12000))
  git daemon --reuseaddr --listen=127.0.0.1 --port=$port --base-path="$T/srv" --export-all \
    --enable=receive-pack "$T/srv" >"$T/daemon.log" 2>&1 &
  daemon=$!
  url="git://127.0.0.1:$port/campaigns.git"
  for i in $(seq 1 50); do
    git ls-remote "$url" >/dev/null 2>&1 && break
    kill -0 $daemon 2>/dev/null || break
    sleep 0.1
  done
  git ls-remote "$url" >/dev/null 2>&1 && break
  kill $daemon 2>/dev/null || true
done
if ! git ls-remote "$url" >/dev/null 2>&1; then
  echo "SKIP: git daemon did not start (last port $port):"; cat "$T/daemon.log"
  exit 77
fi
for i in $(seq 1 50); do [ -s "$T/forge.port" ] && [ -s "$T/silent.port" ] && break; sleep 0.1; done
[ -s "$T/forge.port" ] || { echo "SKIP: the fake forge did not start: $(cat "$T/forge.err")"; exit 77; }
[ -s "$T/silent.port" ] || { echo "SKIP: the silent server did not start: $(cat "$T/silent.err")"; exit 77; }
ok "git daemon with receive-pack on 127.0.0.1:$port, a fake forge, a silent server"
API="http://127.0.0.1:$(cat "$T/forge.port")"
export FAKE_FORGE_TOKEN=$FORGE_TOKEN CAIRN_FORGE_MIN_INTERVAL_MS=0 CAIRN_FORGE_BACKOFF_MS=10
unset CAIRN_TOKEN GITHUB_TOKEN CI_JOB_TOKEN

git clone -q "$url" "$T/seed" 2>/dev/null
( cd "$T/seed" && git checkout -q -b main 2>/dev/null; "$CAIRN" init >/dev/null && git add -A &&
  git commit -qm "cairn init" && git push -q origin main ) || { bad "seeding the remote"; finish; exit 1; }
# The forge repository: the same, plus a forge for escalations.
git clone -q "git://127.0.0.1:$port/forge.git" "$T/fseed" 2>/dev/null
( cd "$T/fseed" && git checkout -q -b main 2>/dev/null
  cat > cairn.yaml <<YAML
root: campaigns
branch: main
identity: {name: cairn-bot, email: cairn-bot@test.invalid}
forge: {kind: github, repo: acme/sims, api: "$API", token_env: FAKE_FORGE_TOKEN}
YAML
  mkdir -p campaigns && touch campaigns/.keep && git add -A && git commit -qm "cairn.yaml" && git push -q origin main ) ||
  { bad "seeding the forge remote"; finish; exit 1; }
git clone -q "$url" "$T/clone1"
git clone -q "git://127.0.0.1:$port/forge.git" "$T/fclone"
# Each clone stands for a runner machine with its own local-backend state: a job is
# found by its key only on the runner that submitted it (as on a shared cluster).
tick_in() {  # tick_in DIR [args...]
  local d=$1; shift
  (cd "$d" && CAIRN_STATE_DIR="$T/state-$(basename "$d")" "$CAIRN" tick "$@")
}
human_adds() {  # human_adds SEED NAME [escalated [ARCHIVE]]: a human pushes a new campaign
  # (and moves campaign ARCHIVE out of the campaigns root, so that the forge step of
  # each crash run has one escalation to act on, not all the earlier ones again)
  ( cd "$1" && git pull -q --rebase origin main && campaign . "$2" &&
    if [ "${3:-}" = escalated ]; then escalate_file "campaigns/$2/WORKFLOW.md"; fi &&
    if [ -n "${4:-}" ]; then mkdir -p archive && git mv "campaigns/$4" "archive/$4"; fi &&
    git add -A && git commit --no-verify -qm "campaign $2" && git push -q origin main )
}
escalate_file() {  # as a tick leaves a campaign whose job hit its walltime twice
  sed -i -e 's/^status: ready$/status: escalated/' -e 's/^escalation_required: false$/escalation_required: true/' \
    -e 's/^escalation_reason: ""$/escalation_reason: "walltime exceeded twice"/' \
    -e 's/| pending | —     |/| escalated | 42    |/' \
    -e '/^|------|-------|/a | 2026-11-23 | run | walltime-exceeded | job 42: DUE TO TIME LIMIT | escalated | ESCALATED |' "$1"
}
status_of() { sed -n 's/^status: //p' "$1/campaigns/$2/WORKFLOW.md" 2>/dev/null; }
# Ticks until quiet. A campaign with a job: tick it (`--only`) until it is done, polling
# the job's trace instead of sleeping a fixed time (the quiet tick for all of them comes
# last). An escalated one: until a tick changes nothing, on the branch or the forge.
# Returns 1 when it never gets there.
settle() {  # settle DIR NAME [forge]
  local d=$1 name=$2 kind=${3:-} i before out only=(--only "$2")
  [ "$kind" = forge ] && only=()
  for i in $(seq 1 25); do
    settle_ticks=$((settle_ticks + 1))
    before=$(git -C "$d" rev-parse HEAD)
    out=$(tick_in "$d" --force "${only[@]}" 2>&1) || { sleep 0.2; continue; }
    if [ "$kind" = forge ]; then
      [ "$(git -C "$d" rev-parse HEAD)" = "$before" ] && ! grep -q -E "forge: $name: (opened|pushed)" <<<"$out" &&
        [ "$(status_of "$d" "$name")" = escalated ] && return 0
      continue
    fi
    case $(status_of "$d" "$name") in
      done) return 0 ;;
      running) for _ in $(seq 1 50); do [ "$(ran "$name")" != 0 ] && break; sleep 0.05; done
               sleep 0.1 ;;  # the job's supervisor records its exit
    esac
  done
  return 1
}
# The issues and pull requests the fake forge was asked to create, per campaign named
# on the command line: "NAME ISSUES PULLS" lines.
forge_counts() {
  python3 - "$API" "$@" <<'PY'
import json, sys, urllib.request
api, names = sys.argv[1], sys.argv[2:]
reqs = json.load(urllib.request.urlopen(api + "/_control/requests"))
def made(suffix, key, want):
    return sum(1 for r in reqs if r["method"] == "POST" and r["path"].endswith(suffix) and
               json.loads(r["body"] or "{}").get(key, "").startswith(want))
for n in names:
    print(n, made("/issues", "title", "cairn: %s escalated" % n), made("/pulls", "head", "cairn/clear/%s/" % n))
PY
}

# Crash at each effect boundary, then ticks until quiet: nothing twice, nothing lost.
# A first tick of a fresh campaign commits pending -> ready (1) and the intent (2),
# publishes both (1), submits, commits ready -> running with the JobID (3), publishes (2),
# then runs the forge step. One fresh campaign per run; a human pushes them all first,
# and each run ticks only its own (`--only`), except for the forge step, which looks at
# every escalated campaign: those arrive one per run. One runner here, so the announced
# submit of a dead tick is stale at once (CAIRN_INTENT_GRACE=0; racing runners wait
# 120 s, see git_http.sh).
export CAIRN_INTENT_GRACE=0
boundaries=(
  "after-intent-commit exit-after-commit:2"
  "after-intent-push exit-after-publish:1"
  "after-submit exit-after-submit:1"
  "after-JobID-commit exit-after-commit:3"
  "after-push exit-after-publish:2"
  "after-forge-call exit-after-forge:1"
)
( cd "$T/seed" && git pull -q --rebase origin main &&
  for b in "${boundaries[@]}"; do
    [ "${b%% *}" = after-forge-call ] && continue
    for r in $(seq 1 "$runs_per"); do campaign . "x-${b%% *}-$r"; done
  done && git add -A && git commit --no-verify -qm "campaigns for the crash runs" && git push -q origin main ) ||
  bad "a human pushes the crash campaigns"
crashes=0 dupes=0 lost=0 unsettled=0
for b in "${boundaries[@]}"; do
  label=${b%% *} spec=${b#* } settle_ticks=0
  b_dupes=0 b_lost=0 b_fired=0 b_started=$SECONDS
  for r in $(seq 1 "$runs_per"); do
    name="x-$label-$r"
    if [ "$label" = after-forge-call ]; then
      d=$T/fclone only=() kind=forge
      human_adds "$T/fseed" "$name" escalated "$([ "$r" -gt 1 ] && echo "x-$label-$((r - 1))")" ||
        { bad "$name: human push"; continue; }
    else
      d=$T/clone1 only=(--only "$name") kind=""
    fi
    rc=0
    CAIRN_FAULT_INJECT=$spec tick_in "$d" --force "${only[@]}" >"$T/crash.out" 2>&1 || rc=$?
    if [ "$rc" = 137 ]; then b_fired=$((b_fired + 1)); else bad "$name: the tick did not die at $spec (exit $rc)"; sed 's/^/    /' "$T/crash.out"; fi
    settle "$d" "$name" $kind || { unsettled=$((unsettled + 1)); bad "$name: never got quiet"; }
    if [ "$kind" != forge ]; then
      n=$(ran "$name")
      [ "$n" -gt 1 ] && { b_dupes=$((b_dupes + 1)); bad "$name: the job ran $n times"; }
      [ "$n" -lt 1 ] && { b_lost=$((b_lost + 1)); bad "$name: the job never ran"; }
    fi
  done
  if [ "$label" = after-forge-call ]; then  # one issue and one pull request each
    while read -r name issues pulls; do
      [ "$issues" -gt 1 ] || [ "$pulls" -gt 1 ] && { b_dupes=$((b_dupes + 1)); bad "$name: $issues issues, $pulls pull requests"; }
      [ "$issues" -lt 1 ] || [ "$pulls" -lt 1 ] && { b_lost=$((b_lost + 1)); bad "$name: $issues issues, $pulls pull requests"; }
    done <<<"$(forge_counts $(for r in $(seq 1 "$runs_per"); do echo "x-$label-$r"; done))"
  fi
  crashes=$((crashes + b_fired)) dupes=$((dupes + b_dupes)) lost=$((lost + b_lost))
  [ "$b_fired" = "$runs_per" ] && [ "$b_dupes" = 0 ] && [ "$b_lost" = 0 ] &&
    ok "$label ($spec): $runs_per crashes, each recovered: 0 duplicates, 0 lost ($settle_ticks ticks after the crashes, $((SECONDS - b_started)) s)"
done
# A tick submits every ready campaign in one batch: all intents in one push, then the
# submits. Crash after that push (before any submit) and after the second submit of a
# batch of three: every job still runs exactly once.
batch_runs=$(( runs_per / 4 > 1 ? runs_per / 4 : 1 ))
for b in "batch-after-intent-push exit-after-publish:1" "batch-after-some-submits exit-after-submit:2"; do
  label=${b%% *} spec=${b#* } settle_ticks=0 b_fired=0 b_dupes=0 b_lost=0 b_started=$SECONDS
  for r in $(seq 1 "$batch_runs"); do
    names=("$label-$r-a" "$label-$r-b" "$label-$r-c")
    ( cd "$T/seed" && git pull -q --rebase origin main && for n in "${names[@]}"; do campaign . "$n"; done &&
      git add -A && git commit --no-verify -qm "three campaigns" && git push -q origin main ) || bad "$label: human push"
    rc=0
    CAIRN_FAULT_INJECT=$spec tick_in "$T/clone1" --force >"$T/crash.out" 2>&1 || rc=$?
    [ "$rc" = 137 ] && b_fired=$((b_fired + 1)) || { bad "$label: the tick did not die at $spec (exit $rc)"; sed 's/^/    /' "$T/crash.out"; }
    for n in "${names[@]}"; do
      settle "$T/clone1" "$n" || { unsettled=$((unsettled + 1)); bad "$n: never got quiet"; }
      c=$(ran "$n")
      [ "$c" -gt 1 ] && { b_dupes=$((b_dupes + 1)); bad "$n: the job ran $c times"; }
      [ "$c" -lt 1 ] && { b_lost=$((b_lost + 1)); bad "$n: the job never ran"; }
    done
  done
  crashes=$((crashes + b_fired)) dupes=$((dupes + b_dupes)) lost=$((lost + b_lost))
  [ "$b_fired" = "$batch_runs" ] && [ "$b_dupes" = 0 ] && [ "$b_lost" = 0 ] &&
    ok "$label ($spec): $batch_runs crashes in a batch of 3, each recovered: 0 duplicates, 0 lost ($settle_ticks ticks after the crashes, $((SECONDS - b_started)) s)"
done

# Quiet: a tick over every campaign finds nothing left to do.
before=$(git -C "$T/clone1" rev-parse HEAD)
expect_rc 0 "a last tick over every campaign" tick_in "$T/clone1" --force
[ "$(git -C "$T/clone1" rev-parse HEAD)" = "$before" ] && ! grep -q -- " -> " "$T/out" && ok "it is quiet: no transition" ||
  { unsettled=$((unsettled + 1)); bad "not quiet: $(grep -- ' -> ' "$T/out")"; }

# The remote's view: every crashed campaign settled, each transition exactly once.
git clone -q "$url" "$T/final"
git clone -q "git://127.0.0.1:$port/forge.git" "$T/ffinal"
git -C "$T/final" log --format=%s >"$T/subjects"
for b in "${boundaries[@]}"; do
  label=${b%% *}
  for r in $(seq 1 "$runs_per"); do
    name="x-$label-$r"
    if [ "$label" = after-forge-call ]; then
      f=$T/ffinal/archive/$name/WORKFLOW.md
      [ "$r" = "$runs_per" ] && f=$T/ffinal/campaigns/$name/WORKFLOW.md
      grep -q "^status: escalated" "$f" || { lost=$((lost + 1)); bad "$name: $(grep '^status' "$f")"; }
      continue
    fi
    [ "$(status_of "$T/final" "$name")" = done ] || { lost=$((lost + 1)); bad "$name is $(status_of "$T/final" "$name") on the remote"; }
    for t in "pending -> ready" "ready -> running" "running -> done"; do
      n=$(grep -c -x -F "$name: run $t" "$T/subjects" || true)
      [ "$n" = 1 ] || { [ "$n" -gt 1 ] && dupes=$((dupes + 1)) || lost=$((lost + 1)); bad "$name: $n \"$t\" commits on the remote"; }
    done
  done
done
[ -z "$(git -C "$T/final" rev-list --merges HEAD)" ] && ok "history is linear" || bad "merge commits in history"
total=$(( ${#boundaries[@]} * runs_per + 2 * batch_runs ))
[ "$crashes" = "$total" ] && [ "$dupes" = 0 ] && [ "$lost" = 0 ] && [ "$unsettled" = 0 ] &&
  ok "every crashed campaign settled on the remote with each transition once"
echo "figures: crash injection: ${#boundaries[@]} boundaries x $runs_per runs + 2 batch boundaries x $batch_runs runs = $crashes crashes, $dupes duplicate submissions, $lost lost transitions, $unsettled never quiet, $((SECONDS - started)) s$reduced"

# CI checks repositories out shallow (actions/checkout `fetch-depth: 1`): fetch into
# and push from a depth-1 clone.
git clone -q --depth 1 "$url" "$T/shallow"
human_adds "$T/seed" shallow1
cd "$T/shallow"
expect_rc 0 "a tick in a depth-1 clone" env CAIRN_STATE_DIR="$T/state-shallow" "$CAIRN" tick --force
git -C "$T/final" pull -q origin main 2>/dev/null
grep -q -x "shallow1: run ready -> running" <<<"$(git -C "$T/final" log --format=%s)" && ok "its transitions reached the remote" ||
  bad "no shallow1 transitions on the remote"
cd "$T/clone1"

# What a failed tick must leave behind: the branch where it was (or only cairn's own
# commits on it, which the next tick drops), a clean work tree, no lock files.
left_clean() {  # left_clean DESC
  [ -z "$(git status --porcelain --untracked-files=no)" ] && ok "$1: work tree untouched" || bad "$1: work tree changed: $(git status --short)"
  [ -z "$(find .git -name '*.lock')" ] && ok "$1: no lock files" || bad "$1: lock files left: $(find .git -name '*.lock')"
  [ "$(wc -l < "$T/err")" -le 2 ] && ok "$1: one-line reason: $(head -1 "$T/err")" || bad "$1: long error: $(cat "$T/err")"
}

# A server that refuses every push (pre-receive hook): retried, then exit 3; the job
# whose intent never landed is not submitted.
human_adds "$T/seed" refused
printf '#!/bin/sh\necho "no pushes today" >&2\nexit 1\n' > "$T/srv/campaigns.git/hooks/pre-receive"
chmod +x "$T/srv/campaigns.git/hooks/pre-receive"
expect_rc 3 "a refused push ends in exit 3" tick_in "$T/clone1" --force
expect_grep "says why" "refused|moved" "$T/err"
[ "$(ran refused)" = 0 ] && ok "nothing submitted without a landed intent" || bad "ran without a landed intent"

# A server that hangs on the push (a hook that never finishes in time): the push gives
# up after CAIRN_NETWORK_TIMEOUT, exit 3, nothing submitted.
printf '#!/bin/sh\nsleep 20\nexit 1\n' > "$T/srv/campaigns.git/hooks/pre-receive"
t0=$SECONDS
expect_rc 3 "a push the server never answers ends in exit 3" env CAIRN_NETWORK_TIMEOUT=2 CAIRN_STATE_DIR="$T/state-clone1" "$CAIRN" tick --force
expect_grep "says it timed out" "pushing main to .*timed out" "$T/err"
[ $((SECONDS - t0)) -le 12 ] && ok "gave up after $((SECONDS - t0)) s" || bad "took $((SECONDS - t0)) s to give up"
left_clean "hung push"
[ "$(ran refused)" = 0 ] && ok "nothing submitted without a landed intent" || bad "ran without a landed intent"
rm "$T/srv/campaigns.git/hooks/pre-receive"

# A host name that does not resolve, and a server that accepts the connection and never
# answers (over HTTP and git://): exit 3 within CAIRN_NETWORK_TIMEOUT, one line.
human_adds "$T/seed" offline1
head_before=$(git rev-parse HEAD)
for bad_url in "http://cairn-no-such-host.invalid/campaigns.git" \
  "http://127.0.0.1:$(cat "$T/silent.port")/campaigns.git" "git://127.0.0.1:$(cat "$T/silent.port")/campaigns.git"; do
  git remote set-url origin "$bad_url"
  t0=$SECONDS
  expect_rc 3 "remote $bad_url" env CAIRN_NETWORK_TIMEOUT=2 CAIRN_STATE_DIR="$T/state-clone1" "$CAIRN" tick --force
  case $bad_url in
    *invalid*) expect_grep "says the name does not resolve" "resolve|Name or service not known|not known" "$T/err" ;;
    *) expect_grep "says it timed out" "no answer for 2 s \(timed out" "$T/err"
       [ $((SECONDS - t0)) -le 10 ] && ok "gave up after $((SECONDS - t0)) s" || bad "took $((SECONDS - t0)) s to give up" ;;
  esac
  left_clean "$bad_url"
  [ "$(git rev-parse HEAD)" = "$head_before" ] && ok "$bad_url: branch not moved" || bad "$bad_url: the branch moved"
done
git remote set-url origin "$url"
# A depth-1 clone fetches with git itself: the same bound, through git's own settings.
cd "$T/shallow"
git remote set-url origin "http://127.0.0.1:$(cat "$T/silent.port")/campaigns.git"
t0=$SECONDS
expect_rc 3 "a depth-1 clone against the silent server" env CAIRN_NETWORK_TIMEOUT=2 CAIRN_STATE_DIR="$T/state-shallow" "$CAIRN" tick --force
expect_grep "says it timed out" "too slow|timed out" "$T/err"
[ $((SECONDS - t0)) -le 10 ] && ok "gave up after $((SECONDS - t0)) s" || bad "took $((SECONDS - t0)) s to give up"
left_clean "depth-1 clone, silent server"
git remote set-url origin "$url"
cd "$T/clone1"
expect_rc 0 "with the good remote back, the next tick works" tick_in "$T/clone1" --force
expect_grep "it drops the hung tick's unpushed commits" "dropped [0-9]+ unpushed cairn commit" "$T/out"
expect_grep "and does the work" "offline1: run ready -> running" "$T/out"
git -C "$T/final" pull -q origin main 2>/dev/null
grep -q -x "refused: run ready -> running" <<<"$(git -C "$T/final" log --format=%s)" && ok "the refused campaign went on" ||
  bad "no refused transitions on the remote"

# The server is down: exit 3, one line, nothing half-written.
kill $daemon; wait $daemon 2>/dev/null || true
expect_rc 3 "remote down" tick_in "$T/clone1" --force
left_clean "remote down"

echo "figures: git_sync.sh ran in $((SECONDS - started)) s"
finish
