#!/usr/bin/env bash
# Side-by-side lifetime-value fits: clientele vs lifetimes (BG/NBD + Gamma-Gamma).
#
#   bash benches/compare/clv.sh [CUSTOMERS] [ROWS] [RUNS]
#
# Generates a log (default 100,000 customers, 1,000,000 rows), computes its BTYD summary with
# `clientele clv` (calibration to 2024-06-30, weeks), then alternates RUNS times (default 3)
# clientele's fit and lifetimes' on that summary, with wall time and peak memory (peakmem.py),
# and scores every fit with one independent log-likelihood (btyd_loglik.py).
# lifetimes installs into its own virtualenv ($LIFETIMES_VENV, default
# ~/.cache/clientele-venv-lifetimes): pip install lifetimes "autograd>=1.7".
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
customers="${1:-100000}"
rows="${2:-1000000}"
runs="${3:-3}"
work="${WORK:-/tmp/clientele-bench}"
venv="${LIFETIMES_VENV:-$HOME/.cache/clientele-venv-lifetimes}"
target="${CLIENTELE_RELEASE_TARGET:-$HOME/.cache/clientele-release}"
mkdir -p "$work"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet lifetimes "autograd>=1.7" pyarrow
fi

export CARGO_TARGET_DIR="$target"
cargo build --release --quiet --manifest-path "$repo/Cargo.toml" -p clientele-cli
cargo build --release --quiet --manifest-path "$repo/Cargo.toml" -p clientele-cli --example clv_bench
bin="$target/release"

log="$work/clv_log_${customers}.parquet"
summary="$work/clv_summary_${customers}.parquet"
[ -f "$log" ] || "$bin/clientele" generate --customers "$customers" --rows "$rows" --seed 5 -q -o "$log"
"$bin/clientele" clv "$log" --calibration-end 2024-06-30 -q -o "$summary"

results="$work/clv_results_${customers}.jsonl"
: > "$results"
for run in $(seq "$runs"); do
    for tool in clientele lifetimes; do
        if [ "$tool" = clientele ]; then cmd=("$bin/examples/clv_bench" "$summary");
        else cmd=("$venv/bin/python" "$repo/benches/compare/clv_lifetimes.py" "$summary"); fi
        python3 "$repo/benches/compare/peakmem.py" --json "${cmd[@]}" > "$work/out.json" 2> "$work/mem.json"
        echo "{\"run\": $run, \"memory\": $(tail -1 "$work/mem.json"), \"result\": $(cat "$work/out.json")}" >> "$results"
    done
done
"$venv/bin/python" "$repo/benches/compare/btyd_loglik.py" "$summary" "$results"
