#!/usr/bin/env bash
# Ticks over smart HTTP: `git http-backend` behind nginx + fcgiwrap on loopback, with
# a token checked by nginx. Proves the credentials cairn sends (GITHUB_TOKEN, and the
# `http.<url>.extraheader` actions/checkout writes), that a wrong token is a clean
# exit 3 that never prints the token and leaves nothing behind, and that 2 and 4 ticks
# racing on clones of the remote for CAIRN_RACE_ROUNDS rounds (50 by default), with a
# human committing meanwhile, submit every job once, lose no transition, never force a
# push, keep history linear and keep every human commit.
source "$(dirname "$0")/lib.sh"

for tool in nginx fcgiwrap; do
  command -v $tool >/dev/null || { echo "SKIP: $tool is not installed (ci/test installs it)"; exit 77; }
done
backend=$(git --exec-path)/git-http-backend
[ -x "$backend" ] || { echo "SKIP: no git-http-backend at $backend"; exit 77; }

token="s3cr3t-$RANDOM$RANDOM"
basic=$(printf 'x-access-token:%s' "$token" | base64 -w0)
basic_re=$(printf '%s' "$basic" | sed 's/[+]/\\+/g')  # the scheme name is case-insensitive
mkdir -p "$T/srv" "$T/tmp"
git init -q --bare -b main "$T/srv/campaigns.git"
git -C "$T/srv/campaigns.git" config http.receivepack true

fcgiwrap -s "unix:$T/fcgi.sock" >"$T/fcgi.log" 2>&1 &
fcgi=$!
# Workers run as this user too, so they can reach the socket in the private temp dir.
worker_user=""
[ "$(id -u)" = 0 ] && worker_user="user root;"
web=""
trap 'kill $web $fcgi 2>/dev/null || true; rm -rf "$T"' EXIT
auth=(-c "http.extraheader=Authorization: Basic $basic")
# A port below the ephemeral range, another one if it is taken.
for try in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 12000))
  cat > "$T/nginx.conf" <<CONF
$worker_user
daemon off;
pid $T/nginx.pid;
error_log $T/nginx-error.log;
events {}
http {
  access_log off;
  client_body_temp_path $T/tmp;
  fastcgi_temp_path $T/tmp;
  proxy_temp_path $T/tmp;
  uwsgi_temp_path $T/tmp;
  scgi_temp_path $T/tmp;
  server {
    listen 127.0.0.1:$port;
    client_max_body_size 0;
    location / {
      if (\$http_authorization !~* "^basic $basic_re\$") {
        add_header WWW-Authenticate 'Basic realm="cairn-test"' always;
        return 401;
      }
      include /etc/nginx/fastcgi_params;
      fastcgi_pass unix:$T/fcgi.sock;
      fastcgi_param SCRIPT_FILENAME $backend;
      fastcgi_param GIT_PROJECT_ROOT $T/srv;
      fastcgi_param GIT_HTTP_EXPORT_ALL "";
      fastcgi_param REMOTE_USER x-access-token;
      fastcgi_param PATH_INFO \$uri;
    }
  }
}
CONF
  nginx -c "$T/nginx.conf" -p "$T" >"$T/nginx.log" 2>&1 &
  web=$!
  url="http://127.0.0.1:$port/campaigns.git"
  for i in $(seq 1 50); do
    git "${auth[@]}" ls-remote "$url" >/dev/null 2>&1 && break
    kill -0 $web 2>/dev/null || break
    sleep 0.1
  done
  git "${auth[@]}" ls-remote "$url" >/dev/null 2>&1 && break
  kill $web 2>/dev/null || true
done
if ! git "${auth[@]}" ls-remote "$url" >/dev/null 2>&1; then
  echo "SKIP: nginx + git-http-backend did not come up on port $port:"
  cat "$T/nginx.log" "$T/nginx-error.log" "$T/fcgi.log" 2>/dev/null
  exit 77
fi
ok "git http-backend behind nginx (token-checked) on 127.0.0.1:$port"
git ls-remote "$url" >/dev/null 2>&1 && bad "nginx let a request without the token through" || ok "no token, no access"

git "${auth[@]}" clone -q "$url" "$T/seed" 2>/dev/null
cd "$T/seed"
"$CAIRN" init >/dev/null
for c in h1 h2 h3; do campaign . "$c"; done
git add -A && git commit -qm "three campaigns"
git "${auth[@]}" push -q origin main

