#!/usr/bin/env bash
# Benchmark `rampart serve` against batch `rampart hunt` on the same JSON lines, in one
# run: (a) the highest sustained HTTP ingest rate and its ratio to the batch rate,
# (b) batch answer latency at a fixed 10k events/s (open loop), (c) the server's
# resident memory, sampled every second, under a long run at the highest rate.
#
#   bench/serve.sh
#   BENCH_JSONL_MB=1200 BENCH_SOAK_S=3600 bench/serve.sh
#   BENCH_PHASES=c BENCH_DISTINCT=1 BENCH_SOAK_EVENTS=36000000 bench/serve.sh
#
# Settings (environment): BENCH_THREADS (detection threads, default 2), BENCH_JSONL_MB
# (size of the generated JSON lines, default 300), BENCH_MAX_CONNECTIONS (default 4),
# BENCH_MAX_BATCH (events per request at the highest rate, default 2000),
# BENCH_RATE (default 10000), BENCH_RATE_S (default 60), BENCH_RATE_BATCH (default
# 100), BENCH_SOAK_S (default 600), BENCH_SOAK_EVENTS (stop phase (c) after this many
# events instead of after BENCH_SOAK_S), BENCH_DISTINCT (1: phase (c) sends every pass
# over the file as new events, `loadgen --distinct`, so the store grows as under real
# telemetry), BENCH_PHASES (which of a, b, c to run, default abc), BENCH_WORK (scratch
# folder, default a new temporary one, left in place), BENCH_NO_BUILD, BENCH_RAMPART
# (the rampart binary to measure, default the release build: for a before/after pair
# with one load generator), RAMPART_DATA (default ../shared/data beside the checkout).
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
soak_events=${BENCH_SOAK_EVENTS:-}
distinct=${BENCH_DISTINCT:-}
phases=${BENCH_PHASES:-abc}
rampart=${BENCH_RAMPART:-$root/target/release/rampart}
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
/usr/bin/time -f '%e %M %U %S' -o "$work/hunt_time.txt" "$rampart" hunt "$big" --rules "$rules" \
    --threads "$threads" --format jsonl -o /dev/null -q 2> "$work/hunt.txt" || true
read -r hunt_s hunt_kb hunt_user hunt_sys < <(tail -n 1 "$work/hunt_time.txt")
hunt_rate=$(python3 -c "print(round($events / $hunt_s))")
echo "hunt: ${hunt_s} s, ${hunt_rate} events/s, peak RSS $((hunt_kb / 1024)) MiB" >&2

