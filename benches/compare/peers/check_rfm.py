"""Check that RFM + ABC outputs agree with clientele's, customer by customer.

Usage: python check_rfm.py [--label TEXT] [--jsonl FILE] REF.parquet TOOL=OUT.parquet ...
                           [--info TOOL=OUT.parquet ...]

REF is `clientele segment --binning rank` output. Each TOOL output is joined to it on
customer_id (full outer join); prints, per tool, the number of mismatching customers per column:
`missing` (in REF only), `extra` (in the tool only), recency_days, frequency, monetary
(relative difference above 1e-6), r_score, f_score, m_score, rfm_cell and abc_class, plus
`monetary_bits`, customers whose monetary is not bit-identical (informational: a 1-ulp
difference is within tolerance). Tools given after --info are reported but never fail the
check (natural idioms that are known to differ). Exits 1 if any other tool has a mismatch.
"""
import json
import sys

import numpy as np
import polars as pl

COLUMNS = ["recency_days", "frequency", "monetary", "r_score", "f_score", "m_score", "rfm_cell", "abc_class"]
HEAD = ["missing", "extra"] + COLUMNS + ["monetary_bits"]


def load(path):
    frame = pl.read_parquet(path, columns=["customer_id"] + COLUMNS)
    return frame.with_columns(
        pl.col("recency_days", "frequency").cast(pl.Int64),
        pl.col("monetary").cast(pl.Float64),
        pl.col("r_score", "f_score", "m_score").cast(pl.Int64),
        pl.col("rfm_cell", "abc_class").cast(pl.String),
    )


def mismatches(ref, other):
    j = ref.join(other, on="customer_id", how="full", suffix="_t", coalesce=True)
    missing = j["recency_days_t"].is_null() & j["recency_days"].is_not_null()
    extra = j["recency_days"].is_null() & j["recency_days_t"].is_not_null()
    both = j.filter(~missing & ~extra)
    counts = {"missing": int(missing.sum()), "extra": int(extra.sum())}
    for c in COLUMNS:
        if c == "monetary":
            a, b = both["monetary"].to_numpy(), both["monetary_t"].to_numpy()
            # relative to the larger magnitude; an absolute 1e-12 floor for zero totals
            scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-12)
            counts[c] = int((np.abs(a - b) / scale > 1e-6).sum())
            counts["monetary_bits"] = int((a != b).sum())
        else:
            counts[c] = int((both[c] != both[c + "_t"]).sum())
    return counts, both.height


def main():
    args = sys.argv[1:]
    label, jsonl = "", None
    if "--label" in args:
        i = args.index("--label")
        label = args[i + 1]
        del args[i : i + 2]
    if "--jsonl" in args:
        i = args.index("--jsonl")
        jsonl = args[i + 1]
        del args[i : i + 2]
    info_from = args.index("--info") if "--info" in args else len(args)
    ref_path, strict, info = args[0], args[1:info_from], args[info_from + 1 :]
    ref = load(ref_path)
    print(f"agreement with clientele ({ref.height} customers){' - ' + label if label else ''}")
    print(f"  {'tool':<18}" + "".join(f"{h:>14}" for h in HEAD))
    failed = []
    records = []
    for kind, specs in (("strict", strict), ("info", info)):
        for spec in specs:
            tool, path = spec.split("=", 1)
            counts, compared = mismatches(ref, load(path))
            bad = sum(v for k, v in counts.items() if k != "monetary_bits")
            if kind == "strict" and bad:
                failed.append(tool)
            note = "" if kind == "strict" else "  (informational)"
            print(f"  {tool:<18}" + "".join(f"{counts[h]:>14}" for h in HEAD) + note)
            records.append({"label": label, "tool": tool, "kind": kind, "customers": ref.height, **counts})
    if jsonl:
        with open(jsonl, "a") as f:
            for r in records:
                f.write(json.dumps(r) + "\n")
    if failed:
        print(f"MISMATCH: {', '.join(failed)} disagree with clientele", file=sys.stderr)
        sys.exit(1)


main()
