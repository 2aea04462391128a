#!/usr/bin/env bash
# The escalation flow end to end against a stateful fake forge (tests/servers/fake_forge.py)
# for GitHub, GitLab and Gitea, with a bare git repository as the remote: an escalated
# campaign gets one issue, one `cairn/clear/<campaign>/1` branch (one commit, one file,
# the catalogued fix applied) and one pull request; a second run creates nothing; merging
# the branch as a human would and running again comments "merged by @alice" and closes the
# issue; a pull request closed without merging is said on the issue once; `cairn doctor`
# judges the token; no token in any body. `notify.on_advance: true` keeps one progress
# issue per campaign with one comment per done stage. `forge.dashboard: true` keeps one
# dashboard issue, updated in place only when it changed. Then fault injection (tests/integration/
# forge_faults.py: every failure on every request, 0 duplicates), and every request sent
# to GitHub is checked against GitHub's OpenAPI description (tests/servers/
# github_contract.mjs, the npm package @octokit/openapi that ci/deps.sh installs).
source "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { echo "SKIP: python3 is not installed (the fake forge needs it)"; exit 77; }
TOKEN="ghp_CanaryForgeToken0123456789abcdefABCD"
python3 "$CAIRN_SOURCE_DIR/tests/servers/fake_forge.py" --token "$TOKEN" --port-file "$T/port" \
  --log "$T/requests.jsonl" 2>"$T/server.err" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; [ -n "${CAIRN_KEEP_TMP:-}" ] || rm -rf "$T"' EXIT
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
[ -s "$T/port" ] || { echo "SKIP: the fake forge did not start: $(cat "$T/server.err")"; exit 77; }
API="http://127.0.0.1:$(cat "$T/port")"
export FAKE_FORGE_TOKEN=$TOKEN CAIRN_FORGE_MIN_INTERVAL_MS=0 CAIRN_FORGE_BACKOFF_MS=10
unset CAIRN_TOKEN GITHUB_TOKEN CI_JOB_TOKEN

requests() { curl -s "$API/_control/requests"; }
state() { curl -s "$API/_control/state?kind=$kind" >"$T/state.json"; }  # then grep in it (JSON-escaped text)
count() {  # count METHOD PATH-REGEX: requests so far
  requests | python3 -c 'import json,re,sys; m,p=sys.argv[1:]; print(sum(1 for r in json.load(sys.stdin) if r["method"]==m and re.search(p, r["path"])))' "$1" "$2"
}
mutations() { requests | python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if r["method"]!="GET"))'; }

