//! The whole job in one call: transactions → customers → RFM scores, segments and ABC tiers.
//!
//! ```
//! use clientele::ingest::{self, IngestOptions};
//! use clientele::polars::prelude::*;
//! use clientele::{AbcParams, AsOf, RfmParams, Segmenter};
//!
//! let orders = df!(
//!     "customer_id" => ["a", "a", "b", "c", "c", "c"],
//!     "order_date" => ["2024-01-05", "2024-03-01", "2024-02-20", "2024-01-02", "2024-02-02", "2024-03-02"],
//!     "amount" => [10.0, 25.0, 7.5, 100.0, 80.0, -20.0],
//! )?;
//! let tx = ingest::from_frame("orders", orders.lazy(), &IngestOptions::default())?;
//! let result = Segmenter::new()
//!     .as_of(AsOf::Date(chrono::NaiveDate::from_ymd_opt(2024, 3, 31).unwrap()))
//!     .rfm(RfmParams::new().bins(3).check()?)
//!     .abc(AbcParams::by_customer_share([34.0, 33.0, 33.0]).check()?)
//!     .run(&tx)?;
//! assert_eq!(result.frame.height(), 3);
//! assert!(result.customers.reconciliation.balances());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use polars::prelude::*;

use crate::abc::{self, AbcParams, AbcTiers, AbcValidParams};
use crate::cluster::{self, ClusterModel, ClusterValidParams, Clustering};
use crate::clv::{self, ClvResult, ClvValidParams};
use crate::cohorts::{CohortPeriod, CohortTable};
use crate::customers::{self, Collect, CustomerTable, PurchasePeriods};
use crate::error::{Error, PolarsContext, Result};
use crate::ingest::Transactions;
use crate::presets::Explained;
use crate::rfm::{self, RfmParams, RfmScored, RfmValidParams, SegmentRules};
use crate::rows::{AsOf, ReturnsPolicy, RowPolicy};

/// A segmentation job over checked parameters (from [`Settings::check`](crate::settings::Settings::check)
/// or the parameters' own `check`); [`Segmenter::run`] runs it.
#[derive(Debug, Clone)]
pub struct Segmenter {
    policy: RowPolicy,
    rfm: RfmValidParams,
    rules: SegmentRules,
    abc: AbcValidParams,
    clusters: Option<ClusterJob>,
    clv: Option<ClvValidParams>,
    rejects: bool,
    preset: Option<Explained>,
    cohorts: Option<CohortPeriod>,
    /// The only columns the table will be written with, when the caller knows.
    only_columns: Option<Vec<String>>,
}

impl Default for Segmenter {
    fn default() -> Self {
        Segmenter {
            policy: RowPolicy::default(),
            rfm: RfmParams::new()
                .check()
                .expect("the default RFM parameters are valid"),
            rules: SegmentRules::default(),
            abc: AbcParams::default()
                .check()
                .expect("the default ABC parameters are valid"),
            clusters: None,
            clv: None,
            rejects: false,
            preset: None,
            cohorts: None,
            only_columns: None,
        }
    }
}

/// Clusters as part of a segmentation job.
#[derive(Debug, Clone, PartialEq)]
pub enum ClusterJob {
    /// Fit k-means with these parameters.
    Fit(ClusterValidParams),
    /// Assign customers to a saved model's clusters.
    Apply(Box<ClusterModel>),
}

impl Segmenter {
    /// Default settings: as-of the day after the latest transaction, returns netted, quintile
    /// scores, built-in segments, ABC by customer share 5/15/80.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the as-of date.
    pub fn as_of(mut self, as_of: AsOf) -> Self {
        self.policy.as_of = as_of;
        self
    }

    /// Sets the returns policy.
    pub fn returns(mut self, returns: ReturnsPolicy) -> Self {
        self.policy.returns = returns;
        self
    }

