#!/bin/sh
# smoke: a few thousand steps of the real system; writes smoke.restart.coor.
set -eu
exec "${NAMD:-namd3}" +p"${SLURM_CPUS_PER_TASK:-4}" +devices 0 smoke.conf
