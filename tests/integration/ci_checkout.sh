#!/usr/bin/env bash
# Ticks in the checkouts CI runners really make (issue 15): GitLab's detached HEAD at the
# branch tip (`git fetch` of the branch into refs/remotes/origin/main, `git checkout -f
# SHA`, GIT_DEPTH=1), and a depth-1 clone that must still see the anomaly window and
# `cairn log`'s history.
source "$(dirname "$0")/lib.sh"

git init -q --bare "$T/remote.git"
url="file://$T/remote.git"  # file://: a shallow fetch needs a transport, not a path
git clone -q "$url" "$T/seed" 2>/dev/null
cd "$T/seed"
"$CAIRN" init --forge none >/dev/null
campaign "$T/seed" c1
git add -A && git commit -qm "c1" && git push -q origin main
seed_tip=$(git rev-parse HEAD)

# What gitlab-runner does for a pipeline of `main` with GIT_DEPTH=1.
gitlab_checkout() {  # gitlab_checkout DIR SHA
  git init -q "$1"
  git -C "$1" remote add origin "$url"
  git -C "$1" fetch -q --depth 1 --prune origin "+refs/heads/main:refs/remotes/origin/main"
  git -C "$1" checkout -f -q "$2"
}

gitlab_checkout "$T/gl" "$seed_tip"
cd "$T/gl"
[ -z "$(git symbolic-ref -q HEAD)" ] && ok "the runner's checkout is a detached HEAD" || bad "HEAD is not detached"
expect_rc 0 "tick in a GitLab checkout (CI_COMMIT_BRANCH=main) commits and pushes" \
  env CI_COMMIT_BRANCH=main CI_COMMIT_SHA="$seed_tip" "$CAIRN" tick
remote_tip=$(git --git-dir="$T/remote.git" rev-parse main)
[ "$remote_tip" != "$seed_tip" ] && ok "the remote branch moved" || bad "nothing was pushed to the remote"
# (the log is read whole first: `| grep -q` would leave git writing into a closed pipe,
# and pipefail would count its SIGPIPE as a failure)
pushed_log=$(git --git-dir="$T/remote.git" log --format=%B "$seed_tip..main")
grep -q "^Cairn-Campaign: c1" <<<"$pushed_log" &&
  ok "the pushed commits are the tick's" || bad "no Cairn-Campaign commit on the remote"
[ "$(git symbolic-ref -q --short HEAD)" = main ] && ok "the checkout is on main afterwards" ||
  bad "HEAD is $(git symbolic-ref -q --short HEAD || echo detached)"

# Without CI variables: a detached HEAD equal to the remote branch's tip is that branch.
gitlab_checkout "$T/gl2" "$remote_tip"
cd "$T/gl2"
expect_rc 0 "tick on a detached HEAD equal to origin/main (no CI variables)" env -u CI_COMMIT_BRANCH "$CAIRN" tick
# A detached HEAD elsewhere is refused, and the message says where HEAD is.
gitlab_checkout "$T/gl3" "$remote_tip"
cd "$T/gl3"
git -c user.name=x -c user.email=x@x commit -q --allow-empty -m "somewhere else"
expect_rc 3 "tick on a detached HEAD that is not the branch tip is refused" env -u CI_COMMIT_BRANCH "$CAIRN" tick
expect_grep "the refusal names the detached HEAD" "HEAD is detached at [0-9a-f]{12}" "$T/err"
# A pipeline of another branch does not tick main.
gitlab_checkout "$T/gl4" "$(git --git-dir="$T/remote.git" rev-parse main)"
cd "$T/gl4"
expect_rc 3 "a pipeline of another branch (CI_COMMIT_BRANCH=feature) is refused" \
  env CI_COMMIT_BRANCH=feature "$CAIRN" tick
expect_grep "the refusal names the pipeline's branch" 'branch .feature. \(CI_COMMIT_BRANCH\)' "$T/err"

# A depth-1 clone sees the anomaly window and `cairn log`'s history: five submissions of
# c2's stage within the last hours (trailers as ticks write them), then a human commit on
# top, so the clone's single commit carries none of them.
cd "$T/seed" && git pull -q origin main
campaign "$T/seed" c2
git add -A && git commit -qm "c2"
for i in 1 2 3 4 5; do
  git commit -q --allow-empty -m "c2: run ready -> running" -m "Cairn-Campaign: c2
Cairn-Stage: run
Cairn-Transition: ready -> running
Cairn-Job: 90$i
Cairn-Attempt: $i
Cairn-Tick: $(date -u -d "-$((6 - i)) hours" +%Y-%m-%dT%H:%M:%SZ)
Cairn-Tick-Id: feed000$i"
done
git commit -q --allow-empty -m "a human's note"
git push -q origin main
git clone -q --depth 1 "$url" "$T/shallow" 2>/dev/null
cd "$T/shallow"
[ "$(git rev-list --count HEAD)" = 1 ] && ok "a depth-1 clone holds one commit" || bad "the clone holds $(git rev-list --count HEAD) commits"
expect_rc 0 "tick in the depth-1 clone" "$CAIRN" tick --only c2
expect_grep "  ... the anomaly scan saw the 5 submissions of c2 in the window" "runaway_resubmits c2 run" campaigns/c2/WORKFLOW.md
[ "$(git rev-list --count HEAD)" -gt 7 ] && ok "  ... the clone was deepened to the window" || bad "the clone holds $(git rev-list --count HEAD) commits"
git clone -q --depth 1 "$url" "$T/shallow2" 2>/dev/null
cd "$T/shallow2"
expect_rc 0 "cairn log in a depth-1 clone" "$CAIRN" log c2
[ "$(grep -c "ready -> running" "$T/out")" -ge 5 ] && ok "  ... shows the campaign's whole timeline" ||
  { bad "  ... shows $(grep -c "ready -> running" "$T/out") of c2's 5 submissions"; sed 's/^/    /' "$T/out" "$T/err"; }
# A clone whose remote is gone says precisely what it cannot see.
git clone -q --depth 1 "$url" "$T/shallow3" 2>/dev/null
mv "$T/remote.git" "$T/remote-gone.git"
cd "$T/shallow3"
expect_rc 0 "cairn log in a depth-1 clone whose remote is gone" "$CAIRN" log c2
expect_grep "  ... names the history it could not see" "history before [0-9T:+-]+ \([0-9a-f]+\) is not in this shallow clone" "$T/err"
mv "$T/remote-gone.git" "$T/remote.git"

finish
