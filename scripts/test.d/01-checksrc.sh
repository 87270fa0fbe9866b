#!/usr/bin/env bash
# Source rules (banned functions, heap calls, file-top comments): scripts/checksrc.sh.
exec "$REPO/scripts/checksrc.sh"
