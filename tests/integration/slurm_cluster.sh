#!/usr/bin/env bash
# The Slurm backend against a real one-node cluster on loopback (ci/slurm/start.sh:
# munged, MariaDB, slurmdbd, slurmctld, slurmd), started once for all of this:
#  1. SlurmReal.* (tests/unit/sched_slurm_test.cpp, enabled by CAIRN_SLURM_TEST=1):
#     completed, failed with exit code, TIMEOUT after a 1-minute limit, an array with a
#     failing task, adoption, scancel, a held job, log_tail, partition choice, submit
#     errors, an unreachable controller, one squeue plus at most one sacct per status pass.
#  2. `cairn tick --force` on a temp repo whose stages use `backend: slurm` (run while 1
#     waits on its TIMEOUT job): completed stages with a `## Learnings` row (queue wait
#     and run time from Slurm's own times, the partition), a failure classified and
#     escalated, an array task failing with a catalogued error and retried, and every
#     tick's status pass is one squeue and at most one sacct (counted through wrappers).
#     Two jobs are held in the queue (the sbatch wrapper adds --hold, as an admin's hold
#     would): one with a short `expect` is escalated as stuck, and once its cancel offer
#     is ticked and the escalation cleared, cancelled (one scancel) and resubmitted; the
#     other, with a long one, is noted by the anomaly scan as stalled
#     (`stall_after: 15s`) while the rest advance, then released with scontrol.
#     Conditions are checked where the job ran: a job with `deploy.remote_dir` (and no
#     `sync:`) writes out.txt only there, and its exit condition `out.txt` exists (and
#     a `grep` check command) passes in Slurm's WorkDir, over ssh for `ssh_host`, while
#     the checkout never holds the file. A clear re-runs: the stage that escalated on an
#     unknown error (exit 3) gets its script fixed, `cairn clear`, and a plain tick (no
#     --force) submits a new Slurm job that finishes it.
#     Job identity is per repository: two repositories with a campaign of the same name
#     each run their own job (two job ids, two names, each output in its own dir).
#     No secret reaches a job: a tick with canary tokens exported submits a job that
#     prints its environment (sbatch --export=STAGE_VAR from the stage's `env:`); no
#     canary is in it.
#  3. Through ssh: sshd on 127.0.0.1 with a throwaway key; a few SlurmReal cases (one
#     running in a remote dir, probed through the ssh workspace and rsyncing its outputs
#     back) and campaigns with `ssh_host` + `ssh_config` and `deploy.remote_dir` run
#     through it (one with `sync:`, one checked in place).
#  4. Alone at the end: the node set DOWN under a running job (SlurmReal.NodeDown*).
# Exit 77 (ctest: skipped) with the reason when no cluster can be started.
source "$(dirname "$0")/lib.sh"
SCHED_TEST=${CAIRN_SCHED_TEST:-$(dirname "$CAIRN")/sched_test}
STATE=${CAIRN_SLURM_STATE:-/var/tmp/cairn-slurm}
if [ ! -x "$SCHED_TEST" ]; then
  echo "FAIL - $SCHED_TEST is not built (it holds the real-cluster cases)"
  exit 1
fi

t0=$SECONDS
if ! "$CAIRN_SOURCE_DIR/ci/slurm/start.sh" >"$T/start.log" 2>&1; then
  echo "SKIP: could not start the Slurm test cluster:"
  sed 's/^/    /' "$T/start.log"
  exit 77
fi
cat "$T/start.log"
echo "cluster ready in $((SECONDS - t0)) s"
accounting=$(cat "$STATE/accounting" 2>/dev/null || echo "none: unknown")
[ "$accounting" = slurmdbd ] ||
  echo "NOTE: cluster has no accounting ($accounting): the sacct-dependent cases report SKIPPED"

