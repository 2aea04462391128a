#!/bin/sh
# production: the long run. Replace this body; the exit condition waits for
# output/final.dat.
set -eu
mkdir -p output
echo "production placeholder: $(date -u +%FT%TZ)" > output/final.dat
