#!/usr/bin/env bash
# `cairn tick --watch`, the self-paced loop (issue 15): ticks, sleeps until the
# next tick (here capped at 1 s), ticks again; SIGHUP wakes it at once; SIGTERM during a
# tick lets that tick finish (its commit lands) and exits 0, with nothing half-written.
source "$(dirname "$0")/lib.sh"

cd "$T" && mkdir repo && cd repo && git init -q
"$CAIRN" init --forge none >/dev/null
campaign "$T/repo" c1
# The job runs until the test releases it; the exit check then announces itself and takes
# 3 s: the window in which SIGTERM arrives.
sed -i "s#| exit=0         |#| exit=0, \`touch $T/checking; sleep 3\` exits 0 |#" campaigns/c1/WORKFLOW.md
grep -q 'checking; sleep 3' campaigns/c1/WORKFLOW.md || { echo "FAIL - could not set up the slow check"; exit 1; }
printf '#!/bin/sh\nwhile [ ! -e "%s/release" ]; do sleep 0.2; done\n' "$T" > campaigns/c1/jobs/run.sh
git add -A && git commit -qm "c1" >/dev/null

wait_for() {  # wait_for SECONDS CMD...: polls CMD every 0.1 s
  local until=$((SECONDS + $1)); shift
  until "$@"; do [ $SECONDS -ge $until ] && return 1; sleep 0.1; done
}
ticks() { grep -c "^next tick in" "$T/watch.out" 2>/dev/null || true; }
ticks_at_least() { [ "$(ticks)" -ge "$1" ]; }

rm -f "$T/watch.out" "$T/watch.err"  # truncated here: a background redirection lags
"$CAIRN" tick --watch --max-sleep 1 --only nothing-here >"$T/watch.out" 2>"$T/watch.err" &
pid=$!
wait_for 10 kill -0 $pid 2>/dev/null
# --only names no campaign: a usage error no later tick can mend ends the loop with exit 2.
rc=0; wait $pid || rc=$?
[ $rc -eq 2 ] && ok "--watch ends at once on a usage error (exit 2)" || bad "--watch --only unknown exited $rc, wanted 2"

# 1. Ticks by the timer (every campaign each time: --force), then SIGTERM during a tick.
rm -f "$T/watch.out" "$T/watch.err"  # truncated here: a background redirection lags
"$CAIRN" tick --watch --force --max-sleep 1 >"$T/watch.out" 2>"$T/watch.err" &
pid=$!
if wait_for 20 ticks_at_least 2; then ok "--watch ticked twice on its own (cadence capped at 1 s)"; else
  bad "--watch did not tick twice in 20 s"; sed 's/^/    /' "$T/watch.out" "$T/watch.err"; fi
# The job ends; the next tick sees it done and runs the slow check.
touch "$T/release"
if wait_for 20 test -e "$T/checking"; then ok "a tick is checking the job's exit condition"; else
  bad "no tick reached the exit check"; sed 's/^/    /' "$T/watch.out" "$T/watch.err"; fi
ticks_before_term=$(ticks)
kill -TERM $pid
start=$SECONDS
rc=0; wait $pid || rc=$?
[ $rc -eq 0 ] && ok "SIGTERM during a tick: exit 0" || { bad "SIGTERM during a tick: exit $rc"; sed 's/^/    /' "$T/watch.err"; }
[ $((SECONDS - start)) -le 10 ] && ok "  ... within the tick's own time ($((SECONDS - start)) s)" || bad "took $((SECONDS - start)) s to stop"
[ "$(ticks)" -eq $((ticks_before_term + 1)) ] && ok "  ... after finishing that tick and starting no other" ||
  bad "  ... $(ticks) ticks printed, wanted $((ticks_before_term + 1))"
