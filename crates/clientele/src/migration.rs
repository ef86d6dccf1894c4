//! How customers moved between two runs: transition matrices of segments, ABC classes and
//! clusters, and the customers who moved up, down, arrived or left.
//!
//! A customer *moved up* when its RFM score (R + F + M) rose, *down* when it fell; *new*
//! customers are in the current run only, customers *gone* in the previous run only. Matrix
//! cells count customers and sum their current monetary value (the previous one for customers
//! gone).

use std::path::Path;

use polars::prelude::*;
use serde::Serialize;

use crate::abc::ABC_CLASS;
use crate::cluster::CLUSTER;
use crate::customers::col_names::{CUSTOMER_ID, MONETARY};
use crate::error::{Error, PolarsContext, Result};
use crate::rfm::col_names::{RFM_SCORE, SEGMENT};

/// Row label of customers who were not in the previous run.
pub const NEW: &str = "(new)";
/// Column label of customers who are not in the current run.
pub const GONE: &str = "(gone)";

/// A transition matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transition {
    /// Row labels: previous values, then [`NEW`].
    pub from: Vec<String>,
    /// Column labels: current values, then [`GONE`].
    pub to: Vec<String>,
    /// Customers per (from, to).
    pub customers: Vec<Vec<usize>>,
    /// Monetary value per (from, to).
    pub revenue: Vec<Vec<f64>>,
}

/// The comparison of two runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Migration {
    /// Where the previous run's table came from.
    pub previous: String,
    /// The previous run's as-of date, from its manifest or summary, when known.
    pub previous_as_of: Option<String>,
    /// Customers in both runs whose RFM score rose.
    pub moved_up: usize,
    /// Customers in both runs whose RFM score fell.
    pub moved_down: usize,
    /// Customers in both runs with the same RFM score.
    pub unchanged: usize,
    /// Customers only in the current run.
    pub new_customers: usize,
    /// Customers only in the previous run.
    pub gone_customers: usize,
    /// Segment transitions.
    pub segments: Transition,
    /// ABC class transitions.
    pub abc: Transition,
    /// Cluster transitions, when both runs have clusters.
    pub clusters: Option<Transition>,
}

/// Names of the per-customer change table's columns.
pub mod col_names {
    /// Segment in the previous run.
    pub const PREVIOUS_SEGMENT: &str = "previous_segment";
    /// ABC class in the previous run.
    pub const PREVIOUS_ABC_CLASS: &str = "previous_abc_class";
    /// RFM score in the previous run.
    pub const PREVIOUS_RFM_SCORE: &str = "previous_rfm_score";
    /// Monetary value in the previous run.
    pub const PREVIOUS_MONETARY: &str = "previous_monetary";
    /// up, down, same, new or gone.
    pub const MOVEMENT: &str = "movement";
}

/// Finds and reads the segment table of a previous run directory (`segments.parquet`,
/// `segments.csv` or `segments.json`), or reads the given table file.
///
/// # Errors
///
/// I/O and read errors; [`Error::UnsupportedInput`] when no segment table is found.
pub fn read_previous(path: &Path) -> Result<(DataFrame, Option<String>)> {
    let table = if path.is_dir() {
        ["segments.parquet", "segments.csv", "segments.json"]
            .iter()
            .map(|name| path.join(name))
            .find(|p| p.is_file())
            .ok_or_else(|| Error::UnsupportedInput {
                source_name: path.display().to_string(),
                detail: "is not a previous run: no segments.parquet, segments.csv or segments.json in it"
                    .into(),
            })?
    } else if path.is_file() {
        path.to_path_buf()
    } else {
        return Err(Error::io(
            "cannot open",
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory"),
        ));
    };
    let frame = read_table(&table)?;
    let as_of = path.is_dir().then(|| previous_as_of(path)).flatten();
    Ok((frame, as_of))
}

fn previous_as_of(dir: &Path) -> Option<String> {
    for name in ["manifest.json", "summary.json"] {
        let text = std::fs::read_to_string(dir.join(name)).ok()?;
        let value: serde_json::Value = serde_json::from_str(&text).ok()?;
        let as_of = value
            .get("as_of")
            .or_else(|| value.get("settings").and_then(|s| s.get("as_of")));
        if let Some(date) = as_of.and_then(|d| d.as_str()) {
            return Some(date.to_string());
        }
    }
    None
}

fn read_table(path: &Path) -> Result<DataFrame> {
    let name = path.display().to_string();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let frame = match ext.as_str() {
        "parquet" => LazyFrame::scan_parquet(
            PlRefPath::try_from_path(path).context(|| name.clone())?,
            ScanArgsParquet::default(),
        )
        .context(|| format!("cannot scan {name}"))?
        .collect(),
        "json" => LazyJsonLineReader::new(PlRefPath::try_from_path(path).context(|| name.clone())?)
            .finish()
            .context(|| format!("cannot scan {name}"))?
            .collect(),
        // CSV: everything as text, then undo the spreadsheet guard clientele writes.
        _ => LazyCsvReader::new(PlRefPath::try_from_path(path).context(|| name.clone())?)
            .with_infer_schema_length(Some(0))
            .finish()
            .context(|| format!("cannot scan {name}"))?
            .collect()
            .map(|frame| crate::output::unguard_text(&frame)),
    }
    .context(|| format!("cannot read the previous table {name}"))?;
    for needed in [CUSTOMER_ID, SEGMENT, ABC_CLASS, RFM_SCORE, MONETARY] {
        if frame.column(needed).is_err() {
            return Err(Error::UnsupportedInput {
                source_name: name,
                detail: format!("is not a clientele segment table: it has no {needed} column"),
            });
        }
    }
    Ok(frame)
}

