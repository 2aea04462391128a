#!/usr/bin/env bash
# Many ticks, one truth, against a real git server (`git daemon` with receive-pack on
# loopback; a local-path remote would skip receive-pack and its compare-and-swap):
# concurrent ticks on clones of one remote never submit a job twice, never lose a
# transition, keep history linear, and never drop a human's commit; a crash at each
# effect boundary is recovered by the next tick; a server that refuses pushes and a
# server that is down are a clean exit 3.
source "$(dirname "$0")/lib.sh"

port=$((20000 + RANDOM % 20000))
mkdir -p "$T/srv"
git init -q --bare -b main "$T/srv/campaigns.git"
git daemon --reuseaddr --listen=127.0.0.1 --port=$port --base-path="$T/srv" --export-all \
  --enable=receive-pack "$T/srv" >"$T/daemon.log" 2>&1 &
daemon=$!
trap 'kill $daemon 2>/dev/null || true; [ -n "${CAIRN_KEEP_TMP:-}" ] || rm -rf "$T"' EXIT
url="git://127.0.0.1:$port/campaigns.git"
for i in $(seq 1 50); do git ls-remote "$url" >/dev/null 2>&1 && break; sleep 0.1; done
if ! git ls-remote "$url" >/dev/null 2>&1; then
  echo "SKIP: git daemon did not start on port $port:"; cat "$T/daemon.log"
  exit 77
fi
ok "git daemon with receive-pack on 127.0.0.1:$port"

git clone -q "$url" "$T/seed" 2>/dev/null
( cd "$T/seed" && git checkout -q -b main 2>/dev/null; "$CAIRN" init >/dev/null && git add -A &&
  git commit -qm "cairn init" && git push -q origin main ) || { bad "seeding the remote"; finish; exit 1; }
for n in 1 2 3 4; do git clone -q "$url" "$T/clone$n"; done
# Each clone stands for a different runner machine: its own local-backend state, so
# the backend cannot deduplicate across them and only the published intents can.
tick_in() {  # tick_in N [args...]
  local n=$1; shift
  (cd "$T/clone$n" && CAIRN_STATE_DIR="$T/state$n" "$CAIRN" tick "$@")
}


rounds=6
per_round=4
gave_up=0
for round in $(seq 1 $rounds); do
  # A human adds this round's campaigns on the remote...
  ( cd "$T/seed" && git pull -q --rebase origin main &&
    for k in $(seq 1 $per_round); do campaign . "r${round}c$k"; done &&
    git add -A && git commit -qm "round $round: $per_round campaigns" && git push -q origin main ) ||
    bad "round $round: human push"
  # ...and 2 (odd rounds) or 4 (even rounds) ticks race to start them.
  racers=$(( round % 2 == 1 ? 2 : 4 ))
  pids=()
  for n in $(seq 1 $racers); do
    ( rc=0; tick_in $n --force >"$T/tick$n.out" 2>&1 || rc=$?; echo $rc >"$T/tick$n.rc" ) &
    pids+=($!)
  done
  # A human commit lands on the remote while they run (pushing again when a tick got
  # there first, as a human would): it must survive.
  ( cd "$T/seed" && git pull -q --rebase origin main && echo "round $round" >> NOTES.md && git add NOTES.md &&
    git commit -qm "human note $round" &&
    for try in 1 2 3 4 5 6 7 8 9 10; do git pull -q --rebase origin main && git push -q origin main 2>/dev/null && break; sleep 0.3; done ) ||
    bad "round $round: the human could not push"
  wait "${pids[@]}"
  for n in $(seq 1 $racers); do
    rc=$(cat "$T/tick$n.rc")
    # Exit 3 after losing every retry is allowed by design (the next tick redoes the
    # work); anything else is a failure.
    if [ "$rc" = 3 ] && grep -q "was refused" "$T/tick$n.out"; then
      gave_up=$((gave_up + 1))
    elif [ "$rc" != 0 ]; then
      bad "round $round tick $n exit $rc"; sed 's/^/    /' "$T/tick$n.out"
    fi
  done
done
# Settle: each runner sees its own jobs through.
sleep 1
for i in 1 2 3; do for n in 1 2 3 4; do tick_in $n --force >/dev/null 2>&1; done; sleep 1; done