expect_grep "  ... the interrupted tick's transition is committed" "c1: run running -> done" <(git log --format=%s)
expect_grep "  ... the file says done" "^\| 0 \| run .*\| done " campaigns/c1/WORKFLOW.md
[ -z "$(git status --porcelain --untracked-files=no)" ] && ok "  ... the work tree is clean" || bad "dirty tree: $(git status --porcelain)"
[ ! -e .git/index.lock ] && ! ls .git/refs/heads/*.lock >/dev/null 2>&1 && ok "  ... no lock files left" || bad "lock files left"
git fsck --no-progress >/dev/null 2>&1 && ok "  ... git fsck is clean" || bad "git fsck reports problems"

# 2. SIGHUP wakes a long sleep at once.
rm -f "$T/watch.out" "$T/watch.err"  # truncated here: a background redirection lags
"$CAIRN" tick --watch >"$T/watch.out" 2>"$T/watch.err" &
pid=$!
wait_for 10 grep -q "^watch: sleeping" "$T/watch.out" || bad "no first tick"
[ "$(ticks)" -eq 1 ] && ok "--watch without a cap: one tick, then a long sleep" ||
  { bad "$(ticks) ticks"; sed 's/^/    /' "$T/watch.out" "$T/watch.err"; }
kill -HUP $pid
if wait_for 10 ticks_at_least 2; then ok "SIGHUP ticks at once"; else bad "SIGHUP did not wake the loop"; fi
kill -TERM $pid
start=$SECONDS
rc=0; wait $pid || rc=$?
[ $rc -eq 0 ] && [ $((SECONDS - start)) -le 3 ] && ok "SIGTERM while sleeping: exit 0 at once" ||
  bad "SIGTERM while sleeping: exit $rc after $((SECONDS - start)) s"

# 3. A push to the remote (a merged pull request, a hand edit) wakes a long sleep: the
# sleep asks the remote every --poll seconds.
git init -q --bare "$T/remote.git"
git remote add origin "$T/remote.git" && git push -q origin main
rm -f "$T/watch.out" "$T/watch.err"  # truncated here: a background redirection lags
"$CAIRN" tick --watch --poll 1 >"$T/watch.out" 2>"$T/watch.err" &
pid=$!
wait_for 10 grep -q "^watch: sleeping" "$T/watch.out" || bad "no first tick with a remote"
git clone -q "$T/remote.git" "$T/human" && (cd "$T/human" && git commit -q --allow-empty -m "a human's push" && git push -q origin main)
if wait_for 10 ticks_at_least 2; then ok "a push to the remote wakes the sleep (--poll 1)"; else
  bad "the loop slept through a push"; sed 's/^/    /' "$T/watch.out" "$T/watch.err"; fi
expect_grep "  ... and says why" "^watch: the remote branch moved" "$T/watch.out"
kill -TERM $pid
rc=0; wait $pid || rc=$?
[ $rc -eq 0 ] && ok "  ... SIGTERM: exit 0" || bad "exit $rc"
git log -1 --format=%s | grep -q "a human's push" && ok "  ... the tick brought the push in" || bad "HEAD is $(git log -1 --format=%s)"

# The systemd user unit template for the loop: systemd's own checker finds nothing in it.
if command -v systemd-analyze >/dev/null; then
  cp "$CAIRN_SOURCE_DIR/templates/cairn-watch.service" "$T/cairn-watch@-tmp.service"
  out=$(cd "$T" && systemd-analyze verify "$T/cairn-watch@-tmp.service" 2>&1) || true
  [ -z "$out" ] && ok "templates/cairn-watch.service passes systemd-analyze verify" ||
    bad "systemd-analyze verify: $out"
  grep -q '^ExecStart=.*cairn tick --watch$' "$T/cairn-watch@-tmp.service" && grep -q '^ExecReload=.*-HUP' "$T/cairn-watch@-tmp.service" &&
    ok "  ... it runs tick --watch and reloads with SIGHUP" || bad "the unit does not run tick --watch / reload with SIGHUP"
else
  echo "SKIP (this check only) - systemd-analyze is not installed: templates/cairn-watch.service not verified"
fi
finish
