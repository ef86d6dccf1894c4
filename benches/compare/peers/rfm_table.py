"""Summarise rfm.sh timings into a Markdown table.

Usage: python rfm_table.py RESULTS.jsonl [--all]

RESULTS.jsonl holds one JSON object per timed run (rfm.sh appends to it). For each (rows,
format), the most recent harness run that measured it is used (so 1M today and 10M tomorrow
make one table); --all pools every run instead. Per tool: median wall time over rounds (and
min-max), median time inside the script after imports, median peak RSS and heap (RssAnon), and
the ratios clientele / tool (below 1: clientele is faster or smaller).
"""
import json
import statistics
import sys
from collections import defaultdict

ORDER = ["clientele", "clientele-full", "duckdb", "polars", "pandas", "floor-duckdb", "floor-polars"]


def main():
    path = sys.argv[1]
    pool_all = "--all" in sys.argv[2:]
    runs = [json.loads(line) for line in open(path) if line.strip()]
    meta = {r["run_id"]: r for r in runs if r.get("kind") == "meta"}
    timed = [r for r in runs if r.get("kind") == "timing"]
    latest = {}
    for r in timed:
        key = (r["rows"], r["format"])
        latest[key] = max(latest.get(key, ""), r["run_id"])
    groups = defaultdict(list)
    for r in timed:
        key = (r["rows"], r["format"])
        if pool_all or r["run_id"] == latest[key]:
            groups[key + (r["tool"],)].append(r)
    out = ["# RFM + ABC: clientele vs peers", ""]
    for run_id in sorted({latest[k] for k in latest}):
        m = meta.get(run_id, {})
        out.append(f"- run `{run_id}`: {m.get('host', '?')}, {m.get('cpus', '?')} CPUs, load average {m.get('loadavg', '?')} at the start; "
                   f"{m.get('versions', '')}")
    out += ["", "Wall time and peak RSS are medians over rounds (per process, peakmem.py); "
            "`inner` is the time after imports (Python peers only). Ratios are clientele / tool: "
            "below 1, clientele is faster or smaller.", ""]
    out.append("| rows | customers | format | tool | wall s (median) | min-max s | inner s | peak RSS MB | heap MB "
               "| time clientele/tool | RSS clientele/tool |")
    out.append("|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for rows, fmt in sorted({(k[0], k[1]) for k in groups}, key=lambda k: (k[0], k[1] != "parquet")):
        tools = sorted({k[2] for k in groups if k[:2] == (rows, fmt)},
                       key=lambda t: (ORDER.index(t) if t in ORDER else 99, t))

        def stats(tool):
            rs = [r for r in groups[(rows, fmt, tool)] if r["exit"] == 0]
            if not rs:
                return None
            inner = [r["inner_seconds"] for r in rs if r.get("inner_seconds") is not None]
            return {
                "wall": statistics.median(r["seconds"] for r in rs),
                "min": min(r["seconds"] for r in rs),
                "max": max(r["seconds"] for r in rs),
                "inner": statistics.median(inner) if inner else None,
                "rss": statistics.median(r["peak_rss_kb"] for r in rs) / 1024,
                "heap": statistics.median(r["peak_anon_kb"] for r in rs) / 1024,
                "n": len(rs),
                "failed": len(groups[(rows, fmt, tool)]) - len(rs),
            }

        ref = stats("clientele")
        for tool in tools:
            s = stats(tool)
            customers = groups[(rows, fmt, tool)][0]["customers"]
            if s is None:
                out.append(f"| {rows:,} | {customers:,} | {fmt} | {tool} | failed | | | | | | |")
                continue
            inner = f"{s['inner']:.2f}" if s["inner"] is not None else ""
            tr = f"{ref['wall'] / s['wall']:.2f}" if ref else ""
            mr = f"{ref['rss'] / s['rss']:.2f}" if ref and s["rss"] else ""
            failed = f" ({s['failed']} failed)" if s["failed"] else ""
            out.append(f"| {rows:,} | {customers:,} | {fmt} | {tool}{failed} | {s['wall']:.2f} | "
                       f"{s['min']:.2f}-{s['max']:.2f} | {inner} | {s['rss']:.0f} | {s['heap']:.0f} | {tr} | {mr} |")
    print("\n".join(out))


main()
