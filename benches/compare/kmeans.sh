#!/usr/bin/env bash
# Side-by-side k-means: clientele vs scikit-learn on the same matrix, at several sizes.
#
#   bash benches/compare/kmeans.sh [SIZES] [RUNS]
#
# SIZES is a list of customer counts (default "1000000 5000000"). For each, generates a log with
# 5 lines per customer, aggregates it to customers with clientele, writes the scaled matrix
# (log1p + z-score of recency, frequency, monetary) once, then alternates RUNS times (default 3,
# the order swapped every run): clientele's fit on the customer table, and scikit-learn's
# `KMeans(algorithm="lloyd")` on the identical matrix; k = 8, n_init = 10, max_iter = 300,
# tol = 1e-4 (scikit-learn's definition, relative to the mean feature variance, for both).
# Each process's wall time, CPU time and peak memory (peakmem.py) and its fit time (loading
# excluded) go to $WORK/kmeans_results.jsonl; kmeans_table.py prints the table from it.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
sizes="${1:-1000000 5000000}"
runs="${2:-3}"
work="${WORK:-/tmp/clientele-bench}"
python="${CLIENTELE_PYTHON:-$HOME/.cache/clientele-venv/bin/python}"
# Release builds go to their own directory, so they never evict the debug build CI uses.
target="${CLIENTELE_RELEASE_TARGET:-$HOME/.cache/clientele-release}"
mkdir -p "$work"

export CARGO_TARGET_DIR="$target"
cargo build --release --quiet --manifest-path "$repo/Cargo.toml" -p clientele-cli
cargo build --release --quiet --manifest-path "$repo/Cargo.toml" -p clientele-cli --example cluster_bench
bin="$work/bin"
mkdir -p "$bin"
# Copies, so another build into the same target directory cannot swap them mid-run.
cp "$target/release/clientele" "$target/release/examples/cluster_bench" "$bin/"

results="$work/kmeans_results.jsonl"
: > "$results"
for customers in $sizes; do
    log="$work/log_${customers}.parquet"
    table="$work/customers_${customers}.parquet"
    matrix="$work/matrix_${customers}.f64"
    [ -f "$log" ] || "$bin/clientele" generate --customers "$customers" --rows $((5 * customers)) -q -o "$log"
    [ -f "$table" ] || "$bin/clientele" customers "$log" -q -o "$table"
    "$bin/cluster_bench" "$table" 8 10 300 1e-4 "$matrix"
    clientele=("$bin/cluster_bench" "$table" 8 10 300 1e-4)
    sklearn=("$python" "$repo/benches/compare/kmeans_sklearn.py" "$matrix" 3 8 10 300 1e-4)
    for run in $(seq "$runs"); do
        if [ $((run % 2)) = 1 ]; then order="clientele scikit-learn"; else order="scikit-learn clientele"; fi
        for tool in $order; do
            if [ "$tool" = clientele ]; then cmd=("${clientele[@]}"); else cmd=("${sklearn[@]}"); fi
            python3 "$repo/benches/compare/peakmem.py" --json "${cmd[@]}" > "$work/out.json" 2> "$work/mem.json"
            echo "{\"customers\": $customers, \"run\": $run, \"memory\": $(tail -1 "$work/mem.json"), \"result\": $(cat "$work/out.json")}" | tee -a "$results"
        done
    done
done
python3 "$repo/benches/compare/kmeans_table.py" "$results"
