#!/usr/bin/env bash
# Source rules (banned functions, heap calls, file-top comments, lines of at most 100
# characters): scripts/checksrc.sh.
exec "$REPO/scripts/checksrc.sh"
