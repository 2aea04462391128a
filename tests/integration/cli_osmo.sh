#!/usr/bin/env bash
# An OSMO stage end to end, as the OSMO workflow expert seed runs it, through a fake
# `osmo` CLI that replays OSMO's own outputs (tests/fixtures/osmo/) and records every
# call: the submit commit says what the seed's Mode 1 returns (workflow id, pool and why,
# overview and dashboard links, the YAML's outputs); the poll names the pool and the
# link; the done commit and the Learnings row carry them; the YAML is never edited.
source "$(dirname "$0")/lib.sh"
F=$CAIRN_SOURCE_DIR/tests/fixtures/osmo
O=$T/osmo  # the fake's state: answers per workflow id, the calls it was given
mkdir -p "$O" "$T/bin"

cat > "$T/bin/osmo" <<FAKE
#!/usr/bin/env bash
# Answers as OSMO's CLI does, from the recorded outputs; one line per call in calls.log.
echo "\$*" >> "$O/calls.log"
case "\$1 \$2" in
  'pool list') cat "\${OSMO_POOLS:-$F/pool_list.json}" ;;
  'resource list') cat "$F/resource_list.json" ;;
  'workflow submit')
    if [ -f "$O/submit_error.txt" ]; then cat "$O/submit_error.txt"; rm -f "$O/submit_error.txt"; exit 1; fi
    n=\$(( \$(cat "$O/submits" 2>/dev/null || echo 0) + 1 )); echo \$n > "$O/submits"
    sed "s/gr00t-train-1/gr00t-train-\$n/g" "$F/submit_response.txt" ;;
  'workflow query')
    [ -f "$O/query-\$3.json" ] || { echo "Workflow \$3 not found" >&2; exit 1; }
    cat "$O/query-\$3.json" ;;
  'workflow events') cat "$O/events-\$3.txt" 2>/dev/null || true ;;
  'workflow logs') cat "$O/logs-\$3.txt" 2>/dev/null || cat "$F/workflow_logs_single_task.txt" ;;
  'workflow cancel') echo "Workflow \$3 cancelled" ;;
  *) echo "fake osmo: unexpected \$*" >&2; exit 2 ;;
esac
FAKE
chmod +x "$T/bin/osmo"

# The query of workflow NAME in state STATUS, from the fixture of a RUNNING one, its
# clock moved to the last hour (so nothing looks stuck); a COMPLETED one has ended.
hour=$(date -u -d '-1 hour' +%Y-%m-%dT%H)
query() {  # query NAME STATUS [FIXTURE]
  local src=${3:-$F/workflow_query_single_task.json}
  sed -e "s/gr00t-train-1/$1/g" -e "s/\"RUNNING\"/\"$2\"/g" -e "s/2026-05-0[0-9]T[0-9][0-9]:/$hour:/g" "$src" > "$O/query-$1.json"
  if [ "$2" = COMPLETED ]; then
    sed -i -e "s/\"end_time\": null/\"end_time\": \"$hour:30:00.000000\"/g" "$O/query-$1.json"
  fi
}

R=$T/repo
mkdir -p "$R/campaigns/gr00t/osmo" && cd "$R" && git init -q
cp "$F/workflow_spec_template.yaml" campaigns/gr00t/osmo/train.yaml
yaml_sum=$(sha256sum campaigns/gr00t/osmo/train.yaml | cut -d' ' -f1)
printf 'backends:\n  osmo: {osmo: %s}\n' "$T/bin/osmo" > cairn.yaml
printf '.cairn/\n' > .gitignore
cat > campaigns/gr00t/WORKFLOW.md <<'WF'
---
campaign: gr00t
project: it
created: 2026-11-23
last_tick: ""
status: ready
current_stage: train
escalation_required: false
escalation_reason: ""
budget: {backend: osmo, cap_usd: 0, spent_usd: 0}
stages:
  train:
    run: osmo/train.yaml
    set: {num_gpu: "4"}
    resources: {gpus: 4, gpu_type: h100}
    expect: 2h
---

# gr00t

## Stages

| # | Name  | Entry condition | Exit condition | Status  | JobID | Started | Completed | Retries |
|---|-------|-----------------|----------------|---------|-------|---------|-----------|---------|
| 0 | train | always          | exit=0         | pending | —     | —       | —         | 0       |

## Action queue

## Failure log

| Date | Stage | Error class | Error msg | Action taken | Result |
|------|-------|-------------|-----------|--------------|--------|

## Lessons learned

(none yet)
WF
git add -A && git commit -qm "an OSMO training campaign"
wf=campaigns/gr00t/WORKFLOW.md

tick() {  # tick DESC
  if "$CAIRN" tick --force >"$T/tick.out" 2>"$T/tick.err"; then ok "$1"; else bad "$1: exit $?"; cat "$T/tick.out" "$T/tick.err"; fi
}

# ---- 1. submit: the seed's Mode 1 return in the commit ------------------------------
tick "tick submits"
expect_grep "submitted with the stage's set on the best pool" \
  "^workflow submit $R/(\./)?campaigns/gr00t/osmo/train.yaml --pool h100-east --set num_gpu=4 --format-type json$" "$O/calls.log"
git log -1 --format=%B > "$T/msg"
expect_grep "submit commit: workflow id" 'as job gr00t-train-1 ' "$T/msg"
expect_grep "submit commit: pool and why it was chosen" '^Pool: h100-east \(chosen: pool h100-east for 4 GPU\(s\) of type h100: ONLINE, .* free on one node' "$T/msg"
expect_grep "submit commit: overview link" '^Overview: https://osmo.example.com/workflows/gr00t-train-1$' "$T/msg"
expect_grep "submit commit: dashboard link" '^Dashboard: https://k8s.example.com/dashboard/gr00t-train-1$' "$T/msg"
expect_grep "submit commit: the YAML's outputs" '^Outputs: s3://my-bucket/gr00t-train-1-output/$' "$T/msg"

# ---- 2. running: the stage names pool and link ---------------------------------------
query gr00t-train-1 RUNNING
tick "tick polls the running workflow"
expect_grep "the action item names pool and overview" \
  '^- \[ \] cairn: job gr00t-train-1 \(train\) running on h100-east \(https://osmo.example.com/workflows/gr00t-train-1\) at ' $wf

# ---- 3. done: outputs in the commit, pool and link in the Learnings row ---------------
query gr00t-train-1 COMPLETED
tick "tick sees the workflow completed"
grep -q '^status: done' $wf && ok "campaign done" || { bad "campaign not done"; cat $wf; }
git log -1 --format=%B > "$T/msg"
expect_grep "done commit: where it ran" '^Job gr00t-train-1 completed on h100-east \(https://osmo.example.com/workflows/gr00t-train-1\)' "$T/msg"
expect_grep "done commit: outputs" '^Outputs: s3://my-bucket/gr00t-train-1-output/\.$' "$T/msg"
expect_grep "Learnings row: pool, queue wait and the job's link" \
  '^\| [0-9-]+ +\| train +\| osmo +\| h100-east +\| 1m +\|.*\| gr00t-train-1 https://osmo.example.com/workflows/gr00t-train-1 +\|' $wf

[ "$(sha256sum campaigns/gr00t/osmo/train.yaml | cut -d' ' -f1)" = "$yaml_sum" ] && ok "the YAML is unchanged" || bad "the YAML changed"
[ -z "$(git status --porcelain)" ] && ok "work tree clean" || { bad "work tree dirty"; git status --porcelain; }
finish
