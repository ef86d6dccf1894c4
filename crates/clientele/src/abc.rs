//! ABC tiers: customers ranked by monetary value and cut into classes A, B, C (…).
//!
//! Customers are ordered by `monetary` descending, ties by customer id ascending. Then:
//! - **by customer share** (the CRM textbook table, default splits 5/15/80): with `n`
//!   customers and cumulative splits `s_1 < s_2 < …` (in %), the first `ceil(n·s_1/100)`
//!   customers are A, those up to `ceil(n·s_2/100)` are B, and so on;
//! - **by revenue share** (Pareto, default splits 80/15/5): with `P` the total *positive*
//!   revenue and `C_i` the cumulative revenue of the customers before customer `i`, a customer is
//!   A while `C_i < s_1 % · P`, B while `C_i < s_2 % · P`, … (so the customer that crosses a
//!   boundary belongs to the higher class). Customers with monetary ≤ 0 are always in the
//!   last class.
//!
//! Splits are percentages with up to two decimals, summing to 100. All arithmetic is exact
//! (integers in 0.01 % and in micro-units of money).
//!
//! ```
//! use clientele::abc::{self, AbcParams};
//! use clientele::polars::prelude::*;
//!
//! let customers = df!(
//!     "customer_id" => [1i64, 2, 3, 4],
//!     "monetary" => [10.0, 700.0, 40.0, 200.0],
//! )?;
//! let tiers = abc::classify(&customers, &AbcParams::by_revenue_share([80.0, 15.0, 5.0]).check()?)?;
//! let classes: Vec<&str> = tiers.frame.column("abc_class")?.str()?.iter().flatten().collect();
//! assert_eq!(classes, ["C", "A", "B", "A"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use polars::prelude::*;
use serde::Serialize;

use crate::customers::col_names::{CUSTOMER_ID, MONETARY};
use crate::error::{ParamError, PolarsContext, Result};
use crate::frame::{column_f64_view, ratio};
use crate::ingest::MICROS_PER_UNIT;
use crate::ranking;

/// Name of the class column added by [`classify`].
pub const ABC_CLASS: &str = "abc_class";

const CLASS_NAMES: [&str; 5] = ["A", "B", "C", "D", "E"];

/// What the splits are shares of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AbcBasis {
    /// Shares of customers (default splits 5, 15, 80).
    #[default]
    Customers,
    /// Shares of cumulative positive revenue, Pareto style (default splits 80, 15, 5).
    Revenue,
}

impl AbcBasis {
    /// The default splits for this basis.
    pub fn default_splits(self) -> Vec<f64> {
        match self {
            AbcBasis::Customers => vec![5.0, 15.0, 80.0],
            AbcBasis::Revenue => vec![80.0, 15.0, 5.0],
        }
    }
}

/// Unchecked ABC parameters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AbcParams {
    basis: AbcBasis,
    splits: Vec<f64>,
}

impl Default for AbcParams {
    fn default() -> Self {
        Self::by_customer_share([5.0, 15.0, 80.0])
    }
}

impl AbcParams {
    /// Classes by share of customers, e.g. `[5.0, 15.0, 80.0]`.
    pub fn by_customer_share(splits: impl Into<Vec<f64>>) -> Self {
        AbcParams {
            basis: AbcBasis::Customers,
            splits: splits.into(),
        }
    }

    /// Classes by share of revenue, e.g. `[80.0, 15.0, 5.0]`.
    pub fn by_revenue_share(splits: impl Into<Vec<f64>>) -> Self {
        AbcParams {
            basis: AbcBasis::Revenue,
            splits: splits.into(),
        }
    }

    /// The basis with its default splits.
    pub fn with_default_splits(basis: AbcBasis) -> Self {
        AbcParams {
            basis,
            splits: basis.default_splits(),
        }
    }

    /// Validates: 2 to 5 classes, each split positive with at most two decimals, summing to 100.
    ///
    /// # Errors
    ///
    /// [`ParamError::AbcSplits`] saying what is wrong.
    pub fn check(self) -> Result<AbcValidParams, ParamError> {
        let given = self
            .splits
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let error = |detail: &str| ParamError::AbcSplits {
            given: given.clone(),
            detail: detail.to_string(),
        };
        if !(2..=CLASS_NAMES.len()).contains(&self.splits.len()) {
            return Err(error("give 2 to 5 class shares, e.g. 5,15,80"));
        }
        let mut basis_points = Vec::with_capacity(self.splits.len());
        for split in &self.splits {
            if !split.is_finite() || *split <= 0.0 {
                return Err(error("every share must be a positive percentage"));
            }
            let bp = (split * 100.0).round();
            if (bp - split * 100.0).abs() > 1e-6 {
                return Err(error("shares may have at most two decimals"));
            }
            basis_points.push(bp as u64);
        }
        if basis_points.iter().sum::<u64>() != 10_000 {
            return Err(error("shares must sum to 100"));
        }
        Ok(AbcValidParams {
            basis: self.basis,
            splits: self.splits,
            basis_points,
        })
    }
}

