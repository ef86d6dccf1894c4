//! `clientele cluster`: k-means clusters of customers, with profiles.

use std::process::ExitCode;

use clientele::ClusterJob;
use clientele::cluster::{self, CLUSTER};
use clientele::customers::col_names::CUSTOMER_ID;

use crate::args::{ClusterArgs, GlobalArgs};
use crate::outputs::Outputs;
use crate::settings::{self, Flags};

/// Runs the subcommand: writes `customer_id`, the raw features and `cluster`.
pub fn run(g: &GlobalArgs, a: &ClusterArgs) -> anyhow::Result<ExitCode> {
    let settings = settings::settings(
        g,
        Flags {
            clusters: Some((&a.cluster, a.k, true)),
            ..Flags::default()
        },
    )?;
    let files = Outputs::cluster_files(&a.cluster);
    let mut outputs = Outputs::check(g, Some(&settings), Some(&a.input), files)?;
    let job = settings.check()?;
    let (tx, table) = super::aggregate_customers(g, &job, &a.input)?;
    let clustering = {
        let _progress = super::Progress::start(g, "fitting clusters".into());
        match job
            .clusters
            .as_ref()
            .expect("the cluster subcommand always clusters")
        {
            ClusterJob::Fit(params) => cluster::fit(&table.frame, params)?,
            ClusterJob::Apply(model) => cluster::apply(&table.frame, model)?,
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
    outputs.rejects(&tx, &job.policy)?;
    outputs.commit()?;
    Ok(ExitCode::SUCCESS)
}
