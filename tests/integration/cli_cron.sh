#!/usr/bin/env bash
# `cairn init --cron` on a login node (issue 15): prints a crontab line and a scrontab
# entry that tick from this clone under flock; --install puts the line into the crontab
# (once, keeping the user's other lines). The installed line, run as cron runs it, ticks
# and pushes; while another tick holds the lock it does nothing.
source "$(dirname "$0")/lib.sh"

git init -q --bare "$T/remote.git"
git clone -q "$T/remote.git" "$T/seed" 2>/dev/null
cd "$T/seed"
"$CAIRN" init --forge none >/dev/null
campaign "$T/seed" c1
git add -A && git commit -qm c1 >/dev/null && git push -q origin main
git clone -q "$T/remote.git" "$T/cron-clone"
cd "$T/cron-clone"

expect_rc 0 "cairn init --cron prints the lines" "$CAIRN" init --cron
cp "$T/out" "$T/printed"
expect_grep "  ... a crontab line that ticks this clone under flock" \
  "^\*/5 \* \* \* \* cd '$T/cron-clone' && exec flock -n .git/cairn-tick.lock '.*' tick .*# cairn tick: $T/cron-clone$" "$T/printed"
expect_grep "  ... a scrontab entry, one tick at a time" "^#SCRON .*--dependency=singleton" "$T/printed"
grep -A1 "^#SCRON" "$T/printed" | tail -n 1 | grep -q "flock -n" && ok "  ... whose command takes the lock too" || bad "the scrontab command has no flock"

# A crontab that stores the table in a file (this machine has no cron daemon).
mkdir -p "$T/bin"
cat > "$T/bin/crontab" <<SH
#!/bin/sh
case "\$1" in
  -l) [ -f "$T/crontab.txt" ] && exec cat "$T/crontab.txt"; echo "no crontab for \$USER" >&2; exit 1 ;;
  -) cat > "$T/crontab.txt" ;;
esac
SH
chmod +x "$T/bin/crontab"
export PATH=$T/bin:$PATH HOME=$T/home
mkdir -p "$HOME"
expect_rc 0 "--install into an empty crontab" "$CAIRN" init --cron --install
echo "MAILTO=someone@example.invalid" > "$T/crontab.txt.keep"
cat "$T/crontab.txt" >> "$T/crontab.txt.keep" && mv "$T/crontab.txt.keep" "$T/crontab.txt"
expect_rc 0 "--install again" "$CAIRN" init --cron --install
[ "$(grep -c "# cairn tick: $T/cron-clone$" "$T/crontab.txt")" = 1 ] && ok "  ... the crontab holds the line once" ||
  { bad "  ... the crontab holds it $(grep -c "cairn tick" "$T/crontab.txt") times"; cat "$T/crontab.txt"; }
grep -q "^MAILTO=someone" "$T/crontab.txt" && ok "  ... and keeps the user's other lines" || bad "the user's lines are gone"

# Run the installed line's command as cron would (sh -c, from $HOME, cron's short PATH).
command=$(grep "# cairn tick: " "$T/crontab.txt" | cut -d' ' -f6-)
# The sanitizer settings of a sanitizer build pass through (ci/lsan.supp: libgit2's leak).
sanitizer_env=()
for v in ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS; do [ -n "${!v:-}" ] && sanitizer_env+=("$v=${!v}"); done
run_cron() { (cd "$HOME" && env -i HOME="$HOME" PATH=/usr/bin:/bin CAIRN_STATE_DIR="$CAIRN_STATE_DIR" \
  GIT_CONFIG_GLOBAL="$GIT_CONFIG_GLOBAL" "${sanitizer_env[@]}" sh -c "$command"); }
before=$(git --git-dir="$T/remote.git" rev-parse main)
# While another tick holds the lock, the cron run does nothing and exits.
flock .git/cairn-tick.lock sleep 3 &
holder=$!
sleep 0.5
expect_rc 1 "the cron line while a tick holds the lock: flock -n gives up" run_cron
[ "$(git --git-dir="$T/remote.git" rev-parse main)" = "$before" ] && ok "  ... nothing was pushed" || bad "it ticked despite the lock"
wait $holder
expect_rc 0 "the cron line ticks" run_cron
[ "$(git --git-dir="$T/remote.git" rev-parse main)" != "$before" ] && ok "  ... and pushed the transition" ||
  { bad "  ... the remote did not move"; cat "$HOME/.local/state/cairn/cron.log"; }
expect_grep "  ... its output goes to the cron log" "next tick in" "$HOME/.local/state/cairn/cron.log"

# An ssh remote: cron has no ssh-agent, so the line starts one with the deploy key.
git clone -q "$T/remote.git" "$T/ssh-clone" && cd "$T/ssh-clone"
git remote set-url origin git@forge.example.invalid:group/campaigns.git
expect_rc 0 "cairn init --cron with an ssh remote" "$CAIRN" init --cron
expect_grep "  ... starts an ssh-agent holding the deploy key" "^\*/5 .* ssh-agent sh -c \"ssh-add -q .*cairn_deploy; cd '$T/ssh-clone' && exec flock" "$T/out"
ssh_command=$(grep "^\*/5" "$T/out" | cut -d' ' -f6-)
sh -n -c "$ssh_command" && ok "  ... and is valid sh" || bad "the ssh line is not valid sh: $ssh_command"
finish
