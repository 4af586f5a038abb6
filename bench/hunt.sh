#!/usr/bin/env bash
# Benchmark `rampart hunt` against the EVTX parse floor (`evtx_dump`) and peer Sigma
# engines, in one run on this machine. See bench/README.md.
#
#   bench/hunt.sh              # install missing tools, build, measure, print tables
#   BENCH_RUNS=10 BENCH_THREADS=4 BENCH_JSONL_MB="1000 4000" bench/hunt.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
data=${RAMPART_DATA:-$root/../shared/data}
corpus=$data/evtx-attack-samples
rules=$data/sigma/rules
tools=${BENCH_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/rampart-bench}
work=${BENCH_WORK:-$(mktemp -d -t rampart-bench.XXXXXX)}
threads=${BENCH_THREADS:-2}
runs=${BENCH_RUNS:-5}
sizes_mb=${BENCH_JSONL_MB:-"500 2000"}
large_runs=${BENCH_LARGE_RUNS:-3}
rampart=$root/target/release/rampart
export PATH="$tools/bin:$PATH"

step() { printf '\n== %s\n' "$*" >&2; }

[ -d "$corpus" ] || { echo "corpus not found: $corpus (set RAMPART_DATA)" >&2; exit 1; }
[ -d "$rules" ] || { echo "rules not found: $rules (set RAMPART_DATA)" >&2; exit 1; }
mkdir -p "$work" "$tools"

step "tools (installed under $tools)"
if ! command -v hyperfine >/dev/null; then
    apt-get install -y hyperfine >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y hyperfine >/dev/null; }
fi
[ -x /usr/bin/time ] || apt-get install -y time >/dev/null
# The published crates' binaries: the evtx crate's `evtx_dump`, and rsigma with EVTX input.
command -v evtx_dump >/dev/null || cargo install evtx --root "$tools"
# Newer rsigma releases may need a newer rustc than installed: fall back to 0.23.0.
command -v rsigma >/dev/null || cargo install rsigma --locked --no-default-features --features evtx --root "$tools" \
    || cargo install rsigma --version 0.23.0 --locked --no-default-features --features evtx --root "$tools" \
    || echo "rsigma could not be installed: its rows are left out" >&2

step "building rampart (release)"
(cd "$root" && cargo build --release -p rampart)

# rsigma's evaluation subcommand moved under `engine` in later releases.
if rsigma engine eval --help >/dev/null 2>&1; then rsigma_eval="rsigma engine eval"; else rsigma_eval="rsigma eval"; fi
command -v rsigma >/dev/null || rsigma_eval=""

evtx_files=$(find "$corpus" -name '*.evtx' | wc -l)
step "inputs: $evtx_files EVTX files in $corpus; rules: $(find "$rules" -name '*.yml' | wc -l) files in $rules"

# The corpus as evtx_dump JSON lines: rsigma's and rampart's JSON input, and the seed
# of the large JSON-lines files below.
corpus_jsonl=$work/corpus.jsonl
find "$corpus" -name '*.evtx' -print0 | sort -z \
    | xargs -0 -n1 evtx_dump -t 1 -o jsonl 2>/dev/null > "$corpus_jsonl" || true
: > "$work/empty.jsonl"

# name|command pairs, measured with hyperfine (wall) and GNU time (peak RSS).
declare -a names commands
add() { names+=("$1"); commands+=("$2"); }
q() { printf '%q' "$1"; }
add "evtx_dump (parse floor)" \
    "find $(q "$corpus") -name '*.evtx' -print0 | xargs -0 -n1 -P$threads evtx_dump -t 1 -o jsonl > /dev/null"
add "rampart hunt EVTX" \
    "$(q "$rampart") hunt $(q "$corpus") --rules $(q "$rules") --threads $threads --format jsonl -q > $(q "$work/rampart.jsonl")"
add "rampart load+compile only" \
    "$(q "$rampart") hunt $(q "$work/empty.jsonl") --rules $(q "$rules") --threads $threads -q > /dev/null"
add "rampart hunt JSONL" \
    "$(q "$rampart") hunt $(q "$corpus_jsonl") --rules $(q "$rules") --threads $threads --format jsonl -q > $(q "$work/rampart_json.jsonl")"
[ -n "$rsigma_eval" ] && add "rsigma JSONL (1 process)" \
    "$rsigma_eval -r $(q "$rules") -e @$(q "$corpus_jsonl") > $(q "$work/rsigma.jsonl") 2>/dev/null"
if [ -n "$rsigma_eval" ] && [ "${BENCH_RSIGMA_EVTX:-0}" = 1 ]; then
    add "rsigma EVTX (1 process per file)" \
        "find $(q "$corpus") -name '*.evtx' -print0 | xargs -0 -P$threads -I{} $rsigma_eval -r $(q "$rules") -e @{} > $(q "$work/rsigma_evtx.jsonl") 2>/dev/null"
