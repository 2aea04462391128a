// Checks requests cairn sent to the fake forge against GitHub's official OpenAPI
// description (the npm package @octokit/openapi, generated/api.github.com.json): every
// GitHub request's method and path must be an operation of the description, its query
// parameters declared ones with values of the declared type, and its JSON body valid
// against the operation's requestBody schema ($ref resolved): required fields present,
// no field the schema does not declare, types and enums right. Gitea (/api/v1) and
// GitLab (/api/v4) requests and the fake's /_control endpoints are skipped.
//
// Usage: node github_contract.mjs API_GITHUB_COM_JSON REQUESTS_JSONL
// Prints one line per operation used and each violation; exits 1 on any violation or
// when no GitHub request was found.

import { readFileSync } from "node:fs";

const [specPath, logPath] = process.argv.slice(2);
if (!specPath || !logPath) {
  console.error("usage: node github_contract.mjs API_GITHUB_COM_JSON REQUESTS_JSONL");
  process.exit(2);
}
const spec = JSON.parse(readFileSync(specPath, "utf8"));
const requests = readFileSync(logPath, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));

function resolve(node) {
  while (node && node.$ref) {
    node = node.$ref.replace(/^#\//, "").split("/").reduce((o, k) => o[k.replace(/~1/g, "/").replace(/~0/g, "~")], spec);
  }
  return node;
}

// Path templates, most literal segments first, so /pulls/comments beats /pulls/{n}.
const templates = Object.keys(spec.paths).map((t) => {
  const segments = t.split("/");
  const re = new RegExp("^" + segments.map((s) => (/^\{.+\}$/.test(s) ? "([^/]+)" : s.replace(/[.*+?^$()|[\]\\]/g, "\\$&"))).join("/") + "$");
  const names = segments.filter((s) => /^\{.+\}$/.test(s)).map((s) => s.slice(1, -1));
  return { t, re, names, literal: segments.filter((s) => !/^\{.+\}$/.test(s)).length };
}).sort((a, b) => b.literal - a.literal);

function typeOf(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;  // string, boolean, object
}

// The violations of `value` against `schema`, as "where: what" strings.
function validate(value, schema, where) {
  schema = resolve(schema);
  if (!schema) return [];
  const out = [];
  if (schema.allOf) for (const s of schema.allOf) out.push(...validate(value, s, where));
  for (const key of ["oneOf", "anyOf"]) {
    if (!schema[key]) continue;
    if (value === null && schema.nullable) continue;
    const fits = schema[key].filter((s) => validate(value, s, where).length === 0).length;
    if (key === "oneOf" ? fits !== 1 : fits === 0) {
      out.push(`${where}: ${JSON.stringify(value).slice(0, 60)} matches ${fits} of the ${schema[key].length} ${key} alternatives`);
    }
  }
  if (value === null) {
    if (schema.type && !schema.nullable && schema.type !== "null") out.push(`${where}: null is not allowed`);
    return out;
  }
  if (schema.type) {
    const t = typeOf(value);
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.includes(t) && !(t === "integer" && types.includes("number"))) {
      out.push(`${where}: ${t} where the description says ${types.join("|")}`);
      return out;
    }
  }
  if (schema.enum && !schema.enum.includes(value)) out.push(`${where}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (typeOf(value) === "object" && (schema.properties || schema.type === "object")) {
    const props = schema.properties || {};
    for (const r of schema.required || []) if (!(r in value)) out.push(`${where}: required field \`${r}\` is missing`);
    for (const [k, v] of Object.entries(value)) {
      if (k in props) {
        out.push(...validate(v, props[k], `${where}.${k}`));
      } else if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
        out.push(...validate(v, schema.additionalProperties, `${where}.${k}`));
      } else if (schema.additionalProperties !== true) {
        out.push(`${where}: field \`${k}\` is not in the description`);
      }
    }
  }
  if (typeOf(value) === "array" && schema.items) value.forEach((v, i) => out.push(...validate(v, schema.items, `${where}[${i}]`)));
  if (typeof value === "string") {
    if (schema.maxLength !== undefined && value.length > schema.maxLength) out.push(`${where}: longer than ${schema.maxLength}`);
    if (schema.minLength !== undefined && value.length < schema.minLength) out.push(`${where}: shorter than ${schema.minLength}`);
  }
  return out;
}

