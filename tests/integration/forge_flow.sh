#!/usr/bin/env bash
# The escalation flow end to end against a stateful fake forge (tests/servers/fake_forge.py)
# for GitHub, GitLab and Gitea, with a bare git repository as the remote: an escalated
# campaign gets one issue, one `cairn/clear/<campaign>/1` branch (one commit, one file)
# and one pull request; a second run creates nothing; merging the branch as a human would
# and running again comments "merged by @alice" and closes the issue; no token in any body.
source "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { echo "SKIP: python3 is not installed (the fake forge needs it)"; exit 77; }
TOKEN="ghp_CanaryForgeToken0123456789abcdefABCD"
python3 "$CAIRN_SOURCE_DIR/tests/servers/fake_forge.py" --token "$TOKEN" --port-file "$T/port" 2>"$T/server.err" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; [ -n "${CAIRN_KEEP_TMP:-}" ] || rm -rf "$T"' EXIT
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
[ -s "$T/port" ] || { echo "SKIP: the fake forge did not start: $(cat "$T/server.err")"; exit 77; }
API="http://127.0.0.1:$(cat "$T/port")"
export FAKE_FORGE_TOKEN=$TOKEN CAIRN_FORGE_MIN_INTERVAL_MS=0 CAIRN_FORGE_BACKOFF_MS=10
unset CAIRN_TOKEN GITHUB_TOKEN CI_JOB_TOKEN

requests() { curl -s "$API/_control/requests"; }
count() {  # count METHOD PATH-REGEX: requests so far
  requests | python3 -c 'import json,re,sys; m,p=sys.argv[1:]; print(sum(1 for r in json.load(sys.stdin) if r["method"]==m and re.search(p, r["path"])))' "$1" "$2"
}
mutations() { requests | python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if r["method"]!="GET"))'; }

escalated_campaign() {  # escalated_campaign DIR
  campaign "$1" c1
  python3 - "$1/campaigns/c1/WORKFLOW.md" <<'PY'
import sys
p = sys.argv[1]; s = open(p).read()
s = s.replace("status: ready", "status: escalated").replace("escalation_required: false", "escalation_required: true")
s = s.replace('escalation_reason: ""', 'escalation_reason: "walltime exceeded twice"')
s = s.replace("| pending | —     |", "| escalated | 42  |")
s = s.replace("|------|-----------|---------|\n", "|------|-----------|---------|\n| 2026-11-23 | run | walltime-exceeded | job 42: DUE TO TIME LIMIT | escalated | ESCALATED |\n")
open(p, "w").write(s)
PY
}

for kind in github gitlab gitea; do
  echo "# $kind"
  git init -q --bare "$T/$kind.git"
  git clone -q "$T/$kind.git" "$T/$kind" 2>/dev/null
  cd "$T/$kind"
  cat > cairn.yaml <<YAML
root: campaigns
branch: main
identity: {name: cairn-bot, email: cairn-bot@test.invalid}
forge: {kind: $kind, repo: acme/sims, api: "$API", token_env: FAKE_FORGE_TOKEN}
YAML
  escalated_campaign "$PWD"
  git add -A && git commit -q -m "c1 escalated" && git push -q origin main
  before=$(mutations)

  expect_rc 0 "$kind: first forge run" "$CAIRN" forge
  expect_grep "$kind: opened an issue" "opened issue #1" "$T/out"
  expect_grep "$kind: pushed the clear branch" "pushed branch cairn/clear/c1/1" "$T/out"
  expect_grep "$kind: opened a pull request" "opened pull request [#!][0-9]+" "$T/out"
  case $kind in
    gitlab) [ "$(count POST '/issues$')" -ge 1 ] && ok "$kind: issue via /projects/:id/issues" || bad "$kind: no GitLab issue POST" ;;
    gitea) [ "$(count POST '/api/v1/repos/acme/sims/labels$')" -eq 2 ] && ok "$kind: created both labels once" || bad "$kind: labels not created" ;;
  esac
  git fetch -q origin
  if git rev-parse -q --verify origin/cairn/clear/c1/1 >/dev/null; then
    ok "$kind: branch on the remote"
    files=$(git diff --name-only origin/main origin/cairn/clear/c1/1)
    [ "$files" = "campaigns/c1/WORKFLOW.md" ] && ok "$kind: the branch changes only WORKFLOW.md" || bad "$kind: branch changes: $files"
    [ "$(git rev-list --count origin/main..origin/cairn/clear/c1/1)" = 1 ] && ok "$kind: one commit" || bad "$kind: not one commit"
    git show origin/cairn/clear/c1/1:campaigns/c1/WORKFLOW.md > "$T/cleared.md"
    expect_grep "$kind: escalation_required false on the branch" "^escalation_required: false" "$T/cleared.md"
    expect_grep "$kind: reason emptied" '^escalation_reason: ""' "$T/cleared.md"
    expect_grep "$kind: status ready" "^status: ready" "$T/cleared.md"
    expect_grep "$kind: stage row back to ready" "\| run +\|.*\| ready +\|" "$T/cleared.md"
  else
    bad "$kind: no cairn/clear/c1/1 on the remote"
  fi
  [ -z "$(git status --porcelain --untracked-files=no)" ] && ok "$kind: work tree untouched" || bad "$kind: work tree changed"

  mid=$(mutations)
  expect_rc 0 "$kind: second forge run" "$CAIRN" forge
  [ "$(mutations)" = "$mid" ] && ok "$kind: second run changed nothing on the forge" || bad "$kind: second run mutated the forge"
  [ "$(git ls-remote "$T/$kind.git" 'refs/heads/cairn/clear/*' | wc -l)" = 1 ] && ok "$kind: still one clear branch" || bad "$kind: more clear branches"

  # A human reviews and merges the pull request.
  git clone -q "$T/$kind.git" "$T/$kind-human" 2>/dev/null
  (cd "$T/$kind-human" && git merge -q --no-ff -m "Merge cairn/clear/c1/1" origin/cairn/clear/c1/1 && git push -q origin main)
  number=2 && [ "$kind" = gitlab ] && number=1  # GitLab numbers merge requests apart from issues
  curl -s -X POST "$API/_control/merge" -d "{\"kind\": \"$kind\", \"number\": $number, \"user\": \"alice\"}" >/dev/null
  git pull -q --ff-only origin main
  expect_rc 0 "$kind: forge run after the merge" "$CAIRN" forge
  expect_grep "$kind: issue closed, naming the merger" "closed issue #1 \(Resumed by [#!]$number, merged by @alice\.\)" "$T/out"
  after=$(mutations)
  expect_rc 0 "$kind: run after the resume" "$CAIRN" forge
  [ "$(mutations)" = "$after" ] && ok "$kind: nothing more to do" || bad "$kind: mutated again after the resume"
  [ $((after - before)) -le 7 ] && ok "$kind: $((after - before)) mutating requests in all" || bad "$kind: $((after - before)) mutating requests"
  cd "$T"
done

if grep -q "$TOKEN" <<<"$(requests)"; then bad "the token appears in a request body"; else ok "no token in any request body"; fi
[ "$(count GET '^/repos/acme/sims/issues$')" -ge 1 ] && ok "GitHub issues listed at /repos/{o}/{r}/issues" || bad "no GitHub list"
finish
