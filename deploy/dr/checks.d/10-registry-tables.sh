#!/usr/bin/env bash
# Every row of every table (tools with their edits and status, bundles, specs, tool history,
# registry version, API keys as stored: hashes), ordered, straight from the database. Columns
# that using the platform changes by design (an API key's last_used_at) are left out, and so
# are the audit trail's tables (audit_*): the restored gateway appends its own log there by
# design; 60-audit.sh checks that the trail of before the disaster survived and verifies.
set -euo pipefail
for t in $(psql --dbname="$DATABASE_URL" -XAtq -v ON_ERROR_STOP=1 -c \
    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT LIKE 'audit\\_%' ORDER BY tablename"); do
  echo "== $t ($(psql --dbname="$DATABASE_URL" -XAtq -c "SELECT count(*) FROM \"$t\"") rows)"
  cols=$(psql --dbname="$DATABASE_URL" -XAtq -v ON_ERROR_STOP=1 -c "SELECT string_agg(quote_ident(column_name), ',' ORDER BY ordinal_position)
    FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '$t' AND column_name NOT IN ('last_used_at')")
  psql --dbname="$DATABASE_URL" -XAtq -v ON_ERROR_STOP=1 -c "COPY (SELECT $cols FROM \"$t\" ORDER BY 1) TO STDOUT"
done
