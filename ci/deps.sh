# Sourced by ci/demo and ci/test: installs what a fresh Debian 12 machine lacks.
# Only Debian packages; `apt-get update` runs once, and only when something is missing.

cairn_packages=(
  build-essential cmake ninja-build pkg-config ccache git
  libgit2-dev libyaml-cpp-dev libcmark-gfm-dev libcmark-gfm-extensions-dev
  libcurl4-openssl-dev nlohmann-json3-dev libfmt-dev googletest libgtest-dev libgmock-dev
  libcli11-dev libre2-dev
)
# The real servers the end-to-end tests start on loopback (ci/test only).
cairn_test_packages=(nginx-light fcgiwrap openssh-server)  # openssh-server: slurm_cluster.sh's ssh_host cases
cairn_test_packages+=(python3)  # tests/servers/fake_forge.py (forge_flow.sh)

cairn_install() {
  local missing=()
  for p in "$@"; do
    grep -q "install ok installed" <<<"$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if [ -z "${CAIRN_APT_UPDATED:-}" ]; then
    $sudo apt-get update -qq
    export CAIRN_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

cairn_build() {  # cairn_build DIR [cmake args...]
  local dir=$1
  shift
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j "$(nproc)"
}