escalate() {  # escalate FILE: stage `run` escalated after a second walltime-exceeded
  sed -i -e 's/^status: ready/status: escalated/' -e 's/^escalation_required: false/escalation_required: true/' \
    -e 's/^escalation_reason: ""/escalation_reason: "walltime exceeded twice"/' \
    -e 's/^\(| 0 | run  |[^|]*|[^|]*|\) [a-z]* *| [^|]* |/\1 escalated | 42  |/' \
    -e '/^|------|-------|/a | 2026-11-23 | run | walltime-exceeded | job 42: DUE TO TIME LIMIT | escalated | ESCALATED |' "$1"
}
escalated_campaign() {  # escalated_campaign DIR
  campaign "$1" c1
  escalate "$1/campaigns/c1/WORKFLOW.md"
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
    expect_grep "$kind: the branch applies the catalogued walltime x2" 'resources: \{time: "00:02:00"\}' "$T/cleared.md"
  else
    bad "$kind: no cairn/clear/c1/1 on the remote"
  fi
  [ -z "$(git status --porcelain --untracked-files=no)" ] && ok "$kind: work tree untouched" || bad "$kind: work tree changed"

  mid=$(mutations)
  expect_rc 0 "$kind: second forge run" "$CAIRN" forge
  [ "$(mutations)" = "$mid" ] && ok "$kind: second run changed nothing on the forge" || bad "$kind: second run mutated the forge"
  [ "$(git ls-remote "$T/$kind.git" 'refs/heads/cairn/clear/*' | wc -l)" = 1 ] && ok "$kind: still one clear branch" || bad "$kind: more clear branches"
  state
  expect_grep "$kind: the issue names the error class" 'walltime-exceeded' "$T/state.json"
  expect_grep "$kind: the pull request says which fix it applies" \
    'applies the catalogued fix `walltime x2`: resources.time 00:01:00 -> 00:02:00' "$T/state.json"

  # cairn doctor judges the token: accepted, scopes (GitHub), push, issues; a bad one fails with a hint.
  expect_rc 0 "$kind: doctor with a valid token" "$CAIRN" doctor
  expect_grep "$kind: doctor: token accepted" "^ok +forge token accepted for (repository|project) acme/sims" "$T/out"
  expect_grep "$kind: doctor: push permission" "^ok +token can push to" "$T/out"
  [ "$kind" = github ] && expect_grep "$kind: doctor: scopes" "^ok +token scopes: repo, workflow" "$T/out"
  expect_rc 1 "$kind: doctor with a bad token" env FAKE_FORGE_TOKEN=not-the-token "$CAIRN" doctor
  expect_grep "$kind: doctor: bad token is an error" "^error +forge token accepted: HTTP 401" "$T/out"
  expect_grep "$kind: doctor: with a fix hint" 'fix: the token in \$FAKE_FORGE_TOKEN is invalid, expired or revoked' "$T/out"
  if [ "$kind" = github ]; then
    curl -s -X POST "$API/_control/token" -d '{"scopes": "read:org", "push": false}' >/dev/null
    expect_rc 1 "$kind: doctor with a read-only token" "$CAIRN" doctor
    expect_grep "$kind: doctor: missing scope" "^error +token scopes: read:org" "$T/out"
    expect_grep "$kind: doctor: no push" "^error +token can push to repository acme/sims" "$T/out"
    expect_grep "$kind: doctor: push hint" "fix: give the token write access" "$T/out"
    curl -s -X POST "$API/_control/token" -d '{"scopes": "repo, workflow", "push": true}' >/dev/null
  fi

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

  # It escalates again (at the doubled walltime); a human closes the pull request unmerged.
  escalate campaigns/c1/WORKFLOW.md
  git commit -q -am "c1 escalated again" && git push -q origin main
  expect_rc 0 "$kind: forge run on the second escalation" "$CAIRN" forge
  expect_grep "$kind: second escalation, second branch" "pushed branch cairn/clear/c1/2" "$T/out"
  git fetch -q origin
  git show origin/cairn/clear/c1/2:campaigns/c1/WORKFLOW.md > "$T/cleared2.md"
  expect_grep "$kind: the second branch doubles the walltime again" 'resources: \{time: "00:04:00"\}' "$T/cleared2.md"
  pr=4 && issue=3 && [ "$kind" = gitlab ] && pr=2 && issue=2
  curl -s -X POST "$API/_control/close_pull" -d "{\"kind\": \"$kind\", \"number\": $pr}" >/dev/null
  expect_rc 0 "$kind: forge run after the pull request was closed" "$CAIRN" forge
  expect_grep "$kind: said on the issue" "said on issue #$issue that [#!]$pr was closed unmerged" "$T/out"
  expect_grep "$kind: the campaign stays escalated" "closed without merging; the campaign stays escalated" "$T/out"
  closed=$(mutations)
  expect_rc 0 "$kind: forge run after that" "$CAIRN" forge
  [ "$(mutations)" = "$closed" ] && ok "$kind: said once" || bad "$kind: commented again on the closed pull request"
  state
  [ "$(grep -o 'was closed without merging, so' "$T/state.json" | wc -l)" = 1 ] && ok "$kind: one closed-unmerged comment" ||
    bad "$kind: $(grep -o 'was closed without merging, so' "$T/state.json" | wc -l) closed-unmerged comments"
  cd "$T"
done

# notify.on_advance: a stage completes -> one `cairn` + `progress` issue with one comment;
# again -> nothing; the campaign done -> a last comment and the issue closed.
progress() {  # progress: "<issues> <advance comments> <states>" of c3 in acme/progress
  curl -s "$API/_control/state?kind=$kind" | python3 -c 'import json,sys
r = [x for x in json.load(sys.stdin) if x["repo"] == "acme/progress"]
i = [x for x in (r[0]["issues"] if r else []) if "<!-- cairn:progress c3 -->" in x["body"]]
print(len(i), sum(1 for x in i for c in x["comments"] if "<!-- cairn:advance c3 run -->" in c), *[x["state"] for x in i])'
}
for kind in github gitlab gitea; do
  echo "# $kind progress"
  git init -q --bare "$T/$kind-progress.git"
  git clone -q "$T/$kind-progress.git" "$T/$kind-progress" 2>/dev/null
  cd "$T/$kind-progress"
  cat > cairn.yaml <<YAML
root: campaigns
branch: main
identity: {name: cairn-bot, email: cairn-bot@test.invalid}
forge: {kind: $kind, repo: acme/progress, api: "$API", token_env: FAKE_FORGE_TOKEN}
YAML
  campaign "$PWD" c3
  sed -i -e '/^budget:/a notify: {on_advance: true, on_escalate: true}' \
    -e 's/^\(| 0 | run  |[^|]*|[^|]*|\) pending | —     | —       | —         |/\1 done    | 7     | —       | 2026-11-23T10:00Z |/' \
    campaigns/c3/WORKFLOW.md
  git add -A && git commit -q -m "c3 run done" && git push -q origin main
  expect_rc 0 "$kind: forge run after a stage completed" "$CAIRN" forge
  expect_grep "$kind: opened a progress issue" "opened progress issue [#][0-9]+" "$T/out"
  expect_grep "$kind: commented the advance" "said on issue [#][0-9]+ that run is done" "$T/out"
  [ "$(progress)" = "1 1 open" ] && ok "$kind: one progress issue, one advance comment" || bad "$kind: progress is $(progress)"
  mid=$(mutations)
  expect_rc 0 "$kind: second forge run on the same tip" "$CAIRN" forge
  [ "$(mutations)" = "$mid" ] && ok "$kind: the second run added nothing" || bad "$kind: the second run mutated the forge"
  sed -i 's/^status: ready/status: done/' campaigns/c3/WORKFLOW.md
  git commit -q -am "c3 done" && git push -q origin main
  expect_rc 0 "$kind: forge run after the campaign is done" "$CAIRN" forge
  expect_grep "$kind: closed the progress issue" "closed progress issue [#][0-9]+" "$T/out"
  [ "$(progress)" = "1 1 closed" ] && ok "$kind: still one issue and one advance comment, closed" ||
    bad "$kind: progress is $(progress)"
  finished=$(mutations)
  expect_rc 0 "$kind: forge run after that" "$CAIRN" forge
  [ "$(mutations)" = "$finished" ] && ok "$kind: nothing more" || bad "$kind: mutated the done campaign's issue again"
  cd "$T"
done

github_repo() {  # github_repo NAME: a bare remote $T/NAME.git, its clone as the cwd, forge acme/NAME
  git init -q --bare "$T/$1.git"
  git clone -q "$T/$1.git" "$T/$1" 2>/dev/null
  cd "$T/$1"
  cat > cairn.yaml <<YAML
root: campaigns
branch: main
identity: {name: cairn-bot, email: cairn-bot@test.invalid}
forge: {kind: github, repo: acme/$1, api: "$API", token_env: FAKE_FORGE_TOKEN}
YAML
}

echo "# stuck"
# An escalation for a stuck job carries cairn's offer to cancel it; the pull request
# says how to approve that (tick the offer on the branch) instead of a catalogued fix.
github_repo stuck
campaign "$PWD" c1
sed -i -e 's/^status: ready/status: escalated/' -e 's/^escalation_required: false/escalation_required: true/' \
  -e 's/^escalation_reason: ""/escalation_reason: "job 42 cannot start: PENDING (JobHeldAdmin) for 3h"/' \
  -e 's/^\(| 0 | run  |[^|]*|[^|]*|\) [a-z]* *| [^|]* |/\1 escalated | 42  |/' \
  -e 's/^## Action queue$/&\n\n- [ ] cairn cancel: job 42 (run): tick this and clear the escalation/' \
  campaigns/c1/WORKFLOW.md
git add -A && git commit -q -m "c1 stuck" && git push -q origin main
kind=github
expect_rc 0 "stuck: forge run" "$CAIRN" forge
state
expect_grep "stuck: the pull request says the job is stuck" 'job 42 is stuck' "$T/state.json"
expect_grep "stuck: ...and how to approve cancelling it" \
  'change `- \[ \] cairn cancel: job 42` to `- \[x\]` in the Action queue on this branch' "$T/state.json"
cd "$T"

# forge.dashboard: one `cairn` + `dashboard` issue holding `cairn report`'s dashboard,
# opened once, updated in place (one PATCH / PUT) when a campaign changes, untouched when
# nothing did; the escalated campaign's row links its issue and pull request.
dashboard() {  # dashboard REPO: "<dashboard issues> <open ones>" and the body into $T/dash.md
  curl -s "$API/_control/state?kind=$kind" | python3 -c 'import json,sys
r = [x for x in json.load(sys.stdin) if x["repo"] == sys.argv[1]]
i = [x for x in (r[0]["issues"] if r else []) if "<!-- cairn:dashboard -->" in x["body"]]
open(sys.argv[2], "w").write(i[0]["body"] if i else "")
print(len(i), sum(1 for x in i if x["state"] == "open"))' "$1" "$T/dash.md"
}
for kind in github gitlab gitea; do
  echo "# $kind dashboard"
  git init -q --bare "$T/$kind-dash.git"
  git clone -q "$T/$kind-dash.git" "$T/$kind-dash" 2>/dev/null
  cd "$T/$kind-dash"
  cat > cairn.yaml <<YAML
root: campaigns
branch: main
identity: {name: cairn-bot, email: cairn-bot@test.invalid}
forge: {kind: $kind, repo: acme/dash, api: "$API", token_env: FAKE_FORGE_TOKEN, dashboard: true}
YAML
  escalated_campaign "$PWD"
  campaign "$PWD" c2
  git add -A && git commit -q -m "c1 escalated, c2 ready" && git push -q origin main
  expect_rc 0 "$kind: forge run with forge.dashboard" "$CAIRN" forge
  expect_grep "$kind: opened the dashboard issue" "opened dashboard issue #[0-9]+" "$T/out"
  [ "$(dashboard acme/dash)" = "1 1" ] && ok "$kind: one open dashboard issue" || bad "$kind: dashboard issues: $(dashboard acme/dash)"
  expect_grep "$kind: it holds the summary table" '^\| c2 \| ready \| run \|' "$T/dash.md"
  expect_grep "$kind: the escalated row links its issue and pull request" \
    '^\| c1 \| escalated \|.*walltime exceeded twice · issue \[#1\]\(http[^)]*/issues/1\) · resume: \[[#!][0-9]+\]\(http' "$T/dash.md"
  mid=$(mutations)
  expect_rc 0 "$kind: forge run, nothing changed" "$CAIRN" forge
  [ "$(mutations)" = "$mid" ] && ok "$kind: an unchanged dashboard is not sent again" || bad "$kind: $(($(mutations) - mid)) mutations with nothing changed"
  sed -i -e 's/^status: ready/status: running/' \
    -e 's/^\(| 0 | run  |[^|]*|[^|]*|\) pending | —     |/\1 running | 77    |/' campaigns/c2/WORKFLOW.md
  git commit -q -am "c2 running as job 77" && git push -q origin main
  mid=$(mutations)
  case $kind in gitlab) update='PUT' ;; *) update='PATCH' ;; esac
  updates=$(count "$update" '/issues/[0-9]+$')
  expect_rc 0 "$kind: forge run after c2 changed" "$CAIRN" forge
  expect_grep "$kind: updated the dashboard in place" "updated dashboard issue #[0-9]+" "$T/out"
  [ "$(($(count "$update" '/issues/[0-9]+$') - updates))" = 1 ] && [ "$(($(mutations) - mid))" = 1 ] &&
    ok "$kind: one $update, nothing else" || bad "$kind: $(($(mutations) - mid)) mutations for one changed campaign"
  [ "$(dashboard acme/dash)" = "1 1" ] && ok "$kind: still one dashboard issue" || bad "$kind: dashboard issues: $(dashboard acme/dash)"
  expect_grep "$kind: the new body shows c2's job" '^\| c2 \| .* \| `77` \|' "$T/dash.md"
  cd "$T"
