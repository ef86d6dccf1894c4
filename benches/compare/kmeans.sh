#!/usr/bin/env bash
# Side-by-side k-means: clientele (linfa) vs scikit-learn on the same matrix.
#
#   bash benches/compare/kmeans.sh [CUSTOMERS] [ROWS] [RUNS]
#
# Generates a log with CUSTOMERS customers (default 1,000,000) and ROWS lines, aggregates it to
# customers with clientele, then alternates RUNS times (default 3): clientele's fit, and
# scikit-learn's on the identical scaled matrix (log1p + z-score of recency, frequency,
# monetary), k = 8, n_init = 10, max_iter = 300, tol = 1e-4 (scikit-learn's definition for
# both). Fit time and peak memory of each process (peakmem.py) go to $WORK/kmeans_results.jsonl.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
customers="${1:-1000000}"
rows="${2:-5000000}"
runs="${3:-3}"
work="${WORK:-/tmp/clientele-bench}"
python="${CLIENTELE_PYTHON:-$HOME/.cache/clientele-venv/bin/python}"
# Release builds go to their own directory, so they never evict the debug build CI uses.
target="${CLIENTELE_RELEASE_TARGET:-$HOME/.cache/clientele-release}"
mkdir -p "$work"

export CARGO_TARGET_DIR="$target"
cargo build --release --quiet --manifest-path "$repo/Cargo.toml" -p clientele-cli
cargo build --release --quiet --manifest-path "$repo/Cargo.toml" -p clientele-cli --example cluster_bench
bin="$target/release"

log="$work/log_${customers}.parquet"
table="$work/customers_${customers}.parquet"
[ -f "$log" ] || "$bin/clientele" generate --customers "$customers" --rows "$rows" -q -o "$log"
[ -f "$table" ] || "$bin/clientele" customers "$log" -q -o "$table"

results="$work/kmeans_results.jsonl"
: > "$results"
for run in $(seq "$runs"); do
    for tool in clientele scikit-learn; do
        if [ "$tool" = clientele ]; then
            cmd=("$bin/examples/cluster_bench" "$table" 8 10 300 1e-4 "$work/matrix.f64")
        else
            cmd=("$python" "$repo/benches/compare/kmeans_sklearn.py" "$work/matrix.f64" 3 8 10 300 1e-4)
        fi
        python3 "$repo/benches/compare/peakmem.py" --json "${cmd[@]}" > "$work/out.json" 2> "$work/mem.json"
        echo "{\"run\": $run, \"memory\": $(tail -1 "$work/mem.json"), \"result\": $(cat "$work/out.json")}" | tee -a "$results"
    done
done
