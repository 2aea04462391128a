#!/bin/sh
# dry-run: the inputs are here and NAMD runs, before any GPU hour is spent.
set -u
status=0
for f in smoke.conf npt.conf randomize_1000K.conf prod.conf; do
  [ -e "$f" ] || { echo "FATAL: missing input $f in $(pwd)"; status=1; }
done
command -v "${NAMD:-namd3}" >/dev/null || { echo "FATAL: ${NAMD:-namd3} not on PATH (module load namd?)"; status=1; }
exit $status
