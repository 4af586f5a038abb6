#!/usr/bin/env python3
"""Make a large JSON-lines input from a small one by replication.

Usage: gen_jsonl.py BASE.jsonl OUT.jsonl TARGET_MB

Each copy of the base events gets its EventRecordID raised by copy * 10,000,000 and
its System time moved forward by `copy` hours, so copies are distinct events in a
plausible timeline. Lines are rewritten textually (no JSON re-encoding), so the
output has the exact shape of the input, and generating gigabytes takes seconds.
"""

import datetime
import json
import re
import sys

RECORD = re.compile(r'"EventRecordID":\s*(\d+)')
SYSTEM_TIME = re.compile(r'"SystemTime":\s*"([^"]+)"')


def templates(base_path):
    """Each base line split around its record id and system time."""
    out = []
    with open(base_path, encoding="utf-8") as base:
        for line in base:
            line = line.strip()
            if not line:
                continue
            json.loads(line)  # the base must be valid JSON lines
            record = RECORD.search(line)
            time = SYSTEM_TIME.search(line)
            out.append((line, record, time))
    return out


def shifted(time_text, hours):
    text = time_text.rstrip("Z")
    whole, _, fraction = text.partition(".")
    moment = datetime.datetime.fromisoformat(whole) + datetime.timedelta(hours=hours)
    return moment.isoformat() + ("." + fraction if fraction else "") + "Z"


def render(template, copy):
    line, record, time = template
    if copy == 0:
        return line
    spans = []
    if record:
        spans.append((record.span(1), str(int(record.group(1)) + copy * 10_000_000)))
    if time:
        spans.append((time.span(1), shifted(time.group(1), copy)))
    for (start, end), text in sorted(spans, reverse=True):
        line = line[:start] + text + line[end:]
    return line


def main():
    base_path, out_path, target_mb = sys.argv[1], sys.argv[2], float(sys.argv[3])
    lines = templates(base_path)
    target = int(target_mb * 1_000_000)
    written = 0
    copy = 0
    with open(out_path, "w", encoding="utf-8") as out:
        while written < target:
            chunk = "\n".join(render(t, copy) for t in lines) + "\n"
            out.write(chunk)
            written += len(chunk.encode("utf-8"))
            copy += 1
    print(f"{out_path}: {copy} copies of {len(lines)} events, {written / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
