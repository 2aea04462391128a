#!/usr/bin/env bash
# init / new / validate / status / pre-commit hook on real temp git repositories.
source "$(dirname "$0")/lib.sh"

cd "$T" && mkdir plain && cd plain && git init -q
expect_rc 0 "init without a remote" "$CAIRN" init
expect_grep "init says no forge was detected" "forge: none" "$T/out"
for f in cairn.yaml catalogs/failure-catalog.md .git/hooks/pre-commit; do
  [ -e "$f" ] && ok "init created $f" || bad "init did not create $f"
done
[ -x .git/hooks/pre-commit ] && ok "hook is executable" || bad "hook not executable"
[ ! -e .github ] && ok "no CI template without a forge" || bad ".github created without a forge"
expect_rc 0 "init twice keeps files" "$CAIRN" init
expect_grep "second init keeps cairn.yaml" "kept +cairn.yaml" "$T/out"

cd "$T" && mkdir gh && cd gh && git init -q && git remote add origin https://github.com/o/r.git
expect_rc 0 "init with a github remote" "$CAIRN" init
[ -f .github/workflows/cairn-tick.yml ] && ok "GitHub Actions template installed" || bad "no GitHub template"
cd "$T" && mkdir gl && cd gl && git init -q && git remote add origin git@gitlab.example.org:o/r.git
expect_rc 0 "init with a gitlab remote" "$CAIRN" init
[ -f .gitlab-ci.yml ] && ok "GitLab CI template installed" || bad "no GitLab template"

cd "$T/plain"
expect_rc 0 "new from the generic template" "$CAIRN" new alpha
[ -f campaigns/alpha/WORKFLOW.md ] && ok "campaign file created under root" || bad "no campaigns/alpha/WORKFLOW.md"
expect_grep "campaign name filled" "^campaign: alpha" campaigns/alpha/WORKFLOW.md
expect_grep "created date filled" "^created: [0-9]{4}-[0-9]{2}-[0-9]{2}" campaigns/alpha/WORKFLOW.md
expect_rc 1 "new refuses to overwrite" "$CAIRN" new alpha
expect_rc 2 "new rejects a bad name" "$CAIRN" new "../evil"
expect_rc 0 "new from the namd-ensemble template" "$CAIRN" new beta --template namd-ensemble
expect_rc 2 "unknown template is a usage error" "$CAIRN" new gamma --template nope

# The orchestration skill's own NAMD template (the fixture: free-text conditions, a
# `current_stage` that is no stage): the prose is reported at line:col as warnings (a
# tick escalates rather than guess), the stray current_stage as an error.
mkdir -p campaigns/seed && sed 's/^campaign: <slug>/campaign: seed/' \
  "$CAIRN_SOURCE_DIR/tests/fixtures/workflows/WORKFLOW.namd-ensemble.md" > campaigns/seed/WORKFLOW.md
expect_rc 1 "validate reports the seed NAMD file's free-text conditions" "$CAIRN" validate campaigns/seed
expect_grep "and its current_stage that names no stage" "current_stage \`0-dry-run\` names no row.*did you mean \`dry-run\`" "$T/err"
expect_grep "uncheckable clause at line:col" "campaigns/seed/WORKFLOW.md:[0-9]+:[0-9]+: warning: .*restart written" "$T/err"
rm -rf campaigns/seed
cp campaigns/beta/WORKFLOW.md "$T/beta.before"
expect_rc 0 "generic campaign validates" "$CAIRN" validate campaigns/alpha
cmp -s campaigns/beta/WORKFLOW.md "$T/beta.before" && ok "validate never rewrites" || bad "validate changed a file"

# A broken file does not stop the others.
mkdir -p campaigns/broken && printf 'no frontmatter\n' > campaigns/broken/WORKFLOW.md
expect_rc 1 "validate with one broken file" "$CAIRN" validate
expect_grep "broken file diagnosed" "campaigns/broken/WORKFLOW.md:1:1: error" "$T/err"
expect_grep "other files still checked" "campaigns/alpha/WORKFLOW.md: ok" "$T/out"
expect_rc 1 "status lists the broken file too" "$CAIRN" status --json
expect_grep "status JSON has alpha" '"campaign": "alpha"' "$T/out"
expect_grep "status JSON marks the broken file invalid" '"valid": false' "$T/out"
expect_rc 1 "status table" "$CAIRN" status
expect_grep "status table header" "^CAMPAIGN +STATUS +STAGE +JOB +STARTED +RETRIES +ESCALATION" "$T/out"

# The pre-commit hook validates the staged content.
rm -rf campaigns/broken campaigns/beta
export PATH="$(dirname "$CAIRN"):$PATH"
git add -A && git commit -qm "good campaign" && ok "hook lets a valid commit through" || bad "hook refused a valid commit"
sed -i 's/| pending |/| bogus   |/' campaigns/alpha/WORKFLOW.md
git add -A
if git commit -qm "bad status" 2>"$T/err"; then bad "hook let an invalid WORKFLOW.md through"; else ok "hook refused an invalid WORKFLOW.md"; fi
expect_grep "hook names the line" "campaigns/alpha/WORKFLOW.md:[0-9]+:[0-9]+: error: .*bogus" "$T/err"
# Staged content, not the work tree, is what gets checked.
git checkout -q -- campaigns/alpha/WORKFLOW.md 2>/dev/null || git reset -q --hard
git reset -q --hard
sed -i 's/| pending |/| bogus   |/' campaigns/alpha/WORKFLOW.md
expect_rc 0 "--staged ignores unstaged edits" "$CAIRN" validate --staged
git checkout -q -- .

expect_rc 2 "unknown verb is a usage error" "$CAIRN" frobnicate
for v in init new validate tick status log classify clear doctor; do
  expect_rc 0 "$v --help" "$CAIRN" "$v" --help
done
finish
