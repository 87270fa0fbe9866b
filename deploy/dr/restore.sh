#!/usr/bin/env bash
# deploy/dr/restore.sh DUMP_URL — restores a logical backup made by backup.sh into the database
# of TARGET_DATABASE_URL (a fresh, empty database: a new RDS instance or a new database on the
# surviving one). Checks the dump's sha256 against its manifest first; restores in one
# transaction (all or nothing); never into a database that already has the registry's tables
# unless RESTORE_OVER_EXISTING=1. DUMP_URL: s3://bucket/prefix/registry-....dump or
# file:///path/registry-....dump. Runbook: deploy/dr/runbooks/postgresql-restore.md.
set -euo pipefail
src=${1:?usage: restore.sh DUMP_URL}
: "${TARGET_DATABASE_URL:?TARGET_DATABASE_URL is required}"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
case $src in
  s3://*) aws s3 cp --only-show-errors "$src" "$work/dump"; aws s3 cp --only-show-errors "$src.json" "$work/dump.json" ;;
  file://*) cp "${src#file://}" "$work/dump"; cp "${src#file://}.json" "$work/dump.json" ;;
  *) echo "restore.sh: DUMP_URL must be s3://... or file:///..." >&2; exit 2 ;;
esac
want=$(sed -n 's/.*"sha256": "\([0-9a-f]*\)".*/\1/p' "$work/dump.json")
got=$(sha256sum "$work/dump" | cut -d' ' -f1)
if [ -z "$want" ] || [ "$want" != "$got" ]; then echo "restore.sh: checksum mismatch (manifest $want, dump $got)" >&2; exit 1; fi
existing=$(psql --dbname="$TARGET_DATABASE_URL" -XAtq -v ON_ERROR_STOP=1 -c \
  "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('tools','registry_state')")
if [ "$existing" != 0 ] && [ "${RESTORE_OVER_EXISTING:-0}" != 1 ]; then
  echo "restore.sh: the target already has registry tables; refusing (RESTORE_OVER_EXISTING=1 to replace them)" >&2
  exit 1
fi
clean=(); [ "$existing" != 0 ] && clean=(--clean --if-exists)
pg_restore --no-owner --no-privileges --single-transaction --exit-on-error "${clean[@]}" \
  --dbname="$TARGET_DATABASE_URL" "$work/dump"
echo "restored $(basename "$src") into the target database"
