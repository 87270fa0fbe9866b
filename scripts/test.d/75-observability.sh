#!/usr/bin/env bash
# scripts/test.d/75-observability.sh — the monitoring assets: alert rules pass `promtool check
# rules` and their unit tests (`promtool test rules`), the Grafana dashboard is valid JSON, and
# every mcpgw_* metric the rules and the dashboard use is one the gateway exports (its name
# appears in src/). Needs promtool (Debian package prometheus, scripts/deps/apt-packages.txt).
set -euo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
OBS="$REPO/observability"
command -v promtool >/dev/null || { echo "promtool missing (apt-get install prometheus)"; exit 1; }
promtool check rules "$OBS/prometheus/mcpgw-alerts.yml"
(cd "$OBS/prometheus" && promtool test rules mcpgw-alerts.test.yml)
NODE=${NODE:-node}
"$NODE" -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$OBS/grafana/mcpgw-dashboard.json"
missing=0
for m in $(grep -ohE 'mcpgw_[a-z_]+' "$OBS/prometheus/mcpgw-alerts.yml" "$OBS/grafana/mcpgw-dashboard.json" \
             | sed -E 's/_(bucket|sum|count)$//' | sort -u); do
  grep -rqF "\"$m" "$REPO/src" || { echo "metric $m is not exported by the gateway"; missing=1; }
done
[ $missing -eq 0 ] && echo "observability assets OK"
exit $missing
