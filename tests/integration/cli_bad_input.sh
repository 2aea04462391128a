#!/usr/bin/env bash
# One campaign's bad input never stops the tick: a frontmatter that hung yaml-cpp
# (`,` first, with an `&`: issue 19, finding 1) sits next to a good campaign. `validate`
# reports it at file:line:col within seconds, and a tick reports it, skips it, and
# still submits and completes the other campaign (exit 1: a finding, per README).
source "$(dirname "$0")/lib.sh"

cd "$T" && mkdir repo && cd repo && git init -q
"$CAIRN" init >/dev/null
campaign . good
mkdir -p campaigns/bad
printf -- '---\n,&\n---\n\n# bad\n' >campaigns/bad/WORKFLOW.md
git add -A && git commit -q --no-verify -m "two campaigns, one unreadable"  # the hook would refuse it
bad_before=$(git hash-object campaigns/bad/WORKFLOW.md)

# `timeout` turns the old hang into a failure instead of a stuck test.
expect_rc 1 "validate reports the bad frontmatter" timeout 20 "$CAIRN" validate
expect_grep "at file:line:col" '^campaigns/bad/WORKFLOW.md:2:1: error: invalid YAML' "$T/err"

expect_rc 1 "a tick with one unreadable campaign ends, exit 1" timeout 60 "$CAIRN" tick --force
expect_grep "the bad campaign is reported" 'campaigns/bad/WORKFLOW.md:2:1' "$T/err"
expect_grep "the good campaign is submitted" 'good: run ready -> running' "$T/out"
for i in $(seq 1 100); do [ -s "$T/runs.txt" ] && break; sleep 0.1; done
sleep 0.3
expect_rc 1 "the next tick completes the good campaign" timeout 60 "$CAIRN" tick --force
expect_grep "good is done" 'good: run running -> done' "$T/out"
[ "$(git hash-object campaigns/bad/WORKFLOW.md)" = "$bad_before" ] && ok "the bad file is never rewritten" ||
  bad "the bad file changed"
[ -z "$(git log --format=%H -- campaigns/bad)" ] || [ "$(git log --format=%H -- campaigns/bad | wc -l)" = 1 ] &&
  ok "no commit touches the bad campaign" || bad "commits touch campaigns/bad: $(git log --oneline -- campaigns/bad)"
finish
