#!/usr/bin/env bash
# The shell completions and the man page the build generates from the verb table: every
# verb `cairn --help` lists and every flag each verb's `--help` lists is in all four files;
# each file is valid for its shell (bash -n; zsh -n and fish -n where installed); the
# bash completion completes a verb, a flag and a campaign name in a real repository.
source "$(dirname "$0")/lib.sh"
: "${CAIRN_BUILD_DIR:?}"
D=$CAIRN_BUILD_DIR/docs
for f in cairn.bash _cairn cairn.fish cairn.1; do
  [ -s "$D/$f" ] && ok "the build generated $f" || bad "$D/$f is missing"
done

# The verbs and flags as the binary itself prints them (CLI11's help), not as the generator sees them.
"$CAIRN" --help > "$T/help"
verbs=$(sed -n '/^SUBCOMMANDS:\|^Subcommands:/,$p' "$T/help" | awk 'NR>1 && /^  [a-z]/ {print $1}')
[ "$(echo "$verbs" | wc -w)" -ge 12 ] && ok "cairn --help lists $(echo "$verbs" | wc -w) verbs" || bad "verbs: $verbs"
if echo "$verbs" | grep -qx generate-docs; then bad "the hidden generate-docs verb is listed"; else ok "generate-docs stays hidden"; fi
missing=""
total=0
for v in $verbs; do
  "$CAIRN" "$v" --help > "$T/vhelp" 2>&1 || true
  flags=$(grep -o -E '(^|[ ,])--[a-z][a-z-]*' "$T/vhelp" | sed 's/^[ ,]*//' | sort -u)
  for f in $v $flags; do
    total=$((total + 1))
    grep -q -- "$f" "$D/cairn.bash" || missing="$missing bash:$v:$f"
    grep -q -- "$f" "$D/_cairn" || missing="$missing zsh:$v:$f"
    grep -q -- "${f#--}" "$D/cairn.fish" || missing="$missing fish:$v:$f"
    grep -q -- "$(sed 's/-/\\\\-/g' <<<"$f")" "$D/cairn.1" || missing="$missing man:$v:$f"
  done
  if grep -q '^Subcommands:\|^SUBCOMMANDS:' "$T/vhelp"; then  # catalog promote
    for s in $(sed -n '/^SUBCOMMANDS:\|^Subcommands:/,$p' "$T/vhelp" | awk 'NR>1 && /^  [a-z]/ {print $1}'); do
      "$CAIRN" "$v" "$s" --help > "$T/shelp" 2>&1 || true
      for f in $s $(grep -o -E '(^|[ ,])--[a-z][a-z-]*' "$T/shelp" | sed 's/^[ ,]*//' | sort -u); do
        total=$((total + 1))
        for file in cairn.bash _cairn cairn.fish; do grep -q -- "${f#--}" "$D/$file" || missing="$missing $file:$v $s:$f"; done
        grep -q -- "$(sed 's/-/\\\\-/g' <<<"$f")" "$D/cairn.1" || missing="$missing man:$v $s:$f"
      done
    done
  fi
done
[ -z "$missing" ] && ok "all $total verbs and flags are in the bash, zsh and fish completions and the man page" ||
  bad "missing:$missing"

bash -n "$D/cairn.bash" && ok "cairn.bash parses (bash -n)" || bad "bash -n cairn.bash"
if command -v zsh >/dev/null; then zsh -n "$D/_cairn" && ok "_cairn parses (zsh -n)" || bad "zsh -n _cairn"
else echo "SKIP (part): zsh is not installed; _cairn not syntax-checked"; fi
if command -v fish >/dev/null; then fish -n "$D/cairn.fish" && ok "cairn.fish parses (fish -n)" || bad "fish -n cairn.fish"
else echo "SKIP (part): fish is not installed; cairn.fish not syntax-checked"; fi
if command -v groff >/dev/null; then
  groff -man -ww -z "$D/cairn.1" 2>"$T/groff" && [ ! -s "$T/groff" ] && ok "cairn.1 formats without warnings" ||
    { bad "groff warns"; cat "$T/groff"; }
else echo "SKIP (part): groff is not installed; cairn.1 not formatted"; fi

# The bash completion at work, as a shell would call it.
R=$T/repo
mkdir -p "$R" && cd "$R" && git init -q
campaign "$R" alpha
campaign "$R" beta
complete_words() {  # complete_words WORD... (the last is the one being completed)
  bash -c 'source "$1"; shift; COMP_WORDS=(cairn "$@"); COMP_CWORD=$#; PATH="$(dirname "$CAIRN"):$PATH" _cairn; echo "${COMPREPLY[*]}"' \
    _ "$D/cairn.bash" "$@"
}
ln -sf "$CAIRN" "$T/cairn"
CAIRN=$T/cairn
export CAIRN
[ "$(complete_words rep)" = "report" ] && ok "bash: 'cairn rep<TAB>' completes to report" || bad "rep -> $(complete_words rep)"
expect_grep "bash: 'cairn report --h<TAB>' offers --html" '--html' <(complete_words report --h)
[ "$(complete_words log al)" = "alpha" ] && ok "bash: 'cairn log al<TAB>' completes the campaign name" ||
  bad "log al -> '$(complete_words log al)'"
finish