/// Compares the current segment table with a previous one: the summary and one row per
/// customer of either run (`customer_id, previous_segment, segment, previous_abc_class,
/// abc_class, previous_rfm_score, rfm_score, previous_monetary, monetary, movement`).
///
/// # Errors
///
/// When the tables lack the segment columns or their ids cannot be matched.
pub fn compare(
    previous: &DataFrame,
    current: &DataFrame,
    previous_name: &str,
) -> Result<(Migration, DataFrame)> {
    let (joined, with_clusters) = join_runs(previous, current, previous_name)?;
    let text = |name: &str| crate::frame::column_text(&joined, name);
    let ints = |name: &str| -> Result<Vec<Option<i64>>> {
        Ok(joined
            .column(name)
            .context(|| name.to_string())?
            .i64()
            .context(|| name.to_string())?
            .iter()
            .collect())
    };
    let floats = |name: &str| -> Result<Vec<Option<f64>>> {
        Ok(joined
            .column(name)
            .context(|| name.to_string())?
            .f64()
            .context(|| name.to_string())?
            .iter()
            .collect())
    };
    let (seg, prev_seg) = (text(SEGMENT)?, text(&format!("previous_{SEGMENT}"))?);
    let (abc, prev_abc) = (text(ABC_CLASS)?, text(&format!("previous_{ABC_CLASS}"))?);
    let (score, prev_score) = (ints(RFM_SCORE)?, ints(&format!("previous_{RFM_SCORE}"))?);
    let (money, prev_money) = (floats(MONETARY)?, floats(&format!("previous_{MONETARY}"))?);
    let revenue: Vec<f64> = money
        .iter()
        .zip(&prev_money)
        .map(|(m, p)| m.or(*p).unwrap_or(0.0))
        .collect();
    let movement = movements(&score, &prev_score);
    let count = |m: &str| movement.iter().filter(|v| **v == m).count();
    let clusters = if with_clusters {
        Some(transition(
            &text(&format!("previous_{CLUSTER}"))?,
            &text(CLUSTER)?,
            &revenue,
        ))
    } else {
        None
    };
    let migration = Migration {
        previous: previous_name.to_string(),
        previous_as_of: None,
        moved_up: count("up"),
        moved_down: count("down"),
        unchanged: count("same"),
        new_customers: count("new"),
        gone_customers: count("gone"),
        segments: transition(&prev_seg, &seg, &revenue),
        abc: transition(&prev_abc, &abc, &revenue),
        clusters,
    };
    let changes = changes_frame(joined, movement)?;
    Ok((migration, changes))
}

/// The current and the previous table joined on the customer id (all customers of either),
/// with the segment, ABC class, RFM score, monetary value and, when both have them, cluster
/// of each, the previous ones prefixed `previous_`; and whether clusters are compared.
fn join_runs(previous: &DataFrame, current: &DataFrame, previous_name: &str) -> Result<(DataFrame, bool)> {
    let id_type = current
        .column(CUSTOMER_ID)
        .context(|| "customer ids".into())?
        .dtype()
        .clone();
    let with_clusters = previous.column(CLUSTER).is_ok() && current.column(CLUSTER).is_ok();
    let pick = |frame: &DataFrame, prefix: &str| -> Result<DataFrame> {
        let mut columns = vec![
            col(CUSTOMER_ID).cast(id_type.clone()),
            col(SEGMENT)
                .cast(DataType::String)
                .alias(format!("{prefix}{SEGMENT}")),
            col(ABC_CLASS)
                .cast(DataType::String)
                .alias(format!("{prefix}{ABC_CLASS}")),
            col(RFM_SCORE)
                .cast(DataType::Int64)
                .alias(format!("{prefix}{RFM_SCORE}")),
            col(MONETARY)
                .cast(DataType::Float64)
                .alias(format!("{prefix}{MONETARY}")),
        ];
        if with_clusters {
            columns.push(
                col(CLUSTER)
                    .cast(DataType::String)
                    .alias(format!("{prefix}{CLUSTER}")),
            );
        }
        frame
            .clone()
            .lazy()
            .select(columns)
            .collect()
            .context(|| format!("{previous_name}: customer ids do not match the current table's type"))
    };
    let joined = pick(current, "")?
        .lazy()
        .join(
            pick(previous, "previous_")?.lazy(),
            [col(CUSTOMER_ID)],
            [col(CUSTOMER_ID)],
            JoinArgs::new(JoinType::Full).with_coalesce(JoinCoalesce::CoalesceColumns),
        )
        .sort([CUSTOMER_ID], SortMultipleOptions::default())
        .collect()
        .context(|| "comparing with the previous run".into())?;
    Ok((joined, with_clusters))
}

