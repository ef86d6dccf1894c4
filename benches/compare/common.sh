# Shared by the comparison harnesses (sourced, not run): the RFM job's output columns and the
# clientele binary they time.

# The nine columns every peer writes, and clientele with `--columns`.
job_columns=customer_id,recency_days,frequency,monetary,r_score,f_score,m_score,rfm_cell,abc_class

# clientele_binary REPO WORK: prints $CLIENTELE_BIN when set, else builds REPO's CLI in release
# (into ${CLIENTELE_RELEASE_TARGET:-~/.cache/clientele-release}, apart from the debug build CI
# uses) and prints a copy in WORK/bin, so that another build into the same target directory
# cannot swap the binary mid-run.
clientele_binary() {
    local repo=$1 work=$2
    if [ -n "${CLIENTELE_BIN:-}" ]; then
        echo "$CLIENTELE_BIN"
        return
    fi
    local target="${CLIENTELE_RELEASE_TARGET:-$HOME/.cache/clientele-release}"
    CARGO_TARGET_DIR="$target" cargo build --release --quiet --manifest-path "$repo/Cargo.toml" -p clientele-cli >&2
    mkdir -p "$work/bin"
    cp "$target/release/clientele" "$work/bin/clientele"
    echo "$work/bin/clientele"
}

# warm_read FILE: reads FILE once, untimed, so that its first timed run finds it in the page
# cache as the later ones do: a machine may page out a file left untouched for a while (stop
# 29's VM runs DAMON's page-out of pages idle for 60 s), and the first timed run then read it
# partly from disk.
warm_read() {
    cat "$1" > /dev/null
}
