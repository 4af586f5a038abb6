#!/usr/bin/env bash
# Benchmark `rampart serve` against batch `rampart hunt` on the same JSON lines, in one
# run: (a) the highest sustained HTTP ingest rate and its ratio to the batch rate,
# (b) batch answer latency at a fixed 10k events/s (open loop), (c) the server's
# resident memory, sampled every second, under a long run at the highest rate.
#
#   bench/serve.sh
#   BENCH_JSONL_MB=1200 BENCH_SOAK_S=3600 bench/serve.sh
#
# Settings (environment): BENCH_THREADS (detection threads, default 2), BENCH_JSONL_MB
# (size of the generated JSON lines, default 300), BENCH_MAX_CONNECTIONS (default 4),
# BENCH_MAX_BATCH (events per request at the highest rate, default 2000),
# BENCH_RATE (default 10000), BENCH_RATE_S (default 60), BENCH_RATE_BATCH (default
# 100), BENCH_SOAK_S (default 600), BENCH_WORK (scratch folder, default a new temporary
# one, left in place), BENCH_NO_BUILD, RAMPART_DATA (default ../shared/data beside the checkout).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
data=${RAMPART_DATA:-$root/../shared/data}
corpus=$data/evtx-attack-samples
rules=$data/sigma/rules
work=${BENCH_WORK:-$(mktemp -d -t rampart-serve-bench.XXXXXX)}
threads=${BENCH_THREADS:-2}
size_mb=${BENCH_JSONL_MB:-300}
max_connections=${BENCH_MAX_CONNECTIONS:-4}
max_batch=${BENCH_MAX_BATCH:-2000}
rate=${BENCH_RATE:-10000}
rate_s=${BENCH_RATE_S:-60}
rate_batch=${BENCH_RATE_BATCH:-100}
soak_s=${BENCH_SOAK_S:-600}
rampart=$root/target/release/rampart
loadgen=$root/target/release/examples/loadgen
mkdir -p "$work"

step() { printf '\n== %s\n' "$*" >&2; }
[ -d "$corpus" ] || { echo "corpus not found: $corpus (set RAMPART_DATA)" >&2; exit 1; }
[ -d "$rules" ] || { echo "rules not found: $rules (set RAMPART_DATA)" >&2; exit 1; }

step "building rampart and the load generator (release)"
# One cargo call: building the two packages apart unifies features differently and
# rebuilds much of the tree twice.
# BENCH_NO_BUILD=1 uses the binaries already built.
[ -n "${BENCH_NO_BUILD:-}" ] \
    || (cd "$root" && cargo build --release -p rampart -p rampart-serve --bin rampart --example loadgen)

step "inputs (in $work)"
"$loadgen" --evtx-to-jsonl "$corpus" "$work/corpus.jsonl"
big=$work/big.jsonl
python3 "$here/gen_jsonl.py" "$work/corpus.jsonl" "$big" "$size_mb" >&2
events=$(wc -l < "$big")
echo "events: $events in $big; load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

step "batch: rampart hunt on the same JSON lines"
/usr/bin/time -f '%e %M' -o "$work/hunt_time.txt" "$rampart" hunt "$big" --rules "$rules" \
    --threads "$threads" --format jsonl -o /dev/null -q 2> "$work/hunt.txt" || true
read -r hunt_s hunt_kb < <(tail -n 1 "$work/hunt_time.txt")
hunt_rate=$(python3 -c "print(round($events / $hunt_s))")
echo "hunt: ${hunt_s} s, ${hunt_rate} events/s, peak RSS $((hunt_kb / 1024)) MiB" >&2