server_pid=""
sampler_pid=""
server_name=""
# CPU seconds (user + system) the service used, written when it stops: on a machine
# other work loads, CPU per event compares runs better than wall-clock rates do.
server_cpu() {
    awk -v tck="$(getconf CLK_TCK)" '{printf "%.2f\n", ($14 + $15) / tck}' "/proc/$server_pid/stat" \
        > "$work/server_cpu_$server_name.txt" 2>/dev/null || true
}
stop_server() {
    [ -n "$server_pid" ] && server_cpu
    [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null && wait "$sampler_pid" 2>/dev/null || true
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
    server_pid="" sampler_pid=""
}
trap stop_server EXIT

# Starts a service on a fresh store (so no phase finds another's alerts stored), its
# memory sampled every second into $work/rss_$1.tsv (seconds, KiB).
start_server() {
    local name=$1 db=$work/serve_$1.db
    server_name=$name
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

if [[ $phases == *a* ]]; then
step "(a) highest sustained ingest: the same $events events, $max_connections connections, $max_batch per request"
start_server max
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
/usr/bin/time -f '%U %S' -o "$work/loadgen_cpu_max.txt" \
    "$loadgen" --url "$url" --token "$token" --file "$big" --rate max \
    --connections "$max_connections" --batch "$max_batch" --events "$events" --duration 3600 \
    | tee "$work/max.json"
stop_server
fi

if [[ $phases == *b* ]]; then
step "(b) latency at $rate events/s for $rate_s s, $rate_batch per request"
start_server rate
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$loadgen" --url "$url" --token "$token" --file "$big" --rate "$rate" \
    --connections 16 --batch "$rate_batch" --duration "$rate_s" | tee "$work/rate.json"
stop_server
fi

if [[ $phases == *c* ]]; then
soak_limit=(--duration "$soak_s")
[ -n "$soak_events" ] && soak_limit=(--events "$soak_events" --duration 86400)
soak_distinct=()
[ -n "$distinct" ] && soak_distinct=(--distinct)
step "(c) memory: highest rate, ${soak_events:-$soak_s s}${soak_events:+ events}${distinct:+ (distinct)}, RSS every second"
start_server soak
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
/usr/bin/time -f '%U %S' -o "$work/loadgen_cpu_soak.txt" \
    "$loadgen" --url "$url" --token "$token" --file "$big" --rate max \
    --connections "$max_connections" --batch "$max_batch" "${soak_limit[@]}" ${soak_distinct[@]+"${soak_distinct[@]}"} \
    | tee "$work/soak.json"
stop_server
du -cb "$work"/serve_soak.db* | tail -n 1 | cut -f1 > "$work/soak_store_bytes.txt"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
fi

step "summary"
python3 - "$work" "$events" "$hunt_s" "$hunt_kb" "$hunt_user" "$hunt_sys" <<'EOF'
import json, os, sys
work, events, hunt_s, hunt_kb = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
hunt_cpu = float(sys.argv[5]) + float(sys.argv[6])
hunt_rate = events / hunt_s
def cpu(name, sent):
    """CPU per event of the service and of the load generator, and the batch hunt's
    CPU per event as a share of the service's (what the rate ratio would be on two
    otherwise idle cores, both saturated)."""
    server, loadgen = f"{work}/server_cpu_{name}.txt", f"{work}/loadgen_cpu_{name}.txt"
    if not (os.path.exists(server) and os.path.exists(loadgen)) or not sent:
        return ""
    server_s = float(open(server).read().split()[0])
    loadgen_s = sum(float(x) for x in open(loadgen).read().split()[-2:])
    per = lambda seconds: seconds / sent * 1e6
    return (f"; CPU µs/event: hunt {hunt_cpu / events * 1e6:.1f}, service {per(server_s):.1f}, "
            f"load generator {per(loadgen_s):.1f}; hunt ÷ (service + load generator) = "
            f"{hunt_cpu / (server_s + loadgen_s) * sent / events:.0%}, hunt ÷ service = "
            f"{hunt_cpu / server_s * sent / events:.0%}")
def phase(name):
    path = f"{work}/{name}.json"
    return json.load(open(path)) if os.path.exists(path) else None
mx, rt, sk = phase("max"), phase("rate"), phase("soak")
print(f"batch hunt: {events} events in {hunt_s:.2f} s = {hunt_rate:,.0f} events/s, peak {hunt_kb // 1024} MiB")
if mx:
    print(f"(a) serve, highest rate: {mx['events']} events in {mx['seconds']:.2f} s = "
          f"{mx['events_per_second']:,.0f} events/s = {mx['events_per_second'] / hunt_rate:.0%} of batch; "
          f"alerts {mx['alerts']}, 429s {mx['status_429']}, p99 {mx['latency_ms']['p99']:.0f} ms"
          f"{cpu('max', mx['events'])}")
if rt:
    print(f"(b) serve at {rt['rate']:.0f} events/s: {rt['events_per_second']:,.0f} achieved, latency ms "
          f"p50 {rt['latency_ms']['p50']:.1f} p99 {rt['latency_ms']['p99']:.1f} max {rt['latency_ms']['max']:.1f}, "
          f"429s {rt['status_429']}")
rss = []
if sk and os.path.exists(f"{work}/rss_soak.tsv"):
    for line in open(f"{work}/rss_soak.tsv"):
        parts = line.split()
        if len(parts) == 2:
            rss.append((int(parts[0]), int(parts[1]) / 1024))
def slope(points):
    mt = sum(t for t, _ in points) / len(points)
    mr = sum(r for _, r in points) / len(points)
    var = sum((t - mt) ** 2 for t, _ in points) or 1
    return sum((t - mt) * (r - mr) for t, r in points) / var
def mean(points):
    return sum(r for _, r in points) / len(points)
if rss:
    n = len(rss)
    tenth = max(1, n // 10)
    stored = f"{work}/soak_store_bytes.txt"
    store_mib = int(open(stored).read().strip() or 0) / 2**20 if os.path.exists(stored) else 0
    print(f"(c) serve, {sk['events']} events{' (distinct)' if sk.get('distinct') else ''} in {sk['seconds']:.0f} s "
          f"({sk['events_per_second']:,.0f} events/s = {sk['events_per_second'] / hunt_rate:.0%} of batch), "
          f"alerts {sk['alerts']}, store {store_mib:,.0f} MiB: RSS MiB after start-up {rss[0][1]:.0f}, "
          f"mean of the first 10 % {mean(rss[:tenth]):.0f}, of the last 10 % {mean(rss[-tenth:]):.0f}, "
          f"peak {max(r for _, r in rss):.0f}, end {rss[-1][1]:.0f}; slope {slope(rss) * 3600:+.1f} MiB/hour "
          f"over the run, {slope(rss[n // 2:]) * 3600:+.1f} over its second half{cpu('soak', sk['events'])}")
EOF
