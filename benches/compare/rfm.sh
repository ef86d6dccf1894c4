#!/usr/bin/env bash
# RFM + ABC side by side: clientele vs DuckDB, polars and pandas (and a group-by floor probe).
#
#   bash benches/compare/rfm.sh [SIZES] [ROUNDS]
#
# SIZES: rows of the generated logs, e.g. "1M 10M 50M" (the default); k and M suffixes work.
# ROUNDS: timed rounds (default 3); each round runs every tool once, in an order rotated by one
# each round. Environment:
#   WORK                      work dir, default /tmp/clientele-bench (logs are cached there)
#   FORMATS                   default "parquet csv"
#   TOOLS                     default "clientele clientele-full duckdb polars pandas floor-duckdb
#                             floor-polars" (clientele writes the peers' columns, clientele-full
#                             its whole segment table)
#   CUSTOMERS                 customers per log (default: rows / 10)
#   SEED                      generator seed (default 42)
#   CLIENTELE_PYTHON          Python with duckdb, polars, pandas, pyarrow
#                             (default ~/.cache/clientele-venv/bin/python)
#   CLIENTELE_BIN             use this clientele binary instead of building the release CLI
#   CLIENTELE_RELEASE_TARGET  cargo target dir of the release build (~/.cache/clientele-release)
#   PRECHECK=0                skip the agreement check on a small log (10k rows, 1,003 customers)
#   NATURAL=1                 also run the natural idioms (duckdb NTILE, pandas float sums),
#                             untimed, once per size and format, and report how they differ
#
# The job, for every tool: per customer recency_days, frequency, monetary, quintile scores
# r/f/m_score (rank binning: pandas.qcut(x.rank(method="first"), 5) on customers sorted by id),
# rfm_cell, ABC class by customer share 5/15/80, written to Parquet. After the first round of
# each size and format, check_rfm.py compares every peer's output with clientele's; any
# mismatch stops the harness with exit 1. Timings (wall time and peak RSS of each process,
# peakmem.py) are appended to $WORK/rfm_results.jsonl; the Markdown table goes to
# $WORK/rfm_results.md and stdout.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
sizes="${1:-1M 10M 50M}"
rounds="${2:-3}"
work="${WORK:-/tmp/clientele-bench}"
formats="${FORMATS:-parquet csv}"
tools="${TOOLS:-clientele clientele-full duckdb polars pandas floor-duckdb floor-polars}"
seed="${SEED:-42}"
python="${CLIENTELE_PYTHON:-$HOME/.cache/clientele-venv/bin/python}"
peers="$here/peers"
mkdir -p "$work/rfm_logs" "$work/rfm_out"

# shellcheck source=common.sh
source "$here/common.sh"
clientele=$(clientele_binary "$repo" "$work")
"$python" -c "import duckdb, polars, pandas, pyarrow" || {
    echo "rfm.sh: $python lacks duckdb/polars/pandas/pyarrow; see benches/compare/README.md" >&2
    exit 2
}

rows_of() {  # 1M -> 1000000, 10k -> 10000
    case "$1" in
        *[Mm]) echo $(( ${1%[Mm]} * 1000000 )) ;;
        *[Kk]) echo $(( ${1%[Kk]} * 1000 )) ;;
        *) echo "$1" ;;
    esac
}

# The cached log for ROWS CUSTOMERS SEED FORMAT (generated once, atomically).
log_for() {
    local rows=$1 customers=$2 seed=$3 fmt=$4
    local log="$work/rfm_logs/rows${rows}_cust${customers}_seed${seed}.${fmt}"
    if [ ! -f "$log" ]; then
        echo "generating $log" >&2
        local tmp="$work/rfm_logs/.tmp_$$.${fmt}"
        "$clientele" generate --customers "$customers" --rows "$rows" --seed "$seed" -q -o "$tmp"
        mv "$tmp" "$log"
    fi
    echo "$log"
}

# The command line of TOOL on LOG writing OUT.
command_for() {
    local tool=$1 log=$2 out=$3
    case "$tool" in
        # The job's columns, as the peers write them; clientele-full writes the whole segment
        # table (18 columns: purchases, tenure, gross and returns, segment names...).
        clientele) cmd=("$clientele" segment "$log" -q -o "$out" --binning rank --columns "$job_columns") ;;
        clientele-full) cmd=("$clientele" segment "$log" -q -o "$out" --binning rank) ;;
        duckdb | polars | pandas) cmd=("$python" "$peers/rfm_$tool.py" "$log" "$out") ;;
        duckdb-natural | pandas-natural) cmd=("$python" "$peers/rfm_${tool%-natural}.py" "$log" "$out" --natural) ;;
        floor-duckdb | floor-polars) cmd=("$python" "$peers/floor_${tool#floor-}.py" "$log" "$out") ;;
        *) echo "rfm.sh: unknown tool $tool" >&2; exit 2 ;;
    esac
}

