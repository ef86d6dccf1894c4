#!/usr/bin/env bash
# Wall time of `report --clv --rejects R` against `segment --clv` on the same input
# (docs/benchmarks.md, "One read of the input"): alternating runs, medians and their ratio.
#
# usage: benches/one_pass/time_ratio.sh BIN [RUNS] [INPUT] [EXTRA-ARGS]
#   defaults: 5 runs, Online Retail as plain CSV at $ONLINE_RETAIL_CSV,
#   `--calibration-end 2011-09-30`.
set -euo pipefail
bin=$(realpath "$1")
runs=${2:-5}
input=${3:-${ONLINE_RETAIL_CSV:-/work/notes/online_retail.csv}}
extra=${4:---calibration-end 2011-09-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
seconds() { # command... -> wall seconds
  local start end
  start=$(date +%s.%N)
  "$@" > /dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
: > "$work/segment"; : > "$work/report"
for i in $(seq "$runs"); do
  # shellcheck disable=SC2086
  seconds "$bin" segment "$input" -q -o "$work/segments.csv" --clv $extra >> "$work/segment"
  rm -rf "$work/out"
  # shellcheck disable=SC2086
  seconds "$bin" report "$input" -q --out-dir "$work/out" --clv $extra --rejects "$work/rejects.csv" >> "$work/report"
done
s=$(median < "$work/segment"); r=$(median < "$work/report")
echo "segment --clv:            median ${s}s ($(sort -g "$work/segment" | head -1)-$(sort -g "$work/segment" | tail -1))"
echo "report --clv --rejects R: median ${r}s ($(sort -g "$work/report" | head -1)-$(sort -g "$work/report" | tail -1))"
echo "ratio: $(echo "scale=2; $r / $s" | bc)"
