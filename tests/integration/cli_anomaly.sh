#!/usr/bin/env bash
# The anomaly scan end to end on the local backend: a job that logs FATAL while it still
# runs pauses its chain (`paused: true`, ORCHESTRATION_CHECK.md, a `Cairn-Anomaly`
# commit), once; the job is left to finish, the next stage is not submitted until a
# human sets `paused: false`; `anomaly: {enabled: false}` turns the scan off.
source "$(dirname "$0")/lib.sh"

R=$T/repo
mkdir -p "$R" && cd "$R" && git init -q

two_stages() {  # two_stages NAME: lib.sh's campaign plus `post`; `run` logs FATAL and runs until released
  campaign . "$1"
  local wf=campaigns/$1/WORKFLOW.md
  sed -i '/^  run: {run: jobs\/run.sh/a\  post: {run: jobs/post.sh, resources: {time: "00:01:00"}, expect: 1m}' "$wf"
  sed -i '/^| 0 | run /a\| 1 | post | stage 0 done | exit=0 | pending | — | — | — | 0 |' "$wf"
  # It runs until the test releases it (at most 5 minutes): ticks that must see it running
  # do, however slow they are (under sanitizers a tick takes seconds).
  printf '#!/bin/sh\necho "step 1"\necho "FATAL: energy drift beyond tolerance"\ni=0\nwhile [ ! -e "%s/release-%s" ] && [ $i -lt 3000 ]; do sleep 0.1; i=$((i + 1)); done\necho done\n' \
    "$T" "$1" > "campaigns/$1/jobs/run.sh"
  printf '#!/bin/sh\ntouch "%s/post-%s.ran"\n' "$T" "$1" > "campaigns/$1/jobs/post.sh"
  chmod +x campaigns/"$1"/jobs/*.sh
}

# Ticks (at most 15, a second apart) until PATTERN is in FILE.
tick_until() {  # tick_until PATTERN FILE
  for _ in $(seq 1 15); do
    "$CAIRN" tick --force >/dev/null 2>"$T/tick.err" || { bad "tick failed"; cat "$T/tick.err"; return; }
    grep -q "$1" "$2" && return
    sleep 1
  done
}

two_stages c1
git add -A && git commit -qm "a campaign whose first job logs FATAL"
wf=campaigns/c1/WORKFLOW.md

expect_rc 0 "first tick submits run" "$CAIRN" tick --force
grep -q '^| 0 | run .*| running ' $wf && ok "run is running" || { bad "run not running"; cat $wf; }
sleep 1
expect_rc 0 "second tick scans the running job's log" "$CAIRN" tick --force
expect_grep "the chain is paused" '^paused: true$' $wf
[ -f campaigns/c1/ORCHESTRATION_CHECK.md ] && ok "ORCHESTRATION_CHECK.md written" || bad "no ORCHESTRATION_CHECK.md"
expect_grep "the check quotes the log line" 'FATAL: energy drift' campaigns/c1/ORCHESTRATION_CHECK.md
expect_grep "the action queue records the anomaly" '^- \[ \] cairn anomaly: bad_log_while_running c1 run ' $wf
anomaly_commit=$(git log --format=%H --grep '^Cairn-Anomaly: bad_log_while_running c1 run' -1)
[ -n "$anomaly_commit" ] && ok "a commit with the Cairn-Anomaly trailer" || bad "no Cairn-Anomaly commit"
files=$(git show --name-only --format= "$anomaly_commit")
grep -qx campaigns/c1/ORCHESTRATION_CHECK.md <<<"$files" && grep -qx $wf <<<"$files" &&
  ok "one commit carries the pause and the check" || bad "anomaly commit files: $files"
subject=$(git log -1 --format=%s "$anomaly_commit")
[ "$subject" = "c1: run anomaly: bad_log_while_running (medium)" ] && ok "subject: $subject" || bad "subject: $subject"
git diff --quiet && ok "work tree matches HEAD" || bad "work tree differs from HEAD"

expect_rc 0 "a third tick while the job still runs" "$CAIRN" tick --force
n=$(git log --format=%H --grep '^Cairn-Anomaly:' | wc -l)
[ "$n" = 1 ] && ok "the anomaly is acted on once" || bad "$n anomaly commits"

touch "$T/release-c1"  # the job ends
tick_until '^| 0 | run .*| done ' $wf
grep -q '^| 0 | run .*| done ' $wf && ok "the running job was left to finish" || { bad "run not done"; cat $wf; }
expect_rc 0 "a paused tick" "$CAIRN" tick --force
expect_grep "the tick says why nothing was submitted" 'paused' "$T/out"
[ ! -e "$T/post-c1.ran" ] && ok "post not submitted while paused" || bad "post ran while paused"

sed -i 's/^paused: true$/paused: false/' $wf
git commit -qam "resume c1 after looking at the log"
tick_until '^status: done' $wf
grep -q '^status: done' $wf && ok "resumed by the human, the campaign completes" || { bad "not done"; cat $wf; }
[ -e "$T/post-c1.ran" ] && ok "post ran after the resume" || bad "post never ran"
n=$(git log --format=%H --grep '^Cairn-Anomaly:' | wc -l)
[ "$n" = 1 ] && ok "no second anomaly after the resume" || bad "$n anomaly commits"

# Turned off in cairn.yaml: the same job is left alone.
printf 'anomaly:\n  enabled: false\n' > cairn.yaml
two_stages c2
git add -A && git commit -qm "c2, with the scan off"
"$CAIRN" tick --force >/dev/null 2>&1
sleep 1
expect_rc 0 "a tick with the scan off" "$CAIRN" tick --force
grep -q '^paused:' campaigns/c2/WORKFLOW.md && bad "c2 paused with the scan off" || ok "c2 not paused with the scan off"
touch "$T/release-c2"
printf 'anomaly:\n  enabled: maybe\n' > cairn.yaml
expect_rc 1 "a bad anomaly.enabled is a finding" "$CAIRN" validate
expect_grep "says where" 'cairn.yaml:2:[0-9]+: .*anomaly.enabled' "$T/err" 
git checkout -q cairn.yaml

# The project's .priors.yaml: its orchestration patterns are log patterns too.
R2=$T/repo2
mkdir -p "$R2" && cd "$R2" && git init -q
cp "$CAIRN_SOURCE_DIR/tests/fixtures/priors/priors.yaml" .priors.yaml
two_stages c3
sed -i 's/FATAL: energy drift beyond tolerance/Restarting from npt.restart.coor/' campaigns/c3/jobs/run.sh
git add -A && git commit -qm "c3, whose job restarts from the same checkpoint; the project's priors"
expect_rc 0 "validate reads .priors.yaml" "$CAIRN" validate
"$CAIRN" tick --force >/dev/null 2>&1
sleep 1
expect_rc 0 "a tick while the job runs" "$CAIRN" tick --force
expect_grep "a line only a prior knows pauses the chain" '^paused: true$' campaigns/c3/WORKFLOW.md
expect_grep "the check names the prior and its note" 'prior namd-restart-loop: the job keeps restarting' \
  campaigns/c3/ORCHESTRATION_CHECK.md
touch "$T/release-c3"
# A bad .priors.yaml: validate says where; a tick warns and goes on with the built-in patterns.
printf 'priors:\n  - class: orchestration\n    pattern: "a(b"\n' > .priors.yaml
expect_rc 1 "a bad .priors.yaml is a finding" "$CAIRN" validate
expect_grep "says where" '^\.priors\.yaml:3:14: error: invalid RE2 pattern' "$T/err"
git commit -qam "a typo in .priors.yaml"
expect_rc 0 "a tick with a bad .priors.yaml still ticks" "$CAIRN" tick --force
expect_grep "and warns" 'warning: \.priors\.yaml:3:14: .*the anomaly scan ignores \.priors\.yaml' "$T/err"

finish
