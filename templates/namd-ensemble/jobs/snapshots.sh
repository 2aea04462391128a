#!/bin/sh
# extract-snapshots: 20 frames of the 1000 K trajectory, as PDB + XSC pairs.
set -eu
mkdir -p snapshots
exec "${VMD:-vmd}" -dispdev text -e jobs/extract-snapshots.tcl -args randomize_1000K.dcd 20 snapshots
