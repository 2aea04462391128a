#!/bin/sh
# analysis: one JSON for the ensemble, stamped with where it came from.
set -eu
mkdir -p results
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
printf '{"provenance": {"commit": "%s", "date": "%s", "trajectories": %s}}\n' \
  "$commit" "$(date -u +%FT%TZ)" "$(ls prod/prod_*.dcd | wc -l)" > results/analysis.json
