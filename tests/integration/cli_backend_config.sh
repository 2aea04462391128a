#!/usr/bin/env bash
# A backend whose settings in cairn.yaml it cannot use (an osmo `priority: urgent`, a
# command backend's `timeout: soon`) is a finding about cairn.yaml at the setting's
# line:col, never "backend not configured": `validate`, `doctor` and `tick` say so
# (exit 1), the tick escalates nothing for it and holds the campaigns on that backend,
# and a campaign on another backend still runs. Fixed, it validates.
source "$(dirname "$0")/lib.sh"

cd "$T" && mkdir repo && cd repo && git init -q
"$CAIRN" init >/dev/null
sed -i 's/^  local: {}.*/&\n  gpu: {kind: osmo, pool: h100, priority: urgent}\n  pbs: {kind: command, preset: pbs, timeout: soon}/' cairn.yaml
campaign . good
campaign . held
campaign . queued
sed -i 's/^budget: {backend: local,/budget: {backend: gpu,/' campaigns/held/WORKFLOW.md
sed -i 's/^budget: {backend: local,/budget: {backend: pbs,/' campaigns/queued/WORKFLOW.md
git add -A && git commit -q --no-verify -m "three campaigns, two on backends cairn.yaml gets wrong"

# Where the refused values are: line and column of `urgent` and of `soon`.
at_gpu=$(awk '/^  gpu:/ { print NR ":" index($0, "urgent") }' cairn.yaml)
at_pbs=$(awk '/^  pbs:/ { print NR ":" index($0, "soon") }' cairn.yaml)

expect_rc 1 "validate: a backend setting its backend refuses is an error" "$CAIRN" validate
expect_grep "  ... osmo's priority, at its line:col" \
  "^cairn.yaml:$at_gpu: error: backend \`gpu\` \(osmo\): priority must be HIGH, NORMAL or LOW, not 'urgent'" "$T/err"
expect_grep "  ... the command backend's timeout, at its line:col" \
  "^cairn.yaml:$at_pbs: error: backend \`pbs\` \(command\): \`timeout\` must be a number of seconds" "$T/err"
expect_rc 1 "validate --json: exit 1 too" "$CAIRN" validate --json
expect_grep "  ... the diagnostic is in \"config\" with its line" "\"line\": ${at_gpu%%:*}," "$T/out"

expect_rc 1 "doctor: the backend's settings are an error" "$CAIRN" doctor
cat "$T/out" "$T/err" >"$T/doctor"
expect_grep "  ... naming cairn.yaml:line:col and the setting" "cairn.yaml:$at_gpu: .*priority must be HIGH, NORMAL or LOW" "$T/doctor"
expect_grep "  ... for the command backend too" "cairn.yaml:$at_pbs: .*\`timeout\` must be a number of seconds" "$T/doctor"

expect_rc 1 "tick: the config error is a finding (exit 1)" "$CAIRN" tick --force
cp "$T/out" "$T/tick.out" && cp "$T/err" "$T/tick.err"
expect_grep "  ... reported at its line:col" "^cairn.yaml:$at_gpu: error: backend \`gpu\`" "$T/tick.err"
expect_grep "  ... the campaign on the local backend still runs" 'good: run ready -> running' "$T/tick.out"
expect_grep "  ... the held campaign says why it waits" "held .*waits for cairn.yaml to be fixed" "$T/tick.out"
if grep -q "not configured" "$T/tick.out" "$T/tick.err" campaigns/*/WORKFLOW.md; then
  bad "  ... never \"not configured\""
  grep "not configured" "$T/tick.out" "$T/tick.err" campaigns/*/WORKFLOW.md | sed 's/^/    /'
else
  ok "  ... never \"not configured\""
fi
for c in held queued; do
  expect_grep "$c: not escalated" '^escalation_required: false$' "campaigns/$c/WORKFLOW.md"
  expect_grep "$c: its stage still waits to run" '^\| 0 \| run  \| always +\| exit=0 +\| pending \|' "campaigns/$c/WORKFLOW.md"
  [ -z "$(git log --format=%H -- "campaigns/$c" | sed 1d)" ] && ok "$c: no tick commit touches it" ||
    bad "$c: commits touch campaigns/$c: $(git log --oneline -- "campaigns/$c")"
done
expect_rc 1 "a second tick: the same finding, still nothing escalated" "$CAIRN" tick --force
grep -q '^escalation_required: false$' campaigns/held/WORKFLOW.md && ok "  ... held is still not escalated" ||
  bad "  ... held escalated on the second tick"

sed -i -e 's/priority: urgent/priority: LOW/' -e 's/timeout: soon/timeout: 30/' cairn.yaml
git commit -qam "backends fixed"
expect_rc 0 "validate: fixed, every file and cairn.yaml check" "$CAIRN" validate
finish
