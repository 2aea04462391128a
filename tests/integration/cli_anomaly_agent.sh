#!/usr/bin/env bash
# `diagnose.when: anomaly` end to end on the local backend, with plain `cairn tick` (no
# --force; a human's edit makes the campaign due, as docs/tick.md says): a job that logs
# FATAL while it runs pauses its chain, and the configured agent, a script that reads the
# context file, explains the anomaly read-only. Its DIAGNOSIS.md goes into
# ORCHESTRATION_CHECK.md after cairn's own findings, in a section labelled as the
# agent's; whatever it changed is discarded (it ran in a scratch copy, not the
# checkout); the token the tick holds never reaches it; it runs once per anomaly. An
# agent that exits non-zero, or runs past `diagnose.timeout`, is a line in that section
# and the pause happens all the same.
source "$(dirname "$0")/lib.sh"

CANARY="ghp_AnomalyAgentCanary0123456789abcdefABCD"
export GITHUB_TOKEN=$CANARY CAIRN_TOKEN=$CANARY

# fatal_job NAME: lib.sh's campaign whose job logs FATAL, then runs until released.
fatal_job() {
  campaign . "$1"
  printf '#!/bin/sh\necho "FATAL: energy drift beyond tolerance"\ni=0\nwhile [ ! -e "%s/release" ] && [ $i -lt 3000 ]; do sleep 0.1; i=$((i + 1)); done\n' \
    "$T" > "campaigns/$1/jobs/run.sh"
  chmod +x "campaigns/$1/jobs/run.sh"
}

# A human touches the campaign's file: the next plain tick works it at once.
human_edit() {  # human_edit NAME
  sed -i "s/^project: .*/project: looked-at-$RANDOM/" "campaigns/$1/WORKFLOW.md"
  git commit -qam "a human looks at $1"
}

# repo DIR AGENT TIMEOUT: a repository of one fatal_job campaign, c1, whose cairn.yaml runs
# AGENT on escalations and anomalies.
repo() {
  mkdir -p "$1" && cd "$1" && git init -q
  fatal_job c1
  printf 'diagnose:\n  command: ["%s", "{context}", "{out}"]\n  when: [escalated, anomaly]\n  timeout: %s\n' \
    "$2" "$3" > cairn.yaml
  git add -A && git commit -qm "a campaign whose job logs FATAL; an agent for anomalies"
}

# submit_then_scan: a plain tick submits run; after a human's edit, a second plain tick
# sees the running job's log.
submit_then_scan() {
  expect_rc 0 "a plain tick submits run" "$CAIRN" tick
  grep -q '^| 0 | run .*| running ' campaigns/c1/WORKFLOW.md && ok "run is running" ||
    { bad "run not running"; show campaigns/c1/WORKFLOW.md; }
  sleep 1
  human_edit c1
  expect_rc 0 "a plain tick scans the running job" "$CAIRN" tick
}

mkdir -p "$T/agents"
# Quotes what cairn told it, prints its environment, and tries to change the checkout:
# all of that must stay out of the repository.
cat > "$T/agents/reader.sh" <<SH
#!/bin/sh
echo run >> "$T/reader.runs"
env > "$T/reader.env"
env
{
  echo "## Root cause, says the agent"
  echo "The context names \$(grep -o 'bad_log_while_running' "\$1" | head -1) and \$(grep -o 'FATAL: energy drift' "\$1" | head -1)."
  echo "Working directory: \$(pwd)"
  env
} > "\$2/DIAGNOSIS.md"
echo "paused: false" >> WORKFLOW.md
echo "echo changed by the agent" >> jobs/run.sh
touch agent-was-here
SH
printf '#!/bin/sh\necho "half a thought" > "$2/DIAGNOSIS.md"\nexit 3\n' > "$T/agents/failing.sh"
printf '#!/bin/sh\nsleep 60\n' > "$T/agents/sleepy.sh"
chmod +x "$T/agents/"*.sh

