//! `clientele cluster`: k-means clusters of customers, with profiles.

use std::process::ExitCode;

use clientele::ClusterJob;
use clientele::cluster::{self, CLUSTER};
use clientele::customers::col_names::CUSTOMER_ID;

use crate::args::{ClusterArgs, GlobalArgs};
use crate::outputs::Outputs;

/// Runs the subcommand: writes `customer_id`, the raw features and `cluster`.
pub fn run(g: &GlobalArgs, a: &ClusterArgs) -> anyhow::Result<ExitCode> {
    let policy = super::row_policy(g)?;
    let files = Outputs::cluster_files(&a.cluster);
    let mut outputs = Outputs::check(g, Some((&a.input, &super::ingest_options(g)?)), files)?;
    let job = super::cluster_job(&a.cluster, Some(a.k))?.expect("a k is always given");
    let (tx, table) = super::aggregate_customers(g, &a.input, &policy)?;
    let clustering = {
        let _progress = super::Progress::start(g, "fitting clusters".into());
        match job {
            ClusterJob::Fit(params) => cluster::fit(&table.frame, &params.check()?)?,
            ClusterJob::Apply(model) => cluster::apply(&table.frame, &model)?,
        }
    };
    super::note(
        g,
        clientele::report::clusters_markdown(&clustering.summary()).trim_end(),
    );
    outputs.model(&a.cluster, Some(&clustering))?;
    let mut columns = vec![CUSTOMER_ID.to_string()];
    columns.extend(clustering.model.transform.features.iter().cloned());
    let mut frame = table.frame.select(columns)?;
    clustering.add_column(&mut frame)?;
    debug_assert!(frame.column(CLUSTER).is_ok());
    outputs.table(&frame)?;
    outputs.rejects(&tx, &policy)?;
    outputs.commit()?;
    Ok(ExitCode::SUCCESS)
}