/// Checked ABC parameters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AbcValidParams {
    basis: AbcBasis,
    splits: Vec<f64>,
    #[serde(skip)]
    basis_points: Vec<u64>,
}

impl AbcValidParams {
    /// The basis.
    pub fn basis(&self) -> AbcBasis {
        self.basis
    }

    /// The splits in %.
    pub fn splits(&self) -> &[f64] {
        &self.splits
    }

    /// Class names, `A` first.
    pub fn class_names(&self) -> &'static [&'static str] {
        &CLASS_NAMES[..self.splits.len()]
    }

    /// The cumulative splits in hundredths of a percent (the last is 10,000).
    pub(crate) fn cumulative_basis_points(&self) -> Vec<u64> {
        self.basis_points
            .iter()
            .scan(0, |acc, bp| {
                *acc += bp;
                Some(*acc)
            })
            .collect()
    }
}

/// One class of the ABC summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AbcClassSummary {
    /// `A`, `B`, ...
    pub class: String,
    /// Customers in the class.
    pub customers: usize,
    /// Share of all customers.
    pub customer_share: f64,
    /// Σ monetary of the class.
    pub revenue: f64,
    /// Share of Σ monetary over all customers.
    pub revenue_share: f64,
    /// The textbook share of customers for this class (5 %, 15 %, 80 %), with three classes.
    pub textbook_customer_share: Option<f64>,
    /// The textbook share of profit for this class (80 %, 15 %, 5 %), with three classes.
    pub textbook_revenue_share: Option<f64>,
}

/// Customers with their class, and the per-class summary.
#[derive(Debug, Clone)]
pub struct AbcTiers {
    /// The input frame (same row order) plus `abc_class`.
    pub frame: DataFrame,
    /// One row per class.
    pub summary: Vec<AbcClassSummary>,
    /// The parameters used.
    pub params: AbcValidParams,
}

/// Adds `abc_class` to a customer frame with `customer_id` and `monetary`.
///
/// # Errors
///
/// polars errors when the columns are missing.
pub fn classify(customers: &DataFrame, params: &AbcValidParams) -> Result<AbcTiers> {
    let monetary = column_f64_view(customers, MONETARY)?;
    let ties = id_positions(customers)?;
    let key = |row: usize| ranking::descending_key(monetary[row]);
    let last = params.splits.len() - 1;
    // Classes as bytes: a customer table of millions holds one per customer.
    let class_of_row: Vec<u8> = match params.basis {
        AbcBasis::Customers => {
            // A customer's class is the number of class bounds its place reaches: a
            // selection finds the customers at the bounds, no sort needed.
            let bounds = customer_bounds(monetary.len(), params);
            let reached = ranking::places_reached(monetary.len(), key, ties.as_deref(), &bounds);
            reached.into_iter().map(|r| r.min(last as u8)).collect()
        }
        AbcBasis::Revenue => {
            let keys: Vec<u64> = (0..monetary.len()).map(key).collect();
            let order = ranking::order_by(&keys, ties.as_deref());
            let classes = by_revenue(&order, &monetary, params);
            // classes[k] is the class of the k-th customer in value order; put it back in row order.
            let mut class_of_row = vec![0u8; monetary.len()];
            for (position, row) in order.iter().enumerate() {
                class_of_row[*row] = classes[position] as u8;
            }
            class_of_row
        }
    };
    let names = params.class_names();
    let codes = IdxCa::from_vec(
        ABC_CLASS.into(),
        class_of_row.iter().map(|c| IdxSize::from(*c)).collect(),
    );
    let labels = crate::frame::labels_column(ABC_CLASS, names, &codes);
    let mut frame = customers.clone();
    frame
        .with_column(labels)
        .context(|| "adding ABC classes".into())?;
    let summary = summarise(&class_of_row, &monetary, params);
    Ok(AbcTiers {
        frame,
        summary,
        params: params.clone(),
    })
}

/// Each row's position in customer-id order, the tie-breaker between equal values; `None`
/// when the rows are already in id order (as customer tables are), so the row index is it.
fn id_positions(customers: &DataFrame) -> Result<Option<Vec<u32>>> {
    let ids = customers
        .column(CUSTOMER_ID)
        .context(|| "ABC needs customer_id".into())?
        .as_materialized_series();
    if ids.is_sorted(SortOptions::default()).unwrap_or(false) {
        return Ok(None);
    }
    let id_rank = ids.arg_sort(SortOptions::default().with_maintain_order(true));
    let mut id_position = vec![0u32; ids.len()];
    for (position, row) in id_rank.iter().enumerate() {
        id_position[row.expect("arg_sort has no nulls") as usize] = position as u32;
    }
    Ok(Some(id_position))
}

