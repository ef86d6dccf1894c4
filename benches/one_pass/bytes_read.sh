#!/usr/bin/env bash
# Bytes a command takes from its input file, through read calls and through memory maps
# (docs/benchmarks.md, "Bytes read from the input"), as a multiple of the file's size.
#
# usage: benches/one_pass/bytes_read.sh BIN [INPUT EXTRA-ARGS]...
#   without inputs: Online Retail (CSV.gz from $CLIENTELE_DATASETS, and plain CSV at
#   $ONLINE_RETAIL_CSV) and a generated log as Parquet at $LOG_PARQUET, each with
#   `report --clv --rejects R`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(realpath "$1"); shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -O2 -shared -fPIC -o "$work/readcount.so" "$here/readcount.c" -ldl -lpthread
if [ $# -eq 0 ]; then
  d=${CLIENTELE_DATASETS:-/work/shared/datasets}
  set -- "$d/online_retail/online_retail.csv.gz" "--calibration-end 2011-09-30" \
         "${ONLINE_RETAIL_CSV:-/work/notes/online_retail.csv}" "--calibration-end 2011-09-30" \
         "${LOG_PARQUET:-/work/notes/log10m.parquet}" ""
fi
printf '| input | size | read() | mapped pages | total | × size |\n| --- | ---: | ---: | ---: | ---: | ---: |\n'
while [ $# -ge 2 ]; do
  input=$(realpath "$1"); extra=$2; shift 2
  rm -rf "$work/out"
  # shellcheck disable=SC2086
  READCOUNT_PATH=$input READCOUNT_OUT=$work/counts LD_PRELOAD=$work/readcount.so \
    "$bin" report "$input" -q --out-dir "$work/out" --clv $extra --rejects "$work/rejects.csv"
  size=$(stat -c %s "$input")
  read -r r m _ _ < <(sed 's/[a-z_]*=//g' "$work/counts")
  awk -v name="$(basename "$input")" -v s="$size" -v r="$r" -v m="$m" 'BEGIN {
    printf "| %s | %.1f MB | %.1f MB | %.1f MB | %.1f MB | %.2f |\n", name, s/1e6, r/1e6, m/1e6, (r+m)/1e6, (r+m)/s }'
done