# gtest_run NAME FILTER [ENV...]: SlurmReal cases, output in $T/NAME.out, exit in $T/NAME.rc.
gtest_run() {
  local name=$1 filter=$2 rc=0
  shift 2
  env CAIRN_SLURM_TEST=1 CAIRN_SLURM_ACCOUNTING="$accounting" "$@" "$SCHED_TEST" --gtest_filter="$filter" \
    >"$T/$name.out" 2>&1 || rc=$?
  echo "$rc" >"$T/$name.rc"
}
gtest_check() {  # gtest_check NAME DESC: the run passed, and with accounting nothing skipped
  local name=$1 desc=$2
  if [ "$(cat "$T/$name.rc")" = 0 ]; then ok "$desc"; else bad "$desc: exit $(cat "$T/$name.rc")"; sed 's/^/    /' "$T/$name.out"; fi
  grep -E '^\[ +(OK|FAILED|SKIPPED) +\]|: Skipped$|: Failure$' "$T/$name.out" | sed 's/^/    /'
  # A silent pass is not a pass: every selected case must have run.
  if [ "$accounting" = slurmdbd ] && grep -q '^\[  SKIPPED \]' "$T/$name.out"; then
    bad "$desc: a case skipped although accounting is up"
  fi
  expect_grep "$desc: the cases ran" '^\[  PASSED  \] [1-9]' "$T/$name.out"
}

# --- sshd on loopback: the login node for ssh_host --------------------------------------
SSH_DIR=$T/ssh SSH_HOST=cairn-test-login ssh_why=""
stop_sshd() { [ -s "$SSH_DIR/sshd.pid" ] && kill "$(cat "$SSH_DIR/sshd.pid")" 2>/dev/null || true; }
trap 'stop_sshd; [ -n "${CAIRN_KEEP_TMP:-}" ] || rm -rf "$T"' EXIT
start_sshd() {  # sets ssh_why when it cannot
  [ -x /usr/sbin/sshd ] || { ssh_why="/usr/sbin/sshd missing (openssh-server, in ci/deps.sh)"; return 1; }
  command -v ssh-keygen >/dev/null || { ssh_why="ssh-keygen missing"; return 1; }
  [ "$(id -u)" = 0 ] || { ssh_why="sshd for another user needs root"; return 1; }
  mkdir -p "$SSH_DIR" /run/sshd && chmod 700 "$SSH_DIR"
  ssh-keygen -q -t ed25519 -N '' -f "$SSH_DIR/host_key" && ssh-keygen -q -t ed25519 -N '' -f "$SSH_DIR/id" ||
    { ssh_why="ssh-keygen failed"; return 1; }
  cp "$SSH_DIR/id.pub" "$SSH_DIR/authorized_keys"
  local port
  for port in $(seq 22220 22239); do grep -q ":$port " <<<"$(ss -ltn 2>/dev/null)" || break; done
  cat >"$SSH_DIR/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $SSH_DIR/host_key
PidFile $SSH_DIR/sshd.pid
AuthorizedKeysFile $SSH_DIR/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
EOF
  cat >"$SSH_DIR/config" <<EOF
Host $SSH_HOST
  HostName 127.0.0.1
  Port $port
  User $(id -un)
  IdentityFile $SSH_DIR/id
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile $SSH_DIR/known_hosts
  LogLevel ERROR
EOF
  /usr/sbin/sshd -f "$SSH_DIR/sshd_config" -E "$SSH_DIR/sshd.log" </dev/null >/dev/null 2>&1 ||
    { ssh_why="sshd did not start: $(tail -1 "$SSH_DIR/sshd.log" 2>/dev/null)"; return 1; }
  local i
  for i in $(seq 1 20); do
    ssh -F "$SSH_DIR/config" -o BatchMode=yes "$SSH_HOST" -- squeue --version >/dev/null 2>&1 && return 0
    sleep 0.25
  done
  ssh_why="ssh $SSH_HOST (127.0.0.1:$port) does not answer: $(tail -2 "$SSH_DIR/sshd.log" 2>/dev/null)"
  return 1
}
have_ssh=0
if start_sshd; then have_ssh=1; ok "sshd on loopback for ssh_host"; else echo "SKIP: the ssh_host cases: $ssh_why"; fi

