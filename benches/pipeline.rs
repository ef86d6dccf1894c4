//! Criterion benchmarks of the library stages on seeded generated logs.
//!
//! ```text
//! cargo bench -p clientele --bench pipeline
//! ```
//!
//! The logs are generated once, outside the timed closures; sizes are in the benchmark ids.

use std::hint::black_box;

use clientele::abc::{self, AbcParams};
use clientele::cluster::{self, ClusterCount, ClusterParams};
use clientele::clv::{self, ClvParams};
use clientele::customers;
use clientele::generate::{self, GenerateParams};
use clientele::ingest::{self, IngestOptions};
use clientele::output::OutputFormat;
use clientele::rfm::{self, Binning, RfmParams, SegmentRules};
use clientele::{RowPolicy, Segmenter};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const SIZES: [(u64, u64); 2] = [(10_000, 100_000), (100_000, 1_000_000)];

fn stages(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut group = c.benchmark_group("stages");
    group.sample_size(10);
    for (customers, rows) in SIZES {
        let params = GenerateParams::new(customers, rows)
            .seed(1)
            .check()
            .expect("valid params");
        let path = dir.path().join(format!("log_{rows}.parquet"));
        generate::write(&params, &path, OutputFormat::Parquet, 1).expect("generated log");
        let tx = ingest::scan(&path, &IngestOptions::default()).expect("scan");
        let label = format!("{}k_rows", rows / 1000);
        group.throughput(Throughput::Elements(rows));

        group.bench_function(BenchmarkId::new("aggregate", &label), |b| {
            b.iter(|| customers::aggregate(black_box(&tx), &RowPolicy::default()).expect("aggregate"))
        });

        let table = customers::aggregate(&tx, &RowPolicy::default()).expect("aggregate");
        group.throughput(Throughput::Elements(customers));
        for binning in [Binning::Quantile, Binning::Rank] {
            let params = RfmParams::quintiles().binning(binning).check().expect("params");
            group.bench_function(BenchmarkId::new(format!("score_{binning:?}"), &label), |b| {
                b.iter(|| {
                    rfm::score(black_box(&table.frame), &params, &SegmentRules::builtin()).expect("score")
                })
            });
        }
        let abc_params = AbcParams::default().check().expect("params");
        group.bench_function(BenchmarkId::new("abc", &label), |b| {
            b.iter(|| abc::classify(black_box(&table.frame), &abc_params).expect("abc"))
        });
        group.throughput(Throughput::Elements(rows));
        group.bench_function(BenchmarkId::new("segment_end_to_end", &label), |b| {
            b.iter(|| Segmenter::new().run(black_box(&tx)).expect("segment"))
        });
    }
    group.finish();
}

/// k-means on the customers of a generated log (k = 8, 3 runs), and the BTYD fits.
fn models(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut group = c.benchmark_group("models");
    group.sample_size(10);
    {
        let (customers, rows) = (100_000u64, 1_000_000u64);
        let params = GenerateParams::new(customers, rows)
            .seed(3)
            .check()
            .expect("valid params");
        let path = dir.path().join("log.parquet");
        generate::write(&params, &path, OutputFormat::Parquet, 1).expect("generated log");
        let tx = ingest::scan(&path, &IngestOptions::default()).expect("scan");
        let table = customers::aggregate(&tx, &RowPolicy::default()).expect("aggregate");
        let label = format!("{}k_customers", customers / 1000);
        group.throughput(Throughput::Elements(customers));
        let kmeans = ClusterParams::new()
            .k(ClusterCount::Fixed(8))
            .n_init(3)
            .silhouette_sample(1_000)
            .check()
            .expect("params");
        group.bench_function(BenchmarkId::new("kmeans_k8", &label), |b| {
            b.iter(|| cluster::fit(black_box(&table.frame), &kmeans).expect("clusters"))
        });
        let clv_params = ClvParams::new().check().expect("params");
        let summary = clv::summarize(&tx, &clv_params).expect("summary");
        group.bench_function(BenchmarkId::new("bgnbd_gamma_gamma_fit", &label), |b| {
            b.iter(|| clv::fit(black_box(&summary), &clv_params).expect("fit"))
        });
    }
    group.finish();
}

criterion_group!(benches, stages, models);
criterion_main!(benches);