echo "# 1. an agent that explains"
repo "$T/r1" "$T/agents/reader.sh" 1m
submit_then_scan
check=campaigns/c1/ORCHESTRATION_CHECK.md
expect_grep "1: the chain is paused" '^paused: true$' campaigns/c1/WORKFLOW.md
[ -f $check ] && ok "1: ORCHESTRATION_CHECK.md written" || bad "1: no ORCHESTRATION_CHECK.md"
heading='^## What the agent `reader.sh` read into it \(not verified by cairn\)$'  # grep -E
expect_grep "1: the agent's section is labelled as the agent's" "$heading" $check
expect_grep "1: its explanation is quoted there" '^> The context names bad_log_while_running and FATAL: energy drift\.$' $check
mine=$(grep -n '^## bad_log_while_running' $check | cut -d: -f1)
theirs=$(grep -n -E "$heading" $check | cut -d: -f1)
[ -n "$mine" ] && [ -n "$theirs" ] && [ "$mine" -lt "$theirs" ] && ok "1: cairn's findings come first" ||
  { bad "1: section order (cairn $mine, agent $theirs)"; show $check; }
grep -q "^> Working directory: $T/r1" $check && bad "1: the agent ran in the tick's checkout" ||
  ok "1: the agent ran in a scratch copy"
[ -s "$T/reader.env" ] && ok "1: the agent ran and printed its environment" || bad "1: the agent did not run"
if grep -q "$CANARY" "$T/reader.env" $check; then bad "1: the canary token reached the agent or the check"
else ok "1: no token in the agent's environment, output or the check"; fi
grep -q '^paused: false' campaigns/c1/WORKFLOW.md && bad "1: the agent's edit of WORKFLOW.md was kept" ||
  ok "1: the agent's edit of WORKFLOW.md was discarded"
grep -q 'changed by the agent' campaigns/c1/jobs/run.sh && bad "1: the agent's edit of the job was kept" ||
  ok "1: the agent's edit of the job script was discarded"
[ -z "$(git status --porcelain)" ] && ok "1: the work tree is clean" || { bad "1: the work tree is not clean"; git status --short; }
[ -z "$(find . -name agent-was-here)" ] && ok "1: no file the agent made is left" || bad "1: the agent's file is left"
anomaly_commit=$(git log --format=%H --grep '^Cairn-Anomaly: bad_log_while_running c1 run' -1)
git show --name-only --format= "$anomaly_commit" | grep -qx $check &&
  ok "1: the check with the agent's section is in the anomaly commit" || bad "1: the check is not in the anomaly commit"
human_edit c1
expect_rc 0 "1: another plain tick while the job runs" "$CAIRN" tick
[ "$(wc -l < "$T/reader.runs")" = 1 ] && ok "1: the agent runs once per anomaly" ||
  bad "1: the agent ran $(wc -l < "$T/reader.runs") times"

echo "# 2. an agent that fails"
repo "$T/r2" "$T/agents/failing.sh" 1m
submit_then_scan
expect_grep "2: paused all the same" '^paused: true$' campaigns/c1/WORKFLOW.md
expect_grep "2: the failure is a line in the agent's section" \
  '^The agent did not explain it: it exited 3\.$' campaigns/c1/ORCHESTRATION_CHECK.md
expect_grep "2: what it wrote is still shown, quoted" '^> half a thought$' campaigns/c1/ORCHESTRATION_CHECK.md

echo "# 3. an agent that runs past diagnose.timeout"
repo "$T/r3" "$T/agents/sleepy.sh" 2s
start=$(date +%s)
submit_then_scan
[ $(($(date +%s) - start)) -lt 50 ] && ok "3: the agent was killed at its timeout" || bad "3: the tick waited for the agent"
expect_grep "3: paused all the same" '^paused: true$' campaigns/c1/WORKFLOW.md
expect_grep "3: the timeout is a line in the agent's section" \
  '^The agent did not explain it: failed: .*' campaigns/c1/ORCHESTRATION_CHECK.md

touch "$T/release"  # the jobs end
finish
