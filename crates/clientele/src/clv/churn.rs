//! Churn evaluation on a holdout window: how well P(alive) tells the customers who buy again
//! from those who do not, and how well expected purchases match actual ones.
//!
//! A customer of the calibration summary **churned** when it has no purchase period in the
//! holdout window (`frequency_holdout` = 0); otherwise it is a **holdout buyer**.
//!
//! - **AUC** of P(alive): the probability that a random holdout buyer has a higher P(alive)
//!   than a random churned customer, ties counting one half (the Mann-Whitney statistic from
//!   mid-ranks; scikit-learn's `roc_auc_score(bought, p_alive)`). The same for the expected
//!   holdout purchases. `None` when everyone churned or no one did.
//! - **Deciles** of a score (P(alive) for the gains table, expected holdout purchases for the
//!   calibration table): customers sorted by the score, highest first; a customer's decile is
//!   ⌊10 · h / n⌋ + 1, with h the number of customers with a strictly higher score and n all
//!   customers. Customers with equal scores share a decile (they are never split by any other
//!   key), so deciles can hold more or fewer than n / 10 customers, and some can be empty
//!   (left out of the tables).
//! - **Gains**: per P(alive) decile, the holdout buyers, their share of the decile, the
//!   cumulative share of all holdout buyers in deciles 1..d (the gain), and the lift: the
//!   decile's buyer rate over the overall rate (cumulative lift likewise).
//! - **Calibration**: per decile of expected holdout purchases, the mean expected and the mean
//!   actual holdout purchase periods.

use serde::Serialize;

/// The churn evaluation of a holdout.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChurnEvaluation {
    /// Customers without a purchase in the holdout.
    pub churned: usize,
    /// Customers with at least one.
    pub holdout_buyers: usize,
    /// AUC of P(alive) for buying in the holdout.
    pub auc: Option<f64>,
    /// AUC of the expected holdout purchases for buying in the holdout.
    pub auc_expected_purchases: Option<f64>,
    /// AUC of the purchase rhythm, −(time since the last purchase / the customer's mean time
    /// between purchases) (see [`crate::clv::lifecycle`]), for buying in the holdout.
    pub auc_rhythm: Option<f64>,
    /// Gains and lift by P(alive) decile.
    pub gains: Vec<GainsRow>,
    /// Expected against actual holdout purchases by decile of the expected.
    pub calibration: Vec<CalibrationRow>,
}

/// One P(alive) decile of the gains table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GainsRow {
    /// 1 = highest P(alive).
    pub decile: usize,
    /// Customers in the decile.
    pub customers: usize,
    /// Lowest P(alive) in the decile.
    pub p_alive_min: f64,
    /// Highest P(alive) in the decile.
    pub p_alive_max: f64,
    /// Customers of the decile who bought in the holdout.
    pub holdout_buyers: usize,
    /// holdout_buyers / customers.
    pub buyer_rate: f64,
    /// Share of all holdout buyers in deciles 1..=decile.
    pub cumulative_gain: f64,
    /// buyer_rate / the overall buyer rate.
    pub lift: f64,
    /// The buyer rate of deciles 1..=decile / the overall buyer rate.
    pub cumulative_lift: f64,
}

/// One decile of expected holdout purchases in the calibration table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalibrationRow {
    /// 1 = highest expected purchases.
    pub decile: usize,
    /// Customers in the decile.
    pub customers: usize,
    /// Mean expected holdout purchases.
    pub predicted_mean: f64,
    /// Mean actual holdout purchase periods.
    pub actual_mean: f64,
}

/// Evaluates P(alive) (`p_alive`), the expected holdout purchases (`predicted`) and the times
/// overdue (`overdue`, see [`crate::clv::lifecycle::overdue`]) against the actual holdout
/// purchase periods (`actual`), one value per customer.
pub fn evaluate(p_alive: &[f64], predicted: &[f64], overdue: &[f64], actual: &[f64]) -> ChurnEvaluation {
    let bought: Vec<bool> = actual.iter().map(|a| *a > 0.0).collect();
    let holdout_buyers = bought.iter().filter(|b| **b).count();
    ChurnEvaluation {
        churned: bought.len() - holdout_buyers,
        holdout_buyers,
        auc: auc(p_alive, &bought),
        auc_expected_purchases: auc(predicted, &bought),
        auc_rhythm: auc(&overdue.iter().map(|o| -o).collect::<Vec<f64>>(), &bought),
        gains: gains(p_alive, &bought),
        calibration: calibration(predicted, actual),
    }
}

