#!/usr/bin/env bash
# `cairn tick` end to end on a real git repository and the real local backend:
# transitions as commits with parseable trailers, dry runs, dirty trees, crash adoption.
source "$(dirname "$0")/lib.sh"
need_fault_injection

cd "$T" && mkdir repo && cd repo && git init -q
"$CAIRN" init >/dev/null
mkdir -p campaigns/c1/jobs
cat > campaigns/c1/WORKFLOW.md <<'WF'
---
campaign: c1
project: it
created: 2026-11-23
last_tick: ""
status: pending
current_stage: smoke
escalation_required: false
escalation_reason: ""
budget: {backend: local, cap_usd: 0, spent_usd: 0}
notify: {on_advance: false, on_escalate: true}
stages:
  smoke:
    run: jobs/smoke.sh
    resources: {time: "00:00:30"}
    expect: 1m
  prod:
    run: jobs/prod.sh
    resources: {time: "00:00:30"}
    expect: 1m
---

# c1

## Stages

| # | Name  | Entry condition | Exit condition                    | Status  | JobID | Started | Completed | Retries |
|---|-------|-----------------|-----------------------------------|---------|-------|---------|-----------|---------|
| 0 | smoke | always          | exit=0, `smoke.out` exists        | pending | —     | —       | —         | 0       |
| 1 | prod  | stage 0 done    | exit=0, no FATAL in log           | pending | —     | —       | —         | 0       |

## Action queue

- [ ] A human note that cairn must not touch.

## Failure log

| Date | Stage | Error class | Error msg | Action taken | Result |
|------|-------|-------------|-----------|--------------|--------|

## Lessons learned

(none yet)

## References
WF
cat > campaigns/c1/jobs/smoke.sh <<'SH'
#!/bin/sh
echo "$CAIRN_CAMPAIGN/$CAIRN_STAGE/$CAIRN_ATTEMPT" >> ran.txt
echo hello > smoke.out
SH
cat > campaigns/c1/jobs/prod.sh <<'SH'
#!/bin/sh
echo "prod $CAIRN_ATTEMPT" >> ran.txt
SH
chmod +x campaigns/c1/jobs/*.sh
echo "ran.txt" > campaigns/c1/.gitignore; echo "smoke.out" >> campaigns/c1/.gitignore
git add -A && git commit -qm "campaign c1"
base=$(git rev-parse HEAD)

expect_rc 0 "dry run" "$CAIRN" tick --dry-run --force
expect_grep "dry run names the submit" "smoke ready -> running" "$T/out"
[ "$(git rev-parse HEAD)" = "$base" ] && ok "dry run made no commit" || bad "dry run committed"
[ ! -e campaigns/c1/ran.txt ] && ok "dry run submitted nothing" || bad "dry run ran a job"
git diff --quiet && ok "dry run left the tree clean" || bad "dry run changed files"

# A crash between submit and commit: the next tick adopts the job instead of running it twice.
CAIRN_FAULT_INJECT=exit-after-submit:1 "$CAIRN" tick --force >"$T/out" 2>&1 && bad "fault injection did not fire" || ok "tick died between submit and commit"
[ "$(git rev-list --count $base..HEAD)" = 2 ] && ok "only pending -> ready and the intent were committed" || bad "unexpected commits: $(git log --oneline $base..HEAD)"
grep -qxE "Cairn-Intent: submit cairn\.([0-9a-f]{8}\.)?c1\.smoke\.1" <<<"$(git log -1 --format=%B | git interpret-trailers --parse)" \
  && ok "the intent names the job key" || bad "no intent trailer in: $(git log -1 --format=%B)"
sleep 1
expect_rc 0 "tick after the crash" "$CAIRN" tick --force
expect_grep "the job was adopted, not resubmitted" "smoke ready -> running" "$T/out"
grep -q "Adopted job" <<<"$(git log -1 --format=%B)" && ok "commit says the job was adopted" || bad "no adoption in: $(git log -1 --format=%B)"
for i in $(seq 1 50); do grep -q hello campaigns/c1/smoke.out 2>/dev/null && break; sleep 0.2; done
expect_rc 0 "tick that completes smoke" "$CAIRN" tick --force
expect_grep "smoke done" "smoke running -> done" "$T/out"
expect_grep "prod submitted in the same tick" "prod ready -> running" "$T/out"
[ "$(grep -c smoke campaigns/c1/ran.txt)" = 1 ] && ok "smoke ran exactly once" || bad "smoke ran $(grep -c smoke campaigns/c1/ran.txt) times"

# Every transition commit: author = identity, one file, trailers parse back.
for c in $(git rev-list $base..HEAD); do
  files=$(git show --name-only --format= "$c")
  [ "$files" = "campaigns/c1/WORKFLOW.md" ] || bad "commit $c touches: $files"
  grep -qx "cairn-bot" <<<"$(git log -1 --format=%an "$c")" || bad "commit $c author $(git log -1 --format=%an "$c")"
  git log -1 --format=%B "$c" | git interpret-trailers --parse > "$T/trailers"
  grep -q "^Cairn-Campaign: c1$" "$T/trailers" || bad "commit $c lacks Cairn-Campaign"
  grep -q "^Cairn-Transition: " "$T/trailers" || bad "commit $c lacks Cairn-Transition"
  grep -q "^Cairn-Tick: " "$T/trailers" || bad "commit $c lacks Cairn-Tick"
done
ok "transition commits checked: $(git rev-list --count $base..HEAD)"
grep -q "smoke running -> done" <<<"$(git log --grep 'Cairn-Campaign: c1' --oneline)" && ok "git log --grep finds transitions" || bad "git log --grep"
expect_rc 0 "cairn log" "$CAIRN" log c1
expect_grep "log shows the done transition" "smoke +running -> done" "$T/out"
expect_rc 0 "cairn log --json" "$CAIRN" log c1 --json
expect_grep "log JSON has transitions" '"transition": "pending -> ready"' "$T/out"
grep -q "A human note that cairn must not touch." campaigns/c1/WORKFLOW.md && ok "human action item kept" || bad "human item lost"

# Not due: a plain tick right after is cheap and changes nothing.
head=$(git rev-parse HEAD)
expect_rc 0 "tick when nothing is due" "$CAIRN" tick
[ "$(git rev-parse HEAD)" = "$head" ] && ok "no commit when nothing is due" || bad "committed while not due"
expect_grep "next tick delay printed" "next tick in" "$T/out"
GITHUB_OUTPUT=$T/gh_out GITHUB_STEP_SUMMARY=$T/gh_sum "$CAIRN" tick >/dev/null 2>&1 || true
expect_grep "GITHUB_OUTPUT gets next_tick_seconds" "^next_tick_seconds=[0-9]+$" "$T/gh_out"
expect_grep "step summary table" "^\| Campaign \| Status" "$T/gh_sum"
expect_rc 0 "tick --json" "$CAIRN" tick --json
expect_grep "JSON has next_tick_seconds" '"next_tick_seconds"' "$T/out"

# A dirty tracked file: refuse with exit 1 (a finding, docs/cli.md); untracked files are fine.
echo "scratch" > campaigns/c1/untracked.txt
echo "# edit" >> campaigns/c1/jobs/prod.sh
expect_rc 1 "tick refuses a dirty tree" "$CAIRN" tick --force
expect_grep "says which file" "jobs/prod.sh" "$T/err"
git checkout -q -- campaigns/c1/jobs/prod.sh

expect_rc 2 "--only an unknown campaign" "$CAIRN" tick --only nope
finish
