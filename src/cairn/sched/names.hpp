#pragma once

// Job keys (`cairn.<repo>.<campaign>.<stage>.<attempt>`) in the shapes other systems
// accept for names and labels. A key that does not fit is shortened to a prefix plus a
// hash of the whole key (FNV-1a, 32 bits, 8 hex digits), so the result is stable across
// ticks and machines, and two keys that share a long prefix still differ.

#include <string>
#include <string_view>

namespace cairn::sched {

// A Kubernetes object name that is also a DNS label: lower case [a-z0-9-], at most 63
// characters, alphanumeric at both ends (other characters become '-', runs collapse).
// Longer: the first 54 such characters, '-', the hash. "cairn" for a key with no
// alphanumeric character. Never fails.
std::string dns_label(std::string_view key);

// A Kubernetes (and OSMO) label value: `key` itself when it is at most 63 characters of
// [A-Za-z0-9._-] beginning and ending alphanumeric; otherwise the key with every other
// character made '-', cut to 54 characters, trimmed to alphanumeric ends, then '-' and
// the hash (at most 63). Never fails; never empty.
std::string label_value(std::string_view key);

// The OSMO workflow name cairn gives the job `key` (through the YAML's templated
// `workflow.name`; OSMO makes the workflow id of it by adding "-<counter>"): the key in
// lower case [a-z0-9-] (the dns_label characters, which OSMO's name pattern
// `[a-zA-Z]([a-zA-Z0-9_-]*[a-zA-Z0-9])?` allows, and no '_', a wildcard in the service's
// name filter), cut to 45 characters, then '-' and the hash of the whole key: at most 54
// characters, beginning with a letter. Always hashed, so the names of two keys never
// contain one another (attempt 1's and attempt 10's, "a-b"."c" and "a"."b-c") and
// `osmo workflow list --name` finds only this key's workflows. Never fails.
std::string osmo_workflow_name(std::string_view key);

}  // namespace cairn::sched
