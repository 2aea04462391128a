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

# A repository of three campaigns ticked until nothing is left to do, for the dashboard
# tests: c-retry's stage `run` times out (a 3 s job under a 2 s limit), the catalogued
# `walltime x2` retries it and it completes, then its stage `post` runs; c-done completes
# at once; c-stuck fails in a way no catalog knows and escalates.
dashboard_demo() {  # dashboard_demo DIR
  mkdir -p "$1" && cd "$1" && git init -q
  campaign "$1" c-retry
  campaign "$1" c-done
  campaign "$1" c-stuck
  sed -i -e 's|  run: {run: jobs/run.sh, resources: {time: "00:01:00"}, expect: 1m}|  run: {run: jobs/run.sh, resources: {time: "00:00:02"}, expect: 1m}\n  post: {run: jobs/run.sh, resources: {time: "00:01:00"}, expect: 1m}|' \
    -e 's/^| 0 | run  | always          | exit=0         | pending | —     | —       | —         | 0       |$/&\n| 1 | post | stage 0 done    | exit=0         | pending | —     | —       | —         | 0       |/' \
    campaigns/c-retry/WORKFLOW.md
  printf '#!/bin/sh\n[ -e slow-done ] && exit 0\nsleep 3\ntouch slow-done\n' > campaigns/c-retry/jobs/run.sh
  printf '#!/bin/sh\necho "frobnicator jammed at step 17" >&2\nexit 3\n' > campaigns/c-stuck/jobs/run.sh
  git add -A && git commit -qm "three campaigns"
  local i
  for i in $(seq 1 30); do
    "$CAIRN" tick --force >/dev/null 2>&1 || true
    grep -q -E '"status": "(pending|ready|running|failed)"' <<<"$("$CAIRN" status --json)" || return 0
    sleep 1
  done
  echo "dashboard_demo: campaigns still moving after 30 ticks:" >&2
  "$CAIRN" status >&2
  return 1
}

# Whether this cairn has the crash points of `CAIRN_FAULT_INJECT` (configured with
# -DCAIRN_FAULT_INJECTION=ON, as ci/test does; off by default). ctest passes it on.
need_fault_injection() {
  [ "${CAIRN_FAULT_INJECTION_BUILT:-0}" = 1 ] && return 0
  echo "SKIP: cairn was built without -DCAIRN_FAULT_INJECTION=ON; this script crashes ticks at its crash points (ci/test builds with it)"
  exit 77
}

# github_contract DESC REQUESTS: checks every request a fake forge logged (--log) against
# GitHub's own OpenAPI description (@octokit/openapi, which ci/deps.sh installs). When its
# install failed, contract_skip says so (the script then reports itself skipped, saying
# why); a missing description with no recorded install failure is a failure.
contract_skip=""
github_contract() {
  local desc=$1 requests=$2 npm_prefix=${CAIRN_NPM_PREFIX:-/opt/cairn-npm}
  local openapi=$npm_prefix/node_modules/@octokit/openapi/generated/api.github.com.json
  if [ -f "$openapi" ] && command -v node >/dev/null; then
    if node "$CAIRN_SOURCE_DIR/tests/servers/github_contract.mjs" "$openapi" "$requests" >"$T/contract.out" 2>&1; then
      ok "$desc: GitHub contract: $(tail -n 1 "$T/contract.out")"
    else
      bad "$desc: GitHub contract: requests the OpenAPI description does not allow"
    fi
    sed 's/^/    /' "$T/contract.out"
  elif [ -f "$npm_prefix/install-failed" ]; then
    contract_skip="GitHub contract not checked: $(tr '\n' ' ' <"$npm_prefix/install-failed")"
  else
    bad "$desc: GitHub contract: $openapi is missing (and node: $(command -v node || echo none)); install it with" \
      "\`source ci/deps.sh && cairn_npm_install \"\$cairn_npm_prefix\" \"\${cairn_npm_packages[@]}\"\` (ci/test does)"
  fi
}

# --- reading a campaign's WORKFLOW.md (DIR: a clone, NAME: the campaign) ---
show() { sed 's/^/    | /' "$@"; }  # quote a file under a failing check
wf_of() { echo "$1/campaigns/$2/WORKFLOW.md"; }
# The `run` stage's cell in column N (5 Status, 6 JobID).
cell() {  # cell DIR NAME N
  awk -F'|' -v n=$(($3 + 1)) '$3 ~ /^ *run *$/ { v = $n; gsub(/^ +| +$/, "", v); print v; exit }' "$(wf_of "$1" "$2")"
}
stage_status() { cell "$1" "$2" 5; }  # stage_status DIR NAME
fm() { sed -n "s/^$3: *//p" "$(wf_of "$1" "$2")" | head -1 | tr -d '"'; }  # fm DIR NAME KEY
failure_rows() {  # failure_rows DIR NAME: the Failure log's data rows
  awk '/^## /{ s = ($0 == "## Failure log") } s && /^\| *[0-9]{4}-/' "$(wf_of "$1" "$2")"
}
trailer() {  # trailer DIR COMMIT KEY
  git -C "$1" log -1 --format=%B "$2" | git interpret-trailers --parse | sed -n "s/^$3: //p" | head -1
}
# A `run` job script that appends "NAME ATTEMPT" to $T/runs.txt, then runs BODY.
job() {  # job DIR NAME BODY
  printf '#!/bin/sh\necho "%s $CAIRN_ATTEMPT" >> "%s/runs.txt"\n%s\n' "$2" "$T" "$3" >"$1/campaigns/$2/jobs/run.sh"
  chmod +x "$1/campaigns/$2/jobs/run.sh"
}
ran() { local n; n=$(grep -c "^$1 " "$T/runs.txt" 2>/dev/null) || true; echo "${n:-0}"; }  # ran NAME
