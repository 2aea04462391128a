#!/bin/sh
# check-volume.sh LOG PERCENT: exits 0 when the box volume over the last 20 ENERGY lines
# of a NAMD log varies by less than PERCENT (the NPT run has equilibrated).
log=${1:?usage: check-volume.sh LOG PERCENT}
pct=${2:-5}
grep '^ENERGY:' "$log" | tail -n 20 | awk -v pct="$pct" '
  { v = $19; if (n == 0 || v < lo) lo = v; if (n == 0 || v > hi) hi = v; n++ }
  END { if (n < 2 || lo <= 0) exit 1; exit ((hi - lo) / lo * 100 < pct) ? 0 : 1 }'
