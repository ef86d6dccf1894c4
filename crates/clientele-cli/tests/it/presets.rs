//! `--preset` and `--explain` on the command line: a preset is a setting like any other.

use crate::support::{clientele, sample_dataset, stderr, stdout};

fn run_ok(args: &[&str]) -> std::process::Output {
    let out = clientele().args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    out
}

#[test]
fn pandas_qcut_is_rank_binning_under_its_name() {
    let input = sample_dataset();
    let preset = stdout(&run_ok(&["segment", &input, "--preset", "pandas-qcut", "-q"]));
    let rank = stdout(&run_ok(&["segment", &input, "--binning", "rank", "-q"]));
    assert_eq!(preset, rank);
    let own = stdout(&run_ok(&["segment", &input, "-q"]));
    assert_ne!(preset, own);
    let out = clientele()
        .args([
            "segment",
            &input,
            "--preset",
            "pandas-qcut",
            "--binning",
            "quantile",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("pandas-qcut"), "{}", stderr(&out));
}

#[test]
fn explain_prints_one_line_per_difference() {
    let input = sample_dataset();
    let out = run_ok(&[
        "segment",
        &input,
        "--preset",
        "rfm-r",
        "--explain",
        "-q",
        "-o",
        "-",
    ]);
    let text = stderr(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("preset rfm-r: 5 definitions differ"),
        "{text}"
    );
    for topic in [
        "frequency score",
        "cut points",
        "rfm_score",
        "segments",
        "analysis date",
    ] {
        assert!(
            lines.iter().any(|l| l.trim_start().starts_with(topic)),
            "{topic}: {text}"
        );
    }
    let out = run_ok(&[
        "clv",
        &input,
        "--preset",
        "lifetimes",
        "--explain",
        "-q",
        "-o",
        "-",
    ]);
    assert!(
        stderr(&out).contains("customer_lifetime_value"),
        "{}",
        stderr(&out)
    );
    let out = run_ok(&["segment", &input, "--explain", "-q"]);
    assert!(stderr(&out).starts_with("no preset"), "{}", stderr(&out));
}

#[test]
fn the_preset_is_in_config_show_the_summary_and_the_report() {
    let input = sample_dataset();
    let dir = tempfile::tempdir().unwrap();
    let shown = stdout(&run_ok(&["config", "show", "--preset", "pandas-qcut"]));
    assert!(shown.contains("\npreset = \"pandas-qcut\"\n"), "{shown}");
    assert!(shown.contains("binning = \"rank\""), "{shown}");
    // What config show prints runs as it is.
    let config = dir.path().join("job.toml");
    std::fs::write(&config, &shown).unwrap();
    let from_file = stdout(&run_ok(&[
        "segment",
        &input,
        "--config",
        config.to_str().unwrap(),
        "-q",
    ]));
    assert_eq!(
        from_file,
        stdout(&run_ok(&["segment", &input, "--binning", "rank", "-q"]))
    );

    let out = dir.path().join("report");
    run_ok(&[
        "report",
        &input,
        "--preset",
        "rfm-r",
        "--out-dir",
        out.to_str().unwrap(),
        "-q",
    ]);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let preset = &json["settings"]["preset"];
    assert_eq!(preset["preset"], "rfm-r");
    assert_eq!(preset["differences"][2]["preset"], "100·R + 10·F + M");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<h2>Preset rfm-r</h2>"));
    let markdown = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(markdown.contains("## Preset rfm-r"));
    // Without a preset, the summary has no such key.
    let plain = dir.path().join("plain");
    run_ok(&["report", &input, "--out-dir", plain.to_str().unwrap(), "-q"]);
    let json = std::fs::read_to_string(plain.join("summary.json")).unwrap();
    assert!(!json.contains("\"preset\""));
}

#[test]
fn rules_show_r_rfm_segments_under_its_preset() {
    let shown = stdout(&run_ok(&["rules", "--show-builtin", "--preset", "rfm-r"]));
    assert_eq!(shown, clientele::rfm::RFM_R_RULES_TOML);
    let checked = stdout(&run_ok(&["rules", "--preset", "rfm-r"]));
    assert!(checked.contains("| Others |"), "{checked}");
    assert!(checked.contains("| Champions | 1 | 555 |"), "{checked}");
}