# --- cairn tick end to end --------------------------------------------------------------
# campaign NAME SCRIPT_BODY EXTRA_SPEC EXIT_CONDITION [BACKEND]: one stage `run` on Slurm.
campaign() {
  mkdir -p "campaigns/$1/jobs"
  cat >"campaigns/$1/WORKFLOW.md" <<WF
---
campaign: $1
project: it
created: 2026-11-23
last_tick: ""
status: pending
current_stage: run
escalation_required: false
escalation_reason: ""
budget: {backend: ${5:-slurm}, cap_usd: 0, spent_usd: 0}
notify: {on_advance: false, on_escalate: true}
stages:
  run:
    run: jobs/run.sh
    backend: ${5:-slurm}
    resources: {time: "00:05:00", cpus: 1, mem: 100M}
    expect: ${EXPECT:-1m}
$3
---

# $1

## Stages

| # | Name | Entry condition | Exit condition | Status  | JobID | Started | Completed | Retries |
|---|------|-----------------|----------------|---------|-------|---------|-----------|---------|
| 0 | run  | always          | $4             | pending | —     | —       | —         | 0       |

## Action queue

## Failure log

| Date | Stage | Error class | Error msg | Action taken | Result |
|------|-------|-------------|-----------|--------------|--------|

## Lessons learned

(none yet)
WF
  printf '#!/bin/bash\n%s\n' "$2" >"campaigns/$1/jobs/run.sh"
  chmod +x "campaigns/$1/jobs/run.sh"
}
tick() {  # tick DESC: one forced tick, the Slurm call logs fresh
  rm -f "$CALLS"/*
  expect_rc 0 "$1" env PATH="$WRAP:$PATH" "$CAIRN" tick --force
  cp "$T/out" "$T/tick.out"
}
calls() { cat "$CALLS/$1" 2>/dev/null | grep -c -- "$2" || true; }  # calls PROGRAM PATTERN
# Jobs in flight on the local slurm backend (the ssh_host campaign's calls are not counted).
in_flight() { cat campaigns/[!s]*/WORKFLOW.md | grep -c '^| 0 | run .*| running |' || true; }
# Settled: every campaign done or escalated (but the stalled one, which waits on its hold)
# and the stalled one noted by the anomaly scan.
settled() {
  [ -z "$(grep -L -E '^status: (done|escalated)$' campaigns/[!s]*/WORKFLOW.md campaigns/ssh-*/WORKFLOW.md 2>/dev/null)" ] &&
    grep -q '^- \[ \] cairn anomaly: [^ ]*: .*stalled\|^- \[ \] cairn anomaly: .*queued by the scheduler' campaigns/stall-*/WORKFLOW.md
}
status_calls_ok() {  # status_calls_ok TICK JOBS: the status pass is one squeue, <= 1 sacct
  local q a
  q=$(calls squeue '--me --array')  # the user's queue: job states and the pile-up count
  a=$(calls sacct 'JobID,JobName,State,ExitCode,Reason,Elapsed')
  if [ "$q" = 1 ] && [ "$a" -le 1 ]; then
    ok "$1: one squeue and $a sacct for the status of $2 job(s)"
  else
    bad "$1: $q squeue and $a sacct status calls for $2 job(s)"
    tail -n +1 "$CALLS"/* | sed 's/^/    /'
  fi
}

jobid_of() {  # jobid_of CAMPAIGN: the JobID cell of its stage 0, digits only ("" when none)
  awk -F'|' '$2 ~ /^ *0 *$/ { gsub(/ /, "", $7); print $7 }' "campaigns/$1/WORKFLOW.md" | grep -E '^[0-9]+$' || true
}

tick_until_done() {  # tick_until_done CAMPAIGN WHY: up to 6 ticks 4 s apart, until it is done
  local n
  for n in 1 2 3 4 5 6; do
    sleep 4
    tick "tick after $2 ($n)"
    grep -q '^status: done$' "campaigns/$1/WORKFLOW.md" && return 0
  done
  return 0  # the caller's check says whether it got there
}

# The two held jobs: stuck (escalated, the job left alone) and stalled (noted once).
held_checks() {
  local u=$1 held_job stall_job
  # The JobID cell whatever the Status cell says (a stuck job is still in flight).
  held_job=$(jobid_of "held-$u")
  stall_job=$(jobid_of "stall-$u")
  expect_grep "a held job past 3x its expect is escalated as stuck" '^escalation_required: true' \
    "campaigns/held-$u/WORKFLOW.md"
  expect_grep "the escalation says it cannot start, and why" \
    '^escalation_reason: .*job [0-9]+ cannot start: PENDING \(JobHeld[A-Za-z]+\) for [0-9]' "campaigns/held-$u/WORKFLOW.md"
  git log --format=%B -- "campaigns/held-$u" >"$T/held.log"
  expect_grep "the escalation commit's class is stuck" '^Cairn-Error-Class: stuck$' "$T/held.log"
  if [ -n "$held_job" ] && [ "$(squeue -h -j "$held_job" -o %T 2>/dev/null)" = PENDING ]; then
    ok "the stuck job $held_job is left in the queue for a human"
  else
    bad "the stuck job '${held_job}' is not pending: $(squeue -h -j "${held_job:-0}" -o %T 2>&1)"
  fi
  expect_grep "the other held job is noted as stalled by the anomaly scan" \
    '^- \[ \] cairn anomaly: [^:]+: .*queued by the scheduler \(job [0-9]+\) for ' "campaigns/stall-$u/WORKFLOW.md"
  tick "one more tick"
  local notes
  notes=$(grep -c '^- \[ \] cairn anomaly: .*queued by the scheduler' "campaigns/stall-$u/WORKFLOW.md" || true)
  [ "$notes" = 1 ] && ok "the stall is noted once" || bad "the stall is noted $notes times"
  expect_grep "a stalled campaign is not escalated" '^escalation_required: false' "campaigns/stall-$u/WORKFLOW.md"
  # Release the hold: the stalled job runs and the campaign completes.
  if [ -n "$stall_job" ] && scontrol release "$stall_job"; then
    tick_until_done "stall-$u" "the release"
    expect_grep "released, the stalled campaign completes" '^status: done$' "campaigns/stall-$u/WORKFLOW.md"
  else
    bad "could not release the stalled job '$stall_job'"
  fi
  # Approve the escalation's offer to cancel the stuck job: tick it, clear, tick. cairn
  # cancels that one job and resubmits the stage as attempt 2, which is not held.
  expect_grep "the stuck escalation offers to cancel the job" \
    "^- \\[ \\] cairn cancel: job $held_job \\(run\\): tick this" "campaigns/held-$u/WORKFLOW.md"
  sed -i "s/^- \[ \] cairn cancel: job $held_job /- [x] cairn cancel: job $held_job /" "campaigns/held-$u/WORKFLOW.md"
  git commit -qam "approve cancelling job $held_job"
  expect_rc 0 "cairn clear held-$u" "$CAIRN" clear "held-$u" --reason "cancel the held job"
  tick "the tick after the approval"
  [ "$(calls scancel .)" = 1 ] && ok "exactly one scancel" || bad "$(calls scancel .) scancel calls"
  expect_grep "...of the stuck job" "^$held_job\$" "$CALLS/scancel"
  expect_grep "the stage is resubmitted as attempt 2" "cairn\.([0-9a-f]{8}\.)?held-$u\.run\.2" "$CALLS/sbatch"
  expect_grep "the offer is marked done" "^- \\[x\\] cairn cancel: job $held_job \\(run\\) cancelled at" \
    "campaigns/held-$u/WORKFLOW.md"
  [ "$(squeue -h -j "$held_job" -o %T 2>/dev/null)" = PENDING ] && bad "job $held_job still pending" ||
    ok "job $held_job is gone from the queue"
  tick_until_done "held-$u" "the cancel"
  expect_grep "the resubmitted stage completes" '^status: done$' "campaigns/held-$u/WORKFLOW.md"
  [ "$(calls scancel .)" = 0 ] && ok "no further scancel" || bad "scancel called again"
}

tick_section() {
  WRAP=$T/bin CALLS=$T/calls
  mkdir -p "$WRAP" "$CALLS"
  # Counting wrappers earlier on PATH: one line per call with its arguments.
  local p
  for p in squeue sacct sbatch scancel; do
    printf '#!/bin/sh\necho "$*" >>"%s/%s"\nexec %s "$@"\n' "$CALLS" "$p" "$(command -v "$p")" >"$WRAP/$p"
    chmod +x "$WRAP/$p"
  done
  # The held and stalled campaigns' jobs are held at submit, as an admin's hold would.
  printf '#!/bin/sh\necho "$*" >>"%s/sbatch"\ncase "$*" in *--job-name=cairn.*held-*.run.1\ *|*--job-name=cairn.*stall-*) exec %s --hold "$@" ;; esac\nexec %s "$@"\n' \
    "$CALLS" "$(command -v sbatch)" "$(command -v sbatch)" >"$WRAP/sbatch"
  mkdir -p "$T/repo" && cd "$T/repo" && git init -q
  "$CAIRN" init >/dev/null
  cat >cairn.yaml <<YAML
root: campaigns
identity: {name: cairn-bot, email: cairn-bot@users.noreply.example}
catalogs: [catalogs/failure-catalog.md]
backends:
  slurm: {partition: debug}
  login: {kind: slurm, partition: debug, ssh_host: $SSH_HOST, ssh_config: $SSH_DIR/config,
          ssh_control_path: "$SSH_DIR/cm-%C"}
anomaly: {stall_after: 15s}
YAML
  # Job keys are cluster-wide and sacct remembers them (adoption): names unique per run.
  local n u jobs=9
  u=$(date +%s)
  for n in 1 2 3 4; do campaign "ok$n-$u" 'sleep 8; echo done > ok.out' "" 'exit=0, `ok.out` exists'; done
  campaign "fail-$u" 'sleep 8; echo about to fail; exit 3' "" 'exit=0'
  # Task 2 fails once with a catalogued error (nccl-timeout: resubmit once).
  campaign "arr-$u" 'sleep 8; echo "task $SLURM_ARRAY_TASK_ID"
if [ "$SLURM_ARRAY_TASK_ID" = 2 ] && [ ! -e retried ]; then touch retried; echo "Watchdog caught collective operation timeout"; exit 1; fi' \
    '    array: "1-3"' 'exit=0'
  EXPECT=10s campaign "held-$u" 'echo released' "" 'exit=0'
  EXPECT=1h campaign "stall-$u" 'echo released' "" 'exit=0'
  # deploy.remote_dir without sync: out.txt exists only where the job ran, so only a
  # check in Slurm's WorkDir passes the exit condition.
  local wd_cond='exit=0, `out.txt` exists, `grep -q done out.txt` exits 0'
  campaign "wd-$u" 'sleep 8; echo done > out.txt' "deploy:
  remote_dir: $T/remote/wd-$u" "$wd_cond"
  mkdir -p "$T/remote/wd-$u" && cp -r "campaigns/wd-$u/jobs" "$T/remote/wd-$u/"
  if [ "$have_ssh" = 1 ]; then
    # The job runs in deploy.remote_dir (put there by the user's own deploy step: here a
    # copy) and `ok.out` holds locally only once `sync:` brought it back.
    campaign "ssh-$u" 'sleep 8; echo done > ok.out' "    sync: [ok.out]
deploy:
  remote_dir: $T/remote/ssh-$u" 'exit=0, `ok.out` exists' login
    mkdir -p "$T/remote/ssh-$u" && cp -r "campaigns/ssh-$u/jobs" "$T/remote/ssh-$u/"
    # The same without sync: checked on the login node, through the ssh workspace.
    campaign "ssh-wd-$u" 'sleep 8; echo done > out.txt' "deploy:
  remote_dir: $T/remote/ssh-wd-$u" "$wd_cond" login
    mkdir -p "$T/remote/ssh-wd-$u" && cp -r "campaigns/ssh-wd-$u/jobs" "$T/remote/ssh-wd-$u/"
    jobs=11
  fi
  printf '.cairn/\nok.out\nretried\n' >.gitignore
  git add -A && git commit -qm "slurm campaigns"
  expect_rc 0 "cairn validate" "$CAIRN" validate

  tick "tick 1 submits $jobs stages"
  [ "$(calls sbatch .)" = 9 ] && ok "nine local sbatch calls" || bad "$(calls sbatch .) local sbatch calls"
  expect_grep "the array is submitted" "arr-$u: run ready -> running" "$T/tick.out"
  [ "$have_ssh" = 0 ] || expect_grep "the ssh_host stage is submitted" "ssh-$u: run ready -> running" "$T/tick.out"
  tick "tick 2 polls $jobs jobs in flight"
  status_calls_ok "tick 2" 9
  [ "$(calls sbatch .)" = 0 ] && ok "tick 2 submits nothing" || bad "tick 2 called sbatch"
  sleep 12  # every job ends; past MinJobAge (5 s) squeue forgets them and sacct answers
  local i retry=""
  for i in 3 4 5 6 7 8 9 10 11 12; do
    n=$(in_flight)
    tick "tick $i"
    [ "$n" = 0 ] || status_calls_ok "tick $i" "$n"
    [ -n "$retry" ] || retry=$(grep -E -- "--job-name=cairn\.([0-9a-f]{8}\.)?arr-$u\.run\.2" "$CALLS/sbatch" 2>/dev/null || true)
    settled && break
    sleep 5
  done
  settled && ok "every campaign settled after tick $i" || bad "campaigns still moving after tick $i"
  held_checks "$u"
  for n in 1 2 3 4; do
    expect_grep "ok$n done" '^\| 0 \| run .*\| done ' "campaigns/ok$n-$u/WORKFLOW.md"
  done
  if [ "$have_ssh" = 1 ]; then
    expect_grep "the ssh_host stage done" '^\| 0 \| run .*\| done ' "campaigns/ssh-$u/WORKFLOW.md"
    if [ -e "$T/remote/ssh-$u/ok.out" ]; then
      ok "the ssh_host job ran in deploy.remote_dir"
      [ -e "campaigns/ssh-$u/ok.out" ] && ok "its sync: output came back by rsync" || bad "ok.out not synced back"
      [ ! -e "campaigns/ssh-$u/.cairn" ] && ok "only what sync: names came back" || bad "the job's log dir came back too"
    else
      bad "the ssh_host job did not run in deploy.remote_dir ($T/remote/ssh-$u)"
    fi
  fi
  # Checked where the job ran: Slurm's WorkDir here, the login node through ssh.
  for n in wd ssh-wd; do
    [ "$n" = wd ] || [ "$have_ssh" = 1 ] || continue
    expect_grep "$n: the exit condition passed in deploy.remote_dir" '^\| 0 \| run .*\| done ' "campaigns/$n-$u/WORKFLOW.md"
    [ -e "$T/remote/$n-$u/out.txt" ] && ok "$n: the job wrote out.txt in deploy.remote_dir" ||
      bad "$n: no out.txt in $T/remote/$n-$u"
    [ ! -e "campaigns/$n-$u/out.txt" ] && ok "$n: out.txt is not in the checkout (not where it was checked)" ||
      bad "$n: out.txt is in the checkout, so the check proves nothing"
  done
  # Learnings: Slurm's submit/start/end times give the queue wait and run time.
  expect_grep "a Learnings row has Slurm's queue wait and run time" \
    '^\| [0-9-]+ +\| run +\| slurm +\| [^|]+\| [0-9]+[smhd][0-9a-z]* +\| [0-9]+[smhd][0-9a-z]* +\|' \
    "campaigns/ok1-$u/WORKFLOW.md"
  if grep -qE '^\| [0-9-]+ +\| run +\| slurm +\| debug +\|' "campaigns/ok1-$u/WORKFLOW.md"; then
    ok "the Learnings row names the partition the job ran in"
  else
    bad "the Learnings row has no partition: $(grep -E '^\| [0-9-]+ +\| run +\| slurm' "campaigns/ok1-$u/WORKFLOW.md")"
  fi
  git log --format=%B >"$T/log.txt"
  expect_grep "fail escalated" '^escalation_required: true' "campaigns/fail-$u/WORKFLOW.md"
  expect_grep "fail classified in the failure log" '^\| [0-9-]+ \| run +\| unclassified +\| job [0-9]+: (pool [^;]+; )?FAILED' \
    "campaigns/fail-$u/WORKFLOW.md"
  expect_grep "the failure commit names the exit code" "^Job [0-9]+ ended failed with exit code 3 \(FAILED\)" "$T/log.txt"
  expect_grep "the escalation commit names the class" '^Cairn-Error-Class: unclassified$' "$T/log.txt"
  # The retry then succeeded, so the row is RESOLVED and a lesson says by what.
  expect_grep "the array task's failure is classified and resolved" \
    '^\| [0-9-]+ \| run +\| nccl-timeout +\|.*\| resubmit +\| RESOLVED' "campaigns/arr-$u/WORKFLOW.md"
  expect_grep "a lesson names the fix" '^- run: nccl-timeout resolved by resubmit' "campaigns/arr-$u/WORKFLOW.md"
  expect_grep "the completed run is in Learnings" '^\| [0-9-]+ +\| run +\| slurm' "campaigns/arr-$u/WORKFLOW.md"
  expect_grep "the array failure commit names task 2" "ended failed with exit code 1 \(tasks 2 failed\)" "$T/log.txt"
  expect_grep "the failure-log row lists the failed task" '^\| [0-9-]+ \| run +\| nccl-timeout +\| job [0-9]+: tasks 2; ' \
    "campaigns/arr-$u/WORKFLOW.md"
  expect_grep "arr done after one retry" '^\| 0 \| run .*\| done .*\| 1 +\|$' "campaigns/arr-$u/WORKFLOW.md"
  case "$retry" in
    *--array=2\ * | *--array=2) ok "the retry resubmitted task 2 alone" ;;
    *) bad "the retry's sbatch: '${retry:-none}'" ;;
  esac
  clear_checks "$u"
  cd "$T"
}

# A clear re-runs the job: fail-$u escalated on an unknown error (exit 3) after one job.
# Its script fixed and the escalation cleared, a plain tick (no --force: the human's
# change makes it due) submits a new Slurm job, never adopting the failed one.
clear_checks() {
  local u=$1 old_job new_job
  old_job=$(jobid_of "fail-$u")
  [ -n "$old_job" ] && ok "fail-$u escalated after job $old_job" || bad "fail-$u has no JobID"
  printf '#!/bin/bash
sleep 2
echo fixed
' >"campaigns/fail-$u/jobs/run.sh"
  git commit -qam "fail-$u: fix the script"
  expect_rc 0 "cairn clear fail-$u" "$CAIRN" clear "fail-$u" --reason "script fixed"
  rm -f "$CALLS"/*
  expect_rc 0 "a plain tick after the clear" env PATH="$WRAP:$PATH" "$CAIRN" tick
  cp "$T/out" "$T/tick.out"
  new_job=$(jobid_of "fail-$u")
  if [ -n "$new_job" ] && [ "$new_job" != "$old_job" ] && [ "$(calls sbatch .)" = 1 ]; then
    ok "the clear re-ran the stage as a new Slurm job ($old_job -> $new_job)"
  else
    bad "after the clear: JobID '${new_job}' (was $old_job), $(calls sbatch .) sbatch call(s)"
    sed 's/^/    /' "$T/tick.out"
  fi
  expect_grep "...as a new attempt" "--job-name=cairn\.([0-9a-f]{8}\.)?fail-$u\.run\.2 " "$CALLS/sbatch"
  tick_until_done "fail-$u" "the clear"
  expect_grep "the cleared stage finishes" '^\| 0 \| run .*\| done ' "campaigns/fail-$u/WORKFLOW.md"
  expect_grep "...and the campaign" '^status: done$' "campaigns/fail-$u/WORKFLOW.md"
}

# Two repositories (think: two groups' repos) each hold a campaign of the same name.
# Each tick runs its own job: two job ids, two job names, each output in its own dir;
# neither adopts the other's job.
twin_section() {
  local u r ids=() names=()
  u=$(date +%s)
  for r in twin-a twin-b; do
    mkdir -p "$T/$r" && cd "$T/$r" && git init -q
    "$CAIRN" init >/dev/null
    cat >cairn.yaml <<YAML
root: campaigns
identity: {name: cairn-bot, email: cairn-bot@users.noreply.example}
catalogs: [catalogs/failure-catalog.md]
backends:
  slurm: {partition: debug}
YAML
    campaign "same-$u" 'sleep 4; echo "$SLURM_JOB_ID" > mine.txt' "" 'exit=0, `mine.txt` exists'
    printf '.cairn/
mine.txt
' >.gitignore
    git add -A && git commit -qm "a campaign named same-$u"
    tick "$r: tick 1 submits same-$u"
    ids+=("$(jobid_of "same-$u")")
    names+=("$(sed -n 's/.*--job-name=\([^ ]*\).*/\1/p' "$CALLS/sbatch" 2>/dev/null | head -1)")
    [ "$(calls sbatch .)" = 1 ] && ok "$r submitted its own job (${ids[-1]}, ${names[-1]})" ||
      bad "$r made $(calls sbatch .) sbatch calls (adopted ${ids[-1]:-nothing})"
  done
  if [ -n "${ids[0]}" ] && [ -n "${ids[1]}" ] && [ "${ids[0]}" != "${ids[1]}" ]; then
    ok "two repositories, one campaign name: two Slurm jobs (${ids[0]}, ${ids[1]})"
  else
    bad "two repositories, one campaign name: job ids '${ids[0]}' and '${ids[1]}'"
  fi
  [ -n "${names[0]}" ] && [ "${names[0]}" != "${names[1]}" ] &&
    ok "their job names differ by repository (${names[0]}, ${names[1]})" ||
    bad "job names '${names[0]}' and '${names[1]}' do not tell the repositories apart"
  local i=0
  for r in twin-a twin-b; do
    cd "$T/$r"
    tick_until_done "same-$u" "$r's job"
    expect_grep "$r: same-$u done" '^status: done$' "campaigns/same-$u/WORKFLOW.md"
    if [ "$(cat "campaigns/same-$u/mine.txt" 2>/dev/null)" = "${ids[$i]}" ] && [ -n "${ids[$i]}" ]; then
      ok "$r: its own job ${ids[$i]} wrote mine.txt in its own campaign dir"
    else
      bad "$r: mine.txt holds '$(cat "campaigns/same-$u/mine.txt" 2>&1)', wanted its job '${ids[$i]}'"
    fi
    i=$((i + 1))
  done
  cd "$T"
}