git clone -q "$url" "$T/final"
cd "$T/final"
total=$((rounds * per_round))
runs=$(wc -l < "$T/runs.txt" 2>/dev/null || echo 0)
dupes=$(cut -d' ' -f1 "$T/runs.txt" | sort | uniq -d | wc -l)
[ "$dupes" = 0 ] && ok "0 duplicate submissions ($runs job runs for $total campaigns)" || bad "$dupes campaign(s) ran twice"
[ "$runs" = "$total" ] && ok "every campaign's job ran" || bad "$runs of $total jobs ran"
done_count=$(grep -l "^status: done" campaigns/*/WORKFLOW.md | wc -l)
[ "$done_count" = "$total" ] && ok "0 lost transitions: all $total campaigns done" || bad "$done_count of $total done"
for c in campaigns/*/; do
  name=$(basename "$c")
  n=$(git log --format=%s | grep -c "^$name: run ready -> running$")
  [ "$n" = 1 ] || bad "$name has $n submit transitions"
done
ok "one submit transition per campaign on the remote"
[ -z "$(git rev-list --merges HEAD)" ] && ok "history is linear" || bad "merge commits in history"
[ "$(grep -c '^round' NOTES.md)" = "$rounds" ] && ok "every human commit survived ($rounds)" || bad "human notes lost: $(cat NOTES.md)"
intents=$(git log --format=%B | grep -c '^Cairn-Intent: submit ')
ok "figures: $rounds rounds, $total campaigns, $intents intents published, $runs job runs, $dupes duplicates, $gave_up tick(s) gave up after losing every retry"

# Crash at each effect boundary, then ticks until quiet: nothing twice, nothing lost.
# One runner now, so the announced submit of a dead tick is taken over after 2 s
# instead of the default 120 (which covers racing runners on a loaded machine).
export CAIRN_INTENT_GRACE=2
# (A first tick makes 3 commits and 2 publishes and 1 submit: every one is a boundary.)
for boundary in exit-before-commit:1 exit-before-commit:2 exit-before-commit:3 exit-after-publish:1 \
  exit-after-publish:2 exit-after-submit:1; do
  point=${boundary%:*} k=${boundary#*:}
  {
    name="crash-$point-$k"
    ( cd "$T/seed" && git pull -q --rebase origin main && campaign . "$name" &&
      git add -A && git commit -qm "campaign $name" && git push -q origin main )
    CAIRN_FAULT_INJECT=$point:$k tick_in 1 --force >"$T/crash.out" 2>&1 && bad "$name: did not fire"
    for i in 1 2 3 4 5; do tick_in 1 --force >/dev/null 2>&1; sleep 1; done
    n=$(grep -c "^$name " "$T/runs.txt" || true)
    [ "$n" = 1 ] && ok "$name: the job ran once" || bad "$name: the job ran $n times"
    git -C "$T/final" pull -q origin main 2>/dev/null
    grep -q "^status: done" "$T/final/campaigns/$name/WORKFLOW.md" && ok "$name: campaign done" ||
      bad "$name: $(grep '^status' "$T/final/campaigns/$name/WORKFLOW.md")"
  }
done

# CI checks repositories out shallow (actions/checkout `fetch-depth: 1`): fetch into
# and push from a depth-1 clone.
git clone -q --depth 1 "$url" "$T/shallow"
( cd "$T/seed" && git pull -q --rebase origin main && campaign . shallow1 && git add -A &&
  git commit -qm "campaign shallow1" && git push -q origin main )
cd "$T/shallow"
expect_rc 0 "a tick in a depth-1 clone" env CAIRN_STATE_DIR="$T/state-shallow" "$CAIRN" tick --force
git -C "$T/final" pull -q origin main 2>/dev/null
git -C "$T/final" log --format=%s | grep -x "shallow1: run ready -> running" >/dev/null && ok "its transitions reached the remote" ||
  bad "no shallow1 transitions on the remote"
cd "$T/clone1"

# A server that refuses every push (pre-receive hook): retried, then exit 3; the job
# whose intent never landed is not submitted.
( cd "$T/seed" && git pull -q --rebase origin main && campaign . refused && git add -A &&
  git commit -qm refused && git push -q origin main )
printf '#!/bin/sh\necho "no pushes today" >&2\nexit 1\n' > "$T/srv/campaigns.git/hooks/pre-receive"
chmod +x "$T/srv/campaigns.git/hooks/pre-receive"
expect_rc 3 "a refused push ends in exit 3" tick_in 1 --force
expect_grep "says why" "refused|moved" "$T/err"
grep -q "^refused " "$T/runs.txt" && bad "ran without a landed intent" || ok "nothing submitted without a landed intent"
rm "$T/srv/campaigns.git/hooks/pre-receive"

# The server is down: exit 3, one line, nothing half-written.
kill $daemon; wait $daemon 2>/dev/null || true
cd "$T/clone1"
expect_rc 3 "remote down" tick_in 1 --force
[ "$(wc -l < "$T/err")" -le 2 ] && ok "one-line reason: $(head -1 "$T/err")" || bad "long error: $(cat "$T/err")"
git diff --quiet && ok "work tree untouched" || bad "work tree changed"

finish
