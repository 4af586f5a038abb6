#!/usr/bin/env python3
"""Print the benchmark table: wall time (hyperfine), ratio to the parse floor, peak RSS.

Usage: report.py HYPERFINE.json RSS.tsv ALERTS.tsv
"""

import json
import sys


def read_tsv(path):
    rows = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            name, _, value = line.rstrip("\n").partition("\t")
            rows[name] = value
    return rows


def main():
    results = json.load(open(sys.argv[1], encoding="utf-8"))["results"]
    rss = read_tsv(sys.argv[2])
    alerts = read_tsv(sys.argv[3])
    floor = next((r["mean"] for r in results if r["command"].startswith("evtx_dump")), None)
    print()
    print("| tool | wall s (mean ± sd) | × evtx_dump | peak RSS MiB | alerts |")
    print("|---|---:|---:|---:|---:|")
    for r in results:
        name = r["command"]
        ratio = f"{r['mean'] / floor:.2f}" if floor else "-"
        kib = int(rss.get(name, "0") or 0)
        print(
            f"| {name} | {r['mean']:.3f} ± {r['stddev'] or 0:.3f} | {ratio} "
            f"| {kib / 1024:.0f} | {alerts.get(name, '')} |"
        )


if __name__ == "__main__":
    main()
