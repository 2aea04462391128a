#!/usr/bin/env bash
# Learning end to end on the local backend: a walltime failure fixed by the catalogue
# (walltime x2), the stage then done; the failure-log row becomes RESOLVED with a lesson,
# the stage's run lands in `## Learnings`, `cairn status --learnings` summarises it, and
# `cairn catalog promote` copies the fix into the project catalog as its own commit.
source "$(dirname "$0")/lib.sh"

R=$T/repo
mkdir -p "$R" && cd "$R" && git init -q
campaign "$R" c1
# The job sleeps 3 s under a 2 s limit: TIMEOUT, then 4 s after `walltime x2`.
sed -i 's|run: {run: jobs/run.sh, resources: {time: "00:01:00"}, expect: 1m}|run: {run: jobs/run.sh, resources: {time: "00:00:02"}, expect: 1m}|' \
  campaigns/c1/WORKFLOW.md
printf '#!/bin/sh\nsleep 3\necho finished\n' > campaigns/c1/jobs/run.sh
mkdir -p catalogs
cat > catalogs/project.md <<'MD'
# Project failure modes

## Common failure modes

| Class | Exit code | Scheduler state | Log signature (RE2) | Safe to retry | Auto-fix | Max fixes | Hint |
|---|---|---|---|---|---|---|---|
| velocity-blowup | — | — | `velocity of atom .* exceeds` | no | destructive | 0 | Lower the timestep. |

Notes under the table stay where they are.
MD
printf 'catalogs:\n  - catalogs/project.md#common-failure-modes\n' > cairn.yaml
git add -A && git commit -qm "campaign with a stage that times out once"

for i in $(seq 1 20); do
  "$CAIRN" tick --force >/dev/null 2>"$T/tick.err" || { bad "tick $i failed"; cat "$T/tick.err"; break; }
  grep -q '^status: done' campaigns/c1/WORKFLOW.md && break
  sleep 1
done
wf=campaigns/c1/WORKFLOW.md
grep -q '^status: done' $wf && ok "campaign done after a catalogued walltime fix" || { bad "campaign not done"; cat $wf; }
expect_grep "failure row is RESOLVED and says what changed" \
  '^\| [0-9-]+ +\| run +\| walltime-exceeded .*\| walltime x2 \(resources.time 00:00:02 -> 00:00:04\) +\| RESOLVED' $wf
expect_grep "lesson names the fix" '^- run: walltime-exceeded resolved by walltime x2' $wf
if grep -q '(none yet)' $wf; then bad "placeholder left in Lessons learned"; else ok "placeholder replaced"; fi
expect_grep "Learnings table added" '^## Learnings' $wf
expect_grep "learning row for the completed run" '^\| [0-9-]+ +\| run +\| local +\|.*time=00:00:04' $wf
done_commit=$(git log --format=%H --grep 'run running -> done' -1)
git show "$done_commit" --format=%B -s > "$T/msg"
expect_grep "done commit says what was resolved" 'Resolved: walltime-exceeded' "$T/msg"

expect_rc 0 "status --learnings" "$CAIRN" status --learnings
expect_grep "pool summary row" '^local +— +1 +1 ' "$T/out"
expect_grep "error summary row" '^walltime-exceeded +1 +1 +1 +0 +walltime x2' "$T/out"
expect_rc 0 "status --learnings --json" "$CAIRN" status --learnings --json
expect_grep "JSON names the resolving fix" '"walltime x2 \(resources.time 00:00:02 -> 00:00:04\)": 1' "$T/out"

# Promotion.
expect_rc 1 "promote a class never resolved here" "$CAIRN" catalog promote out-of-memory --from c1
expect_grep "says why" 'no RESOLVED `out-of-memory` row' "$T/err"
expect_rc 2 "promote from an unknown campaign (a usage error, docs/cli.md)" "$CAIRN" catalog promote walltime-exceeded --from nope
before=$(git rev-list --count HEAD)
expect_rc 0 "catalog promote" "$CAIRN" catalog promote walltime-exceeded --from c1
[ "$(git rev-list --count HEAD)" -eq $((before + 1)) ] && ok "one commit" || bad "promote made $(( $(git rev-list --count HEAD) - before )) commits"
expect_grep "commit subject" '^catalog: promote walltime-exceeded \(walltime x2\) from c1' <(git log -1 --format=%s)
[ "$(git show --name-only --format= HEAD)" = "catalogs/project.md" ] && ok "only the catalog changed" || bad "promote changed $(git show --name-only --format= HEAD)"
git diff --quiet && ok "work tree clean after promote" || bad "work tree dirty after promote"
expect_grep "row appended to the project table" '^\| walltime-exceeded \| — \| TIMEOUT \| — \| yes \| walltime x2 \| 1 \|.*Promoted from c1' catalogs/project.md
row=$(grep -n '^| walltime-exceeded' catalogs/project.md | cut -d: -f1)
notes=$(grep -n '^Notes under the table' catalogs/project.md | cut -d: -f1)
[ "$row" -lt "$notes" ] && ok "row inside the table, before the notes" || bad "row at line $row, notes at $notes"
expect_rc 0 "classify now names the project entry" "$CAIRN" classify /dev/null --state TIMEOUT
expect_grep "entry from catalogs/project.md" "catalogs/project.md:$row" "$T/out"
expect_rc 0 "promote again is a no-op" "$CAIRN" catalog promote walltime-exceeded --from c1
expect_grep "says nothing to promote" 'nothing to promote' "$T/out"
# A signature with alternations (`a\|b`) survives promotion: the row stays one row.
sed -i 's/^\(| [0-9-]* *| run .*| RESOLVED *|\)$/\1\n| 2026-11-23 | run | gpu-oom | job 9: CUDA out of memory | mem x2 (resources.mem 1G -> 2G) | RESOLVED |/' $wf
grep -q '| gpu-oom |' $wf && ok "hand-written gpu-oom row added" || bad "could not add the gpu-oom row"
git commit -qam "a resolved gpu-oom row"
expect_rc 0 "promote a class whose signature has alternations" "$CAIRN" catalog promote gpu-oom --from c1
expect_grep "alternation kept escaped" '^\| gpu-oom \|.*`CUDA out of memory\\\|torch' catalogs/project.md
printf 'RuntimeError: CUDA out of memory. Tried to allocate 2 GiB\n' > "$T/gpu.log"
expect_rc 0 "classify a CUDA OOM log" "$CAIRN" classify "$T/gpu.log"
expect_grep "the promoted row matches it" 'class: +gpu-oom' "$T/out"
expect_grep "from the project catalog" 'catalogs/project.md:' "$T/out"
finish
