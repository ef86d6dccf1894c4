"""Summarise shapes.sh timings: one row per shape, and clientele against each target.

Usage: python shapes_table.py RESULTS.jsonl [--all]

The most recent harness run is used (--all pools every run). Per shape and tool: median wall
time over rounds, median CPU seconds (user + system, all threads), CPU / wall (how many of the
cores were busy on average), median peak RSS. Then the ratios clientele / tool with the issue's
targets: <= 0.6 x polars, <= 0.4 x DuckDB, <= 0.8 x polars' group-by floor, <= 3.5 x polars'
decoding (Parquet), <= 0.5 x DuckDB (CSV), peak RSS <= 800 MB.
"""
import json
import statistics
import sys
from collections import defaultdict

ORDER = ["clientele", "clientele-full", "polars", "duckdb", "floor-polars", "floor-duckdb", "decode-polars"]
PARQUET_TARGETS = [("polars", 0.6), ("duckdb", 0.4), ("floor-polars", 0.8), ("decode-polars", 3.5)]
CSV_TARGETS = [("duckdb", 0.5)]
RSS_TARGET_MB = 800


def main():
    runs = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    pool_all = "--all" in sys.argv[2:]
    meta = {r["run_id"]: r for r in runs if r.get("kind") == "meta"}
    timed = [r for r in runs if r.get("kind") == "timing"]
    if not timed:
        print("no timings")
        return
    latest = max(r["run_id"] for r in timed)
    timed = [r for r in timed if pool_all or r["run_id"] == latest]
    groups = defaultdict(list)
    for r in timed:
        if r["exit"] == 0:
            groups[(r["shape"], r["tool"])].append(r)
    shapes = list(dict.fromkeys(r["shape"] for r in timed))
    tools = sorted({r["tool"] for r in timed}, key=lambda t: (ORDER.index(t) if t in ORDER else 99, t))

    def stats(shape, tool):
        rs = groups.get((shape, tool))
        if not rs:
            return None
        wall = statistics.median(r["seconds"] for r in rs)
        cpu = statistics.median(r["cpu_seconds"] for r in rs)
        return {"wall": wall, "cpu": cpu, "busy": cpu / wall if wall else 0,
                "min": min(r["seconds"] for r in rs), "max": max(r["seconds"] for r in rs),
                "rss": statistics.median(r["peak_rss_kb"] for r in rs) / 1024, "n": len(rs)}

    m = meta.get(latest, {})
    rows = timed[0]["rows"]
    customers = timed[0]["customers"]
    out = [f"# RFM + ABC on {rows:,} rows, {customers:,} customers, by shape", "",
           f"run `{latest}`, {m.get('cpus', '?')} CPUs, load average {m.get('loadavg', '?')} at the start; "
           f"{m.get('versions', '')}", "",
           "Medians over rounds; CPU is user + system seconds of all threads; busy = CPU / wall.", "",
           "| shape | MB | tool | wall s | min-max | CPU s | busy | peak RSS MB |",
           "|---|---:|---|---:|---:|---:|---:|---:|"]
    for shape in shapes:
        size = next(r["bytes"] for r in timed if r["shape"] == shape) / 1e6
        for tool in tools:
            s = stats(shape, tool)
            if s is None:
                out.append(f"| {shape} | {size:,.0f} | {tool} | failed | | | | |")
                continue
            out.append(f"| {shape} | {size:,.0f} | {tool} | {s['wall']:.2f} | {s['min']:.2f}-{s['max']:.2f} | "
                       f"{s['cpu']:.2f} | {s['busy']:.2f} | {s['rss']:.0f} |")
    out += ["", "Ratios clientele / tool (wall time, medians); **bold** where the target is missed.", ""]
    head = ["polars ≤ 0.6", "duckdb ≤ 0.4", "floor ≤ 0.8", "decode ≤ 3.5", "csv: duckdb ≤ 0.5", "RSS ≤ 800 MB"]
    out += ["| shape | " + " | ".join(head) + " |", "|---|" + "---:|" * len(head)]
    missed = 0
    for shape in shapes:
        ref = stats(shape, "clientele")
        if ref is None:
            out.append(f"| {shape} | clientele failed |")
            missed += 1
            continue
        csv = shape.split("-")[1] == "csv"
        cells = []
        targets = dict(CSV_TARGETS if csv else PARQUET_TARGETS)
        for tool in ["polars", "duckdb", "floor-polars", "decode-polars", "csv-duckdb"]:
            peer = "duckdb" if tool == "csv-duckdb" else tool
            applies = (tool == "csv-duckdb") == csv and peer in targets
            s = stats(shape, peer)
            if s is None:
                cells.append("")
                continue
            ratio = ref["wall"] / s["wall"]
            if applies and ratio > targets[peer]:
                missed += 1
                cells.append(f"**{ratio:.2f}**")
            elif applies:
                cells.append(f"{ratio:.2f}")
            else:
                cells.append(f"({ratio:.2f})" if tool != "csv-duckdb" and not csv else "")
        rss_ok = ref["rss"] <= RSS_TARGET_MB
        missed += not rss_ok
        cells.append(f"{ref['rss']:.0f}" if rss_ok else f"**{ref['rss']:.0f}**")
        out.append(f"| {shape} | " + " | ".join(cells) + " |")
    out += ["", f"Targets missed: {missed}."]
    print("\n".join(out))


main()
