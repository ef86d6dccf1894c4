//! Compatibility presets against the tools they reproduce: R rfm's README figures, a
//! transcription of R's rfm rule, and the Python package lifetimes run on the same data.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use chrono::NaiveDate;
use clientele::clv::{self, ClvResult, FittedTransactions, Horizon, HorizonUnit, Period, TimeUnit};
use clientele::ingest::{self, Delimiter, Transactions};
use clientele::polars::prelude::*;
use clientele::presets::Preset;
use clientele::rfm::{self, RfmConvention, RfmParams, SegmentRules};
use clientele::settings::{ClvSettings, Settings};
use clientele::{AsOf, Columns};

use crate::support;

fn column_strings(frame: &DataFrame, name: &str) -> Vec<String> {
    let c = frame.column(name).unwrap().cast(&DataType::String).unwrap();
    c.str().unwrap().iter().map(|v| v.unwrap().to_string()).collect()
}

fn column_f64s(frame: &DataFrame, name: &str) -> Vec<f64> {
    let c = frame.column(name).unwrap().cast(&DataType::Float64).unwrap();
    c.f64().unwrap().iter().map(|v| v.unwrap()).collect()
}

#[test]
fn rfm_r_reproduces_the_readme_of_the_r_package() {
    let Some(datasets) = support::datasets() else {
        return;
    };
    let settings = Settings {
        preset: Some(Preset::RfmR),
        analysis: clientele::settings::AnalysisSettings {
            as_of: AsOf::Date(NaiveDate::from_ymd_opt(2006, 12, 31).unwrap()),
            ..Default::default()
        },
        ..Settings::default()
    };
    let job = settings.check().unwrap();
    let tx = ingest::scan(datasets.join("rfm_r/rfm_data_orders.csv"), &job.ingest).unwrap();
    let result = job.segmenter().run(&tx).unwrap();
    let frame = &result.frame;
    assert_eq!(frame.height(), 995);
    let ids = column_strings(frame, "customer_id");
    let row = |id: &str| ids.iter().position(|i| i == id).unwrap();
    let value = |name: &str, at: usize| column_f64s(frame, name)[at];
    let segments = column_strings(frame, "segment");
    // rfm's README: customer, recency_days, transaction_count, amount, scores, segment.
    let readme = [
        (
            "Abbey O'Reilly",
            205.0,
            6.0,
            472.0,
            [3.0, 4.0, 3.0],
            "Potential Loyalist",
        ),
        ("Add Senger", 140.0, 3.0, 340.0, [4.0, 1.0, 2.0], "New Customers"),
        (
            "Aden Lesch",
            194.0,
            4.0,
            405.0,
            [3.0, 2.0, 3.0],
            "Loyal Customers",
        ),
        (
            "Aden Murphy",
            98.0,
            7.0,
            596.0,
            [5.0, 4.0, 4.0],
            "Potential Loyalist",
        ),
        (
            "Admiral Senger",
            132.0,
            5.0,
            448.0,
            [4.0, 3.0, 3.0],
            "Potential Loyalist",
        ),
    ];
    for (id, recency, count, amount, [r, f, m], segment) in readme {
        let i = row(id);
        let got = [
            value("recency_days", i),
            value("transactions", i),
            value("monetary", i),
            value("r_score", i),
            value("f_score", i),
            value("m_score", i),
            value("rfm_score", i),
        ];
        assert_eq!(
            got,
            [recency, count, amount, r, f, m, 100.0 * r + 10.0 * f + m],
            "{id}"
        );
        assert_eq!(segments[i], segment, "{id}");
    }
    // rfm's threshold table of the same call (R/rfm-table-transaction.R, `threshold`).
    let cuts: Vec<Vec<f64>> = result.rfm.scoring.iter().map(|s| s.cut_points.clone()).collect();
    assert_eq!(cuts[1], [4.0, 5.0, 6.0, 8.0]);
    assert_eq!(cuts[0][..2], [115.0, 181.0]);
    assert_eq!(
        result.summary().unwrap().settings.preset.unwrap().preset,
        Preset::RfmR
    );
}

