//! Property tests: invariants of scoring, segments and ABC tiers on random customer tables.

use clientele::abc::{self, AbcParams};
use clientele::polars::prelude::*;
use clientele::rfm::{self, Binning, RfmParams, SegmentRules};
use proptest::prelude::*;

fn customers(measures: &[(i64, i64, i64)]) -> DataFrame {
    let ids: Vec<i64> = (1..=measures.len() as i64).collect();
    df!(
        "customer_id" => ids,
        "recency_days" => measures.iter().map(|m| m.0).collect::<Vec<_>>(),
        "frequency" => measures.iter().map(|m| m.1).collect::<Vec<_>>(),
        // Coarse money values so ties are common.
        "monetary" => measures.iter().map(|m| m.2 as f64 * 12.5).collect::<Vec<_>>(),
    )
    .unwrap()
}

fn u8s(frame: &DataFrame, name: &str) -> Vec<u8> {
    frame
        .column(name)
        .unwrap()
        .u8()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect()
}

fn strs(frame: &DataFrame, name: &str) -> Vec<String> {
    frame
        .column(name)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.expect("no nulls").to_string())
        .collect()
}

fn measures() -> impl Strategy<Value = Vec<(i64, i64, i64)>> {
    prop::collection::vec((0i64..400, 1i64..30, -5i64..400), 1..300)
}

fn binning() -> impl Strategy<Value = Binning> {
    prop_oneof![Just(Binning::Quantile), Just(Binning::Rank)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn scores_segments_and_rows(measures in measures(), bins in 2usize..=9, binning in binning()) {
        let frame = customers(&measures);
        let params = RfmParams::new().bins(bins).binning(binning).check().unwrap();
        let scored = rfm::score(&frame, &params, &SegmentRules::builtin()).unwrap();
        prop_assert_eq!(scored.frame.height(), measures.len());
        for name in ["r_score", "f_score", "m_score"] {
            prop_assert!(u8s(&scored.frame, name).iter().all(|s| (1..=bins as u8).contains(s)));
        }
        // Every customer has exactly one, named segment.
        let segments = strs(&scored.frame, "segment");
        prop_assert!(segments.iter().all(|s| scored.segments.names.contains(s)));
        let summary = scored.segment_summary().unwrap();
        prop_assert_eq!(summary.iter().map(|s| s.customers).sum::<usize>(), measures.len());
        let shares: f64 = summary.iter().map(|s| s.customer_share).sum();
        prop_assert!((shares - 1.0).abs() < 1e-9);
        // Score counts in the report agree with the frame.
        for (m, name) in scored.scoring.iter().zip(["r_score", "f_score", "m_score"]) {
            let scores = u8s(&scored.frame, name);
            for bin in &m.scores {
                prop_assert_eq!(bin.customers, scores.iter().filter(|s| **s == bin.score).count());
            }
        }
    }

    #[test]
    fn equal_values_get_equal_quantile_scores(measures in measures(), bins in 2usize..=9) {
        let frame = customers(&measures);
        let params = RfmParams::new().bins(bins).check().unwrap();
        let scored = rfm::score(&frame, &params, &SegmentRules::builtin()).unwrap();
        let (r, f, m) = (u8s(&scored.frame, "r_score"), u8s(&scored.frame, "f_score"), u8s(&scored.frame, "m_score"));
        for i in 0..measures.len() {
            for j in 0..measures.len() {
                if measures[i].0 == measures[j].0 { prop_assert_eq!(r[i], r[j]); }
                if measures[i].1 == measures[j].1 { prop_assert_eq!(f[i], f[j]); }
                if measures[i].2 == measures[j].2 { prop_assert_eq!(m[i], m[j]); }
                // Higher values never score lower (recency: the other way).
                if measures[i].1 > measures[j].1 { prop_assert!(f[i] >= f[j]); }
                if measures[i].0 > measures[j].0 { prop_assert!(r[i] <= r[j]); }
            }
        }
    }

    #[test]
    fn abc_classes_partition_customers(measures in measures(), by_revenue in any::<bool>()) {
        let frame = customers(&measures);
        let params = if by_revenue {
            AbcParams::by_revenue_share([80.0, 15.0, 5.0])
        } else {
            AbcParams::by_customer_share([5.0, 15.0, 80.0])
        }
        .check()
        .unwrap();
        let tiers = abc::classify(&frame, &params).unwrap();
        let classes = strs(&tiers.frame, abc::ABC_CLASS);
        prop_assert_eq!(classes.len(), measures.len());
        prop_assert!(classes.iter().all(|c| ["A", "B", "C"].contains(&c.as_str())));
        let customer_share: f64 = tiers.summary.iter().map(|s| s.customer_share).sum();
        prop_assert!((customer_share - 1.0).abs() < 1e-9);
        let total: f64 = measures.iter().map(|m| m.2 as f64 * 12.5).sum();
        if total != 0.0 {
            let revenue_share: f64 = tiers.summary.iter().map(|s| s.revenue_share).sum();
            prop_assert!((revenue_share - 1.0).abs() < 1e-9);
        }
        // Classes follow value: nobody in a lower class spends more than someone in a higher one.
        for i in 0..measures.len() {
            for j in 0..measures.len() {
                if measures[i].2 > measures[j].2 {
                    prop_assert!(classes[i] <= classes[j], "{} vs {}", classes[i], classes[j]);
                }
            }
        }
        if !by_revenue {
            let n = measures.len() as u64;
            prop_assert_eq!(tiers.summary[0].customers as u64, (n * 5).div_ceil(100));
        } else {
            prop_assert!(measures.iter().zip(&classes).all(|(m, c)| m.2 > 0 || c == "C"));
        }
    }
}