# Compares the outputs in DIR of the RFM tools among $2.. with clientele's.
check() {
    local dir=$1 label=$2; shift 2
    local strict=() info=()
    for tool in "$@"; do
        case "$tool" in
            clientele | clientele-full | floor-*) ;;
            *-natural) [ -f "$dir/$tool.parquet" ] && info+=("$tool=$dir/$tool.parquet") ;;
            *) if [ -f "$dir/$tool.parquet" ]; then strict+=("$tool=$dir/$tool.parquet");
               else echo "  $tool: no output to check (the run failed)" >&2; fi ;;
        esac
    done
    if [ ! -f "$dir/clientele.parquet" ]; then
        echo "rfm.sh: no clientele output in $dir to check against" >&2
        exit 1
    fi
    [ ${#info[@]} -gt 0 ] && info=(--info "${info[@]}")
    "$python" "$peers/check_rfm.py" --label "$label" --jsonl "$work/rfm_checks.jsonl" \
        "$dir/clientele.parquet" "${strict[@]}" "${info[@]}" || {
        echo "rfm.sh: outputs disagree ($label); see the counts above" >&2
        exit 1
    }
}

# Agreement on a small log whose customer count (1,003) is not a multiple of 5, where NTILE and
# qcut of ranks differ, in both formats; the natural idioms are shown for information.
if [ "${PRECHECK:-1}" != 0 ]; then
    for fmt in $formats; do
        log=$(log_for 10000 1003 7 "$fmt")
        dir="$work/rfm_out/precheck_$fmt"
        mkdir -p "$dir"
        checked=(clientele duckdb polars pandas duckdb-natural pandas-natural)
        for tool in "${checked[@]}"; do
            command_for "$tool" "$log" "$dir/$tool.parquet"
            "${cmd[@]}" > /dev/null
        done
        check "$dir" "precheck 10k rows $fmt" "${checked[@]}"
    done
fi

run_id="$(date -u +%Y%m%dT%H%M%SZ)"
results="$work/rfm_results.jsonl"
versions=$("$python" -c 'import duckdb, polars, pandas, pyarrow, numpy, sys
print(f"python {sys.version.split()[0]}, duckdb {duckdb.__version__}, polars {polars.__version__}, "
      f"pandas {pandas.__version__}, pyarrow {pyarrow.__version__}, numpy {numpy.__version__}")')
rev=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo "+dirty" || true)
"$python" -c 'import json, sys
print(json.dumps({"kind": "meta", "run_id": sys.argv[1], "host": sys.argv[2], "cpus": int(sys.argv[3]),
                  "versions": sys.argv[4], "clientele": sys.argv[5], "loadavg": sys.argv[6]}))' \
    "$run_id" "$(hostname)" "$(nproc)" "clientele $("$clientele" --version | awk '{print $2}') ($rev$dirty), $versions" \
    "$clientele" "$(cut -d' ' -f1-3 /proc/loadavg)" >> "$results"
echo "load average before timing: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs (other jobs skew the timings)"

read -r -a tool_list <<< "$tools"
failures=0
for size in $sizes; do
    rows=$(rows_of "$size")
    customers="${CUSTOMERS:-$(( rows / 10 ))}"
    for fmt in $formats; do
        log=$(log_for "$rows" "$customers" "$seed" "$fmt")
        warm_read "$log"
        dir="$work/rfm_out/${rows}_${fmt}"
        mkdir -p "$dir"
        n=${#tool_list[@]}
        for round in $(seq "$rounds"); do
            for i in $(seq 0 $(( n - 1 ))); do
                tool=${tool_list[$(( (i + round - 1) % n ))]}
                out="$dir/$tool.parquet"
                rm -f "$out"
                command_for "$tool" "$log" "$out"
                status=0
                python3 "$here/peakmem.py" --json "${cmd[@]}" > "$work/rfm_stdout.json" 2> "$work/rfm_mem.json" || status=$?
                [ "$status" = 0 ] || { failures=$((failures + 1)); echo "  $tool failed (exit $status): $(head -c 2000 "$work/rfm_mem.json")" >&2; }
                "$python" - "$work/rfm_mem.json" "$work/rfm_stdout.json" "$results" "$run_id" "$rows" \
                    "$customers" "$fmt" "$tool" "$round" <<'PY'
import json, sys
mem_path, stdout_path, results, run_id, rows, customers, fmt, tool, rnd = sys.argv[1:]
mem = json.loads(open(mem_path).read().strip().splitlines()[-1])
try:
    inner = json.loads(open(stdout_path).read().strip().splitlines()[-1]).get("inner_seconds")
except (ValueError, IndexError):
    inner = None
r = {"kind": "timing", "run_id": run_id, "rows": int(rows), "customers": int(customers), "format": fmt,
     "tool": tool, "round": int(rnd), **mem, "inner_seconds": inner}
with open(results, "a") as f:
    f.write(json.dumps(r) + "\n")
failed = "" if r["exit"] == 0 else f"  FAILED (exit {r['exit']})"
print(f"{r['rows']:>11,} {fmt:<8} round {rnd}  {tool:<13} {r['seconds']:8.2f} s {r['peak_rss_kb'] / 1024:7.0f} MB{failed}")
PY
            done
            if [ "$round" = 1 ]; then
                checked=("${tool_list[@]}")
                if [ "${NATURAL:-0}" = 1 ]; then  # the natural idioms, untimed, for information
                    for tool in duckdb-natural pandas-natural; do
                        command_for "$tool" "$log" "$dir/$tool.parquet"
                        "${cmd[@]}" > /dev/null
                        checked+=("$tool")
                    done
                fi
                check "$dir" "$rows rows $fmt" "${checked[@]}"
            fi
        done
    done
done

"$python" "$peers/rfm_table.py" "$results" | tee "$work/rfm_results.md"
if [ "$failures" != 0 ]; then
    echo "rfm.sh: $failures timed run(s) failed; see above" >&2
    exit 3
fi
