#!/usr/bin/env bash
# `make demo`: a demo deployment on embedded defaults (SQLite, local disk) in var/demo.
# The demo starts from scratch each run; real deployments never delete their data dir.
set -euo pipefail
cd "$(dirname "$0")/.."
export OVERSIGHT_DATA_DIR="${OVERSIGHT_DATA_DIR:-var/demo}"
unset OVERSIGHT_DATABASE_URL
ov() { .venv/bin/oversight "$@"; }

# Simulated cameras (cam1..cam3) for the recording part, on the port the cameras below
# are registered with; started early so that they are up by then, stopped on exit.
SIM_PORT=8554
if (: <"/dev/tcp/127.0.0.1/$SIM_PORT") 2>/dev/null; then
  echo "demo: port $SIM_PORT on 127.0.0.1 is busy; the demo's simulated cameras need it" \
    "(stop whatever listens there, e.g. an earlier \`oversight simulate\`)" >&2
  exit 1
fi
sim_pid=""
stop_simulator() {
  if [[ -n "$sim_pid" ]] && kill -0 "$sim_pid" 2>/dev/null; then
    kill -TERM "$sim_pid"
    wait "$sim_pid" || true
  fi
  sim_pid=""
}
trap stop_simulator EXIT

rm -rf "$OVERSIGHT_DATA_DIR"
# One random password for the demo's accounts, printed at the end (never a fixed one).
DEMO_PW="demo-$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(9))')"
printf '%s\n' "$DEMO_PW" | ov init --admin-id admin --admin-name "Demo Administrator" \
  --admin-id-doc ADMIN001 --admin-password-stdin
sim_urls="$OVERSIGHT_DATA_DIR/simulate.json"
sim_log="$OVERSIGHT_DATA_DIR/simulate.log"
.venv/bin/oversight simulate --cameras 3 --port "$SIM_PORT" --json >"$sim_urls" 2>"$sim_log" &
sim_pid=$!
days_ago() { date -u -d "-$1 days" +%F; }

ov orgs add --id no1-school --name "No. 1 Middle School" --kind owner
ov orgs add --id safeguard --name "Safeguard Security Engineering Co." --kind installer \
  --qualification "XJ-AF-2024-0173" --qualification-expires 2027-12-31
ov orgs add --id county-psb --name "County Public Security Bureau" --kind police
ov sites add --id school-1 --name "No. 1 Middle School" --category school --owner no1-school \
  --address "12 Unity Road" --managing-body "School security office"
ov sites add --id square-1 --name "People's Square" --category square --owner county-psb

# Filed in time.
ov cameras add --id gate-1 --site school-1 --placement general --coverage entrance \
  --stream rtsp://127.0.0.1:8554/cam1 --commissioned "$(days_ago 90)" --installer safeguard
ov filing record --camera gate-1 --kind commissioning --date "$(days_ago 80)" \
  --receipt "GA-65-2026-0042" --police-office "County PSB"
# Commissioned 40 days ago and never filed: overdue (Art. 12).
ov cameras add --id hall-1 --site school-1 --placement general --coverage main_passage \
  --stream rtsp://127.0.0.1:8554/cam2 --commissioned "$(days_ago 40)" --installer safeguard
# Police cameras on the square, one still within its filing period.
ov cameras add --id square-n --site square-1 --placement general --coverage entrance \
  --stream rtsp://127.0.0.1:8554/cam3 --commissioned "$(days_ago 10)"

echo
echo "A camera in a public toilet is refused, citing the article:"
ov cameras add --id wc-1 --site school-1 --placement public_toilet --coverage key_part \
  --stream rtsp://127.0.0.1:8554/wc --commissioned "$(days_ago 1)" || true

echo
ov filing due
ov compliance report

echo
echo "Every change above is a leaf of the tamper-evident ledger. Its latest signed checkpoint:"
ov ledger checkpoint
echo "Verifier key for inspectors: $(ov ledger pubkey)"
ov verify

echo
echo "People: the admin adds trained staff (Art. 14(2)) so that the access workflow has a"
echo "requester, a custodian who approves, and a witness for the two-person rule (Art. 17)."
printf '%s\n' "$DEMO_PW" | ov login --user admin --password-stdin >/dev/null
add_person() { # id name id-doc role
  printf '%s\n%s\n' "$DEMO_PW" "$DEMO_PW" | ov users add --id "$1" --name "$2" --id-doc "$3" \
    --password-stdin >/dev/null
}
train() { ov training record --user "$1" --date "$(days_ago 30)" \
  --valid-until "$(date -u -d '+1 year' +%F)" --topics skills,confidentiality >/dev/null; }
train admin
add_person zhang "Zhang Wei (custodian)" ZHANG001 && train zhang && ov users grant zhang --role custodian
add_person wang "Wang Fang (custodian)" WANG0001 && train wang && ov users grant wang --role custodian
add_person li "Li Na (witness)" LINA0001 && train li && ov users grant li --role witness
add_person chen "Officer Chen (police requester)" CHEN0001 && train chen && ov users grant chen --role requester
ov users list
ov logout >/dev/null

echo
echo "Recording the three registered cameras from simulated RTSP cameras" \
  "(rtsp://127.0.0.1:$SIM_PORT/cam1..cam3) in 10 s segments, until you stop the demo."
for _ in $(seq 150); do # the simulator prints its URLs once every camera is served
  [[ -s "$sim_urls" ]] && break
  if ! kill -0 "$sim_pid" 2>/dev/null; then
    echo "demo: the camera simulator stopped:" >&2
    cat "$sim_log" >&2
    exit 1
  fi
  sleep 0.2
done
[[ -s "$sim_urls" ]] || { echo "demo: no simulated cameras after 30 s (see $sim_log)" >&2; exit 1; }
rec_log="$OVERSIGHT_DATA_DIR/record.log"
ov record --segment-seconds 10 >"$rec_log" 2>&1 &
rec_pid=$!
# The health monitor: offline, collapsed and tampered streams become alarms.
ov monitor >"$OVERSIGHT_DATA_DIR/monitor.log" 2>&1 &
mon_pid=$!
stop_all() {
  for pid in "$rec_pid" "$mon_pid"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      wait "$pid" || true
    fi
  done
  stop_simulator
  echo
  echo "Demo stopped. Sealed footage and the ledger stay in $OVERSIGHT_DATA_DIR;" \
    "check them with: OVERSIGHT_DATA_DIR=$OVERSIGHT_DATA_DIR .venv/bin/oversight verify"
}
trap stop_all EXIT

PORT="${OVERSIGHT_DEMO_PORT:-8080}"
echo
echo "=================================================================================="
echo " Oversight console: http://127.0.0.1:$PORT/   (REST API: /api/v1, reference: /api/docs)"
echo " First admin:   user admin   password $DEMO_PW"
echo " Also (same password): zhang, wang (custodians), li (witness), chen (police requester)"
echo " Try: log in as chen and request footage of gate-1; as zhang approve it; as zhang"
echo " execute it with li as witness, play it back and export the evidence package."
echo " The Health page shows each camera's live state and alarms (oversight monitor runs)."
echo " Stop with Ctrl-C."
echo "=================================================================================="
ov serve --host 127.0.0.1 --port "$PORT"