/// R's `quantile(x, probs, type = 7)` (quantile.default in R's stats package), transcribed.
fn r_quantile(x: &[f64], probs: &[f64]) -> Vec<f64> {
    let n = x.len() as f64;
    let mut x = x.to_vec();
    x.sort_by(f64::total_cmp);
    let at = |i: f64| x[i as usize - 1]; // R indexes from 1
    probs
        .iter()
        .map(|p| {
            let index = 1.0 + (n - 1.0).max(0.0) * p;
            let (lo, hi) = (index.floor(), index.ceil());
            let qs = at(lo);
            if index > lo && at(hi) != qs {
                let h = index - lo;
                (1.0 - h) * qs + h * at(hi)
            } else {
                qs
            }
        })
        .collect()
}

/// rfm's `bins`, `bins_lower`, `bins_upper` and the loop of `rfm_prep_bins`, transcribed:
/// `score[x >= lower[i] & x < upper[i]] <- score_of(i)`.
fn r_scores(x: &[f64], n_bins: usize, reversed: bool) -> Vec<u8> {
    let length_out = n_bins + 1;
    let by = 1.0 / (length_out - 1) as f64;
    let probs: Vec<f64> = (0..length_out)
        .map(|k| if k == n_bins { 1.0 } else { 0.0 + k as f64 * by })
        .collect();
    let q = r_quantile(x, &probs);
    let breaks: Vec<f64> = q[1..n_bins].iter().map(|v| v + 1.0).collect();
    let min = x.iter().copied().fold(f64::INFINITY, f64::min);
    let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lower: Vec<f64> = std::iter::once(min).chain(breaks.iter().copied()).collect();
    let upper: Vec<f64> = breaks.iter().copied().chain(std::iter::once(max + 1.0)).collect();
    let mut score = vec![0u8; x.len()];
    for i in 0..n_bins {
        let s = if reversed { n_bins - i } else { i + 1 };
        for (slot, v) in score.iter_mut().zip(x) {
            if *v >= lower[i] && *v < upper[i] {
                *slot = s as u8;
            }
        }
    }
    score
}

proptest::proptest! {
    #[test]
    fn rfm_r_scores_equal_a_transcription_of_the_r_package(
        rows in proptest::collection::vec((0i32..400, 1i32..30, -50i32..2000), 1..300),
        bins in 2usize..10,
        quarters in proptest::bool::ANY,
    ) {
        let scale = if quarters { 4.0 } else { 1.0 };
        let recency: Vec<i64> = rows.iter().map(|r| i64::from(r.0)).collect();
        let transactions: Vec<i64> = rows.iter().map(|r| i64::from(r.1)).collect();
        let monetary: Vec<f64> = rows.iter().map(|r| f64::from(r.2) / scale).collect();
        let ids: Vec<i64> = (0..rows.len() as i64).collect();
        let customers = df!(
            "customer_id" => ids,
            "recency_days" => recency.clone(),
            "frequency" => transactions.iter().map(|t| (t + 1) / 2).collect::<Vec<i64>>(),
            "transactions" => transactions.clone(),
            "monetary" => monetary.clone(),
        ).unwrap();
        let params = RfmParams::new().bins(bins).convention(RfmConvention::RfmR).check().unwrap();
        let scored = rfm::score(&customers, &params, &SegmentRules::builtin()).unwrap();
        let got = |name: &str| -> Vec<u8> {
            scored.frame.column(name).unwrap().u8().unwrap().iter().map(|v| v.unwrap()).collect()
        };
        let as_f64 = |v: &[i64]| v.iter().map(|x| *x as f64).collect::<Vec<f64>>();
        proptest::prop_assert_eq!(got("r_score"), r_scores(&as_f64(&recency), bins, true));
        proptest::prop_assert_eq!(got("f_score"), r_scores(&as_f64(&transactions), bins, false));
        proptest::prop_assert_eq!(got("m_score"), r_scores(&monetary, bins, false));
    }
}

