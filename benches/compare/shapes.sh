#!/usr/bin/env bash
# RFM + ABC on logs of several shapes: clientele against polars, DuckDB, polars' group-by floor
# and polars' decoding alone, in one session, alternating runs (docs/benchmarks.md, "Shapes").
#
#   bash benches/compare/shapes.sh [ROWS] [ROUNDS]
#
# ROWS: rows of each log (default 50M; k and M suffixes), customers ROWS / 10. ROUNDS: timed
# rounds (default 3); each round runs every tool once per shape, in an order rotated by one.
# Environment:
#   SHAPES   shapes to measure, ORDER-CODEC-GROUP-IDS each (default below: the issue's shape,
#            time-snappy-1m-int, then each factor changed alone, and the CSV log):
#            ORDER  time | customer | shuffled | blocks (clientele generate --row-order)
#            CODEC  snappy | zstd | none, or csv for a CSV log
#            GROUP  rows per Parquet row group: 1m = 1,000,000, 128k = 131,072, 512k = 524,288
#            IDS    int | text (customer and order ids)
#   TOOLS    default "clientele polars duckdb floor-polars decode-polars"
#   WORK     work dir (default /tmp/clientele-bench); logs are cached in $WORK/shape_logs
#   CLIENTELE_BIN, CLIENTELE_RELEASE_TARGET, CLIENTELE_PYTHON, SEED: as for rfm.sh
#
# Every run is its own process under peakmem.py (wall, CPU seconds of all threads, peak RSS);
# results go to $WORK/shapes_results.jsonl and the table (peers/shapes_table.py) to
# $WORK/shapes_results.md and stdout. After the first round of each shape, check_rfm.py holds
# the polars and DuckDB outputs to clientele's, customer by customer (exit 1 on a mismatch).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
size="${1:-50M}"
rounds="${2:-3}"
work="${WORK:-/tmp/clientele-bench}"
shapes="${SHAPES:-time-snappy-1m-int customer-snappy-1m-int shuffled-snappy-1m-int time-zstd-1m-int time-snappy-128k-int time-snappy-1m-text blocks-zstd-512k-int time-csv-1m-int}"
tools="${TOOLS:-clientele polars duckdb floor-polars decode-polars}"
seed="${SEED:-42}"
python="${CLIENTELE_PYTHON:-$HOME/.cache/clientele-venv/bin/python}"
peers="$here/peers"
mkdir -p "$work/shape_logs" "$work/shape_out"

# shellcheck source=common.sh
source "$here/common.sh"
clientele=$(clientele_binary "$repo" "$work")
"$python" -c "import duckdb, polars, pyarrow" || {
    echo "shapes.sh: $python lacks duckdb/polars/pyarrow; see benches/compare/README.md" >&2
    exit 2
}

case "$size" in
    *[Mm]) rows=$(( ${size%[Mm]} * 1000000 )) ;;
    *[Kk]) rows=$(( ${size%[Kk]} * 1000 )) ;;
    *) rows="$size" ;;
esac
customers=$(( rows / 10 ))

group_rows() {
    case "$1" in
        1m) echo 1000000 ;; 128k) echo 131072 ;; 512k) echo 524288 ;;
        *[0-9]) echo "$1" ;;
        *) echo "shapes.sh: unknown row-group size $1" >&2; exit 2 ;;
    esac
}

# The cached log of SHAPE (generated once, atomically).
log_for() {
    local shape=$1 order codec group ids ext flags
    IFS=- read -r order codec group ids <<< "$shape"
    [ "$ids" = int ] && ids=integer
    if [ "$codec" = csv ]; then ext=csv; flags=(); else
        ext=parquet; flags=(--compression "$codec" --row-group-rows "$(group_rows "$group")"); fi
    local log="$work/shape_logs/${shape}_${rows}_seed${seed}.$ext"
    if [ ! -f "$log" ]; then
        echo "generating $log" >&2
        local tmp="$work/shape_logs/.tmp_$$.$ext"
        "$clientele" generate --customers "$customers" --rows "$rows" --seed "$seed" \
            --row-order "$order" --ids "$ids" "${flags[@]}" -q -o "$tmp"
        mv "$tmp" "$log"
    fi
    echo "$log"
}

