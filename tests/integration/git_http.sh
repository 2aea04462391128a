#!/usr/bin/env bash
# Ticks over smart HTTP: `git http-backend` behind nginx + fcgiwrap on loopback, with
# a token checked by nginx. Proves the credentials cairn sends (GITHUB_TOKEN, and the
# `http.<url>.extraheader` actions/checkout writes), that a wrong token is a clean
# exit 3 that never prints the token, and that racing ticks over HTTP submit once.
source "$(dirname "$0")/lib.sh"

for tool in nginx fcgiwrap; do
  command -v $tool >/dev/null || { echo "SKIP: $tool is not installed (ci/test installs it)"; exit 77; }
done
backend=$(git --exec-path)/git-http-backend
[ -x "$backend" ] || { echo "SKIP: no git-http-backend at $backend"; exit 77; }

token="s3cr3t-$RANDOM$RANDOM"
basic=$(printf 'x-access-token:%s' "$token" | base64 -w0)
basic_re=$(printf '%s' "$basic" | sed 's/[+]/\\+/g')  # the scheme name is case-insensitive
port=$((20000 + RANDOM % 20000))
mkdir -p "$T/srv" "$T/tmp"
git init -q --bare -b main "$T/srv/campaigns.git"
git -C "$T/srv/campaigns.git" config http.receivepack true

fcgiwrap -s "unix:$T/fcgi.sock" >"$T/fcgi.log" 2>&1 &
fcgi=$!
# Workers run as this user too, so they can reach the socket in the private temp dir.
worker_user=""
[ "$(id -u)" = 0 ] && worker_user="user root;"
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
trap 'kill $web $fcgi 2>/dev/null || true; rm -rf "$T"' EXIT
url="http://127.0.0.1:$port/campaigns.git"
auth=(-c "http.extraheader=Authorization: Basic $basic")
for i in $(seq 1 50); do git "${auth[@]}" ls-remote "$url" >/dev/null 2>&1 && break; sleep 0.1; done
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

# Two ticks racing over HTTP, each with its own runner state: one submit per job.
git -C "$T/clone1" config --unset "http.http://127.0.0.1:$port/.extraheader"
for round in 1 2 3; do
  pids=()
  for n in 1 2; do
    ( rc=0; cd "$T/clone$n" && CAIRN_STATE_DIR="$T/state$n" GITHUB_TOKEN="$token" "$CAIRN" tick --force \
        >"$T/race$n.out" 2>&1 || rc=$?; echo $rc >"$T/race$n.rc" ) &
    pids+=($!)
  done
  wait "${pids[@]}"
  for n in 1 2; do [ "$(cat "$T/race$n.rc")" = 0 ] || { bad "round $round tick $n: exit $(cat "$T/race$n.rc")"; cat "$T/race$n.out"; }; done
  sleep 1
done
git "${auth[@]}" clone -q "$url" "$T/final"
dupes=$(cut -d" " -f1 "$T/runs.txt" 2>/dev/null | sort | uniq -d | wc -l)
[ "$dupes" = 0 ] && ok "0 duplicate submissions over HTTP ($(wc -l < "$T/runs.txt") runs)" || bad "$dupes jobs ran twice"
[ -z "$(git -C "$T/final" rev-list --merges HEAD)" ] && ok "history is linear" || bad "merge commits"
finish
