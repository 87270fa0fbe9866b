#!/usr/bin/env bash
# scripts/test.d/78-deploy-restore-drill.sh — the disaster-recovery restore drill against real
# PostgreSQL servers (deploy/dr/restore-drill.sh: pg_dump backup, primary destroyed, restore
# into a fresh server, the restored gateway serves the same registry; then point-in-time
# recovery from a base backup + WAL archive; rules and the audit trail: checks.d/50, 60).
# ~25 s. Env: BUILD_DIR, REPO.
set -euo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
exec timeout 180 "$REPO/deploy/dr/restore-drill.sh" --build-dir "$BUILD_DIR"