/// The places where each class after the first begins: `ceil(n · cumulative share)`.
fn customer_bounds(n: usize, params: &AbcValidParams) -> Vec<usize> {
    params
        .cumulative_basis_points()
        .iter()
        .map(|bp| (n as u64 * bp).div_ceil(10_000) as usize)
        .collect()
}

fn by_revenue(order: &[usize], monetary: &[f64], params: &AbcValidParams) -> Vec<usize> {
    let last = params.splits.len() - 1;
    let micros: Vec<i128> = order
        .iter()
        .map(|row| (monetary[*row] * MICROS_PER_UNIT).round() as i128)
        .collect();
    let positive: i128 = micros.iter().filter(|m| **m > 0).sum();
    let cumulative = params.cumulative_basis_points();
    let mut before: i128 = 0;
    micros
        .iter()
        .map(|m| {
            let class = if *m <= 0 {
                last
            } else {
                cumulative
                    .iter()
                    .position(|bp| 10_000 * before < *bp as i128 * positive)
                    .unwrap_or(last)
            };
            before += m.max(&0);
            class
        })
        .collect()
}

fn summarise(class_of_row: &[u8], monetary: &[f64], params: &AbcValidParams) -> Vec<AbcClassSummary> {
    let n = class_of_row.len() as f64;
    let total: f64 = monetary.iter().sum();
    let textbook = params.splits.len() == 3;
    let names = params.class_names();
    // One pass: each class's revenue is still summed in row order, from -0.0 as `Sum` does.
    let mut sums = vec![(0usize, -0.0f64); names.len()];
    for (class, m) in class_of_row.iter().zip(monetary) {
        let (customers, revenue) = &mut sums[usize::from(*class)];
        *customers += 1;
        *revenue += m;
    }
    names
        .iter()
        .zip(sums)
        .enumerate()
        .map(|(k, (name, (customers, revenue)))| AbcClassSummary {
            class: name.to_string(),
            customers,
            customer_share: ratio(customers as f64, n),
            revenue,
            revenue_share: ratio(revenue, total),
            textbook_customer_share: textbook.then(|| [0.05, 0.15, 0.80][k]),
            textbook_revenue_share: textbook.then(|| [0.80, 0.15, 0.05][k]),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(monetary: &[f64]) -> DataFrame {
        let ids: Vec<i64> = (1..=monetary.len() as i64).collect();
        df!("customer_id" => ids, "monetary" => monetary.to_vec()).unwrap()
    }

    fn classes(tiers: &AbcTiers) -> String {
        tiers
            .frame
            .column(ABC_CLASS)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|c| c.unwrap())
            .collect()
    }

    #[test]
    fn customer_share_uses_ceilings() {
        // n = 21: A = ceil(1.05) = 2, A+B = ceil(4.2) = 5.
        let monetary: Vec<f64> = (1..=21).rev().map(f64::from).collect();
        let tiers = classify(&frame(&monetary), &AbcParams::default().check().unwrap()).unwrap();
        assert_eq!(classes(&tiers), "AABBBCCCCCCCCCCCCCCCC");
        assert_eq!(tiers.summary[0].customers, 2);
        let shares: f64 = tiers.summary.iter().map(|s| s.customer_share).sum();
        assert!((shares - 1.0).abs() < 1e-12);
    }

    #[test]
    fn ties_go_by_customer_id() {
        let tiers = classify(
            &frame(&[5.0, 5.0, 5.0, 5.0]),
            &AbcParams::by_customer_share([25.0, 25.0, 50.0]).check().unwrap(),
        )
        .unwrap();
        assert_eq!(classes(&tiers), "ABCC");
    }

    #[test]
    fn revenue_share_gives_the_crossing_customer_the_higher_class() {
        // Total positive revenue 100; cumulative before each: 0, 50, 79, 90, 96, 99.
        let tiers = classify(
            &frame(&[50.0, 29.0, 11.0, 6.0, 3.0, 1.0, 0.0, -4.0]),
            &AbcParams::by_revenue_share([80.0, 15.0, 5.0]).check().unwrap(),
        )
        .unwrap();
        assert_eq!(classes(&tiers), "AAABCCCC");
    }

    #[test]
    fn splits_are_validated() {
        assert!(AbcParams::by_customer_share([5.0, 15.0]).check().is_err());
        assert!(AbcParams::by_customer_share([50.0, 50.5]).check().is_err());
        assert!(AbcParams::by_customer_share([100.0]).check().is_err());
        assert!(AbcParams::by_customer_share([0.0, 100.0]).check().is_err());
        assert!(AbcParams::by_customer_share([2.5, 17.5, 80.0]).check().is_ok());
        assert!(
            AbcParams::by_customer_share([2.555, 17.445, 80.0])
                .check()
                .is_err()
        );
    }
}
