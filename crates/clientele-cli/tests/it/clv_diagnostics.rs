//! Lifetime-value diagnostics and `--clv-model auto` as a user sees them: on stderr, in
//! summary.json and in the HTML report.

use crate::support::{run, sample_dataset};

/// The first 300 lines of the sample data: 107 customers, too few repeat buyers.
fn head_300(dir: &std::path::Path) -> String {
    let text = std::fs::read_to_string(sample_dataset()).unwrap();
    let head: String = text.lines().take(300).map(|line| format!("{line}\n")).collect();
    let path = dir.join("head300.csv");
    std::fs::write(&path, head).unwrap();
    path.display().to_string()
}

#[test]
fn diagnostics_and_the_model_comparison_reach_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = head_300(dir.path());
    let out_dir = dir.path().join("report");
    let out = run(&[
        "report",
        &input,
        "--clv",
        "--clv-model",
        "auto",
        "--out-dir",
        out_dir.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("lifetime value, warning few_repeat_buyers: only ")
            && stderr.contains("lifetime value: --clv-model auto chose "),
        "{stderr}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap()).unwrap();
    let diagnostics = json["clv"]["diagnostics"].as_array().unwrap();
    let few = diagnostics
        .iter()
        .find(|d| d["code"] == "few_repeat_buyers")
        .unwrap_or_else(|| panic!("{diagnostics:?}"));
    assert!(
        few["message"].as_str().unwrap().contains("fewer than 100"),
        "{few}"
    );
    let comparison = &json["clv"]["model"]["comparison"];
    assert_eq!(comparison["criterion"], "bic", "no holdout: BIC");
    let models = comparison["models"].as_array().unwrap();
    let names: Vec<&str> = models.iter().map(|m| m["model"].as_str().unwrap()).collect();
    assert_eq!(names, ["BG/NBD", "MBG/NBD", "Pareto/NBD"]);
    assert_eq!(models.iter().filter(|m| m["chosen"] == true).count(), 1);
    assert!(json["clv"]["model"]["spend_frequency_correlation"].is_number());

    let html = std::fs::read_to_string(out_dir.join("report.html")).unwrap();
    assert!(
        html.contains("<b>Warning <code>few_repeat_buyers</code></b>"),
        "no diagnostic in the report"
    );
    assert!(html.contains("<h3>Model comparison</h3>"));
    let markdown = std::fs::read_to_string(out_dir.join("summary.md")).unwrap();
    assert!(markdown.contains("**Warning `few_repeat_buyers`**"));
    assert!(markdown.contains("| MBG/NBD | r "), "{markdown}");

    // A single model: no comparison in the JSON; `clv` prints the diagnostics in its summary.
    let out = run(&["clv", &input, "--clv-model", "mbg-nbd", "-o", "-"]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("MBG/NBD (purchases and dropout)")
            && stderr.contains("**Warning `few_repeat_buyers`**"),
        "{stderr}"
    );
}