// A query or path parameter's text against its schema: numbers and booleans are parsed.
function validateText(text, schema, where) {
  schema = resolve(schema) || {};
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  let v = text;
  if (types.includes("integer") || types.includes("number")) {
    if (!/^-?\d+(\.\d+)?$/.test(text)) return [`${where}: "${text}" is not a number`];
    v = Number(text);
  } else if (types.includes("boolean")) {
    if (text !== "true" && text !== "false") return [`${where}: "${text}" is not a boolean`];
    v = text === "true";
  }
  return validate(v, schema, where);
}

const used = new Map();
const violations = [];
let checked = 0;
for (const r of requests) {
  if (r.path.startsWith("/_control/") || r.path.startsWith("/api/v4/") || r.path.startsWith("/api/v1/")) continue;
  checked += 1;
  const what = `${r.method} ${r.path}`;
  const match = templates.map((t) => ({ t, m: t.re.exec(r.path) })).find((x) => x.m);
  if (!match) {
    violations.push(`${what}: no such path in GitHub's description`);
    continue;
  }
  const item = spec.paths[match.t.t];
  const op = item[r.method.toLowerCase()];
  const name = `${r.method} ${match.t.t}`;
  if (!op) {
    violations.push(`${what}: ${match.t.t} has no ${r.method} (it has ${Object.keys(item).filter((k) => k !== "parameters").join(", ")})`);
    continue;
  }
  used.set(name, (used.get(name) || 0) + 1);
  const params = [...(item.parameters || []), ...(op.parameters || [])].map(resolve);
  match.t.names.forEach((n, i) => {
    const p = params.find((x) => x.in === "path" && x.name === n);
    if (!p) violations.push(`${what}: path parameter {${n}} is not declared`);
    else violations.push(...validateText(decodeURIComponent(match.m[i + 1]), p.schema, `${name} {${n}}`));
  });
  const query = r.query || {};
  for (const [k, v] of Object.entries(query)) {
    const p = params.find((x) => x.in === "query" && x.name === k);
    if (!p) violations.push(`${name}: query parameter \`${k}\` is not in the description`);
    else violations.push(...validateText(v, p.schema, `${name} ?${k}`));
  }
  for (const p of params) {
    if (p.in === "query" && p.required && !(p.name in query)) violations.push(`${name}: required query parameter \`${p.name}\` is missing`);
  }
  const rb = resolve(op.requestBody);
  if (r.body) {
    let body;
    try {
      body = JSON.parse(r.body);
    } catch {
      violations.push(`${name}: the body is not JSON`);
      continue;
    }
    const schema = rb && rb.content && rb.content["application/json"] && rb.content["application/json"].schema;
    if (!schema) violations.push(`${name}: sends a JSON body, the operation takes none`);
    else violations.push(...validate(body, schema, `${name} body`));
  } else if (rb && rb.required) {
    violations.push(`${name}: the operation requires a body, none was sent`);
  }
}

for (const [name, n] of [...used.entries()].sort()) console.log(`${name}: ${n} request(s)`);
const distinct = [...new Set(violations)];
for (const v of distinct) console.log(`VIOLATION: ${v}`);
console.log(`${checked} GitHub request(s) checked against ${specPath.split("/").slice(-1)[0]} (OpenAPI ${spec.openapi}, ` +
            `${spec.info && spec.info.version}): ${used.size} operation(s), ${distinct.length} violation(s)`);
process.exit(distinct.length > 0 || checked === 0 ? 1 : 0);
