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
fn auto_k_reports_every_k_and_picks_the_knee_of_the_inertia_curve() {
    // The rule changed from the best silhouette (which chose k = 2 on this data) to the knee of
    // the inertia curve: the test now checks the knee, computed here from its definition.
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
    assert_eq!(fitted.k(), fitted.quality.k);
    assert!(
        fitted.sweep.iter().all(|s| s.silhouette_customers == 4_339),
        "exact below 20,000 customers"
    );
    // Inertia falls as k grows.
    assert!(fitted.sweep.windows(2).all(|w| w[1].inertia < w[0].inertia));
    // The knee: the k furthest below the chord from (2, I_2) to (6, I_6), both axes scaled.
    let (first, last) = (&fitted.sweep[0], &fitted.sweep[4]);
    let below = |s: &cluster::KScore| {
        let x = (s.k - 2) as f64 / 4.0;
        let y = (s.inertia - last.inertia) / (first.inertia - last.inertia);
        1.0 - x - y
    };
    let knee = fitted
        .sweep
        .iter()
        .max_by(|a, b| below(a).total_cmp(&below(b)).then(b.k.cmp(&a.k)))
        .unwrap();
    assert_eq!(fitted.k(), knee.k);
    assert!(fitted.k() >= 3, "the knee is never the end of the range");
    // The alternatives are printed: what the silhouette would have chosen, and the heights.
    let alternatives = fitted.alternatives.as_ref().unwrap();
    let best_silhouette = fitted
        .sweep
        .iter()
        .max_by(|a, b| a.silhouette.total_cmp(&b.silhouette).then(b.k.cmp(&a.k)))
        .unwrap();
    assert_eq!(alternatives.silhouette, best_silhouette.k);
    assert_eq!(alternatives.inertia_knee, fitted.k());
    for (h, s) in alternatives.knee_heights.iter().zip(&fitted.sweep) {
        assert!((h - below(s)).abs() < 1e-12);
    }
    let text = clientele::report::clusters_markdown(&fitted.summary());
    assert!(
        text.contains("knee of the inertia curve over k = 2..=6")
            && text.contains("Other rules would choose"),
        "{text}"
    );
}

/// Online Retail's rows before `day` (by InvoiceDate), written as an earlier export of the same
/// shop: a CSV with the same header. Returns the path and the number of rows kept.
fn earlier_export(dir: &std::path::Path, day: &str) -> (std::path::PathBuf, usize) {
    use std::io::BufRead;
    let source = support::datasets()
        .unwrap()
        .join("online_retail/online_retail.csv.gz");
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(std::fs::File::open(source).unwrap()));
    let path = dir.join("online_retail_earlier.csv");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let (mut kept, mut all) = (0, 0);
    for (i, line) in reader.lines().enumerate() {
        let line = line.unwrap();
        if i == 0 {
            writeln!(out, "{line}").unwrap();
            continue;
        }
        all += 1;
        // InvoiceDate is the only field shaped `,YYYY-MM-DD HH:MM:SS,`.
        let date = line
            .match_indices(',')
            .map(|(at, _)| &line[at + 1..])
            .find(|rest| {
                rest.len() > 20
                    && rest.as_bytes()[19] == b','
                    && chrono::NaiveDateTime::parse_from_str(&rest[..19], "%Y-%m-%d %H:%M:%S").is_ok()
            })
            .map(|rest| &rest[..10])
            .unwrap_or_else(|| panic!("no InvoiceDate in row {i}: {line}"));
        if date < day {
            writeln!(out, "{line}").unwrap();
            kept += 1;
        }
    }
    assert_eq!(all, 541_909);
    (path, kept)
}

#[test]
fn a_saved_model_places_new_customers_of_a_later_export_on_its_own_scale() {
    use clientele::polars::prelude::*;
    let Some(later) = online_retail_customers() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // The earlier export: the first seven months; fitted there, as of the day after.
    let (path, rows) = earlier_export(dir.path(), "2011-07-01");
    assert!((200_000..400_000).contains(&rows), "{rows}");
    let tx = ingest::scan(&path, &IngestOptions::default()).unwrap();
    let policy = RowPolicy {
        as_of: AsOf::Date(NaiveDate::from_ymd_opt(2011, 7, 1).unwrap()),
        returns: ReturnsPolicy::Exclude,
    };
    let earlier = customers::aggregate(&tx, &policy).unwrap();
    let params = ClusterParams::new()
        .k(ClusterCount::Fixed(4))
        .n_init(3)
        .check()
        .unwrap();
    let fitted = cluster::fit(&earlier.frame, &params).unwrap();
    let model_path = dir.path().join("model.json");
    fitted.model.save(&model_path).unwrap();
    let model = ClusterModel::load(&model_path).unwrap();

    // Genuinely new customers: in the full export (as of 2011-12-10), not in the earlier one.
    let new = later
        .frame
        .clone()
        .lazy()
        .join(
            earlier.frame.clone().lazy().select([col("customer_id")]),
            [col("customer_id")],
            [col("customer_id")],
            JoinArgs::new(JoinType::Anti),
        )
        .collect()
        .unwrap();
    assert!(
        new.height() > 1_000 && new.height() < later.len(),
        "{}",
        new.height()
    );
    let applied = cluster::apply(&new, &model).unwrap();
    assert_eq!(applied.labels.len(), new.height());
    assert_eq!(applied.chosen_by, cluster::KChosenBy::SavedModel);

    // The saved scale, not a refit: the new customers' own z-scores would centre them at 0.
    let (refit, _) =
        FeatureTransform::fit(&new, params.features(), params.transform(), params.scale()).unwrap();
    assert_eq!(applied.model.transform, fitted.model.transform);
    assert!(
        refit
            .center
            .iter()
            .zip(&model.transform.center)
            .any(|(a, b)| (a - b).abs() > 0.05)
    );
    // Each label is the nearest saved centroid of sign(x)·ln(1 + |x|) scaled by the saved
    // centre and scale, computed here by hand.
    let t = &model.transform;
    let columns: Vec<Vec<f64>> = t
        .features
        .iter()
        .map(|f| {
            let c = new.column(f).unwrap().cast(&DataType::Float64).unwrap();
            c.f64().unwrap().into_no_null_iter().collect()
        })
        .collect();
    let mut counts = vec![0usize; model.k()];
    for (i, label) in applied.labels.iter().enumerate() {
        let z: Vec<f64> = (0..t.features.len())
            .map(|j| {
                let x = columns[j][i];
                (x.signum() * x.abs().ln_1p() - t.center[j]) / t.scale_by[j]
            })
            .collect();
        let d2 = |c: &Vec<f64>| c.iter().zip(&z).map(|(a, b)| (a - b) * (a - b)).sum::<f64>();
        let nearest = (0..model.k())
            .min_by(|a, b| d2(&model.centroids[*a]).total_cmp(&d2(&model.centroids[*b])))
            .unwrap();
        assert_eq!(*label as usize, nearest, "customer row {i}");
        counts[nearest] += 1;
    }
    // New customers are recent and have bought few times: they land in more than one cluster,
    // and the profiles describe them in the model's clusters.
    assert!(counts.iter().filter(|c| **c > 0).count() >= 2, "{counts:?}");
    let sizes: Vec<usize> = applied.profiles.iter().map(|p| p.customers).collect();
    assert_eq!(sizes, counts);
}
