//! Clusters on Online Retail against scikit-learn, saved models, and the k sweep.

use std::io::Write;
use std::process::Command;

use chrono::NaiveDate;
use clientele::cluster::{self, ClusterCount, ClusterModel, ClusterParams, FeatureTransform};
use clientele::customers::{self, CustomerTable};
use clientele::ingest::{self, IngestOptions};
use clientele::{AsOf, ReturnsPolicy, RowPolicy};

use crate::support;

fn online_retail_customers() -> Option<CustomerTable> {
    let datasets = support::datasets()?;
    let tx = ingest::scan(
        datasets.join("online_retail/online_retail.csv.gz"),
        &IngestOptions::default(),
    )
    .unwrap();
    let policy = RowPolicy {
        as_of: AsOf::Date(NaiveDate::from_ymd_opt(2011, 12, 10).unwrap()),
        returns: ReturnsPolicy::Exclude,
    };
    Some(customers::aggregate(&tx, &policy).unwrap())
}

/// Runs scikit-learn on the same matrix; returns (best-of-n_init inertia, sizes largest first).
fn sklearn_kmeans(python: &str, matrix: &ndarray::Array2<f64>, k: usize) -> (f64, Vec<usize>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("matrix.csv");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for row in matrix.rows() {
        let cells: Vec<String> = row.iter().map(|x| format!("{x:?}")).collect();
        writeln!(file, "{}", cells.join(",")).unwrap();
    }
    drop(file);
    let out = Command::new(python)
        .arg(support::script("kmeans_reference.py"))
        .arg(&path)
        .args([
            k.to_string(),
            "10".into(),
            "300".into(),
            "1e-4".into(),
            "0".into(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sizes = json["sizes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    (json["inertia"].as_f64().unwrap(), sizes)
}

#[test]
fn online_retail_k4_matches_scikit_learn() {
    let Some(python) = support::python_with("sklearn") else {
        return;
    };
    let Some(table) = online_retail_customers() else {
        return;
    };
    assert_eq!(table.len(), 4_339);
    let params = ClusterParams::new()
        .k(ClusterCount::Fixed(4))
        .n_init(10)
        .check()
        .unwrap();
    let fitted = cluster::fit(&table.frame, &params).unwrap();

    // The same matrix: log1p, then z-score, of recency_days, frequency, monetary.
    let (_, matrix) = FeatureTransform::fit(
        &table.frame,
        params.features(),
        params.transform(),
        params.scale(),
    )
    .unwrap();
    let (sk_inertia, sk_sizes) = sklearn_kmeans(&python, &matrix, 4);
    let ours = fitted.quality.inertia;
    let gap = (ours - sk_inertia) / sk_inertia;
    eprintln!(
        "inertia: clientele {ours:.3}, scikit-learn {sk_inertia:.3} ({:+.3} %)",
        100.0 * gap
    );
    assert!(
        gap.abs() < 0.005,
        "inertia {ours} vs scikit-learn {sk_inertia}: {:+.3} %",
        100.0 * gap
    );

    let mut sizes: Vec<usize> = fitted.profiles.iter().map(|p| p.customers).collect();
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    eprintln!("sizes: clientele {sizes:?}, scikit-learn {sk_sizes:?}");
    for (a, b) in sizes.iter().zip(&sk_sizes) {
        let diff = a.abs_diff(*b) as f64 / table.len() as f64;
        assert!(
            diff < 0.02,
            "cluster sizes {sizes:?} vs scikit-learn {sk_sizes:?}"
        );
    }
    // Labels are ordered by value: mean monetary falls with the cluster number.
    let means: Vec<f64> = fitted
        .profiles
        .iter()
        .map(|p| p.revenue.unwrap() / p.customers as f64)
        .collect();
    assert!(means.windows(2).all(|w| w[0] >= w[1]), "{means:?}");
}

#[test]
fn a_saved_model_assigns_the_same_clusters() {
    let Some(table) = online_retail_customers() else {
        return;
    };
    let params = ClusterParams::new()
        .k(ClusterCount::Fixed(4))
        .n_init(3)
        .check()
        .unwrap();
    let fitted = cluster::fit(&table.frame, &params).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.json");
    fitted.model.save(&path).unwrap();
    let model = ClusterModel::load(&path).unwrap();
    assert_eq!(model, fitted.model);
    let applied = cluster::apply(&table.frame, &model).unwrap();
    assert_eq!(applied.labels, fitted.labels);
    assert_eq!(applied.quality.inertia, fitted.quality.inertia);
    // A corrupted model is refused with the file's name.
    std::fs::write(&path, model.to_json().replace("clientele-cluster-model", "other")).unwrap();
    let err = ClusterModel::load(&path).unwrap_err();
    assert!(err.to_string().contains("model.json"), "{err}");
}

#[test]
fn auto_k_reports_every_k_and_picks_the_best_silhouette() {
    let Some(table) = online_retail_customers() else {
        return;
    };
    let params = ClusterParams::new()
        .k(ClusterCount::Auto { min: 2, max: 6 })
        .n_init(2)
        .check()
        .unwrap();
    let fitted = cluster::fit(&table.frame, &params).unwrap();
    let ks: Vec<usize> = fitted.sweep.iter().map(|s| s.k).collect();
    assert_eq!(ks, [2, 3, 4, 5, 6]);
    let best = fitted.sweep.iter().map(|s| s.silhouette).fold(f64::MIN, f64::max);
    assert_eq!(fitted.quality.silhouette, best);
    assert_eq!(fitted.k(), fitted.quality.k);
    assert!(
        fitted.sweep.iter().all(|s| s.silhouette_customers == 4_339),
        "exact below 20,000 customers"
    );
    // Inertia falls as k grows.
    assert!(fitted.sweep.windows(2).all(|w| w[1].inertia < w[0].inertia));
}
