#!/usr/bin/env bash
# Stops the test cluster ci/slurm/start.sh started: slurmd, slurmctld, slurmdbd, its
# private MariaDB, and munged if start.sh started it. State and logs stay in
# $CAIRN_SLURM_STATE (remove that directory for a clean start). Exit 0 when all are down.
set -uo pipefail
STATE=${CAIRN_SLURM_STATE:-/var/tmp/cairn-slurm}
stop() {  # stop NAME PIDFILE
  local pidfile=$2 pid
  [ -s "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; return 0; }
  kill "$pid"
  for _ in $(seq 1 40); do
    kill -0 "$pid" 2>/dev/null || { echo "stopped $1"; rm -f "$pidfile"; return 0; }
    sleep 0.25
  done
  echo "$1 (pid $pid) did not stop within 10 s" >&2
  return 1
}
rc=0
stop slurmd "$STATE/run/slurmd.pid" || rc=1
stop slurmctld "$STATE/run/slurmctld.pid" || rc=1
stop slurmdbd "$STATE/run/slurmdbd.pid" || rc=1
stop mariadb "$STATE/run/mariadb.pid" || rc=1
if [ -e "$STATE/run/munged.ours" ]; then
  stop munged /run/munge/munged.pid || rc=1
  rm -f "$STATE/run/munged.ours"
fi
exit $rc
