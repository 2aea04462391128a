#!/bin/sh
# decorr-1000K: randomise at 1000 K from the NPT restart.
set -eu
exec "${NAMD:-namd3}" +p"${SLURM_CPUS_PER_TASK:-16}" +devices 0 randomize_1000K.conf