for n in 1 2; do git "${auth[@]}" clone -q "$url" "$T/clone$n"; done
# actions/checkout's way: the header in the clone's config, no token in the environment.
git -C "$T/clone1" config "http.http://127.0.0.1:$port/.extraheader" "AUTHORIZATION: basic $basic"
cd "$T/clone1"
expect_rc 0 "tick with the extraheader actions/checkout writes" env -u GITHUB_TOKEN "$CAIRN" tick --force
grep -q "$token" "$T/out" "$T/err" && bad "the token was printed" || ok "the token was not printed"

# The GITHUB_TOKEN way, and a wrong one.
cd "$T/clone2"
expect_rc 0 "tick with GITHUB_TOKEN" env GITHUB_TOKEN="$token" "$CAIRN" tick --force
expect_rc 3 "a wrong token is exit 3" env GITHUB_TOKEN="wrong-$token" "$CAIRN" tick --force
expect_grep "says the remote refused the credentials" "authentication|401|credentials" "$T/err"
grep -q "wrong-$token" "$T/out" "$T/err" && bad "the wrong token was printed" || ok "the wrong token was not printed"
[ "$(wc -l < "$T/err")" -le 2 ] && ok "one-line reason" || bad "long error: $(cat "$T/err")"
[ -z "$(git status --porcelain --untracked-files=no)" ] && ok "work tree untouched" || bad "work tree changed: $(git status --short)"
[ -z "$(find .git -name '*.lock')" ] && ok "no lock files left" || bad "lock files left: $(find .git -name '*.lock')"
expect_rc 0 "the right token again: the next tick works" env GITHUB_TOKEN="$token" "$CAIRN" tick --force

# Races: 2 (odd rounds) and 4 (even rounds) ticks started together on clones of this
# remote, each clone a runner with its own local-backend state (so the backend cannot
# deduplicate across them and only the published intents can), over CAIRN_RACE_ROUNDS
# rounds (50 by default) in which a human adds campaigns with due work, and in every
# third round also pushes a commit of their own while the ticks run.
git -C "$T/clone1" config --unset "http.http://127.0.0.1:$port/.extraheader"
rounds=${CAIRN_RACE_ROUNDS:-50}
per_round=2
reduced=""
[ "$rounds" -lt 50 ] && reduced=" (reduced counts${CAIRN_REDUCED_WHY:+ $CAIRN_REDUCED_WHY}: CAIRN_RACE_ROUNDS=$rounds, 50 by default)"
[ -n "$reduced" ] && echo "NOTE:$reduced"
started=$SECONDS
# Every update of the branch on the server is logged, to prove none was forced.
git -C "$T/srv/campaigns.git" config core.logAllRefUpdates always
for n in 3 4; do git "${auth[@]}" clone -q "$url" "$T/clone$n"; done
tick_in() {  # tick_in N [args...]
  (cd "$T/clone$1" && CAIRN_STATE_DIR="$T/state$1" GITHUB_TOKEN="$token" "$CAIRN" tick "${@:2}")
}
humans=0 gave_up=0 redone=0 waited=0 ticks=0 tick_failures=0
for round in $(seq 1 "$rounds"); do
  ( cd "$T/seed" && git "${auth[@]}" pull -q --rebase origin main &&
    for k in $(seq 1 $per_round); do campaign . "r${round}c$k"; done &&
    git add -A && git commit --no-verify -qm "round $round: $per_round campaigns" && git "${auth[@]}" push -q origin main ) ||
    bad "round $round: human push"
  racers=$(( round % 2 == 1 ? 2 : 4 ))
  pids=()
  for n in $(seq 1 $racers); do
    ( rc=0; tick_in $n --force >"$T/race$n.out" 2>&1 || rc=$?; echo $rc >"$T/race$n.rc" ) &
    pids+=($!)
  done
  ticks=$((ticks + racers))
  if [ $((round % 3)) = 0 ]; then
    # A human commit lands while they run, pushed again (after a rebase) when a tick got
    # there first, as a human would: it must survive.
    humans=$((humans + 1))
    ( cd "$T/seed" && git "${auth[@]}" pull -q --rebase origin main && echo "round $round" >> NOTES.md &&
      git add NOTES.md && git commit --no-verify -qm "human note $round" && pushed=0 &&
      for try in $(seq 1 20); do
        git "${auth[@]}" pull -q --rebase origin main && git "${auth[@]}" push -q origin main 2>/dev/null && { pushed=1; break; }
        sleep 0.2
      done && [ "$pushed" = 1 ] ) || bad "round $round: the human could not push"
  fi
  wait "${pids[@]}"
  for n in $(seq 1 $racers); do
    rc=$(cat "$T/race$n.rc")
    redone=$((redone + $(grep -c "lost the race" "$T/race$n.out" || true)))
    waited=$((waited + $(grep -c "is being submitted by another tick" "$T/race$n.out" || true)))
    # Exit 3 after losing every retry is allowed by design (the next tick redoes the
    # work); anything else is a failure.
    if [ "$rc" = 3 ] && grep -q "was refused" "$T/race$n.out"; then
      gave_up=$((gave_up + 1))
    elif [ "$rc" != 0 ]; then
      tick_failures=$((tick_failures + 1))
      bad "round $round tick $n: exit $rc"; sed 's/^/    /' "$T/race$n.out"
    fi
  done
