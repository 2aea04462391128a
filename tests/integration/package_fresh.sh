#!/usr/bin/env bash
# The release artefacts on fresh systems, not on the build machine (issue 15): roots made
# by mmdebstrap from Debian's archive (cached as tarballs under the build dir).
#   Debian 12 (apt variant): `apt-get install ./cairn_*.deb` pulls what its Depends name,
#     then init / new / validate / tick in a new repository.
#   Debian 11 and 13 (minbase: not even git): the portable binary from the tarball runs
#     --version, validate and local-backend ticks that submit, finish and commit.
# Needs root (chroot), mmdebstrap and dist/ from ./ci/package; otherwise it says what is
# missing and exits 77. CAIRN_FRESH_ROOTS overrides where the roots are cached.
source "$(dirname "$0")/lib.sh"
skip() { echo "SKIP: $*"; echo "SKIP: the fresh-system package tests did not run" >&2; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root for chroot and mounting /proc"
command -v mmdebstrap >/dev/null || skip "mmdebstrap is not installed (ci/deps.sh installs it)"
dist=$CAIRN_SOURCE_DIR/dist
version=$(sed -n 's/^project(cairn VERSION \([0-9.]*\).*/\1/p' "$CAIRN_SOURCE_DIR/CMakeLists.txt")
deb=$dist/cairn_${version}_amd64.deb
tarball=$dist/cairn-$version-linux-x86_64.tar.gz
[ -f "$deb" ] && [ -f "$tarball" ] || skip "no $deb / $tarball: run ./ci/package first (ci/test does)"
if [ "$(head -n 1 "$dist/COMMIT" 2>/dev/null)" != "$(git -C "$CAIRN_SOURCE_DIR" rev-parse HEAD)" ]; then
  echo "NOTE: dist/ was built from $(head -n 1 "$dist/COMMIT" 2>/dev/null || echo "an unknown commit"), not HEAD"
fi
(cd "$dist" && sha256sum --check --quiet SHA256SUMS) && ok "SHA256SUMS matches both artefacts" || bad "SHA256SUMS does not match"

roots=${CAIRN_FRESH_ROOTS:-$CAIRN_SOURCE_DIR/build/fresh-roots}
mkdir -p "$roots/apt-archives"
mounted=()
cleanup_mounts() { for m in "${mounted[@]}"; do umount -l "$m" 2>/dev/null || true; done; }
trap 'cleanup_mounts; [ -n "${CAIRN_KEEP_TMP:-}" ] || rm -rf "$T"' EXIT

fresh_root() {  # fresh_root SUITE VARIANT DIR: an unpacked fresh root, made once and cached
  local cache=$roots/$1-$2.tar.zst part=$roots/partial-$1-$2.tar.zst start=$SECONDS
  if [ ! -s "$cache" ]; then
    echo "# mmdebstrap $1 ($2) into $cache"
    if ! mmdebstrap --quiet --variant="$2" --mode=root "$1" "$part" >"$roots/$1.log" 2>&1; then
      tail -n 5 "$roots/$1.log"
      rm -rf "$part"
      skip "mmdebstrap could not make a Debian $1 root (is the Debian archive reachable?)"
    fi
    mv "$part" "$cache"
    echo "# made in $((SECONDS - start)) s"
  fi
  mkdir -p "$3" && tar --zstd -xf "$cache" -C "$3"
  mount -t proc proc "$3/proc" && mounted+=("$3/proc")
  cp /etc/resolv.conf "$3/etc/resolv.conf" 2>/dev/null || true
}
in_root() {  # in_root DIR CMD: CMD under sh as a fresh login would run it
  chroot "$1" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin LANG=C.UTF-8 \
    CAIRN_STATE_DIR=/root/state /bin/sh -ec "$2"
}

# --- the .deb on Debian 12 ------------------------------------------------------------
start=$SECONDS
R=$T/bookworm
fresh_root bookworm apt "$R"
cp "$deb" "$R/tmp/"
mkdir -p "$R/var/cache/apt/archives" && mount --bind "$roots/apt-archives" "$R/var/cache/apt/archives" &&
  mounted=("$R/var/cache/apt/archives" "${mounted[@]}")  # downloads kept between runs
if in_root "$R" "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ./tmp/$(basename "$deb")" \
  >"$T/apt.log" 2>&1; then
  ok "Debian 12: apt-get install ./$(basename "$deb") (Depends pulled from the archive)"
else
  if grep -q -E "Temporary failure resolving|Could not resolve|Failed to fetch" "$T/apt.log"; then
    tail -n 5 "$T/apt.log"; skip "the Debian archive is unreachable: cannot install the .deb's Depends"
  fi
  bad "Debian 12: apt-get install of the .deb failed"; tail -n 20 "$T/apt.log"
fi
expect_rc 0 "Debian 12: git came with it (Depends: git)" in_root "$R" "command -v git"
expect_rc 0 "Debian 12: the man page, completion and user unit are installed" in_root "$R" \
  "test -f /usr/share/man/man1/cairn.1.gz && test -f /usr/share/bash-completion/completions/cairn && test -f /usr/lib/systemd/user/cairn-watch@.service"
expect_rc 0 "Debian 12: init, new, validate and tick in a new repository" in_root "$R" '
  git config --global user.name "Fresh User" && git config --global user.email fresh@example.invalid
  mkdir -p /root/repo && cd /root/repo && git init -q -b main
  cairn init && cairn new c1
  mkdir -p campaigns/c1/jobs && printf "#!/bin/sh\necho ok > smoke.out\n" > campaigns/c1/jobs/smoke.sh
  chmod +x campaigns/c1/jobs/smoke.sh
  git add -A && git commit -qm "first campaign"
  cairn validate && cairn tick && git log --format=%s'
expect_grep "Debian 12: the tick committed a transition of c1" "^c1: " "$T/out"
echo "# Debian 12 .deb checks took $((SECONDS - start)) s"

# --- the portable binary on Debian 11 and 13, nothing else installed --------------------
# No git in a minbase root: the repository is made here and copied in; cairn needs only
# itself (libgit2 inside) and sh.
mkdir -p "$T/seed" && cd "$T/seed" && git init -q -b main
campaign "$T/seed" c1
sed -i "s#\"$T/runs.txt\"#/root/runs.txt#" campaigns/c1/jobs/run.sh
git add -A && git commit -qm "c1" >/dev/null 2>&1
cd "$T"
for suite in bullseye trixie; do
  start=$SECONDS
  R=$T/$suite
  fresh_root "$suite" minbase "$R"
  label="Debian $(cat "$R/etc/debian_version")"
  in_root "$R" "command -v git" >/dev/null 2>&1 && bad "$label: git is installed in the fresh root" || ok "$label: a fresh root without git"
  mkdir -p "$R/opt" && tar -xzf "$tarball" -C "$R/opt"
  bin=/opt/cairn-$version-linux-x86_64/cairn
  cp -a "$T/seed" "$R/root/repo"
  expect_rc 0 "$label: the portable cairn runs --version" in_root "$R" "$bin --version"
  expect_grep "$label:   ... and says $version" "^cairn $version$" "$T/out"
  expect_rc 0 "$label: init (in a repository made elsewhere)" in_root "$R" "cd /root/repo && $bin init --forge none"
  expect_rc 0 "$label: validate" in_root "$R" "cd /root/repo && $bin validate"
  expect_rc 0 "$label: a local-backend tick submits the job" in_root "$R" "cd /root/repo && $bin tick"
  expect_rc 0 "$label: the job runs" in_root "$R" "i=0; while [ ! -s /root/runs.txt ] && [ \$i -lt 50 ]; do sleep 0.2; i=\$((i+1)); done; test -s /root/runs.txt"
  expect_rc 0 "$label: the next tick sees it done and commits" in_root "$R" "cd /root/repo && sleep 1 && $bin tick --force"
  expect_grep "$label:   ... run -> done" "c1: run running -> done" "$T/out"
  echo "# $label checks took $((SECONDS - start)) s"
done
finish
