#!/usr/bin/env bash
# Every row of every registry table (tools with their edits and status, bundles, specs, tool
# history, registry version), ordered, straight from the database.
set -euo pipefail
for t in $(psql --dbname="$DATABASE_URL" -XAtq -v ON_ERROR_STOP=1 -c \
    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"); do
  echo "== $t ($(psql --dbname="$DATABASE_URL" -XAtq -c "SELECT count(*) FROM \"$t\"") rows)"
  psql --dbname="$DATABASE_URL" -XAtq -v ON_ERROR_STOP=1 -c "COPY (SELECT * FROM \"$t\" ORDER BY 1) TO STDOUT"
done