done
race_s=$((SECONDS - started))
[ "$tick_failures" = 0 ] &&
  ok "each of $ticks racing ticks landed its pushes or cleanly redid them ($redone redone, $gave_up gave up for the next tick)"

# Settle: each runner ticks until every campaign is done (a runner sees only its own jobs).
git "${auth[@]}" clone -q "$url" "$T/final"
total=$((rounds * per_round))
for i in $(seq 1 30); do
  for n in 1 2 3 4; do tick_in $n --force >/dev/null 2>&1 || true; done
  git -C "$T/final" "${auth[@]}" pull -q origin main
  [ "$(grep -l "^status: done" "$T"/final/campaigns/r*/WORKFLOW.md | wc -l)" = "$total" ] && break
  sleep 0.3
done
cd "$T/final"
runs=0 dupes=0 lost=0
[ -f "$T/runs.txt" ] && runs=$(grep -c "^r[0-9]" "$T/runs.txt" || true)
dupes=$( (grep "^r[0-9]" "$T/runs.txt" 2>/dev/null || true) | cut -d" " -f1 | sort | uniq -d | wc -l)
[ "$dupes" = 0 ] && ok "0 duplicate submissions ($runs job runs for $total campaigns)" || bad "$dupes campaign(s) ran twice"
[ "$runs" = "$total" ] && ok "every campaign's job ran once" || bad "$runs job runs for $total campaigns"
git log --format=%s >"$T/subjects"
for round in $(seq 1 "$rounds"); do
  for k in $(seq 1 $per_round); do
    name="r${round}c$k"
    grep -q "^status: done" "campaigns/$name/WORKFLOW.md" || { lost=$((lost + 1)); bad "$name: $(grep '^status' "campaigns/$name/WORKFLOW.md")"; }
    for t in "pending -> ready" "ready -> running" "running -> done"; do
      n=$(grep -c -x -F "$name: run $t" "$T/subjects" || true)
      [ "$n" = 1 ] || { [ "$n" -gt 1 ] && dupes=$((dupes + 1)) || lost=$((lost + 1)); bad "$name: $n \"$t\" commits"; }
    done
  done
done
[ "$lost" = 0 ] && ok "0 lost transitions: all $total campaigns done, each transition committed once" || bad "$lost lost transitions"
[ -z "$(git rev-list --merges HEAD)" ] && ok "history is linear" || bad "merge commits in history"
forced=0 updates=0
while read -r old new _; do
  updates=$((updates + 1))
  [ "$old" = 0000000000000000000000000000000000000000 ] && continue
  git -C "$T/srv/campaigns.git" merge-base --is-ancestor "$old" "$new" || forced=$((forced + 1))
done < "$T/srv/campaigns.git/logs/refs/heads/main"
[ "$forced" = 0 ] && ok "every push that landed was a fast-forward ($updates updates of main on the server)" || bad "$forced forced updates of main"
notes=$(grep -c '^round' NOTES.md 2>/dev/null || true)
[ "${notes:-0}" = "$humans" ] && ok "every human commit survived ($humans)" || bad "human notes lost: ${notes:-0} of $humans"
intents=$(git log --format=%B | grep -c '^Cairn-Intent: submit ' || true)
echo "figures: races: $rounds rounds ($ticks ticks, 2 and 4 at a time), $total campaigns, ${notes:-0} of $humans racing human commits kept, $intents intents published, $runs job runs, $dupes duplicate submissions, $lost lost transitions, $redone lost pushes redone, $waited waits on another tick's intent, $gave_up tick(s) gave up after 8 lost pushes, $forced forced updates, ${race_s} s racing$reduced"
finish
