#!/usr/bin/env bash
# docs/json.md against the real output: each `<!-- json-shape: COMMAND -->` there is run
# in a real repository (tests/integration/lib.sh's dashboard_demo: a retried stage, a
# campaign done, one escalated, plus a file that does not parse) and its JSON must have
# the documented shape (keys, types, array elements like one of the example's, `maps:`
# objects as maps) and a `version`. Every verb whose --help offers --json has a section.
SELF=$(realpath "$0")  # the checker below is read back from this file
source "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 is not installed (the shape checker needs it)"; exit 77; }
DOC=$CAIRN_SOURCE_DIR/docs/json.md

R=$T/repo
dashboard_demo "$R"
mkdir -p campaigns/broken && printf -- '---\ncampaign: [\n---\n' > campaigns/broken/WORKFLOW.md

# The verbs offering --json, as the binary says.
json_verbs=""
for v in $("$CAIRN" --help | sed -n '/^SUBCOMMANDS:\|^Subcommands:/,$p' | awk 'NR>1 && /^  [a-z]/ {print $1}'); do
  "$CAIRN" "$v" --help 2>&1 | grep -q -- '--json' && json_verbs="$json_verbs $v"
done
for v in $json_verbs; do
  grep -q "^<!-- json-shape: cairn $v[ >]" "$DOC" && ok "docs/json.md documents \`cairn $v --json\`" ||
    bad "docs/json.md has no <!-- json-shape: cairn $v ... --> section"
done

python3 - "$DOC" "$CAIRN" "$T" <<'PY' > "$T/shapes.out" 2>&1 && rc=0 || rc=$?
import json, re, shlex, subprocess, sys
doc, cairn, tmp = sys.argv[1:]
text = open(doc).read()
blocks = re.findall(r"<!-- json-shape: ([^\n]+?) -->\n((?:<!-- maps: [^\n]+? -->\n)?)```json\n(.*?)```", text, re.S)
if not blocks:
    print("FAIL - no json-shape sections in docs/json.md"); sys.exit(1)

def kind(v):
    if v is None: return "null"
    if isinstance(v, bool): return "boolean"
    if isinstance(v, (int, float)): return "number"
    if isinstance(v, str): return "string"
    if isinstance(v, list): return "array"
    return "object"

def check(want, got, where, maps, errors):
    kw, kg = kind(want), kind(got)
    if kw == "null" or kg == "null":  # "a number, or null"
        if kw not in ("null", "number") or kg not in ("null", "number"):
            errors.append(f"{where}: documented {kw}, got {kg}")
        return
    if kw != kg:
        errors.append(f"{where}: documented {kw}, got {kg} ({json.dumps(got)[:60]})"); return
    if kw == "array":
        for i, g in enumerate(got):
            tries = []
            for w in want:
                e = []; check(w, g, f"{where}[{i}]", maps, e)
                if not e: break
                tries.append(e)
            else:
                if want: errors.append(f"{where}[{i}] is like none of the documented elements: " + "; ".join(min(tries, key=len)))
                else: errors.append(f"{where}: documented empty, got elements")
    elif kw == "object":
        name = where.rsplit(".", 1)[-1].split("[")[0]
        if name in maps:
            sample = next(iter(want.values()), None)
            for k, g in got.items():
                if sample is not None: check(sample, g, f"{where}[{k!r}]", maps, errors)
            return
        for k in want:
            if k not in got: errors.append(f"{where}.{k}: documented, missing from the output")
        for k in got:
            if k not in want: errors.append(f"{where}.{k}: in the output, not documented")
        for k in want:
            if k in got: check(want[k], got[k], f"{where}.{k}", maps, errors)

failed = 0
for command, maps_line, example in blocks:
    maps = set(re.findall(r"[\w-]+", maps_line.replace("<!-- maps:", "").replace("-->", ""))) if maps_line else set()
    argv = shlex.split(command)
    argv[0] = cairn
    try:
        want = json.loads(example)
    except ValueError as e:
        print(f"FAIL - {command}: the documented example is not JSON: {e}"); failed += 1; continue
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    try:
        got = json.loads(p.stdout)
    except ValueError:
        print(f"FAIL - {command}: stdout is not JSON (exit {p.returncode}): {p.stdout[:200]!r} {p.stderr[:200]!r}"); failed += 1; continue
    errors = []
    if not isinstance(got.get("version"), int): errors.append("no integer `version`")
    if want.get("version") != got.get("version"): errors.append(f"version {got.get('version')}, documented {want.get('version')}")
    check(want, got, "$", maps, errors)
    if errors:
        failed += 1
        print(f"FAIL - {command}: the output differs from docs/json.md:")
        for e in errors: print(f"    {e}")
    else:
        print(f"ok - {command}: output has the documented shape (version {got['version']}, exit {p.returncode})")
print(f"shapes: {len(blocks) - failed} of {len(blocks)}")
sys.exit(1 if failed else 0)
PY
cat "$T/shapes.out"
[ "$rc" -eq 0 ] && ok "every documented --json shape matches the real output ($(tail -n 1 "$T/shapes.out"))" ||
  bad "docs/json.md and the real output disagree (above)"

# The checker catches what it should: an undocumented field, a missing one, a wrong type.
cat > "$T/bad.md" <<'MD'
<!-- json-shape: cairn status --json -->
```json
{"version": 1, "campaigns": [{"campaign": "x", "path": "p", "valid": 1, "status": "s"}], "extra": []}
```
MD
sed -n '/^python3 - "\$DOC"/,/^PY$/p' "$SELF" | sed '1d;$d' > "$T/checker.py"
python3 "$T/checker.py" "$T/bad.md" "$CAIRN" "$T" > "$T/bad.out" 2>&1 || true
[ "$(grep -o -E 'valid: documented number, got boolean|current_stage: in the output, not documented|\$.extra: documented, missing' "$T/bad.out" | wc -l)" -ge 3 ] &&
  ok "the checker rejects a wrong type, an undocumented field and a missing one" ||
  { bad "the checker let a bad document through"; sed 's/^/    /' "$T/bad.out"; }
finish
