#!/usr/bin/env bash
# The first hour (issue 17): every mistake a newcomer makes gets a precise error, a
# way out, and the exit code of the one policy (DESIGN §8): 0 ok, 1 findings, 2 usage,
# 3 infrastructure unreachable. Real temp repositories, the real binary.
source "$(dirname "$0")/lib.sh"

# expect_rc plus: stderr says PATTERN.
expect_rc_err() {  # expect_rc_err WANT DESC PATTERN CMD...
  local want=$1 desc=$2 pattern=$3; shift 3
  expect_rc "$want" "$desc" "$@"
  expect_grep "  ... and says so: /$pattern/" "$pattern" "$T/err"
}

# --- 1. The exit-code policy, verb by verb ------------------------------------------
# Outside a git work tree every verb that needs a repository is a usage error (2) and
# changes nothing; classify alone works anywhere (the built-in catalog).
mkdir "$T/nowhere" && cd "$T/nowhere"
for verb in "init" "new x" "validate" "tick" "tick --dry-run" "status" "status --learnings" "log x" \
  "clear x --reason r" "doctor" "catalog promote walltime-exceeded --from x" "forge"; do
  # shellcheck disable=SC2086
  expect_rc_err 2 "outside a repository: cairn $verb" "not inside a git repository" "$CAIRN" $verb
done
[ -z "$(ls -A "$T/nowhere")" ] && ok "  ... and nothing was created outside the repository" ||
  bad "files created outside a repository: $(ls -A "$T/nowhere")"
printf 'slurmstepd: error: *** JOB 1 ON c1 CANCELLED AT 2026 DUE TO TIME LIMIT ***\n' > "$T/job.log"
expect_rc 0 "outside a repository: cairn classify (built-in catalog)" "$CAIRN" classify "$T/job.log" --state TIMEOUT
expect_grep "  ... classifies with the built-in catalog" "walltime-exceeded" "$T/out"

# An unknown campaign name is a usage error with a did-you-mean.
mkdir "$T/repo" && cd "$T/repo" && git init -q
"$CAIRN" init --forge none >/dev/null
campaign "$T/repo" cnt-hydro-300k
git add -A && git commit -qm "a campaign"
for verb in "log cnt-hydro-300" "clear cnt-hydro-3000k --reason r" "tick --only cnt-hydro-30k" \
  "catalog promote walltime-exceeded --from cnt-hydro-300"; do
  # shellcheck disable=SC2086
  expect_rc_err 2 "unknown campaign: cairn $verb" "no campaign named .*did you mean \`cnt-hydro-300k\`" "$CAIRN" $verb
done
expect_rc_err 2 "unknown campaign, nothing close: cairn log" "no campaign named \`zzz\`.*campaigns: cnt-hydro-300k" \
  "$CAIRN" log zzz
expect_rc 0 "a known campaign without history yet: cairn log" "$CAIRN" log cnt-hydro-300k

# A dirty tree is a finding (1) with the files listed, for every verb that commits.
echo "# edit" >> campaigns/cnt-hydro-300k/jobs/run.sh
expect_rc_err 1 "dirty tree: cairn tick" "uncommitted changes:" "$CAIRN" tick --force
expect_grep "  ... lists the file" "^  campaigns/cnt-hydro-300k/jobs/run.sh$" "$T/err"
git checkout -q -- campaigns/cnt-hydro-300k/jobs/run.sh
echo "<!-- note -->" >> campaigns/cnt-hydro-300k/WORKFLOW.md
expect_rc_err 1 "dirty campaign file: cairn clear" "refusing to clear cnt-hydro-300k.*uncommitted" \
  "$CAIRN" clear cnt-hydro-300k --reason r
expect_grep "  ... lists the file" "^  campaigns/cnt-hydro-300k/WORKFLOW.md$" "$T/err"
git checkout -q -- campaigns/cnt-hydro-300k/WORKFLOW.md
expect_rc_err 1 "clear of a campaign that is not escalated is a finding" "not escalated" \
  "$CAIRN" clear cnt-hydro-300k --reason r

# Infrastructure out of reach is 3: the git remote, the scheduler, the forge.
git remote add origin "$T/no-such-remote.git"
expect_rc_err 3 "unreachable remote: cairn tick" "no-such-remote" "$CAIRN" tick --force
git remote remove origin
mkdir "$T/sched" && cd "$T/sched" && git init -q
"$CAIRN" init --forge none >/dev/null
campaign "$T/sched" remote-run
sed -i 's/backend: local/backend: slurm/' campaigns/remote-run/WORKFLOW.md
sed -i 's/^  local: {}.*/  slurm: {ssh_host: "cairn-no-such-host.invalid", ssh_config: \/dev\/null}/' cairn.yaml
git add -A && git commit -qm "a campaign on an unreachable cluster"
expect_rc_err 3 "unreachable scheduler: cairn tick" "cairn-no-such-host.invalid" env CAIRN_NETWORK_TIMEOUT=5 "$CAIRN" tick --force
git remote add origin "$T/sched"  # the forge verb needs a remote to push clear branches to
printf 'forge: {kind: github, repo: o/r, api: "http://127.0.0.1:9", token_env: FIRST_HOUR_TOKEN}\n' >> cairn.yaml
git commit -qam "a forge that does not answer"
expect_rc 3 "unreachable forge: cairn forge" env FIRST_HOUR_TOKEN=t CAIRN_FORGE_TIMEOUT_MS=2000 "$CAIRN" forge

