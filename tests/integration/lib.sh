# Helpers for the end-to-end scripts: a temp dir, assertions that say what failed.
set -euo pipefail
# Under set -e a failing command ends the script: say which, so a CI log explains it.
trap 'echo "FAIL - aborted: line $LINENO: [$BASH_COMMAND] exited $?" >&2' ERR
: "${CAIRN:?CAIRN must point at the cairn binary}"
: "${CAIRN_SOURCE_DIR:?}"
T=$(mktemp -d /tmp/cairn-it.XXXXXX)
export CAIRN_STATE_DIR=$T/state
export GIT_CONFIG_GLOBAL=$T/gitconfig
git config --global user.name "Test Human"
git config --global user.email "human@test.invalid"
git config --global init.defaultBranch main
trap '[ -n "${CAIRN_KEEP_TMP:-}" ] || rm -rf "$T"' EXIT
failures=0
checks=0
ok() { checks=$((checks + 1)); echo "ok - $*"; }
bad() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL - $*"; }
expect_rc() {  # expect_rc WANT DESC CMD...
  local want=$1 desc=$2; shift 2
  local rc=0
  "$@" >"$T/out" 2>"$T/err" || rc=$?
  if [ "$rc" -eq "$want" ]; then ok "$desc (exit $rc)"; else bad "$desc: exit $rc, wanted $want"; sed 's/^/    /' "$T/out" "$T/err"; fi
}
expect_grep() {  # expect_grep DESC PATTERN FILE
  if grep -q -E -- "$2" "$3"; then ok "$1"; else bad "$1: /$2/ not in $3"; sed 's/^/    /' "$3"; fi
}
finish() {
  echo "$((checks - failures)) passed, $failures failed"
  [ "$failures" -eq 0 ]
}

# A campaign with one stage whose job appends "NAME <time>" to $T/runs.txt, so tests
# can count how often each job ran.
campaign() {  # campaign DIR NAME
  mkdir -p "$1/campaigns/$2/jobs"
  cat > "$1/campaigns/$2/WORKFLOW.md" <<WF
---
campaign: $2
project: it
created: 2026-11-23
last_tick: ""
status: ready
current_stage: run
escalation_required: false
escalation_reason: ""
budget: {backend: local, cap_usd: 0, spent_usd: 0}
stages:
  run: {run: jobs/run.sh, resources: {time: "00:01:00"}, expect: 1m}
---

# $2

## Stages

| # | Name | Entry condition | Exit condition | Status  | JobID | Started | Completed | Retries |
|---|------|-----------------|----------------|---------|-------|---------|-----------|---------|
| 0 | run  | always          | exit=0         | pending | —     | —       | —         | 0       |

## Action queue

## Failure log

| Date | Stage | Error class | Error msg | Action taken | Result |
|------|-------|-------------|-----------|--------------|--------|

## Lessons learned

(none yet)
WF
  printf '#!/bin/sh\necho "%s $(date +%%s%%N)" >> "%s/runs.txt"\n' "$2" "$T" > "$1/campaigns/$2/jobs/run.sh"
  chmod +x "$1/campaigns/$2/jobs/run.sh"
}
