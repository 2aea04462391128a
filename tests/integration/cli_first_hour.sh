#!/usr/bin/env bash
# The first hour (issue 17): every mistake a newcomer makes gets a precise error, a
# way out, and the exit code of the one policy (docs/cli.md): 0 ok, 1 findings, 2 usage,
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
for verb in "init" "new x" "validate" "tick" "tick --dry-run" "status" "status --learnings" "log x" "report" \
  "show x" "logs x" "cancel x --reason r" \
  "clear x --reason r" "diagnose x" "doctor" "catalog promote walltime-exceeded --from x" "forge"; do
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
  "show cnt-hydro-300" "logs cnt-hydro-3000k" "cancel cnt-hydro-30k --reason r" \
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
# A catalog row's fix name.
printf '| walltime-exceeded | — | TIMEOUT | — | yes | waltime x2 | 1 | Longer walltime. |\n' >> catalogs/project.md
"$CAIRN" classify - --state TIMEOUT >"$T/out" 2>"$T/err" || true
expect_grep "a misspelt catalog fix, at line:col, with a did-you-mean" \
  '^catalogs/project.md:[0-9]+:[0-9]+: error: unknown auto-fix "waltime x2"; did you mean `walltime`\?' "$T/err"
git checkout -q -- catalogs/project.md

# Every verb's --help ends with what its exit codes mean (README's table says the same);
# a mistyped verb or flag is a usage error with a did-you-mean.
for verb in init new validate tick status show logs cancel log report classify clear diagnose doctor catalog forge; do
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

# --- 3. validate says at file:line:col what a tick would hit later ---------------------
mkdir "$T/checks" && cd "$T/checks" && git init -q
"$CAIRN" init --forge none --commit >/dev/null
campaign "$T/checks" c1
git add -A && git commit -qm "c1"
wf=campaigns/c1/WORKFLOW.md
sed -i 's/backend: local, cap_usd/backend: slurmm, cap_usd/' $wf
expect_rc 1 "validate: a misspelt backend" "$CAIRN" validate
expect_grep "  ... at the value, with a did-you-mean" \
  "^$wf:10:19: error: budget.backend: unknown backend \`slurmm\`; did you mean \`slurm\`" "$T/err"
sed -i 's/backend: slurmm, cap_usd/backend: alpine, cap_usd/' $wf
expect_rc 1 "validate: a backend cairn.yaml does not configure" "$CAIRN" validate
expect_grep "  ... says how to configure it" "budget.backend: unknown backend \`alpine\`; configure it in cairn.yaml" "$T/err"
git checkout -q -- $wf
sed -i 's|run: {run: jobs/run.sh|run: {run: jobs/rnu.sh|' $wf
expect_rc 1 "validate: a run: script that does not exist" "$CAIRN" validate
expect_grep "  ... at the run: value" "^$wf:12:14: error: stages.run.run: \`jobs/rnu.sh\` does not exist" "$T/err"
git checkout -q -- $wf
chmod -x campaigns/c1/jobs/run.sh
expect_rc 0 "validate: a /bin/sh script without the x bit is a warning" "$CAIRN" validate
expect_grep "  ... saying chmod +x" "^$wf:12:14: warning: stages.run.run: \`jobs/run.sh\` is not executable: chmod \\+x" "$T/err"
printf '#!/usr/bin/env python3\nprint("hi")\n' > campaigns/c1/jobs/run.sh
expect_rc 1 "validate: a python script without the x bit is an error (/bin/sh would run it)" "$CAIRN" validate
git checkout -q -- campaigns/c1/jobs/run.sh
sed -i 's|run: {run: jobs/run.sh|run: {run: jobs/new.sh|' $wf
printf '#!/bin/sh\necho new\n' > campaigns/c1/jobs/new.sh && chmod +x campaigns/c1/jobs/new.sh
expect_rc 1 "validate: a tracked campaign's script that git does not track" "$CAIRN" validate
expect_grep "  ... says git add" "error: stages.run.run: \`jobs/new.sh\` is not tracked by git: \`git add campaigns/c1/jobs/new.sh\`" "$T/err"
expect_rc 1 "validate --json" "$CAIRN" validate --json
if python3 - "$T/out" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["version"] == 1 and j["invalid"] == 1, j
d = [d for f in j["files"] for d in f["diagnostics"] if "not tracked" in d["message"]][0]
assert d["severity"] == "error" and d["line"] == 12 and d["column"] == 14, d
PY
then ok "  ... diagnostics as objects (path, line, column, severity, message)"; else bad "  ... JSON shape"; cat "$T/out"; fi
# The pre-commit hook holds the staged WORKFLOW.md to the same rule, and says nothing
# when all is well.
git add $wf
if git commit -qm "uses an unstaged script" 2>"$T/err"; then bad "the hook let a WORKFLOW.md through whose script is not staged"
else ok "the hook refuses a WORKFLOW.md whose script is not staged"; fi
expect_grep "  ... naming it" "jobs/new.sh\` is not staged: \`git add campaigns/c1/jobs/new.sh\`" "$T/err"
git add campaigns/c1/jobs/new.sh
git commit -m "with its script" >"$T/out" 2>"$T/err" && ok "the hook lets it through once staged" || bad "the hook refused a good commit"
if grep -q "checked" "$T/out" "$T/err"; then bad "the hook spoke on success: $(cat "$T/out" "$T/err")"; else ok "  ... quietly"; fi

