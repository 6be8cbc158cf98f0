#!/usr/bin/env python3
"""Checks what `scripts/bench.sh --quick` wrote (scripts/test.sh runs it once): every scenario
measured on every server it applies to, records complete, messages delivered, the rooms
scenario's messages confined to their rooms, scenario 4 run on every chat log and Node's with
and without PostgreSQL, scenario 5 on PostgreSQL, and the report and chart written. It checks the harness, never a timing.

    check_results.py RESULTS_DIR
"""
import json
import pathlib
import sys

out = pathlib.Path(sys.argv[1])
problems = []


def rows(scenario):
    path = out / f"{scenario}.jsonl"
    if not path.exists():
        problems.append(f"{scenario}.jsonl is missing")
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


SERVERS = {
    "idle": {"ninecloud", "node", "baseline"},
    "fanout": {"ninecloud", "node", "baseline"},
    "rooms": {"ninecloud", "node"},
    "persisted": {"ninecloud", "node"},
    "busy": {"ninecloud", "node"},
}
for scenario, expected in SERVERS.items():
    got = rows(scenario)
    if {r["server"] for r in got} != expected:
        problems.append(f"{scenario}: measured {sorted({r['server'] for r in got})}, not {sorted(expected)}")
    for r in got:
        where = f"{scenario} {r['server']} {r['level']}"
        if r["connected"] != r["clients"] or r["connect_failures"]:
            problems.append(f"{where}: {r['connected']} of {r['clients']} clients connected")
        if r["server_rss_kib_peak"] <= 0 or r["server_cpu_s"] < 0:
            problems.append(f"{where}: no server CPU or memory read")
        if scenario != "idle" and (r["acked"] == 0 or r["delivered"] == 0):
            problems.append(f"{where}: nothing acknowledged or delivered")

for r in rows("rooms"):
    # Each message goes to its own room only: far fewer deliveries than to every client.
    if r["rooms"] < 2 or r["expected_deliveries"] > r["acked"] * (r["clients"] // r["rooms"] + 1):
        problems.append(f"rooms {r['server']} {r['level']}: messages not confined to their rooms: {r}")

stores = {(r["server"], r.get("store")) for r in rows("persisted")}
expected = {("ninecloud", "sqlite"), ("ninecloud", "postgres"), ("ninecloud", "mongodb"),
            ("node", None), ("node", "postgres")}
if stores != expected:
    problems.append(f"persisted: server and chat log pairs measured {sorted(map(str, stores))}")
if {r.get("store") for r in rows("busy")} != {"postgres"}:
    problems.append("busy: not every run stored in PostgreSQL")

report = out / "report.md"
text = report.read_text() if report.exists() else ""
for part in ("## Against the bar", "## 1. Idle", "## 2. Fan-out", "## 3. Many rooms",
             "## 4. Persisted", "## 5. Busy channels", "](latency.png)", " : Node",
             "acked : Node + postgres"):
    if part not in text:
        problems.append(f"report.md lacks {part!r}")
png = out / "latency.png"
if not (png.exists() and png.read_bytes().startswith(b"\x89PNG")):
    problems.append("latency.png is missing or not a PNG")

print("\n".join(problems) or "benchmark harness: every scenario measured, report and chart written")
sys.exit(1 if problems else 0)
