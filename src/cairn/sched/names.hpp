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

}  // namespace cairn::sched