/// The area under the ROC curve of `score` for `positive`, ties counting one half.
pub fn auc(score: &[f64], positive: &[bool]) -> Option<f64> {
    let positives = positive.iter().filter(|p| **p).count();
    let negatives = positive.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..score.len()).collect();
    order.sort_by(|a, b| score[*a].total_cmp(&score[*b]));
    // Sum of the positives' mid-ranks (1-based).
    let mut rank_sum = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && score[order[end]] == score[order[start]] {
            end += 1;
        }
        let mid_rank = (start + 1 + end) as f64 / 2.0;
        rank_sum += mid_rank * order[start..end].iter().filter(|i| positive[**i]).count() as f64;
        start = end;
    }
    let (p, n) = (positives as f64, negatives as f64);
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

/// The decile (1..=10, 1 = highest) of each customer by `score`, equal scores together.
pub fn deciles(score: &[f64]) -> Vec<usize> {
    let n = score.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| score[*b].total_cmp(&score[*a]));
    let mut decile = vec![0; n];
    let mut start = 0;
    while start < n {
        let mut end = start + 1;
        while end < n && score[order[end]] == score[order[start]] {
            end += 1;
        }
        for i in &order[start..end] {
            decile[*i] = 10 * start / n + 1;
        }
        start = end;
    }
    decile
}

fn gains(p_alive: &[f64], bought: &[bool]) -> Vec<GainsRow> {
    let decile = deciles(p_alive);
    let n = bought.len();
    let all_buyers = bought.iter().filter(|b| **b).count();
    let overall = all_buyers as f64 / n.max(1) as f64;
    let (mut seen, mut seen_buyers) = (0usize, 0usize);
    (1..=10)
        .filter_map(|d| {
            let members: Vec<usize> = (0..n).filter(|i| decile[*i] == d).collect();
            if members.is_empty() {
                return None;
            }
            let buyers = members.iter().filter(|i| bought[**i]).count();
            seen += members.len();
            seen_buyers += buyers;
            let rate = buyers as f64 / members.len() as f64;
            let ratio = |r: f64| if overall > 0.0 { r / overall } else { 0.0 };
            Some(GainsRow {
                decile: d,
                customers: members.len(),
                p_alive_min: members.iter().map(|i| p_alive[*i]).fold(f64::INFINITY, f64::min),
                p_alive_max: members
                    .iter()
                    .map(|i| p_alive[*i])
                    .fold(f64::NEG_INFINITY, f64::max),
                holdout_buyers: buyers,
                buyer_rate: rate,
                cumulative_gain: if all_buyers > 0 {
                    seen_buyers as f64 / all_buyers as f64
                } else {
                    0.0
                },
                lift: ratio(rate),
                cumulative_lift: ratio(seen_buyers as f64 / seen as f64),
            })
        })
        .collect()
}

fn calibration(predicted: &[f64], actual: &[f64]) -> Vec<CalibrationRow> {
    let decile = deciles(predicted);
    (1..=10)
        .filter_map(|d| {
            let members: Vec<usize> = (0..predicted.len()).filter(|i| decile[*i] == d).collect();
            let n = members.len() as f64;
            (!members.is_empty()).then(|| CalibrationRow {
                decile: d,
                customers: members.len(),
                predicted_mean: members.iter().map(|i| predicted[*i]).sum::<f64>() / n,
                actual_mean: members.iter().map(|i| actual[*i]).sum::<f64>() / n,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_counts_ties_as_one_half() {
        assert_eq!(auc(&[0.9, 0.8, 0.2, 0.1], &[true, true, false, false]), Some(1.0));
        assert_eq!(auc(&[0.1, 0.2, 0.8, 0.9], &[true, true, false, false]), Some(0.0));
        assert_eq!(auc(&[0.5, 0.5, 0.5], &[true, false, false]), Some(0.5));
        // Pairs (pos, neg): (0.8, 0.5) 1, (0.8, 0.8) ½, (0.3, 0.5) 0, (0.3, 0.8) 0 → 1.5 / 4.
        assert_eq!(
            auc(&[0.8, 0.3, 0.5, 0.8], &[true, true, false, false]),
            Some(0.375)
        );
        assert_eq!(auc(&[0.1, 0.2], &[true, true]), None);
    }

    #[test]
    fn equal_scores_share_a_decile() {
        let score = [0.9, 0.5, 0.5, 0.5, 0.1, 0.1, 0.0, 0.0, 0.0, 0.0];
        assert_eq!(deciles(&score), vec![1, 2, 2, 2, 5, 5, 7, 7, 7, 7]);
        let e = evaluate(
            &score,
            &score,
            &score,
            &[1.0, 0.0, 2.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0],
        );
        assert_eq!((e.churned, e.holdout_buyers), (7, 3));
        assert_eq!(
            e.gains.iter().map(|g| g.customers).collect::<Vec<_>>(),
            vec![1, 3, 2, 4]
        );
        assert_eq!(e.gains.last().unwrap().cumulative_gain, 1.0);
        assert!((e.gains[0].lift - 1.0 / 0.3).abs() < 1e-12);
        assert_eq!(e.calibration[1].actual_mean, 2.0 / 3.0);
    }
}