# --- 2. Did-you-mean wherever a name is looked up, at file:line:col ------------------
mkdir "$T/typos" && cd "$T/typos" && git init -q
"$CAIRN" init --forge none >/dev/null
campaign "$T/typos" smoke-test
git add -A && git commit -qm "a campaign"
cp cairn.yaml "$T/cairn.yaml.good"
printf 'backends:\n  slurm: {ssh_hots: login1, partiton: a100}\nanomaly: {enabeld: false}\n' >> cairn.yaml
expect_rc 1 "cairn.yaml typos are errors (every verb reads cairn.yaml)" "$CAIRN" status
expect_grep "  ... a backend setting, at line:col, with a did-you-mean" \
  '^cairn.yaml:[0-9]+:[0-9]+: error: unknown key `backends.slurm.ssh_hots` in cairn.yaml; did you mean `ssh_host`\?' "$T/err"
expect_grep "  ... the second one too" 'unknown key `backends.slurm.partiton` in cairn.yaml; did you mean `partition`' "$T/err"
expect_grep "  ... and anomaly.enabeld" 'unknown key `anomaly.enabeld` in cairn.yaml; did you mean `enabled`' "$T/err"
cp "$T/cairn.yaml.good" cairn.yaml
wf=campaigns/smoke-test/WORKFLOW.md
cp $wf "$T/wf.good"
sed -i 's/^current_stage: run/current_stage: rnu/; s/^escalation_required: false/escalation_requried: false/' $wf
sed -i 's/  run: {run: jobs\/run.sh, resources: {time: "00:01:00"}, expect: 1m}/  run: {run: jobs\/run.sh, resources: {tiem: "00:01:00"}, expct: 1m}/' $wf
expect_rc 1 "validate: typos in a WORKFLOW.md" "$CAIRN" validate
expect_grep "  ... current_stage naming no stage, with a did-you-mean" \
  "^$wf:7:16: error: current_stage \`rnu\` names no row of the \`## Stages\` table; did you mean \`run\`" "$T/err"
expect_grep "  ... a frontmatter field one edit from a known one warns" \
  "^$wf:8:1: warning: unknown field \`escalation_requried\` .*did you mean \`escalation_required\`" "$T/err"
expect_grep "  ... a stage-spec key is an error" "^$wf:[0-9]+:[0-9]+: error: stage \`run\`: unknown key \`expct\`; did you mean \`expect\`" "$T/err"
expect_grep "  ... a resource key is an error" "^$wf:[0-9]+:[0-9]+: error: stage \`run\`: unknown resource \`tiem\`; did you mean \`time\`" "$T/err"
cp "$T/wf.good" $wf
sed -i 's/^owner: .*//; s/^project: it$/project: it\nowner: someone/' $wf
expect_rc 0 "a field of one's own (not close to a known one) stays, silently" "$CAIRN" validate
if grep -q "owner" "$T/err"; then bad "  ... but validate mentioned it"; else ok "  ... not mentioned"; fi
cp "$T/wf.good" $wf

# Every verb's --help ends with what its exit codes mean (README's table says the same);
# a mistyped verb or flag is a usage error with a did-you-mean.
for verb in init new validate tick status log classify clear doctor catalog forge; do
  expect_rc 0 "cairn $verb --help" "$CAIRN" $verb --help
  expect_grep "  ... names its exit codes" "^Exit codes: 0 ok; .*2 .*Bad flags: 2" "$T/out"
  row=$(grep -E '^\| `'"$verb"'( promote)?` \|' "$CAIRN_SOURCE_DIR/README.md" || true)
  [ -n "$row" ] && ok "  ... and README's exit-code table has a row for $verb" || bad "README has no exit-code row for $verb"
done
expect_rc_err 2 "a mistyped verb" 'did you mean `tick`' "$CAIRN" tik
expect_rc_err 2 "a mistyped flag" 'did you mean `--force`' "$CAIRN" tick --forse
expect_rc_err 2 "a mistyped subcommand" 'did you mean `promote`' "$CAIRN" catalog promot x --from y

# A tick that escalates a campaign exits 0 but says so, on stderr and in $GITHUB_OUTPUT.
cd "$T/repo"
printf '#!/bin/sh\necho "the input deck is nonsense"\nexit 7\n' > campaigns/cnt-hydro-300k/jobs/run.sh
git commit -qam "a job that fails in a way no catalog knows"
: > "$T/gh_out"
for _ in $(seq 1 30); do
  GITHUB_OUTPUT="$T/gh_out" "$CAIRN" tick --force >"$T/out" 2>"$T/err" || true
  grep -q "^status: escalated" campaigns/cnt-hydro-300k/WORKFLOW.md && break
  sleep 1
done
grep -q "^status: escalated" campaigns/cnt-hydro-300k/WORKFLOW.md && ok "the unknown failure escalated" ||
  bad "the campaign did not escalate"
expect_grep "the escalating tick says so on stderr" "1 campaign\(s\) newly escalated.*cnt-hydro-300k" "$T/err"
expect_grep "  ... and writes escalated=1 to \$GITHUB_OUTPUT" "^escalated=1$" "$T/gh_out"
: > "$T/gh_out"
expect_rc 0 "the next tick exits 0" env GITHUB_OUTPUT="$T/gh_out" "$CAIRN" tick --force
expect_grep "  ... with escalated=0 (nothing newly escalated)" "^escalated=0$" "$T/gh_out"
if grep -q "newly escalated" "$T/err"; then bad "  ... and says nothing"; else ok "  ... and says nothing"; fi

finish
