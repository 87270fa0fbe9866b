#!/usr/bin/env bash
# The audit trail (issue 10) in PostgreSQL (GW_AUDIT_DATABASE_URL=same): the log written before
# the disaster (AUDIT_FIRST_LOG) exported from the database into the on-disk layout and checked
# by `mcpgw audit verify` with the published verifier key (AUDIT_KEYS_FILE): the hash chain,
# sequence and signed checkpoints verify end to end, with the same records and the same tree
# head before and after the restore (the pod's own copy is gone by then). Then the serving
# gateway's own log (AUDIT_LOG_ID: a new one after the restore) reaches the database too.
set -euo pipefail
verify() {  # LOG: export it from the database and verify it; prints the summary
  local out=$CHECK_DIR/$PHASE-$1
  rm -rf "$out"
  "$MCPGW" audit export --db "$DATABASE_URL" --log "$1" --out "$out" >/dev/null 2>"$out.err" || { cat "$out.err" >&2; return 1; }
  "$MCPGW" audit verify --dir "$out/$1" --keys-file "$AUDIT_KEYS_FILE" --json 2>"$out.verify.err" >"$out.json" || true
  python3 - "$out.json" "$out/$1/segments" <<'PY'
import hashlib, json, os, sys
rep = json.load(open(sys.argv[1]))
print("verify ok:", rep.get("ok"), "| records:", rep.get("records"), "| problems:", rep.get("problems"))
# the records themselves, byte for byte (every segment), and what they say, in order
h = hashlib.sha256()
lines = []
for name in sorted(os.listdir(sys.argv[2])):
    with open(os.path.join(sys.argv[2], name), "rb") as f:
        data = f.read()
    h.update(data)
    for line in data.splitlines():
        r = json.loads(line)
        if "event" not in r: continue
        e = r["event"]
        lines.append(" ".join(str(x) for x in (r["seq"], e.get("kind"), e.get("method") or "-",
                     e.get("tool") or "-", e.get("outcome") or "-", (e.get("principal") or {}).get("subject") or "-")))
print("segments sha256:", h.hexdigest())
print("\n".join(lines))
PY
}
echo "== the log of before the disaster: $AUDIT_FIRST_LOG"
verify "$AUDIT_FIRST_LOG"
echo "== the serving gateway's log reaches PostgreSQL"
n=$(psql --dbname="$DATABASE_URL" -XAtq -v ON_ERROR_STOP=1 -c "SELECT count(*) FROM audit_records WHERE log_id = '$AUDIT_LOG_ID'")
[ "$n" -gt 0 ] && echo "records of the serving gateway in the database: yes" || echo "records of the serving gateway in the database: none"