    /// Sets the row policy (as-of date and returns) at once.
    pub fn policy(mut self, policy: RowPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Sets the RFM scoring parameters.
    pub fn rfm(mut self, params: RfmValidParams) -> Self {
        self.rfm = params;
        self
    }

    /// Sets the segment rules.
    pub fn rules(mut self, rules: SegmentRules) -> Self {
        self.rules = rules;
        self
    }

    /// Sets the ABC parameters.
    pub fn abc(mut self, params: AbcValidParams) -> Self {
        self.abc = params;
        self
    }

    /// Adds k-means clusters (a `cluster` column and profiles in the summary).
    pub fn clusters(mut self, job: ClusterJob) -> Self {
        self.clusters = Some(job);
        self
    }

    /// Adds lifetime value: the per-customer predictions, prefixed `btyd_` where a name would
    /// clash with the RFM columns, and customer equity in the summary.
    pub fn clv(mut self, params: ClvValidParams) -> Self {
        self.clv = Some(params);
        self
    }

    /// Records the preset whose definitions the parameters follow, for the summary (the
    /// parameters carry the definitions themselves: see [`crate::presets`]).
    pub fn preset(mut self, preset: Option<Explained>) -> Self {
        self.preset = preset;
        self
    }

    /// Tells that only these columns of the table will be used (`--columns` of `clientele
    /// segment`): the customer table then keeps only them and the measures the analyses read,
    /// and the text columns no one asked for (`rfm_cell`, `rfm_score`, `segment`) are not made.
    /// On a large customer base that is most of the memory of the run. Without clusters and
    /// lifetime value only (they read more of the table); [`Segmentation::frame`] then lacks
    /// the other columns.
    pub fn only_columns(mut self, columns: Option<Vec<String>>) -> Self {
        self.only_columns = columns;
        self
    }

    /// The columns to keep, when the table can be pruned (see [`Segmenter::only_columns`]).
    fn kept_columns(&self) -> Option<Vec<String>> {
        let only = self.only_columns.as_ref()?;
        if self.clusters.is_some() || self.clv.is_some() {
            return None;
        }
        let mut kept = only.clone();
        kept.push(crate::ingest::col_names::CUSTOMER_ID.to_string());
        kept.push(crate::customers::col_names::MONETARY.to_string());
        kept.extend(rfm::Measure::ALL.iter().map(|m| self.rfm.column(*m).to_string()));
        Some(kept)
    }

    /// Keeps the rejected rows, read in the same pass, in [`Segmentation::rejects`].
    pub fn collect_rejects(mut self, yes: bool) -> Self {
        self.rejects = yes;
        self
    }

    /// Adds cohort retention by the period of the first purchase (see [`crate::cohorts`]), in
    /// [`Segmentation::cohorts`], collected in the pass over a transaction log (none for a
    /// customer table aggregated elsewhere, which has no purchase dates).
    pub fn cohorts(mut self, period: Option<CohortPeriod>) -> Self {
        self.cohorts = period;
        self
    }

    /// The row policy.
    pub fn row_policy(&self) -> &RowPolicy {
        &self.policy
    }

    /// Runs the job: reads the transactions once, then scores and tiers the customers.
    ///
    /// Parameters are checked before any data is read.
    ///
    /// # Errors
    ///
    /// Parameter and rules errors first; then ingest and data errors.
    pub fn run(&self, tx: &Transactions) -> Result<Segmentation> {
        self.check()?;
        // One read of the input: the customers, and as asked the purchase periods for lifetime
        // value and the rejected rows.
        let collect = Collect {
            // lifetimes' summary needs every row's amount: it reads them itself.
            periods: self
                .clv
                .as_ref()
                .filter(|p| p.convention() == clv::ClvConvention::Clientele)
                .map(clv::summary::period_request),
            rejects: self.rejects,
            cohorts: self.cohorts,
            quality: false,
            only_columns: self.kept_columns(),
        };
        let pass = customers::aggregate_with(tx, &self.policy, &collect)?;
        log::debug!("{}: {} customers aggregated", tx.source_name(), pass.table.len());
        let btyd = match &pass.periods {
            Some(periods) => Btyd::Periods(periods),
            None => Btyd::Read,
        };
        let mut result = self.segment_with(tx, pass.table, InputKind::Transactions, btyd)?;
        result.rejects = pass.rejects;
        result.cohorts = pass.cohorts;
        Ok(result)
    }

    /// Runs the job on a customer table aggregated elsewhere, scanned with
    /// [`customers::pre_aggregated::scan`] (`clientele sql` prints the query that builds it):
    /// the same scores, segments, ABC classes and clusters as [`Segmenter::run`] on the
    /// transactions behind it.
    ///
    /// # Errors
    ///
    /// As [`Segmenter::run`]; with lifetime value, [`Error::Clv`] when the table has no
    /// `btyd_*` columns (`clientele sql --clv` adds them) or they were aggregated with other
    /// settings.
    pub fn run_customer_table(&self, table: &Transactions) -> Result<Segmentation> {
        self.check()?;
        let btyd = match &self.clv {
            Some(_) => Some(
                customers::pre_aggregated::btyd_columns(table, &self.policy)?.ok_or_else(|| Error::Clv {
                    detail: format!(
                        "{}: lifetime value needs the btyd_* columns (purchase periods per customer): \
                         print the query with `clientele sql --clv`",
                        table.source_name()
                    ),
                })?,
            ),
            None => None,
        };
        let customers = customers::pre_aggregated::read(table, &self.policy)?;
        let btyd = btyd.as_ref().map_or(Btyd::Read, Btyd::Columns);
        self.segment_with(table, customers, InputKind::Customers, btyd)
    }

    /// The rules must fit the number of bins (set apart, so checked together here).
    fn check(&self) -> Result<()> {
        self.rules.check(self.rfm.bins())?;
        Ok(())
    }

    fn segment_with(
        &self,
        tx: &Transactions,
        customers: CustomerTable,
        kind: InputKind,
        btyd: Btyd<'_>,
    ) -> Result<Segmentation> {
        let kept = self.kept_columns();
        let customers = only_kept(customers, kept.as_deref())?;
        let wanted = |name: &str| kept.as_ref().is_none_or(|k| k.iter().any(|c| c == name));
        // Scores and classes read the same table and nothing of each other: both cores at once.
        let (rfm, abc) = rayon::join(
            || rfm::score_with(&customers.frame, &self.rfm, &self.rules, &wanted),
            || abc::classify(&customers.frame, &self.abc),
        );
        let (rfm, abc) = (rfm?, abc?);
        log::debug!(
            "RFM scores and ABC classes computed (MB: customers {}, rfm {}, abc {})",
            customers.frame.estimated_size() >> 20,
            rfm.frame.estimated_size() >> 20,
            abc.frame.estimated_size() >> 20
        );
        let mut frame = rfm.frame.clone();
        frame
            .with_column(
                abc.frame
                    .column(abc::ABC_CLASS)
                    .context(|| "ABC classes".into())?
                    .clone(),
            )
            .context(|| "joining ABC classes".into())?;
        let clusters = match &self.clusters {
            Some(ClusterJob::Fit(params)) => Some(cluster::fit(&customers.frame, params)?),
            Some(ClusterJob::Apply(model)) => Some(cluster::apply(&customers.frame, model)?),
            None => None,
        };
        if let Some(clusters) = &clusters {
            clusters.add_column(&mut frame)?;
        }
        let clv = match &self.clv {
            Some(params) => {
                let result = clv_of(tx, params, btyd, &customers)?;
                frame = join_clv(frame, &result)?;
                Some(stage_unmodelled(&mut frame, result)?)
            }
            None => None,
        };
        Ok(Segmentation {
            source: tx.clone(),
            input_kind: kind,
            customers,
            rfm,
            abc,
            clusters,
            clv,
            frame,
            rejects: None,
            preset: self.preset.clone(),
            cohorts: None,
        })
    }
}

/// Where the lifetime-value summary comes from.
enum Btyd<'a> {
    /// A read of its own.
    Read,
    /// The purchase periods of the pass that aggregated the customers.
    Periods(&'a PurchasePeriods),
    /// The btyd_* columns of a customer table.
    Columns(&'a DataFrame),
}

/// The customer table with only the `kept` columns (all of them without a list).
fn only_kept(mut customers: CustomerTable, kept: Option<&[String]>) -> Result<CustomerTable> {
    if let Some(kept) = kept {
        let names: Vec<String> = customers
            .frame
            .get_column_names()
            .into_iter()
            .filter(|n| kept.iter().any(|k| k == n.as_str()))
            .map(|n| n.to_string())
            .collect();
        customers.frame = customers
            .frame
            .select(names)
            .context(|| "the kept columns".into())?;
    }
    Ok(customers)
}

/// The lifetime-value model fitted and applied to the BTYD summary of the input, however it
/// arrives (read from the log, from the one pass's periods, or from a customer table's columns).
fn clv_of(
    tx: &Transactions,
    params: &ClvValidParams,
    btyd: Btyd<'_>,
    customers: &CustomerTable,
) -> Result<ClvResult> {
    let summary = match btyd {
        Btyd::Read => return clv::run(tx, params),
        Btyd::Periods(periods) => clv::summary::from_periods(tx.source_name(), periods, params)?,
        Btyd::Columns(btyd) => {
            clv::summary::from_btyd_columns(tx.source_name(), btyd, params, customers.reconciliation.clone())?
        }
    };
    let model = clv::fit(&summary, params)?;
    clv::predict(&summary, &model, params)
}

/// The lifetime-value columns joined to the segment table by customer id (customers whose
/// first purchase is after the calibration end get nulls). BTYD summary columns are prefixed
/// `btyd_` (`btyd_frequency` counts *repeat* purchase days, unlike RFM `frequency`).
fn join_clv(frame: DataFrame, result: &ClvResult) -> Result<DataFrame> {
    use crate::clv::col_names as c;
    let rename = |name: &str| col(name).alias(format!("btyd_{name}"));
    let mut columns = vec![
        col(crate::customers::col_names::CUSTOMER_ID),
        rename(c::FREQUENCY),
        rename(c::RECENCY),
        rename(c::T),
        rename(c::MONETARY_VALUE),
        col(c::EXPECTED_PURCHASES),
        col(c::P_ALIVE),
        col(c::EXPECTED_AVG_SPEND),
        col(c::CLV),
        col(c::LIFECYCLE_STAGE),
    ];
    if result.frame.column(c::FREQUENCY_HOLDOUT).is_ok() {
        columns.extend([
            rename(c::FREQUENCY_HOLDOUT),
            rename(c::MONETARY_HOLDOUT),
            col(c::EXPECTED_PURCHASES_HOLDOUT),
        ]);
    }
    let clv = result.frame.clone().lazy().select(columns);
    frame
        .lazy()
        .join(
            clv,
            [col(crate::customers::col_names::CUSTOMER_ID)],
            [col(crate::customers::col_names::CUSTOMER_ID)],
            JoinArgs {
                maintain_order: MaintainOrderJoin::Left,
                ..JoinArgs::new(JoinType::Left)
            },
        )
        .collect()
        .context(|| "joining lifetime values".into())
}

/// Customers of the segment table without lifetime-value predictions (first seen after the
/// calibration end) are `new`: their stage is filled in and counted in the stage table.
fn stage_unmodelled(frame: &mut DataFrame, mut result: ClvResult) -> Result<ClvResult> {
    use crate::clv::col_names::LIFECYCLE_STAGE;
    use crate::clv::lifecycle::{NEW, STAGES};
    let stages = frame
        .column(LIFECYCLE_STAGE)
        .context(|| "lifecycle stages".into())?;
    let unmodelled = stages.null_count();
    if unmodelled > 0 {
        let filled: StringChunked = stages
            .str()
            .context(|| "lifecycle stages".into())?
            .iter()
            .map(|v| Some(v.unwrap_or(STAGES[NEW])))
            .collect();
        frame
            .with_column(filled.with_name(LIFECYCLE_STAGE.into()).into_column())
            .context(|| "lifecycle stages".into())?;
        let new = &mut result.stages[NEW];
        new.customers += unmodelled;
        new.first_purchase_after_calibration += unmodelled;
    }
    Ok(result)
}

/// What a job's input holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// A transaction log: one row per purchase or return line.
    #[default]
    Transactions,
    /// A customer table aggregated elsewhere: one row per customer.
    Customers,
}

/// The result of a segmentation job.
#[derive(Debug, Clone)]
pub struct Segmentation {
    /// The input it ran on: transactions, or a customer table read through the same checks.
    pub source: Transactions,
    /// Which of the two.
    pub input_kind: InputKind,
    /// Per-customer measures, as-of date and row reconciliation.
    pub customers: CustomerTable,
    /// Scores, segments and scoring report.
    pub rfm: RfmScored,
    /// ABC classes and summary.
    pub abc: AbcTiers,
    /// Clusters, when asked for.
    pub clusters: Option<Clustering>,
    /// Lifetime value, when asked for.
    pub clv: Option<ClvResult>,
    /// One row per customer: measures, scores, cell, segment, ABC class (and cluster).
    pub frame: DataFrame,
    /// The rejected input rows (maybe none), read in the same pass, when asked for (see
    /// [`Segmenter::collect_rejects`]).
    pub rejects: Option<crate::ingest::RejectedRows>,
    /// The preset the job followed, with the definitions it changes.
    pub preset: Option<Explained>,
    /// Cohort retention, when asked for (see [`Segmenter::cohorts`]).
    pub cohorts: Option<CohortTable>,
}
