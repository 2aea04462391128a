#!/bin/sh
# smoke: a short run that proves the setup works. Replace this body with your own;
# cairn runs it in the campaign directory (see README, "Stages").
set -eu
echo "smoke: ran on $(hostname) at $(date -u +%FT%TZ)"
