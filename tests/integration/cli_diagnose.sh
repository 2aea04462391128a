#!/usr/bin/env bash
# An agent proposes the fix of an escalated failure (cairn.yaml `diagnose:`), end to end
# on real repositories, real local-backend jobs and scripted agents (shell scripts that
# read the context file and act):
#   1. `cairn diagnose c1` with an agent that fixes the job script and proposes a catalog
#      row: the local branch cairn/clear/c1/1 holds the clear and exactly that change and
#      row; main is untouched; merging the branch makes the next plain tick run the stage
#      again as attempt 2, which completes. The agent saw no token (a canary in the env).
#   2. an agent that also edits WORKFLOW.md and .github/: those are refused and listed;
#      only the job script is kept.
#   3. an agent that hangs: killed at `diagnose.timeout`; the branch still holds the clear.
#   4. through the forge (`when: unclassified`; every request checked against GitHub's
#      OpenAPI description): the escalating tick pushes the clear
#      branch with the agent's commit, the pull request and the issue say what it did.
source "$(dirname "$0")/lib.sh"
[ -x "$CAIRN" ] || { echo "FAIL - $CAIRN is not an executable (build it first)"; exit 1; }

CANARY="ghp_DiagnoseCanary0123456789abcdefABCDEF"
export GITHUB_TOKEN=$CANARY CAIRN_TOKEN=$CANARY

tick_in() {  # tick_in DIR [ARGS...]: output in $T/out; returns the tick's exit code
  local d=$1 rc=0; shift
  (cd "$d" && "$CAIRN" tick "$@") >"$T/out" 2>&1 || rc=$?
  cat "$T/out" >>"$T/ticks.log"
  return $rc
}
# Ticks (--force: a running stage with `expect: 1m` is due every 5 minutes; each tick
# stands for "later") until the stage is no longer running.
poll() {  # poll DIR NAME
  for _ in $(seq 1 40); do
    [ "$(stage_status "$1" "$2")" = running ] || return 0
    sleep 0.25
    tick_in "$1" --force || true
  done
  [ "$(stage_status "$1" "$2")" != running ]
}
# A campaign whose job fails with an error no catalog knows, ticked until escalated.
escalated_repo() {  # escalated_repo DIR NAME [CAIRN_YAML_EXTRA]
  mkdir -p "$1" && cd "$1" && git init -q -b main && "$CAIRN" init >/dev/null
  printf '%s\n' "${3:-}" >>cairn.yaml
  campaign . "$2" && job . "$2" 'echo "loading input deck"
echo "frobnicator exploded: unknown option --frob" >&2
exit 3'
  git add -A && git commit -qm "campaign $2" >/dev/null
  tick_in "$1" || true
  for _ in $(seq 1 50); do [ "$(ran "$2")" -ge 1 ] && break; sleep 0.2; done
  poll "$1" "$2" || true
  [ "$(fm "$1" "$2" escalation_required)" = true ]
}
agents=$T/agents && mkdir -p "$agents"

