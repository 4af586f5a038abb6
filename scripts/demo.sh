#!/usr/bin/env bash
# The main job, end to end, over real attack samples: hunt the EVTX-ATTACK-SAMPLES
# corpus with the SigmaHQ rules into the embedded store, then show the top incidents
# in kill-chain order with their likely next techniques.
#
# `bash scripts/demo.sh --serve` runs the same data through the service instead:
# `rampart serve` on 127.0.0.1:8700 watching the sample folder, with an analyst token
# for the API printed first; Ctrl-C stops it (it drains and commits before exiting).
#
# Reference data: RAMPART_DATA, else ../shared/data beside the checkout, else the
# platform data folder that `rampart data update` / `rampart data import` fill. When
# none holds what the demo needs, it stops before building and says what to run.
set -euo pipefail
cd "$(dirname "$0")/.."

platform_data_dir() {
  case "$(uname -s)" in
    Darwin) echo "${HOME:-.}/Library/Application Support/rampart" ;;
    *) echo "${XDG_DATA_HOME:-${HOME:-.}/.local/share}/rampart" ;;
  esac
}

if [ -z "${RAMPART_DATA:-}" ]; then
  if [ -d ../shared/data ]; then
    RAMPART_DATA=../shared/data
  else
    RAMPART_DATA=$(platform_data_dir)
  fi
fi
export RAMPART_DATA
serve=
if [ "${1:-}" = --serve ]; then
  serve=yes
  shift
fi
samples="${1:-$RAMPART_DATA/evtx-attack-samples}"

# What the demo cannot run without: an ATT&CK Enterprise bundle, SigmaHQ rules and the
# sample logs.
has_attack=$(find -L "$RAMPART_DATA" -name 'enterprise-attack*.json*' -print -quit 2>/dev/null || true)
has_rules=$(find -L "$RAMPART_DATA" -type d -name rules -print -quit 2>/dev/null || true)
state() { if [ -n "$1" ]; then echo found; else echo missing; fi; }
if [ -z "$has_attack" ] || [ -z "$has_rules" ] || [ ! -e "$samples" ]; then
  has_samples=$([ -e "$samples" ] && echo yes || true)
  echo "demo: missing reference data in $RAMPART_DATA (ATT&CK: $(state "$has_attack"), Sigma rules: $(state "$has_rules"), samples $samples: $(state "$has_samples")); run \`cargo run --release --bin rampart -- data update\` for ATT&CK, D3FEND and ENGAGE, \`cargo run --release --bin rampart -- data import SIGMA_CHECKOUT\` for the SigmaHQ rules, then \`bash scripts/demo.sh EVTX_ATTACK_SAMPLES_CHECKOUT\` (or set RAMPART_DATA to a folder holding all three)." >&2
  exit 2
fi

out=target/demo
mkdir -p "$out"
db="$out/rampart.db"

cargo build --release --quiet --bin rampart
rampart=target/release/rampart

if [ -n "$serve" ]; then
  db="$out/serve.db"
  token=$("$rampart" token create --role analyst --name demo --store "$db")
  echo "== rampart serve on http://127.0.0.1:8700, watching $samples" >&2
  echo "   try: curl -H 'Authorization: Bearer $token' http://127.0.0.1:8700/api/v1/incidents" >&2
  echo "   or:  $rampart incidents list --store $db" >&2
  exec "$rampart" serve --store "$db" --watch "$samples"
fi

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
