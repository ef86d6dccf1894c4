//! Times clientele's k-means on a customer table, or writes the scaled matrix so a peer fits
//! exactly the same numbers. Used by `benches/compare/kmeans.sh`.
//!
//! ```text
//! cluster_bench CUSTOMERS.parquet K N_INIT MAX_ITER TOL [MATRIX.f64]
//! ```
//!
//! Without MATRIX: fits and prints one JSON line (fit seconds, inertia as a sum, cluster sizes);
//! `CLIENTELE_KMEANS_TIMING=1` adds k-means' breakdown (seeding, assignment, update) on stderr.
//! With MATRIX: writes the scaled matrix (little-endian f64, row-major) and exits.

use std::io::Write;
use std::time::Instant;

use clientele::cluster::{self, ClusterCount, ClusterParams, FeatureTransform};
use clientele::polars::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 6 {
        return Err("usage: cluster_bench CUSTOMERS.parquet K N_INIT MAX_ITER TOL [MATRIX.f64]".into());
    }
    let customers =
        LazyFrame::scan_parquet(PlRefPath::new(&args[1]), ScanArgsParquet::default())?.collect()?;
    let params = ClusterParams::new()
        .k(ClusterCount::Fixed(args[2].parse()?))
        .n_init(args[3].parse()?)
        .max_iter(args[4].parse()?)
        .tolerance(args[5].parse()?)
        // The silhouette is not part of k-means; keep its cost small and fixed.
        .silhouette_sample(1_000)
        .check()?;
    if let Some(path) = args.get(6) {
        let (_, matrix) =
            FeatureTransform::fit(&customers, params.features(), params.transform(), params.scale())?;
        let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
        for x in matrix.iter() {
            out.write_all(&x.to_le_bytes())?;
        }
        out.flush()?;
        return Ok(());
    }
    let start = Instant::now();
    let fitted = cluster::fit(&customers, &params)?;
    let seconds = start.elapsed().as_secs_f64();
    let mut sizes: Vec<usize> = fitted.profiles.iter().map(|p| p.customers).collect();
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    println!(
        "{{\"tool\": \"clientele\", \"customers\": {}, \"fit_seconds\": {seconds:.3}, \"inertia\": {}, \"sizes\": {sizes:?}}}",
        customers.height(),
        fitted.quality.inertia
    );
    Ok(())
}