command_for() {
    local tool=$1 log=$2 out=$3
    case "$tool" in
        clientele) cmd=("$clientele" segment "$log" -q -o "$out" --binning rank --columns "$job_columns") ;;
        clientele-full) cmd=("$clientele" segment "$log" -q -o "$out" --binning rank) ;;
        duckdb | polars) cmd=("$python" "$peers/rfm_$tool.py" "$log" "$out") ;;
        floor-duckdb | floor-polars) cmd=("$python" "$peers/floor_${tool#floor-}.py" "$log" "$out") ;;
        decode-polars) cmd=("$python" "$peers/decode_polars.py" "$log" "$out") ;;
        *) echo "shapes.sh: unknown tool $tool" >&2; exit 2 ;;
    esac
}

run_id="$(date -u +%Y%m%dT%H%M%SZ)"
results="$work/shapes_results.jsonl"
versions=$("$python" -c 'import duckdb, polars, sys
print(f"python {sys.version.split()[0]}, duckdb {duckdb.__version__}, polars {polars.__version__}")')
rev=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo "+dirty" || true)
for shape in $shapes; do log_for "$shape" > /dev/null; done
"$python" -c 'import json, sys
print(json.dumps({"kind": "meta", "run_id": sys.argv[1], "cpus": int(sys.argv[2]), "versions": sys.argv[3],
                  "loadavg": sys.argv[4]}))' \
    "$run_id" "$(nproc)" "clientele $rev$dirty, $versions" "$(cut -d' ' -f1-3 /proc/loadavg)" >> "$results"
echo "load average before timing: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"

read -r -a tool_list <<< "$tools"
failures=0
for shape in $shapes; do
    log=$(log_for "$shape")
    warm_read "$log"
    dir="$work/shape_out/$shape"
    mkdir -p "$dir"
    n=${#tool_list[@]}
    for round in $(seq "$rounds"); do
        for i in $(seq 0 $(( n - 1 ))); do
            tool=${tool_list[$(( (i + round - 1) % n ))]}
            out="$dir/$tool.parquet"
            rm -f "$out"
            command_for "$tool" "$log" "$out"
            status=0
            python3 "$here/peakmem.py" --json "${cmd[@]}" > "$work/shapes_stdout.json" 2> "$work/shapes_mem.json" || status=$?
            [ "$status" = 0 ] || { failures=$((failures + 1)); echo "  $tool failed (exit $status): $(head -c 2000 "$work/shapes_mem.json")" >&2; }
            "$python" - "$work/shapes_mem.json" "$results" "$run_id" "$rows" "$customers" "$shape" "$tool" "$round" "$(stat -L -c %s "$log")" <<'PY'
import json, sys
mem_path, results, run_id, rows, customers, shape, tool, rnd, size = sys.argv[1:]
mem = json.loads(open(mem_path).read().strip().splitlines()[-1])
r = {"kind": "timing", "run_id": run_id, "rows": int(rows), "customers": int(customers), "shape": shape,
     "bytes": int(size), "tool": tool, "round": int(rnd), **mem}
with open(results, "a") as f:
    f.write(json.dumps(r) + "\n")
failed = "" if r["exit"] == 0 else f"  FAILED (exit {r['exit']})"
print(f"{shape:<24} round {rnd}  {tool:<14} {r['seconds']:7.2f} s  {r['cpu_seconds']:7.2f} s CPU "
      f"{r['peak_rss_kb'] / 1024:7.0f} MB{failed}")
PY
        done
        if [ "$round" = 1 ]; then
            strict=()
            for tool in "${tool_list[@]}"; do
                case "$tool" in duckdb | polars) [ -f "$dir/$tool.parquet" ] && strict+=("$tool=$dir/$tool.parquet") ;; esac
            done
            if [ -f "$dir/clientele.parquet" ] && [ ${#strict[@]} -gt 0 ]; then
                "$python" "$peers/check_rfm.py" --label "$shape" --jsonl "$work/shapes_checks.jsonl" \
                    "$dir/clientele.parquet" "${strict[@]}" || {
                    echo "shapes.sh: outputs disagree on $shape; see the counts above" >&2
                    exit 1
                }
            fi
        fi
    done
done

"$python" "$peers/shapes_table.py" "$results" | tee "$work/shapes_results.md"
if [ "$failures" != 0 ]; then
    echo "shapes.sh: $failures timed run(s) failed; see above" >&2
    exit 3
fi
