//! `clientele`: the command-line tool. Parses arguments, calls the library, writes, exits.

mod args;
mod cmd;
mod outputs;
mod settings;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use crate::args::{Cli, Command};

fn main() -> ExitCode {
    let matches = settings::with_defaults(Cli::command()).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(err) => err.exit(),
    };
    init_logging(cli.global.quiet);
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("clientele: error: {}", message(&err));
            ExitCode::from(exit_code(&err))
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let g = &cli.global;
    let writes_one_table = matches!(
        cli.command,
        Command::Customers(_)
            | Command::Rfm(_)
            | Command::Abc(_)
            | Command::Segment(_)
            | Command::Cluster(_)
            | Command::Clv(_)
            | Command::Report(_)
            | Command::Run(_)
            | Command::Config(_)
    );
    if g.columns.is_some() && !writes_one_table {
        return Err(cmd::usage(
            "--columns selects the columns of the table that customers, rfm, abc, segment, \
             cluster, clv, report and run write; this command writes no such table",
        ));
    }
    match &cli.command {
        Command::Customers(a) => cmd::customers::run(g, a),
        Command::Rfm(a) => cmd::rfm::run(g, a),
        Command::Abc(a) => cmd::abc::run(g, a),
        Command::Segment(a) => cmd::segment::run(g, a),
        Command::Cluster(a) => cmd::cluster::run(g, a),
        Command::Clv(a) => cmd::clv::run(g, a),
        Command::Report(a) => cmd::report::run(g, a),
        Command::Validate(a) => cmd::validate::run(g, a),
        Command::Generate(a) => cmd::generate::run(g, a),
        Command::Rules(a) => cmd::rules::run(g, a),
        Command::Run(a) => cmd::run::run(g, a),
        Command::Sql(a) => cmd::sql::run(g, a),
        Command::Config(a) => cmd::config::run(g, a),
    }
}

/// Logs go to stderr. Level from RUST_LOG (e.g. `warn`, `debug`, `clientele=debug`), default
/// `info`, or `error` with --quiet. On a terminal, info lines are the bare message; otherwise
/// (cron, a log file) every line carries a UTC timestamp and its level.
fn init_logging(quiet: bool) {
    use std::io::{IsTerminal, Write};
    let default = if quiet { "error" } else { "info" };
    let mut builder = env_logger::Builder::new();
    builder.parse_filters(default);
    if let Ok(filters) = std::env::var("RUST_LOG")
        && !quiet
    {
        builder.parse_filters(&filters);
    }
    let terminal = std::io::stderr().is_terminal();
    builder.format(move |buf, record| {
        let level = record.level();
        if terminal {
            match level {
                log::Level::Info => writeln!(buf, "{}", record.args()),
                _ => writeln!(buf, "{}: {}", level.as_str().to_ascii_lowercase(), record.args()),
            }
        } else {
            // Debug records time the stages: milliseconds.
            let now = match level {
                log::Level::Debug | log::Level::Trace => chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
                _ => chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ"),
            };
            writeln!(buf, "{now} {level:<5} {}", record.args())
        }
    });
    builder.init();
}

/// The error and its causes, each cause shown only if the text so far does not already say it;
/// long quoted values (a whole CSV line in a reader's message) are cut.
fn message(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
    }
    clientele::format::clip_message(&text)
}

/// 1 for data and validation errors (input that cannot be decoded included), 2 for usage and
/// I/O errors.
fn exit_code(err: &anyhow::Error) -> u8 {
    let code = |kind: clientele::ErrorKind| match kind {
        clientele::ErrorKind::Data => 1,
        clientele::ErrorKind::Usage | clientele::ErrorKind::Io => 2,
    };
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<clientele::Error>() {
            return code(e.kind());
        }
        if cause.downcast_ref::<clientele::ParamError>().is_some()
            || cause.downcast_ref::<cmd::UsageError>().is_some()
        {
            return 2;
        }
        if let Some(e) = cause.downcast_ref::<std::io::Error>() {
            return code(clientele::ErrorKind::of_io(e));
        }
    }
    1
}

/// Whether the error is a closed stdout pipe (`clientele segment x.csv | head`).
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            || cause.to_string().contains("Broken pipe")
    })
}
