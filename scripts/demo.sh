#!/usr/bin/env bash
# The main job, end to end, over real attack samples: hunt the EVTX-ATTACK-SAMPLES
# corpus with the SigmaHQ rules into the embedded store, then show the top incidents
# in kill-chain order with their likely next techniques.
set -euo pipefail
cd "$(dirname "$0")/.."
export RAMPART_DATA="${RAMPART_DATA:-../shared/data}"
samples="${1:-$RAMPART_DATA/evtx-attack-samples}"
out=target/demo
mkdir -p "$out"
db="$out/rampart.db"

cargo build --release --quiet --bin rampart
rampart=target/release/rampart

echo "== data" >&2
"$rampart" data status
echo "== hunt $samples" >&2
"$rampart" hunt "$samples" --store "$db" --format native --output "$out/alerts.jsonl"
echo "enriched alerts (JSON lines): $out/alerts.jsonl" >&2
echo "== incidents (top 5)" >&2
"$rampart" incidents list --store "$db" --limit 5
top=$("$rampart" incidents list --store "$db" --json --limit 1 | grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4)
if [ -n "$top" ]; then
  echo "== incident $top" >&2
  "$rampart" incidents show "$top" --store "$db"
fi