server_pid=""
sampler_pid=""
stop_server() {
    [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null && wait "$sampler_pid" 2>/dev/null || true
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
    server_pid="" sampler_pid=""
}
trap stop_server EXIT

# Starts a service on a fresh store (so no phase finds another's alerts stored), its
# memory sampled every second into $work/rss_$1.tsv (seconds, KiB).
start_server() {
    local name=$1 db=$work/serve_$1.db
    rm -f "$db"*
    token=$("$loadgen" --new-token "$db")
    "$rampart" serve --listen 127.0.0.1:0 --store "$db" --rules "$rules" \
        --threads "$threads" 2> "$work/serve_$name.log" &
    server_pid=$!
    url=""
    for _ in $(seq 1 600); do
        url=$(sed -n 's/^rampart serve listening on \(http[^ ]*\).*/\1/p' "$work/serve_$name.log")
        [ -n "$url" ] && break
        kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve_$name.log" >&2; exit 1; }
        sleep 0.1
    done
    [ -n "$url" ] || { echo "the service did not start" >&2; exit 1; }
    (
        t=0
        while kill -0 "$server_pid" 2>/dev/null; do
            printf '%s\t%s\n' "$t" "$(awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status" 2>/dev/null)"
            sleep 1
            t=$((t + 1))
        done
    ) > "$work/rss_$name.tsv" &
    sampler_pid=$!
}

step "(a) highest sustained ingest: the same $events events, $max_connections connections, $max_batch per request"
start_server max
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$loadgen" --url "$url" --token "$token" --file "$big" --rate max \
    --connections "$max_connections" --batch "$max_batch" --events "$events" --duration 3600 \
    | tee "$work/max.json"
stop_server

step "(b) latency at $rate events/s for $rate_s s, $rate_batch per request"
start_server rate
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$loadgen" --url "$url" --token "$token" --file "$big" --rate "$rate" \
    --connections 16 --batch "$rate_batch" --duration "$rate_s" | tee "$work/rate.json"
stop_server

step "(c) memory: highest rate for $soak_s s, RSS every second"
start_server soak
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$loadgen" --url "$url" --token "$token" --file "$big" --rate max \
    --connections "$max_connections" --batch "$max_batch" --duration "$soak_s" \
    | tee "$work/soak.json"
stop_server
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

step "summary"
python3 - "$work" "$events" "$hunt_s" "$hunt_kb" <<'EOF'
import json, sys
work, events, hunt_s, hunt_kb = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
hunt_rate = events / hunt_s
mx = json.load(open(f"{work}/max.json"))
rt = json.load(open(f"{work}/rate.json"))
sk = json.load(open(f"{work}/soak.json"))
print(f"batch hunt: {events} events in {hunt_s:.2f} s = {hunt_rate:,.0f} events/s, peak {hunt_kb // 1024} MiB")
print(f"(a) serve, highest rate: {mx['events']} events in {mx['seconds']:.2f} s = "
      f"{mx['events_per_second']:,.0f} events/s = {mx['events_per_second'] / hunt_rate:.0%} of batch; "
      f"alerts {mx['alerts']}, 429s {mx['status_429']}, p99 {mx['latency_ms']['p99']:.0f} ms")
print(f"(b) serve at {rt['rate']:.0f} events/s: {rt['events_per_second']:,.0f} achieved, latency ms "
      f"p50 {rt['latency_ms']['p50']:.1f} p99 {rt['latency_ms']['p99']:.1f} max {rt['latency_ms']['max']:.1f}, "
      f"429s {rt['status_429']}")
rss = []
for line in open(f"{work}/rss_soak.tsv"):
    parts = line.split()
    if len(parts) == 2:
        rss.append((int(parts[0]), int(parts[1]) / 1024))
if rss:
    n = len(rss)
    half = rss[n // 2:]
    mt = sum(t for t, _ in half) / len(half)
    mr = sum(r for _, r in half) / len(half)
    var = sum((t - mt) ** 2 for t, _ in half) or 1
    slope = sum((t - mt) * (r - mr) for t, r in half) / var
    print(f"(c) serve, {sk['events']} events in {sk['seconds']:.0f} s ({sk['events_per_second']:,.0f} events/s): "
          f"RSS MiB start {rss[0][1]:.0f}, peak {max(r for _, r in rss):.0f}, end {rss[-1][1]:.0f}; "
          f"slope over the second half {slope * 3600:+.1f} MiB/hour")
EOF