fn cdnow_settings(unit: TimeUnit, period: Period, horizon: Horizon) -> Settings {
    let mut settings = Settings {
        preset: Some(Preset::Lifetimes),
        columns: Columns::default()
            .customer("column_2")
            .time("column_3")
            .amount("column_5"),
        clv: Some(ClvSettings {
            calibration_end: NaiveDate::from_ymd_opt(1997, 9, 30),
            time_unit: unit,
            period,
            horizon,
            ..ClvSettings::default()
        }),
        ..Settings::default()
    };
    settings.input.delimiter = Delimiter::Whitespace;
    settings.input.header = false;
    settings
}

/// lifetimes' per-customer rows (tests/support/lifetimes_preset_reference.py), by customer id.
fn lifetimes_rows(python: &str, job: serde_json::Value, dir: &Path) -> BTreeMap<String, Vec<f64>> {
    let (job_path, out) = (dir.join("job.json"), dir.join("lifetimes.csv"));
    let mut job = job;
    job["out"] = out.display().to_string().into();
    std::fs::write(&job_path, job.to_string()).unwrap();
    let run = Command::new(python)
        .arg(support::script("lifetimes_preset_reference.py"))
        .arg(&job_path)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let text = std::fs::read_to_string(out).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let mut fields = line.split(',');
            let id = fields.next().unwrap().to_string();
            (id, fields.map(|v| v.parse::<f64>().unwrap()).collect())
        })
        .collect()
}

/// clientele's rows: `columns` of `frame` by customer id.
fn clientele_rows(frame: &DataFrame, columns: &[&str]) -> BTreeMap<String, Vec<f64>> {
    let ids = column_strings(frame, "customer_id");
    let values: Vec<Vec<f64>> = columns.iter().map(|c| column_f64s(frame, c)).collect();
    ids.into_iter()
        .enumerate()
        .map(|(i, id)| (id, values.iter().map(|v| v[i]).collect()))
        .collect()
}

/// Summaries identical, CLV equal to 1e-6 relative.
fn assert_same(ours: &BTreeMap<String, Vec<f64>>, theirs: &BTreeMap<String, Vec<f64>>, case: &str) {
    assert_eq!(ours.len(), theirs.len(), "{case}: customers");
    for ((id, a), (their_id, b)) in ours.iter().zip(theirs) {
        assert_eq!(id, their_id, "{case}");
        assert_eq!(
            a[..4],
            b[..4],
            "{case}: customer {id}: frequency, recency, T, monetary_value"
        );
        if a.len() > 4 {
            let relative = (a[4] - b[4]).abs() / b[4].abs().max(1e-300);
            assert!(
                relative <= 1e-6,
                "{case}: customer {id}: CLV {} vs lifetimes {}",
                a[4],
                b[4]
            );
        }
    }
}

fn clv_job(result: &ClvResult, months: f64, freq: &str) -> serde_json::Value {
    let FittedTransactions::BgNbd(m) = result.model.transactions else {
        panic!("BG/NBD expected")
    };
    let s = result.model.spend;
    serde_json::json!({
        "model": "bg-nbd",
        "params": {"r": m.r, "alpha": m.alpha, "a": m.a, "b": m.b},
        "spend": {"p": s.p, "q": s.q, "v": s.gamma},
        "time": months,
        "discount": result.params.discount(),
        "freq": freq,
    })
}