# --- 4. The shipped templates run as shipped -----------------------------------------
expect_rc 0 "cairn new from the generic template validates what it made" "$CAIRN" new demo
expect_grep "  ... and says so" "campaign demo from template generic validates" "$T/out"
for f in WORKFLOW.md jobs/smoke.sh jobs/production.sh jobs/analysis.sh; do
  [ -e campaigns/demo/$f ] && ok "  ... created $f" || bad "cairn new did not create campaigns/demo/$f"
done
git add campaigns/demo && git commit -qm "demo"
for _ in $(seq 1 40); do
  "$CAIRN" tick --only demo --force >/dev/null 2>"$T/err" || true
  grep -q "^status: done" campaigns/demo/WORKFLOW.md && break
  sleep 1
done
grep -q "^status: done" campaigns/demo/WORKFLOW.md && ok "the generic template's campaign runs to done as shipped" ||
  { bad "the generic campaign did not finish"; grep -A5 "^| #" campaigns/demo/WORKFLOW.md; cat "$T/err"; }
expect_rc 0 "cairn new from the namd-ensemble template" "$CAIRN" new ens --template namd-ensemble
expect_rc 0 "  ... validates" "$CAIRN" validate campaigns/ens
if grep -q "not machine checkable" "$T/err"; then bad "  ... has conditions a tick cannot check"; else ok "  ... every condition machine-checkable"; fi
expect_grep "  ... a Slurm array stage" '^    array: "1-20%5"' campaigns/ens/WORKFLOW.md
expect_grep "  ... deploy: mapped onto backends: in the comments" "^# +deploy.ssh_host: .*backends:" campaigns/ens/WORKFLOW.md
[ -x campaigns/ens/jobs/prod.sh ] && ok "  ... its job scripts, executable" || bad "no executable campaigns/ens/jobs/prod.sh"

# --- 5. init makes promote work the first time; doctor sees what git lacks ------------
mkdir "$T/learn" && cd "$T/learn" && git init -q
expect_rc 0 "cairn init --commit" "$CAIRN" init --forge none --commit
expect_grep "  ... names catalogs/project.md first under catalogs:" "^  - catalogs/project.md" cairn.yaml
[ -z "$(git status --porcelain)" ] && ok "  ... and committed everything it created" || bad "init --commit left: $(git status --porcelain)"
campaign "$T/learn" c1
sed -i 's|run: {run: jobs/run.sh, resources: {time: "00:01:00"}, expect: 1m}|run: {run: jobs/run.sh, resources: {time: "00:00:02"}, expect: 1m}|' \
  campaigns/c1/WORKFLOW.md
printf '#!/bin/sh\nsleep 3\necho finished\n' > campaigns/c1/jobs/run.sh
expect_rc 0 "doctor on a campaign nobody added (no remote: a warning)" "$CAIRN" doctor
expect_grep "  ... names the files a tick needs that git does not track" \
  "^warning +files a tick needs that git does not track: campaigns/c1/WORKFLOW.md campaigns/c1/jobs/run.sh" "$T/out"
git remote add origin "$T/learn-remote.git"
expect_rc 1 "  ... with a remote (a clone would lack them) it is an error" "$CAIRN" doctor
git remote remove origin
git add -A && git commit -qm "a stage that times out once"
for _ in $(seq 1 20); do
  "$CAIRN" tick --force >/dev/null 2>"$T/err" || true
  grep -q '^status: done' campaigns/c1/WORKFLOW.md && break
  sleep 1
