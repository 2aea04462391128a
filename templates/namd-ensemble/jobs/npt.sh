#!/bin/sh
# npt-prod: NPT equilibration; restarts from its own checkpoint when one exists.
set -eu
exec "${NAMD:-namd3}" +p"${SLURM_CPUS_PER_TASK:-16}" +devices 0 npt.conf > npt_equil.log