# No secret reaches a Slurm job (issue 19): the tick runs with canary credentials
# exported; the job prints its environment; no canary is in it, the stage's `env:` is,
# and sbatch was called with an explicit --export.
env_section() {
  local u
  u=$(date +%s)
  mkdir -p "$T/envrepo" && cd "$T/envrepo" && git init -q
  "$CAIRN" init >/dev/null
  cat >cairn.yaml <<YAML
root: campaigns
identity: {name: cairn-bot, email: cairn-bot@users.noreply.example}
backends:
  slurm: {partition: debug}
forge: {kind: none, token_env: MY_FORGE_PAT}
YAML
  campaign "env-$u" 'env > job.env' '    env: {STAGE_VAR: from-the-spec}' 'exit=0, `job.env` exists'
  printf '.cairn/\njob.env\n' >.gitignore
  git add -A && git commit -qm "a campaign that prints its environment"
  local canaries=(MY_FORGE_PAT=canary-forge-4d1 CAIRN_TOKEN=canary-cairn-9f2 GITHUB_TOKEN=canary-github-7a3
    GITLAB_TOKEN=canary-gitlab-5b8 CI_JOB_TOKEN=canary-cijob-2c6 ACTIONS_RUNTIME_TOKEN=canary-actions-8e0)
  local n
  for n in 1 2 3 4 5 6 7; do
    rm -f "$CALLS"/*
    expect_rc 0 "env: tick $n with canaries exported" env "${canaries[@]}" PATH="$WRAP:$PATH" "$CAIRN" tick --force
    [ "$n" = 1 ] && cp "$CALLS/sbatch" "$T/env-sbatch" 2>/dev/null
    grep -q '^status: done$' "campaigns/env-$u/WORKFLOW.md" && break
    sleep 3
  done
  expect_grep "env: the stage is done" '^status: done$' "campaigns/env-$u/WORKFLOW.md"
  expect_grep "env: sbatch gets an explicit --export" '--export=STAGE_VAR ' "$T/env-sbatch"
  if [ -s "campaigns/env-$u/job.env" ]; then
    local leaked
    leaked=$(grep -o 'canary-[a-z]*-[0-9a-f]*' "campaigns/env-$u/job.env" | sort -u | tr '\n' ' ' || true)
    [ -z "$leaked" ] && ok "env: the Slurm job's environment holds no canary credential" ||
      bad "env: the Slurm job's environment holds $leaked"
    expect_grep "env: the stage's env: arrives" '^STAGE_VAR=from-the-spec$' "campaigns/env-$u/job.env"
    expect_grep "env: Slurm's own variables arrive" '^SLURM_JOB_ID=' "campaigns/env-$u/job.env"
  else
    bad "env: the job wrote no job.env"
  fi
  cd "$T"
}

# 1 in the background (its TIMEOUT job needs ~90 s of real time), 2 and 3 meanwhile.
t1=$SECONDS
gtest_run main 'SlurmReal.*:-SlurmReal.NodeDown*' &
main_pid=$!
tick_section
twin_section
env_section
echo "cairn tick cases took $((SECONDS - t1)) s"
if [ "$have_ssh" = 1 ]; then
  gtest_run ssh 'SlurmReal.CompletedExitZeroWithLogTail:SlurmReal.FailedWithExitCode:SlurmReal.ArrayWithOneFailingTask:SlurmReal.FindAdoptsAndCancelEndsOneJob:SlurmReal.HeldJobStaysPendingAndIsAdopted:SlurmReal.RemoteDirAndSyncBack' \
    CAIRN_SLURM_SSH_HOST="$SSH_HOST" CAIRN_SLURM_SSH_CONFIG="$SSH_DIR/config"
  gtest_check ssh "SlurmReal cases through ssh_host"
fi
wait "$main_pid" || true
gtest_check main "SlurmReal.* against the real cluster"
echo "real-cluster cases took $((SECONDS - t1)) s"
# 4 alone: it kills every job on the node. start.sh also brings a DOWN node back.
gtest_run nodedown 'SlurmReal.NodeDown*' CAIRN_SLURM_NODE_DOWN=1
gtest_check nodedown "node set DOWN under a running job"
echo "all cases took $((SECONDS - t1)) s"
finish