done
mkdir -p "$T/emptyhome"  # no ~/.gitconfig: the identity must come from $GIT_CONFIG_GLOBAL, as git reads it
expect_rc 0 "cairn catalog promote works the first time, as the README shows it" \
  env HOME="$T/emptyhome" "$CAIRN" catalog promote walltime-exceeded --from c1
[ "$(git log -1 --format='%an <%ae>')" = "Test Human <human@test.invalid>" ] &&
  ok "  ... committed as the user \$GIT_CONFIG_GLOBAL names" || bad "  ... committed as $(git log -1 --format='%an <%ae>')"
expect_grep "  ... the row is in catalogs/project.md" '^\| walltime-exceeded \|.*\| walltime x2 \|' catalogs/project.md
expect_rc 0 "  ... and the catalog still loads" "$CAIRN" classify - --state TIMEOUT

# --- 6. doctor grades its findings ----------------------------------------------------
git remote add origin https://github.com/o/r.git
mkdir -p .github/workflows && cp "$CAIRN_SOURCE_DIR/ci/github/cairn-tick.yml" .github/workflows/
git add .github && git commit -qm "GitHub schedule"
expect_rc 0 "doctor: warnings only exit 0" env -u GITHUB_TOKEN "$CAIRN" doctor
expect_grep "  ... no forge token is a warning, with the way out" '^warning +no forge token in \$GITHUB_TOKEN' "$T/out"
expect_grep "  ... local jobs under a hosted CI schedule: a warning" \
  '^warning +.github/workflows/cairn-tick.yml ticks on a hosted CI runner, but c1 run\(s\) jobs on the local backend' "$T/out"
expect_grep "  ... with the ways out" 'fix: .*Slurm over ssh.*OSMO.*cairn init --cron' "$T/out"
expect_rc 0 "doctor --json" env -u GITHUB_TOKEN "$CAIRN" doctor --json
if python3 - "$T/out" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["version"] == 1 and j["errors"] == 0 and j["warnings"] >= 2, j
assert {f["grade"] for f in j["findings"]} <= {"ok", "warning", "error"}
PY
then ok "  ... graded findings as JSON"; else bad "  ... doctor --json shape"; cat "$T/out"; fi
echo "# edit" >> campaigns/c1/jobs/run.sh
expect_rc 1 "doctor: an error exits 1" env -u GITHUB_TOKEN "$CAIRN" doctor
expect_grep "  ... graded error" "^error +no uncommitted changes to tracked files" "$T/out"
git checkout -q -- campaigns/c1/jobs/run.sh

# --- 7. Commits made for a human carry their identity, as git's would ----------------
cd "$T/repo"  # cnt-hydro-300k escalated in section 1
expect_rc 0 "cairn clear as GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL" \
  env GIT_AUTHOR_NAME="Ada Lovelace" GIT_AUTHOR_EMAIL=ada@example.org "$CAIRN" clear cnt-hydro-300k --reason "fixed the deck"
[ "$(git log -1 --format='%an <%ae>')" = "Ada Lovelace <ada@example.org>" ] && ok "  ... the commit's author is theirs" ||
  bad "  ... author is $(git log -1 --format='%an <%ae>')"

# --- 8. README's "Using it", top to bottom, exactly as written -------------------------
mkdir -p "$T/bin" "$T/readme" && ln -sf "$CAIRN" "$T/bin/cairn"
awk '/^## Using it/{f=1} f && /^```sh/{g=1; next} g && /^```/{exit} g' "$CAIRN_SOURCE_DIR/README.md" > "$T/using.sh"
[ "$(wc -l < "$T/using.sh")" -ge 8 ] && ok "README's first block read ($(wc -l < "$T/using.sh") lines)" || bad "README's Using it block not found"
cd "$T/readme"
expect_rc 0 "README's Using it block runs as written (bash -e)" env PATH="$T/bin:$PATH" bash -e "$T/using.sh"
expect_grep "  ... the tick submitted the first stage" "^cnt-hydro-300k: smoke (pending|ready) -> " "$T/out"
expect_grep "  ... and the log shows it" "smoke" "$T/out"
[ -z "$(git -C my-campaigns status --porcelain --untracked-files=no)" ] && ok "  ... leaving a clean tree" ||
  bad "  ... dirty: $(git -C my-campaigns status --porcelain)"

finish
