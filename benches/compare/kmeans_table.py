"""The k-means comparison table from kmeans.sh's results (one JSON line per process run).

Usage: python3 kmeans_table.py kmeans_results.jsonl

Per size and tool: the median fit time (loading excluded) with its range, the median process
wall and CPU time, the largest peak RSS, and the best inertia; then the ratio clientele /
scikit-learn of the median fit times, with the range of the per-run ratios (each run pairs the
two tools back to back, so a busy moment of the machine weighs on both).
"""
import json
import statistics
import sys
from collections import defaultdict


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    by = defaultdict(list)
    for r in rows:
        tool = "clientele" if r["result"]["tool"].startswith("clientele") else "scikit-learn"
        by[(r["customers"], tool)].append(r)
    print("| customers | tool | fit wall (median, range) | process wall | process CPU | peak RSS | inertia |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    sizes = sorted({c for c, _ in by})
    ratios = {}
    for customers in sizes:
        for tool in ("clientele", "scikit-learn"):
            runs = by.get((customers, tool), [])
            if not runs:
                continue
            fit = [r["result"]["fit_seconds"] for r in runs]
            wall = statistics.median(r["memory"]["seconds"] for r in runs)
            cpu = statistics.median(r["memory"].get("cpu_seconds", float("nan")) for r in runs)
            rss = max(r["memory"]["peak_rss_kb"] for r in runs) / 1024
            inertia = min(r["result"]["inertia"] for r in runs)
            print(f"| {customers:,} | {runs[0]['result']['tool']} | {statistics.median(fit):.2f} s "
                  f"({min(fit):.2f}–{max(fit):.2f}) | {wall:.2f} s | {cpu:.2f} s | {rss:.0f} MB | {inertia:,.2f} |")
        ours, theirs = by.get((customers, "clientele"), []), by.get((customers, "scikit-learn"), [])
        if ours and theirs:
            pairs = {}
            for r in ours + theirs:
                pairs.setdefault(r["run"], {})["c" if r in ours else "s"] = r["result"]["fit_seconds"]
            per_run = [p["c"] / p["s"] for p in pairs.values() if len(p) == 2]
            median = statistics.median(r["result"]["fit_seconds"] for r in ours) / statistics.median(
                r["result"]["fit_seconds"] for r in theirs)
            gap = (min(r["result"]["inertia"] for r in ours) / min(r["result"]["inertia"] for r in theirs) - 1) * 100
            ratios[customers] = (median, min(per_run), max(per_run), gap)
    print()
    print("| customers | fit ratio clientele / scikit-learn (median; per-run range) | inertia, clientele vs scikit-learn |")
    print("| ---: | ---: | ---: |")
    for customers, (median, low, high, gap) in ratios.items():
        print(f"| {customers:,} | **{median:.2f}** ({low:.2f}–{high:.2f}) | {gap:+.4f} % |")


main()
