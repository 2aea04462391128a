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
# lib.sh: a temp dir $T, a git identity, and campaign DIR NAME (one stage, a job that
# appends to $T/runs.txt).
CAIRN=$cairn CAIRN_SOURCE_DIR=$here source "$here/tests/integration/lib.sh"
set +e +o errtrace; trap - ERR
daemon=""
trap 'kill $daemon 2>/dev/null || true; rm -rf "$T"' EXIT

port=$((20000 + RANDOM % 12000))
mkdir -p "$T/srv"
git daemon --verbose --reuseaddr --listen=127.0.0.1 --port=$port --base-path="$T/srv" --export-all \
  --enable=receive-pack "$T/srv" 2>"$T/daemon.log" &
daemon=$!
sleep 0.5

now() { date +%s.%N; }

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