#[test]
fn lifetimes_preset_equals_the_python_package_on_cdnow() {
    let (Some(datasets), Some(python)) = (support::datasets(), support::python_with("lifetimes")) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = datasets.join("cdnow/CDNOW_sample.txt");
    let months = |value: f64| Horizon {
        value,
        unit: Some(HorizonUnit::Month),
    };
    let weeks = Horizon {
        value: 39.0,
        unit: Some(HorizonUnit::Week),
    };
    // (time unit, period, horizon, lifetimes' freq and freq_multiplier, CLV freq, time)
    let cases = [
        (TimeUnit::Day, Period::Day, months(12.0), "D", 1, "D", 12.0),
        (TimeUnit::Week, Period::Day, weeks, "D", 7, "W", 39.0 / 4.345),
        (TimeUnit::Week, Period::Week, months(12.0), "W", 1, "W", 12.0),
    ];
    for (unit, period, horizon, freq, multiplier, clv_freq, time) in cases {
        let case = format!("{unit:?}, {period:?} periods, horizon {horizon}");
        let job = cdnow_settings(unit, period, horizon).check().unwrap();
        let params = job.clv.clone().unwrap();
        let tx: Transactions = ingest::scan(&path, &job.ingest).unwrap();
        let result = clv::run(&tx, &params).unwrap();
        let theirs = lifetimes_rows(
            &python,
            serde_json::json!({
                "path": path.display().to_string(), "format": "cdnow", "observation_end": "1997-09-30",
                "freq": freq, "freq_multiplier": multiplier, "clv": clv_job(&result, time, clv_freq),
            }),
            dir.path(),
        );
        let columns = ["frequency", "recency", "T", "monetary_value", "clv"];
        assert_same(&clientele_rows(&result.frame, &columns), &theirs, &case);
        // The same through a segmentation, whose single pass collects the periods.
        let segmentation = job.segmenter().run(&tx).unwrap();
        let prefixed = [
            "btyd_frequency",
            "btyd_recency",
            "btyd_T",
            "btyd_monetary_value",
            "clv",
        ];
        let mut ours = clientele_rows(&segmentation.frame, &prefixed);
        ours.retain(|id, _| theirs.contains_key(id));
        assert_same(&ours, &theirs, &format!("{case}, segmentation"));
    }
}

#[test]
fn lifetimes_preset_counts_periods_of_returns_as_lifetimes_does() {
    let Some(python) = support::python_with("lifetimes") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orders.csv");
    // b's 03-05 holds only a return, c buys once and returns later, d only returns.
    std::fs::write(
        &path,
        "customer_id,date,amount\na,2024-01-02,10\na,2024-01-02,5\na,2024-02-01,20\n\
         b,2024-01-10,30\nb,2024-03-05,-12\nb,2024-03-20,8\nc,2024-01-15,40\nc,2024-02-20,-40\n\
         d,2024-02-01,-5\na,2024-03-30,-3\n",
    )
    .unwrap();
    let clv = ClvSettings {
        calibration_end: NaiveDate::from_ymd_opt(2024, 3, 31),
        time_unit: TimeUnit::Day,
        ..ClvSettings::default()
    };
    let settings = Settings {
        preset: Some(Preset::Lifetimes),
        clv: Some(clv.clone()),
        ..Settings::default()
    };
    let params = settings.check().unwrap().clv.unwrap();
    let tx = ingest::scan(&path, &settings.ingest_options().unwrap()).unwrap();
    let summary = clv::summarize(&tx, &params).unwrap();
    let theirs = lifetimes_rows(
        &python,
        serde_json::json!({
            "path": path.display().to_string(), "format": "csv", "observation_end": "2024-03-31",
            "freq": "D", "freq_multiplier": 1, "clv": null,
        }),
        dir.path(),
    );
    let columns = ["frequency", "recency", "T", "monetary_value"];
    let ours = clientele_rows(&summary.frame, &columns);
    assert_same(&ours, &theirs, "returns");
    assert_eq!(ours["b"], [2.0, 70.0, 81.0, -2.0]);
    // clientele's own summary counts purchase periods only.
    let own = Settings {
        clv: Some(clv),
        ..Settings::default()
    };
    let own = clv::summarize(&tx, &own.check().unwrap().clv.unwrap()).unwrap();
    let own = clientele_rows(&own.frame, &columns);
    assert_eq!(own["b"], [1.0, 70.0, 81.0, 8.0]);
    assert!(!own.contains_key("d"));
}
