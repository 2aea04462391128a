#!/bin/sh
# cool-prod-array: task N cools snapshot N and runs its production. prod.conf reads
# $env(SNAPSHOT): coordinates snapshots/snap_N.pdb, extendedSystem snapshots/snap_N.xsc,
# outputName prod/prod_N (so prod/prod_N.dcd).
set -eu
SNAPSHOT=${SLURM_ARRAY_TASK_ID:?run as an array task}
export SNAPSHOT
mkdir -p prod
exec "${NAMD:-namd3}" +p"${SLURM_CPUS_PER_TASK:-8}" +devices 0 prod.conf
