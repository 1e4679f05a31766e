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
ov init
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
echo "Recording the three registered cameras from simulated RTSP cameras" \
  "(rtsp://127.0.0.1:$SIM_PORT/cam1..cam3) for 20 s, in 5 s segments:"
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
ov record --segment-seconds 5 --duration 20
stop_simulator

echo
echo "Each segment is sealed: hashed, stored, indexed and a leaf of the ledger:"
ov segments list
ov cameras status
ov verify