# --- the agents ---
# Fixes the script, explains, proposes a row; records what it saw.
cat >"$agents/fixer" <<'SH'
#!/bin/sh
ctx=$1 out=$2
cp "$ctx" "$AGENT_LOG.context"
env >"$AGENT_LOG.env"
pwd >"$AGENT_LOG.pwd"
sed -i -e '/frobnicator exploded/d' -e 's/^exit 3$/echo "all steps done"/' jobs/run.sh
cat >"$out/DIAGNOSIS.md" <<'MD'
The job passed `--frob` to the frobnicator, which has no such option, so it exited 3.
Changed: jobs/run.sh no longer passes the option. Nothing else in the script would break.
MD
cat >"$out/catalog-row.md" <<'MD'
| Class | Log signature | Hint | Auto-fix |
|---|---|---|---|
| frobnicator-option | `frobnicator exploded: unknown option` | The frobnicator rejects an option: fix the job script. | — |
MD
SH
# Fixes the script too, but also edits what it must not.
cat >"$agents/overreach" <<'SH'
#!/bin/sh
sed -i -e '/frobnicator exploded/d' -e 's/^exit 3$/echo "all steps done"/' jobs/run.sh
sed -i 's/^escalation_required: false/escalation_required: true/' WORKFLOW.md
mkdir -p ../../.github/workflows && echo "on: push" >../../.github/workflows/evil.yml
echo "all: true" >>../../cairn.yaml
echo "Fixed the script; also tidied the workflow file, CI and config." >"$2/DIAGNOSIS.md"
SH
# Never returns; leaves its pid (the sleep's: exec keeps it) for the check that it was killed.
printf '#!/bin/sh\necho $$ >"$AGENT_LOG.hang"\nexec sleep 300\n' >"$agents/hang"
chmod +x "$agents"/*

# ====================================================================================
echo "# 1. cairn diagnose: the agent's fix on the clear branch; merging it runs the stage again"
R1=$T/r1
escalated_repo "$R1" c1 "diagnose: {command: [\"$agents/fixer\", \"{context}\", \"{out}\"], may_edit: [\"jobs/**\"]}" &&
  ok "1: c1 escalated (an error no catalog knows)" || { bad "1: c1 did not escalate"; show "$T/ticks.log"; }
cd "$R1"
main_before=$(git rev-parse main)
export AGENT_LOG=$T/a1
expect_rc 0 "1: cairn diagnose c1" "$CAIRN" diagnose c1
expect_grep "1: it says what the agent did" "diagnosis by fixer: proposed changes to 1 file and a catalog row" "$T/out"
expect_grep "1: it lists the changed file" "changed  campaigns/c1/jobs/run.sh" "$T/out"
expect_grep "1: it says how to resume" "git merge cairn/clear/c1/1" "$T/out"
[ "$(git rev-parse main)" = "$main_before" ] && ok "1: main is untouched" || bad "1: main moved"
[ -z "$(git status --porcelain)" ] && ok "1: the work tree is untouched" || { bad "1: the work tree changed:"; git status --porcelain | show; }
grep -q "frobnicator exploded: unknown option --frob" "$AGENT_LOG.context" && ok "1: the context file has the log's last lines" ||
  { bad "1: the context file lacks the log"; show "$AGENT_LOG.context"; }
grep -q "never the resources" "$AGENT_LOG.context" && grep -q "DIAGNOSIS.md" "$AGENT_LOG.context" &&
  ok "1: the context file states the rules of a diagnosis" || bad "1: the context file lacks the rules"
[ "$(basename "$(cat "$AGENT_LOG.pwd")")" = c1 ] && ok "1: the agent ran in the campaign directory" || bad "1: the agent ran in $(cat "$AGENT_LOG.pwd")"
if grep -q "$CANARY" "$AGENT_LOG.env"; then bad "1: the canary token reached the agent's environment"; else ok "1: no token in the agent's environment"; fi
grep -q -E "^(GITHUB_TOKEN|CAIRN_TOKEN)=" "$AGENT_LOG.env" && bad "1: a token variable reached the agent" || ok "1: GITHUB_TOKEN and CAIRN_TOKEN are not set for it"
git rev-parse -q --verify cairn/clear/c1/1 >/dev/null && ok "1: branch cairn/clear/c1/1 exists" || bad "1: no branch cairn/clear/c1/1"
[ "$(git rev-list --count main..cairn/clear/c1/1)" = 2 ] && ok "1: it holds two commits (the clear and the diagnosis)" ||
  bad "1: it holds $(git rev-list --count main..cairn/clear/c1/1) commits"
authors=$(git log --format=%an main..cairn/clear/c1/1 | sort -u)
[ "$authors" = "Test Human" ] && ok "1: both are the local git user's commits (as cairn clear's is)" ||
  bad "1: authored by: $authors"
git log -1 --format=%B cairn/clear/c1/1 >"$T/diag.msg"
expect_grep "1: the diagnosis commit's subject" "^c1: diagnosis for run \[unclassified\]$" "$T/diag.msg"
expect_grep "1: its trailer names the agent" "^Cairn-Diagnosis: fixer$" "$T/diag.msg"
expect_grep "1: its message carries the explanation" "no such option" "$T/diag.msg"
git diff --name-only cairn/clear/c1/1~1 cairn/clear/c1/1 >"$T/diag.files"
[ "$(cat "$T/diag.files" | tr '\n' ' ')" = "campaigns/c1/jobs/run.sh catalogs/project.md " ] &&
  ok "1: the diagnosis changes exactly the job script and the project catalog" || { bad "1: the diagnosis changes:"; show "$T/diag.files"; }
git show cairn/clear/c1/1:catalogs/project.md | grep -q "| frobnicator-option |" && ok "1: the proposed row is in the project catalog on the branch" ||
  bad "1: the row is not in catalogs/project.md on the branch"
git show cairn/clear/c1/1~1:campaigns/c1/WORKFLOW.md | grep -q "^escalation_required: false" &&
  ok "1: the first commit clears the escalation" || bad "1: the first commit does not clear the escalation"
git merge -q --no-ff -m "Merge cairn/clear/c1/1" cairn/clear/c1/1 && ok "1: the human merges the branch" || bad "1: merging failed"
"$CAIRN" validate >/dev/null 2>&1 && ok "1: the merged catalog and campaign validate" || bad "1: validate fails after the merge"
tick_in "$R1" && grep -q "c1: run ready -> running" "$T/out" && ok "1: the plain tick after the merge submits the stage again" ||
  { bad "1: the tick after the merge did not submit:"; show "$T/out"; }
for _ in $(seq 1 50); do [ "$(ran c1)" -ge 2 ] && break; sleep 0.2; done
poll "$R1" c1 || true
[ "$(stage_status "$R1" c1)" = done ] && [ "$(fm "$R1" c1 status)" = done ] && ok "1: the fixed stage completes; the campaign is done" ||
  { bad "1: the stage ends $(stage_status "$R1" c1)"; show "$T/ticks.log"; }
[ "$(grep -c '^c1 ' "$T/runs.txt")" = 2 ] && grep -q "^c1 2$" "$T/runs.txt" && ok "1: the job ran twice: attempt 1 and attempt 2" ||
  { bad "1: the runs were:"; show "$T/runs.txt"; }
"$CAIRN" classify --help >/dev/null
printf 'frobnicator exploded: unknown option --frob\n' >"$T/again.log"
(cd "$R1" && "$CAIRN" classify "$T/again.log") >"$T/out" 2>&1 || true
expect_grep "1: the catalog now knows the class" "frobnicator-option" "$T/out"

# ====================================================================================
echo "# 2. what the agent may not change is refused and listed"
R2=$T/r2
escalated_repo "$R2" c2 "diagnose: {command: [\"$agents/overreach\", \"{context}\", \"{out}\"]}" &&
  ok "2: c2 escalated" || bad "2: c2 did not escalate"
cd "$R2"
expect_rc 0 "2: cairn diagnose c2" "$CAIRN" diagnose c2
expect_grep "2: it keeps the job script" "changed  campaigns/c2/jobs/run.sh" "$T/out"
expect_grep "2: it refuses WORKFLOW.md" "refused  campaigns/c2/WORKFLOW.md" "$T/out"
expect_grep "2: it refuses .github/" "refused  .github/workflows/evil.yml" "$T/out"
expect_grep "2: it refuses cairn.yaml" "refused  cairn.yaml" "$T/out"
git diff --name-only cairn/clear/c2/1~1 cairn/clear/c2/1 >"$T/diag.files"
[ "$(cat "$T/diag.files")" = "campaigns/c2/jobs/run.sh" ] && ok "2: the branch's diagnosis commit holds only the job script" ||
  { bad "2: the diagnosis commit changes:"; show "$T/diag.files"; }
git show cairn/clear/c2/1:campaigns/c2/WORKFLOW.md | grep -q "^escalation_required: false" &&
  ok "2: WORKFLOW.md on the branch is the clear's, not the agent's" || bad "2: the agent's WORKFLOW.md edit got through"
git log -1 --format=%B cairn/clear/c2/1 | grep -q "^Refused: .*WORKFLOW.md" && ok "2: the commit message lists what was refused" ||
  bad "2: the commit message does not list the refused files"

# ====================================================================================
echo "# 3. an agent that hangs is killed at the deadline; the clear still happens"
R3=$T/r3
escalated_repo "$R3" c3 "diagnose: {command: [\"$agents/hang\"], timeout: 2s}" && ok "3: c3 escalated" || bad "3: c3 did not escalate"
cd "$R3"
export AGENT_LOG=$T/a3
t0=$SECONDS
expect_rc 0 "3: cairn diagnose c3 with a hanging agent" "$CAIRN" diagnose c3
[ $((SECONDS - t0)) -lt 60 ] && ok "3: it returned after the deadline, not the agent's 300 s" || bad "3: it took $((SECONDS - t0)) s"
[ -s "$AGENT_LOG.hang" ] && ok "3: (premise: the agent started)" || bad "3: the agent never started"
expect_grep "3: it says the agent did not finish" "diagnosis by hang: failed: .*nothing it changed is kept" "$T/out"
# Its own pid, not a pattern: other tests running beside this one have sleeping agents too.
agent_pid=$(cat "$AGENT_LOG.hang" 2>/dev/null)
[ -n "$agent_pid" ] && kill -0 "$agent_pid" 2>/dev/null && bad "3: the agent's process $agent_pid is still alive" ||
  ok "3: the agent's process is gone"
[ "$(git rev-list --count main..cairn/clear/c3/1)" = 1 ] && ok "3: the branch holds the clear alone" ||
  bad "3: the branch holds $(git rev-list --count main..cairn/clear/c3/1) commits"

# ====================================================================================
echo "# 4. through the forge: the escalating tick's clear branch carries the diagnosis"
if ! command -v python3 >/dev/null || ! command -v curl >/dev/null; then
  echo "SKIPPED (loudly): story 4 needs python3 and curl for the fake forge"
else
  TOKEN="ghp_DiagnoseForgeToken0123456789abcdefAB"
  python3 "$CAIRN_SOURCE_DIR/tests/servers/fake_forge.py" --token "$TOKEN" --port-file "$T/forge.port" \
    --log "$T/requests.jsonl" 2>"$T/forge.err" &
  forge=$!
  trap 'kill $forge 2>/dev/null || true; [ -n "${CAIRN_KEEP_TMP:-}" ] || rm -rf "$T"' EXIT
  for _ in $(seq 1 100); do [ -s "$T/forge.port" ] && break; sleep 0.05; done
  if [ ! -s "$T/forge.port" ]; then
    bad "4: the fake forge did not start: $(cat "$T/forge.err")"
  else
    API="http://127.0.0.1:$(cat "$T/forge.port")"
    export FAKE_FORGE_TOKEN=$TOKEN CAIRN_FORGE_MIN_INTERVAL_MS=0 CAIRN_FORGE_BACKOFF_MS=10
    git init -q --bare -b main "$T/remote4.git"
    export AGENT_LOG=$T/a4
    R4=$T/r4
    escalated_repo "$R4" c4 "forge: {kind: github, repo: acme/diag, api: \"$API\", token_env: FAKE_FORGE_TOKEN}
diagnose: {command: [\"$agents/fixer\", \"{context}\", \"{out}\"], when: unclassified, timeout: 1m}" &&
      ok "4: c4 escalated" || bad "4: c4 did not escalate"
    # (the repository got its remote after the first commit: push, then tick again)
    cd "$R4" && git remote add origin "$T/remote4.git" && git push -q origin main
    tick_in "$R4" --force || true
    grep -q "c4: pushed branch cairn/clear/c4/1" "$T/ticks.log" && ok "4: the tick pushed cairn/clear/c4/1" ||
      { bad "4: no clear branch pushed:"; show "$T/ticks.log"; }
    grep -q "c4: diagnosis by fixer: proposed changes to 1 file and a catalog row" "$T/ticks.log" &&
      ok "4: the tick says what the agent did" || bad "4: the tick does not mention the diagnosis"
    [ "$(git --git-dir="$T/remote4.git" rev-list --count main..cairn/clear/c4/1)" = 2 ] &&
      ok "4: the pushed branch holds the clear and the diagnosis" || bad "4: the pushed branch does not hold two commits"
    curl -s "$API/_control/state?kind=github" >"$T/forge.json"
    python3 - "$T/forge.json" >"$T/forge.check" <<'PY' || true
import json, sys
state = json.load(open(sys.argv[1]))
for r in state:
    for p in r["pulls"]:
        if p.get("head", "").endswith("cairn/clear/c4/1"):
            print("pull", int("Diagnosis by `fixer`" in p["body"]), int("campaigns/c4/jobs/run.sh" in p["body"]),
                  int("frobnicator-option" in p["body"]))
    for i in r["issues"]:
        if "cairn:escalation c4 " in i["body"]:
            print("issue", int(any("Diagnosis on `cairn/clear/c4/1`" in c for c in i["comments"])))
PY
    grep -q "^pull 1 1 1$" "$T/forge.check" && ok "4: the pull request shows the diagnosis, the changed file and the row" ||
      { bad "4: the pull request lacks the diagnosis:"; show "$T/forge.check"; }
    grep -q "^issue 1$" "$T/forge.check" && ok "4: the issue has a comment with the diagnosis" ||
      { bad "4: the issue has no diagnosis comment:"; show "$T/forge.check"; }
    if grep -q "$TOKEN" "$T/a4.env" 2>/dev/null || grep -q "$CANARY" "$T/a4.env" 2>/dev/null; then
      bad "4: a token reached the agent"
    else
      ok "4: neither the forge token nor the canary reached the agent"
    fi
    github_contract "4" "$T/requests.jsonl"
  fi
fi

finish || exit 1
if [ -n "$contract_skip" ]; then echo "SKIP: $contract_skip"; exit 77; fi
