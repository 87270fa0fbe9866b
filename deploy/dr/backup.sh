#!/usr/bin/env bash
# deploy/dr/backup.sh — logical backup of the registry database: pg_dump in custom format plus
# a manifest (time, size, sha256, server version, row counts per table), to BACKUP_DEST:
#   s3://bucket/prefix   (the registry-backup CronJob; server-side encryption with the KMS key
#                         BACKUP_SSE_KMS_KEY; the bucket is versioned with a 30-day lifecycle)
#   file:///path         (the restore drill, local copies)
# Env: DATABASE_URL (libpq URL), BACKUP_DEST. Prints the object name of the dump. The restore
# side is deploy/dr/restore.sh; the runbook is deploy/dr/runbooks/postgresql-restore.md.
set -euo pipefail
: "${DATABASE_URL:?DATABASE_URL is required}" "${BACKUP_DEST:?BACKUP_DEST (s3://... or file:///...) is required}"
ts=$(date -u +%Y%m%dT%H%M%SZ)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
name=registry-$ts.dump
pg_dump --format=custom --compress=6 --no-owner --no-privileges --dbname="$DATABASE_URL" --file="$work/$name"
rows=$(psql --dbname="$DATABASE_URL" -XAtq -v ON_ERROR_STOP=1 -c \
  "SELECT string_agg(format('\"%s\": %s', relname, n_live_tup), ', ' ORDER BY relname) FROM pg_stat_user_tables")
server=$(psql --dbname="$DATABASE_URL" -XAtq -c 'SHOW server_version')
sha=$(sha256sum "$work/$name" | cut -d' ' -f1)
printf '{"dump": "%s", "created": "%s", "bytes": %s, "sha256": "%s", "server_version": "%s", "approx_rows": {%s}}\n' \
  "$name" "$ts" "$(stat -c %s "$work/$name")" "$sha" "$server" "$rows" >"$work/$name.json"
case $BACKUP_DEST in
  s3://*)
    sse=(); [ -n "${BACKUP_SSE_KMS_KEY:-}" ] && sse=(--sse aws:kms --sse-kms-key-id "$BACKUP_SSE_KMS_KEY")
    aws s3 cp --only-show-errors "${sse[@]}" "$work/$name" "${BACKUP_DEST%/}/$name"
    aws s3 cp --only-show-errors "${sse[@]}" "$work/$name.json" "${BACKUP_DEST%/}/$name.json" ;;
  file://*)
    dir=${BACKUP_DEST#file://}; mkdir -p "$dir"
    cp "$work/$name" "$work/$name.json" "$dir/" ;;
  *) echo "backup.sh: BACKUP_DEST must be s3://... or file:///..." >&2; exit 2 ;;
esac
echo "${BACKUP_DEST%/}/$name"
