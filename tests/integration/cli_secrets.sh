#!/usr/bin/env bash
# No secret reaches a workload: a tick runs with canary credentials exported (the forge
# token under cairn.yaml's own `forge.token_env` name, CAIRN_TOKEN, GITHUB_TOKEN,
# GITLAB_TOKEN, CI_JOB_TOKEN, GitHub Actions runtime tokens, a *_PASSWORD); a local job
# and a `CMD` exits 0 check command print their environments, and neither holds any
# canary, while an ordinary variable and the stage's `env:` arrive.
source "$(dirname "$0")/lib.sh"

cd "$T" && mkdir repo && cd repo && git init -q
"$CAIRN" init >/dev/null
cat >>cairn.yaml <<'YAML'
forge: {kind: none, token_env: MY_FORGE_PAT}
YAML
mkdir -p campaigns/envc/jobs
cat >campaigns/envc/WORKFLOW.md <<'WF'
---
campaign: envc
project: it
created: 2026-11-23
last_tick: ""
status: ready
current_stage: run
escalation_required: false
escalation_reason: ""
budget: {backend: local, cap_usd: 0, spent_usd: 0}
stages:
  run:
    run: jobs/run.sh
    resources: {time: "00:01:00"}
    env: {STAGE_VAR: from-the-spec, OMP_NUM_THREADS: "3"}
---

# envc

## Stages

| # | Name | Entry condition | Exit condition                          | Status | JobID | Started | Completed | Retries |
|---|------|-----------------|-----------------------------------------|--------|-------|---------|-----------|---------|
| 0 | run  | always          | exit=0, `env > check.env` exits 0      | ready  | —     | —       | —         | 0       |

## Action queue

## Failure log

| Date | Stage | Error class | Error msg | Action taken | Result |
|------|-------|-------------|-----------|--------------|--------|

## Lessons learned

(none yet)
WF
# Also what its parent (the local backend's supervisor, alive next to the job) shows in
# /proc: a job of the same user can read that.
printf '#!/bin/sh\nenv > job.env\ntr "\\000" "\\n" < /proc/$PPID/environ > parent.env\n' >campaigns/envc/jobs/run.sh
chmod +x campaigns/envc/jobs/run.sh
printf 'job.env\ncheck.env\nparent.env\n' >campaigns/envc/.gitignore
git add -A && git commit -qm "campaign envc"

expect_rc 0 "validate accepts the stage's env:" "$CAIRN" validate
canaries=(MY_FORGE_PAT=canary-forge-pat-4d1 CAIRN_TOKEN=canary-cairn-9f2 GITHUB_TOKEN=canary-github-7a3
  GITLAB_TOKEN=canary-gitlab-5b8 CI_JOB_TOKEN=canary-cijob-2c6 ACTIONS_RUNTIME_TOKEN=canary-actions-8e0
  ACTIONS_ID_TOKEN_REQUEST_URL=https://canary-oidc.invalid/x DB_PASSWORD=canary-password-1d4
  SOME_VAR=ghp_canaryvalue0123456789abcdef)
tick() { env "${canaries[@]}" KEEP_ME=visible-3e5 "$CAIRN" tick --force; }
expect_rc 0 "tick submits the job with canaries exported" tick
for i in $(seq 1 100); do [ -s campaigns/envc/job.env ] && break; sleep 0.1; done
sleep 0.3
expect_rc 0 "tick checks the job" tick
expect_grep "the stage is done" "run running -> done" "$T/out"

for f in job.env check.env parent.env; do
  [ -s "campaigns/envc/$f" ] || { bad "$f was not written"; continue; }
  leaked=$(grep -o 'canary-[a-z-]*[0-9a-f]*\|ghp_canary[0-9a-f]*' "campaigns/envc/$f" | sort -u | tr '\n' ' ' || true)
  [ -z "$leaked" ] && ok "$f: no canary credential" || bad "$f holds: $leaked"
  # (the supervisor's original block keeps the names, with the values overwritten)
  [ "$f" = parent.env ] && continue
  for name in MY_FORGE_PAT CAIRN_TOKEN GITHUB_TOKEN GITLAB_TOKEN CI_JOB_TOKEN ACTIONS_RUNTIME_TOKEN \
    ACTIONS_ID_TOKEN_REQUEST_URL DB_PASSWORD SOME_VAR; do
    if grep -q "^$name=" "campaigns/envc/$f"; then bad "$f has \$$name"; fi
  done
  expect_grep "$f: an ordinary variable still arrives" '^KEEP_ME=visible-3e5$' "campaigns/envc/$f"
  expect_grep "$f: PATH still arrives" '^PATH=' "campaigns/envc/$f"
done
expect_grep "job.env: the stage's env: arrives" '^STAGE_VAR=from-the-spec$' campaigns/envc/job.env
expect_grep "job.env: a second env: variable" '^OMP_NUM_THREADS=3$' campaigns/envc/job.env
expect_grep "job.env: cairn's own variables" '^CAIRN_CAMPAIGN=envc$' campaigns/envc/job.env

# A name that is not a variable name is a finding at its place.
sed -i 's/env: {STAGE_VAR: from-the-spec, OMP_NUM_THREADS: "3"}/env: {STAGE-VAR: x}/' campaigns/envc/WORKFLOW.md
expect_rc 1 "validate rejects env: STAGE-VAR" "$CAIRN" validate
expect_grep "file:line:col names it" 'campaigns/envc/WORKFLOW.md:[0-9]+:[0-9]+: .*env: `STAGE-VAR` is not a variable name' "$T/err"
git checkout -q -- campaigns/envc/WORKFLOW.md
finish