/// Each customer's movement between the runs by RFM score: up, down, same, new or gone.
fn movements(score: &[Option<i64>], prev_score: &[Option<i64>]) -> Vec<&'static str> {
    score
        .iter()
        .zip(prev_score)
        .map(|(now, before)| match (now, before) {
            (Some(_), None) => "new",
            (None, Some(_)) => "gone",
            (Some(a), Some(b)) if a > b => "up",
            (Some(a), Some(b)) if a < b => "down",
            _ => "same",
        })
        .collect()
}

/// One row per customer of either run: previous and current values, and the movement.
fn changes_frame(joined: DataFrame, movement: Vec<&str>) -> Result<DataFrame> {
    joined
        .lazy()
        .select([
            col(CUSTOMER_ID),
            col(format!("previous_{SEGMENT}")),
            col(SEGMENT),
            col(format!("previous_{ABC_CLASS}")),
            col(ABC_CLASS),
            col(format!("previous_{RFM_SCORE}")),
            col(RFM_SCORE),
            col(format!("previous_{MONETARY}")),
            col(MONETARY),
        ])
        .collect()
        .context(|| "per-customer changes".into())?
        .hstack(&[Column::new(col_names::MOVEMENT.into(), movement)])
        .context(|| "per-customer changes".into())
}

/// A matrix of (previous, current) values; labels in order of first appearance when sorted
/// (so ABC classes read A, B, C and clusters 0, 1, 2).
fn transition(previous: &[Option<String>], current: &[Option<String>], revenue: &[f64]) -> Transition {
    let labels = |values: &[Option<String>]| {
        let mut v: Vec<String> = values.iter().flatten().cloned().collect();
        v.sort();
        v.dedup();
        v
    };
    let mut from = labels(previous);
    let mut to = labels(current);
    from.push(NEW.into());
    to.push(GONE.into());
    let mut customers = vec![vec![0usize; to.len()]; from.len()];
    let mut money = vec![vec![0.0; to.len()]; from.len()];
    for ((p, c), r) in previous.iter().zip(current).zip(revenue) {
        let i = p.as_ref().map_or(from.len() - 1, |p| {
            from.iter().position(|f| f == p).expect("label")
        });
        let j = c
            .as_ref()
            .map_or(to.len() - 1, |c| to.iter().position(|t| t == c).expect("label"));
        customers[i][j] += 1;
        money[i][j] += r;
    }
    Transition {
        from,
        to,
        customers,
        revenue: money,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(ids: &[i64], segments: &[&str], classes: &[&str], scores: &[i64], money: &[f64]) -> DataFrame {
        df!(
            CUSTOMER_ID => ids.to_vec(),
            SEGMENT => segments.to_vec(),
            ABC_CLASS => classes.to_vec(),
            RFM_SCORE => scores.iter().map(|s| *s as u8).collect::<Vec<u8>>(),
            MONETARY => money.to_vec(),
        )
        .unwrap()
    }

    #[test]
    fn a_hand_checked_transition() {
        // 1 stays Champion, 2 falls from Champions to At Risk, 3 rises from Lost to Loyal,
        // 4 is gone, 5 is new.
        let previous = table(
            &[1, 2, 3, 4],
            &["Champions", "Champions", "Lost", "Lost"],
            &["A", "A", "C", "C"],
            &[15, 14, 3, 4],
            &[900.0, 800.0, 10.0, 5.0],
        );
        let current = table(
            &[1, 2, 3, 5],
            &["Champions", "At Risk", "Loyal", "New"],
            &["A", "B", "B", "C"],
            &[15, 8, 11, 7],
            &[950.0, 820.0, 300.0, 20.0],
        );
        let (m, changes) = compare(&previous, &current, "previous").unwrap();
        assert_eq!(
            (
                m.moved_up,
                m.moved_down,
                m.unchanged,
                m.new_customers,
                m.gone_customers
            ),
            (1, 1, 1, 1, 1)
        );
        assert_eq!(m.segments.from, ["Champions", "Lost", NEW]);
        assert_eq!(m.segments.to, ["At Risk", "Champions", "Loyal", "New", GONE]);
        assert_eq!(
            m.segments.customers,
            vec![vec![1, 1, 0, 0, 0], vec![0, 0, 1, 0, 1], vec![0, 0, 0, 1, 0]]
        );
        assert_eq!(
            m.segments.revenue[1][4], 5.0,
            "customers gone carry their previous monetary value"
        );
        assert_eq!(
            m.abc.customers,
            vec![vec![1, 1, 0, 0], vec![0, 1, 0, 1], vec![0, 0, 1, 0]]
        );
        let moves: Vec<Option<&str>> = changes
            .column("movement")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(
            moves,
            [Some("same"), Some("down"), Some("up"), Some("gone"), Some("new")]
        );
    }
}
