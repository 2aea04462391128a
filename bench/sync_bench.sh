#!/usr/bin/env bash
# How many times one tick talks to the remote, whatever N: a tick that submits N ready
# campaigns (local backend, a job that exits 0) through a real `git daemon`, counted from
# the daemon's own log (upload-pack = a fetch or a verifying ls, receive-pack = a push),
# against a floor measured in the same run: one `git push` of the same number of commits
# plus N spawns of the job command. Prints figures and ratios; never a pass/fail test.
#   bench/sync_bench.sh [CAIRN] [N...]      (default: build/cairn, N = 10 100 1000)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cairn=$(realpath "${1:-$here/build/cairn}")
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10 100 1000)
T=$(mktemp -d /tmp/cairn-sync-bench.XXXXXX)
daemon=""
trap 'kill $daemon 2>/dev/null || true; rm -rf "$T"' EXIT
export GIT_CONFIG_GLOBAL=$T/gitconfig
git config --global user.name bench && git config --global user.email bench@bench.invalid
git config --global init.defaultBranch main

port=$((20000 + RANDOM % 12000))
mkdir -p "$T/srv"
git daemon --verbose --reuseaddr --listen=127.0.0.1 --port=$port --base-path="$T/srv" --export-all \
  --enable=receive-pack "$T/srv" 2>"$T/daemon.log" &
daemon=$!
sleep 0.5

now() { date +%s.%N; }
campaign() {  # campaign DIR NAME
  mkdir -p "$1/campaigns/$2/jobs"
  printf '#!/bin/sh\nexit 0\n' >"$1/campaigns/$2/jobs/run.sh"
  chmod +x "$1/campaigns/$2/jobs/run.sh"
  cat >"$1/campaigns/$2/WORKFLOW.md" <<WF
---
campaign: $2
project: bench
created: 2026-12-02
last_tick: ""
status: ready
current_stage: run
escalation_required: false
escalation_reason: ""
budget: {backend: local, cap_usd: 0, spent_usd: 0}
stages:
  run: {run: jobs/run.sh, resources: {time: "00:05:00"}, expect: 1m}
---

# $2

## Stages

| # | Name | Entry condition | Exit condition | Status | JobID | Started | Completed | Retries |
|---|------|-----------------|----------------|--------|-------|---------|-----------|---------|
| 0 | run  | always          | exit=0         | ready  | —     | —       | —         | 0       |

## Action queue

## Failure log

| Date | Stage | Error class | Error msg | Action taken | Result |
|------|-------|-------------|-----------|--------------|--------|

## Lessons learned
WF
}

printf '%6s %8s %8s %10s %12s %8s\n' N pushes fetches "tick (s)" "floor (s)" ratio
for n in "${sizes[@]}"; do
  repo=$T/srv/r$n.git
  git init -q --bare "$repo"
  seed=$T/seed$n
  git clone -q "git://127.0.0.1:$port/r$n.git" "$seed" 2>/dev/null
  (cd "$seed" && printf 'root: campaigns\nbranch: main\n' >cairn.yaml &&
    for i in $(seq 1 "$n"); do campaign . "c$i"; done && git add -A && git commit -qm seed && git push -q origin main)
  work=$T/work$n
  git clone -q "git://127.0.0.1:$port/r$n.git" "$work"
  before_up=$(grep -c "Request upload-pack for '/r$n.git'" "$T/daemon.log" || true)
  before_rp=$(grep -c "Request receive-pack for '/r$n.git'" "$T/daemon.log" || true)
  t0=$(now)
  (cd "$work" && CAIRN_STATE_DIR=$T/state$n "$cairn" tick >"$T/tick$n.out" 2>&1) || { echo "tick failed:"; tail -5 "$T/tick$n.out"; }
  t1=$(now)
  sleep 0.3  # the daemon logs each connection as it forks
  up=$(( $(grep -c "Request upload-pack for '/r$n.git'" "$T/daemon.log" || true) - before_up ))
  rp=$(( $(grep -c "Request receive-pack for '/r$n.git'" "$T/daemon.log" || true) - before_rp ))
  made=$(( $(git -C "$work" rev-list --count HEAD) - 1 ))
  # The floor: the same number of commits made by git and pushed once, plus N spawns of the job.
  floor_repo=$T/srv/f$n.git
  git init -q --bare "$floor_repo"
  fl=$T/floor$n
  git clone -q "git://127.0.0.1:$port/r$n.git" "$fl" 2>/dev/null
  (cd "$fl" && git reset -q --hard "$(git rev-list --max-parents=0 HEAD)" && git remote set-url origin "git://127.0.0.1:$port/f$n.git" &&
    git push -q origin main)
  # The commits are made beforehand (fast-import); only the push and the spawns are timed.
  (cd "$fl" && { echo "reset refs/heads/main"; echo "from $(git rev-parse HEAD)";
    for i in $(seq 1 "$made"); do
      printf 'commit refs/heads/main\ncommitter b <b@b> %d +0000\ndata 2\nc\nM 644 inline f.txt\ndata %d\n%s\n' \
        "$((1700000000 + i))" "$(( ${#i} + 1 ))" "$i"; done; } | git fast-import --quiet && git reset -q --hard main)
  f0=$(now)
  (cd "$fl" && git push -q origin main && for i in $(seq 1 "$n"); do sh "campaigns/c1/jobs/run.sh"; done)
  f1=$(now)
  awk -v n="$n" -v p="$rp" -v f="$up" -v t0="$t0" -v t1="$t1" -v f0="$f0" -v f1="$f1" -v m="$made" 'BEGIN {
    tick = t1 - t0; floor = f1 - f0;
    printf "%6d %8d %8d %10.2f %12.2f %7.1fx   (%d commits)\n", n, p, f, tick, floor, (floor > 0 ? tick / floor : 0), m }'
done
echo "target: <= 2 pushes and <= 2 fetches per tick at any N"