done

# Fault injection: every failure on every request of an escalation and of a resume.
echo "# faults"
github_repo faults
escalated_campaign "$PWD"
git add -A && git commit -q -m "c1 escalated" && git push -q origin main
cycles=${CAIRN_FORGE_FAULT_CYCLES:-50}
if python3 "$CAIRN_SOURCE_DIR/tests/integration/forge_faults.py" --cairn "$CAIRN" --api "$API" --dir "$PWD" \
  --repo acme/faults --cycles "$cycles" >"$T/faults.out" 2>&1; then
  ok "faults: $((2 * cycles)) runs, no duplicate issue, pull request or comment"
else
  bad "faults: see below"
fi
sed 's/^/    /' "$T/faults.out"
cd "$T"

if grep -q "$TOKEN" <<<"$(requests)"; then bad "the token appears in a request body"; else ok "no token in any request body"; fi
[ "$(count GET '^/repos/acme/sims/issues$')" -ge 1 ] && ok "GitHub issues listed at /repos/{o}/{r}/issues" || bad "no GitHub list"

# Every request sent to GitHub, against GitHub's own OpenAPI description.
github_contract "forge flow" "$T/requests.jsonl"
openapi=${CAIRN_NPM_PREFIX:-/opt/cairn-npm}/node_modules/@octokit/openapi/generated/api.github.com.json
if [ -f "$openapi" ] && command -v node >/dev/null; then
  # The checker itself catches what it should: an unknown field, a missing one, a bad enum.
  printf '%s\n' '{"method": "POST", "path": "/repos/a/b/issues", "query": {}, "body": "{\"body\": \"b\", \"colour\": 1}"}' \
    '{"method": "PATCH", "path": "/repos/a/b/issues/3", "query": {}, "body": "{\"state\": \"shut\"}"}' >"$T/bad.jsonl"
  node "$CAIRN_SOURCE_DIR/tests/servers/github_contract.mjs" "$openapi" "$T/bad.jsonl" >"$T/bad.out" 2>&1 || true
  [ "$(grep -c -E 'required field `title`|field `colour` is not in|"shut" is not one of' "$T/bad.out")" = 3 ] &&
    ok "GitHub contract: the checker rejects a missing title, an unknown field and a bad state" ||
    { bad "GitHub contract: the checker let bad requests through"; sed 's/^/    /' "$T/bad.out"; }
fi
finish || exit 1
if [ -n "$contract_skip" ]; then echo "SKIP: $contract_skip"; exit 77; fi
