//! The HTML report in a real browser: headless Chromium renders it to a PNG; the page must
//! load without console errors (a Content-Security-Policy violation is one) and the screenshot
//! must show the report, not a blank or error page.
//!
//! Chromium is found through `CLIENTELE_CHROMIUM` or as `chromium` / `chromium-browser` /
//! `google-chrome` on PATH. Under `CI=true` a missing browser is a failure, never a skip.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{datasets, run, sample_dataset, stderr};

fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CLIENTELE_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    assert!(
        !std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
        "no Chromium found under CI=true (install Debian's chromium or set CLIENTELE_CHROMIUM)"
    );
    eprintln!("skipping: no Chromium on PATH (set CLIENTELE_CHROMIUM)");
    None
}

/// Renders `html` to `png` at 1280 px wide; returns the browser's console messages.
fn render(browser: &Path, html: &Path, png: &Path, profile: &Path) -> Vec<String> {
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("chromium starts");
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "chromium failed:\n{log}");
    log.lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect()
}

struct Pixels {
    width: usize,
    height: usize,
    rgb: Vec<[u8; 3]>,
}

fn decode(png_path: &Path) -> Pixels {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png_path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    assert!(channels >= 3, "an RGB screenshot, got {:?}", info.color_type);
    let rgb = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    Pixels {
        width: info.width as usize,
        height: info.height as usize,
        rgb,
    }
}

fn check_screenshot(png_path: &Path) {
    let p = decode(png_path);
    assert_eq!(p.width, 1280);
    // The header band (#243b53) spans the top of the page.
    let header = p.rgb[40 * p.width + 640];
    assert!(
        header
            .iter()
            .zip([0x24, 0x3b, 0x53])
            .all(|(a, b)| a.abs_diff(b) <= 8),
        "the report's header at the top, got {header:?}"
    );
    // Charts and tables: many colours, and a good share of the page is not background.
    let mut colours: Vec<[u8; 3]> = p.rgb.iter().step_by(7).copied().collect();
    colours.sort();
    colours.dedup();
    assert!(
        colours.len() > 200,
        "a drawn page has many colours, got {}",
        colours.len()
    );
    // Ink: pixels that are neither the page background (#f5f7fa) nor a white panel.
    let near = |c: &[u8; 3], d: [u8; 3]| c.iter().zip(d).all(|(a, b)| a.abs_diff(b) <= 6);
    let inked = p
        .rgb
        .iter()
        .filter(|c| !near(c, [0xf5, 0xf7, 0xfa]) && !near(c, [0xff, 0xff, 0xff]))
        .count();
    let share = inked as f64 / (p.width * p.height) as f64;
    assert!(
        share > 0.03,
        "the page is mostly blank: {:.1} % inked",
        share * 100.0
    );
}

fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_sample_report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let previous = dir.path().join("previous");
    let current = dir.path().join("report");
    let sample = sample_dataset();
    // A run as of two months earlier, to show the migration section.
    let first = run(&[
        "report",
        &sample,
        "--as-of",
        "2024-11-01",
        "--out-dir",
        previous.to_str().unwrap(),
        "-q",
    ]);
    assert!(first.status.success(), "{}", stderr(&first));
    let args = [
        "report",
        &sample,
        "--clusters",
        "4",
        "--clv",
        "--previous",
        previous.to_str().unwrap(),
        "--out-dir",
        current.to_str().unwrap(),
        "-q",
    ];
    let out = run(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let html = current.join("report.html");
    let text = std::fs::read_to_string(&html).unwrap();
    for section in [
        "id=\"abc\"",
        "id=\"segments\"",
        "id=\"scores\"",
        "id=\"clusters\"",
        "id=\"clv\"",
        "id=\"migration\"",
    ] {
        assert!(text.contains(section), "report has {section}");
    }
    let png = screenshot_dir().join("sample.png");
    let console = render(&browser, &html, &png, &dir.path().join("profile"));
    assert!(console.is_empty(), "console messages:\n{}", console.join("\n"));
    check_screenshot(&png);
}

#[test]
fn the_online_retail_report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else { return };
    let Some(datasets) = datasets() else { return };
    let dir = tempfile::tempdir().unwrap();
    let input = datasets.join("online_retail/online_retail.csv.gz");
    let out_dir = dir.path().join("report");
    let out = run(&[
        "report",
        input.to_str().unwrap(),
        "--returns",
        "exclude",
        "--clusters",
        "4",
        "--out-dir",
        out_dir.to_str().unwrap(),
        "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let html = out_dir.join("report.html");
    // Online Retail's 135,080 rows without a customer id are in the reconciliation table.
    assert!(std::fs::read_to_string(&html).unwrap().contains("135,080"));
    let png = screenshot_dir().join("online_retail.png");
    let console = render(&browser, &html, &png, &dir.path().join("profile"));
    assert!(console.is_empty(), "console messages:\n{}", console.join("\n"));
    check_screenshot(&png);
}