fi
# Hayabusa cannot route SigmaHQ's rules by logsource (its channel filter keeps 2 of them):
# it runs its own conversion of them, the sigma/ folder of a hayabusa-rules checkout
# (HAYABUSA_RULES), with that checkout's config/.
hayabusa_name="" chainsaw_name=""
if command -v hayabusa >/dev/null && [ -n "${HAYABUSA_RULES:-}" ]; then
    # The timeline subcommand was renamed in Hayabusa 4.
    if hayabusa help dfir-timeline >/dev/null 2>&1; then hb_cmd=dfir-timeline; else hb_cmd=csv-timeline; fi
    hayabusa_name="hayabusa $(hayabusa help 2>/dev/null | head -1 | grep -o 'v[0-9][0-9.]*') (hayabusa-rules sigma/)"
    add "$hayabusa_name" \
        "cd $(q "$work") && hayabusa $hb_cmd -d $(q "$corpus") -r $(q "$HAYABUSA_RULES/sigma") -c $(q "$HAYABUSA_RULES/config") --threads $threads -w -q -Q -C -N -K -t jsonl -o $(q "$work/hayabusa.jsonl") > /dev/null 2>&1"
fi
if command -v chainsaw >/dev/null && [ -n "${CHAINSAW_MAPPING:-}" ]; then
    chainsaw_name="chainsaw $(chainsaw --version 2>/dev/null | awk '{print $2}')"
    add "$chainsaw_name" \
        "chainsaw --num-threads $threads --no-banner hunt $(q "$corpus") -s $(q "$rules") --mapping $(q "$CHAINSAW_MAPPING") -q --jsonl > $(q "$work/chainsaw.jsonl") 2>/dev/null"
fi

step "wall time: hyperfine, $runs runs each (1 warm-up), $threads threads"
hyperfine_args=(--warmup 1 --runs "$runs" --ignore-failure --export-json "$work/hyperfine.json" --style basic)
for i in "${!names[@]}"; do hyperfine_args+=(-n "${names[$i]}" "${commands[$i]}"); done
hyperfine "${hyperfine_args[@]}" >&2

step "peak memory: /usr/bin/time -v, one run each"
: > "$work/rss.tsv"
for i in "${!names[@]}"; do
    /usr/bin/time -v bash -c "${commands[$i]}" 2> "$work/time.txt" || true
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
    printf '%s\t%s\n' "${names[$i]}" "${rss:-0}" >> "$work/rss.tsv"
done

count() { [ -f "$1" ] && wc -l < "$1" | tr -d ' ' || echo "-"; }
printf 'rampart hunt EVTX\t%s\nrampart hunt JSONL\t%s\nrsigma JSONL (1 process)\t%s\nrsigma EVTX (1 process per file)\t%s\n' \
    "$(count "$work/rampart.jsonl")" "$(count "$work/rampart_json.jsonl")" \
    "$(count "$work/rsigma.jsonl")" "$(count "$work/rsigma_evtx.jsonl")" > "$work/alerts.tsv"
[ -n "$hayabusa_name" ] && printf '%s\t%s\n' "$hayabusa_name" "$(count "$work/hayabusa.jsonl")" >> "$work/alerts.tsv"
[ -n "$chainsaw_name" ] && printf '%s\t%s\n' "$chainsaw_name" "$(count "$work/chainsaw.jsonl")" >> "$work/alerts.tsv"

python3 "$here/report.py" "$work/hyperfine.json" "$work/rss.tsv" "$work/alerts.tsv"

step "large JSON lines: events/s and peak memory at ${sizes_mb// / and } MB (median of $large_runs runs)"
printf '\n| input | events | wall s (median, all runs) | events/s (events / median wall) | peak RSS MiB |\n|---|---:|---:|---:|---:|\n'
for mb in $sizes_mb; do
    big=$work/big_${mb}.jsonl
    python3 "$here/gen_jsonl.py" "$corpus_jsonl" "$big" "$mb" >&2
    walls=() rss_max=0 events=""
    for _ in $(seq "$large_runs"); do
        /usr/bin/time -f '%e %M' -o "$work/big_time.txt" "$rampart" hunt "$big" --rules "$rules" \
            --threads "$threads" --format jsonl -o /dev/null 2> "$work/big.txt" || true
        read -r wall rss < "$work/big_time.txt"
        walls+=("$wall")
        (( rss > rss_max )) && rss_max=$rss
        events=$(sed -n 's/^hunt: [0-9,]* files, \([0-9,]*\) events.*/\1/p' "$work/big.txt" | tr -d ',')
    done
    median=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{w[NR]=$1} END {print w[int((NR+1)/2)]}')
    rate=$(awk -v e="${events:-0}" -v w="$median" 'BEGIN {if (w > 0) printf "%.0f", e / w; else print "?"}')
    printf '| %s MB | %s | %s (%s) | %s | %.0f |\n' "$(du -m "$big" | cut -f1)" "${events:-?}" "$median" \
        "$(IFS=' '; echo "${walls[*]}")" "$rate" "$(( rss_max / 1024 ))"
    rm -f "$big"
done
printf '\nwork files in %s\n' "$work" >&2
