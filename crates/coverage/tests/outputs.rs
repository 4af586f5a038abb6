#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Outputs on the real data: Navigator layers checked against the layer format 4.5,
//! and the HTML report rendered by headless Chromium.

mod common;

use common::{enterprise, sigma_rules};
use rampart_coverage::{
    check_layer, claimed_coverage, claimed_layer, gaps_layer, html_report, lint_rules, rank_gaps,
    ClaimWeights, GapInputs, GapOptions, Layer, LintOptions, ReportInput,
};
use std::process::Command;

#[test]
fn layers_pass_the_format_checks_and_round_trip() {
    let matrix = enterprise();
    let claimed = claimed_coverage(matrix, sigma_rules(), &ClaimWeights::default());
    let inputs = GapInputs {
        claimed: &claimed,
        validated: None,
        visibility: None,
    };
    let gaps = rank_gaps(matrix, &inputs, &GapOptions::default());
    for platform in [None, Some("Windows"), Some("Linux")] {
        for layer in [
            claimed_layer(matrix, &claimed, platform),
            gaps_layer(matrix, &gaps, platform),
        ] {
            let text = serde_json::to_string(&layer).unwrap();
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(check_layer(&value), Vec::<String>::new(), "{}", layer.name);
            assert_eq!(value["versions"]["layer"], "4.5");
            assert_eq!(value["versions"]["attack"], "18");
            assert_eq!(value["domain"], "enterprise-attack");
            let back: Layer = serde_json::from_str(&text).unwrap();
            assert_eq!(back, layer);
            // Every annotated technique/tactic pair exists in the matrix.
            for t in &layer.techniques {
                let technique = matrix.technique(&t.technique_id).unwrap();
                assert!(technique.tactics.contains(&t.tactic));
                if let Some(p) = platform {
                    assert!(technique.platforms.iter().any(|x| x == p));
                }
            }
        }
    }
    let windows = claimed_layer(matrix, &claimed, Some("Windows"));
    let all = claimed_layer(matrix, &claimed, None);
    assert!(windows.techniques.len() < all.techniques.len());
    assert_eq!(windows.filters.as_ref().unwrap().platforms, ["Windows"]);
    // A claimed sub-technique carries its rules as metadata.
    let lsass = all
        .techniques
        .iter()
        .find(|t| t.technique_id == "T1003.001")
        .unwrap();
    assert!(!lsass.metadata.is_empty());
}

/// Counts pixels by kind in an RGBA/RGB PNG.
fn pixel_stats(png_bytes: &[u8]) -> (usize, usize, usize) {
    let decoder = png::Decoder::new(png_bytes);
    let mut reader = decoder.read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buffer).unwrap();
    let channels = info.color_type.samples();
    let (mut total, mut green, mut grey_cells) = (0, 0, 0);
    for pixel in buffer[..info.buffer_size()].chunks(channels) {
        let (r, g, b) = (pixel[0] as i32, pixel[1] as i32, pixel[2] as i32);
        total += 1;
        // The heatmap's greens: green clearly above red and blue.
        if g > r + 30 && g > b + 20 {
            green += 1;
        }
        // Unclaimed cells (#e9ecef).
        if (r - 0xe9).abs() <= 2 && (g - 0xec).abs() <= 2 && (b - 0xef).abs() <= 2 {
            grey_cells += 1;
        }
    }
    (total, green, grey_cells)
}

#[test]
fn html_report_renders_the_matrix_in_chromium() {
    let matrix = enterprise();
    let rules = sigma_rules();
    let claimed = claimed_coverage(matrix, rules, &ClaimWeights::default());
    let gaps = rank_gaps(
        matrix,
        &GapInputs {
            claimed: &claimed,
            validated: None,
            visibility: None,
        },
        &GapOptions::default(),
    );
    let lint = lint_rules(matrix, rules, &LintOptions::default());
    let html = html_report(&ReportInput {
        title: "Rampart <coverage> & \"tests\"",
        matrix,
        claimed: &claimed,
        validated: None,
        gaps: &gaps,
        lint: Some(&lint),
        platform: None,
    });
    assert!(html.contains("Rampart &lt;coverage&gt; &amp; &quot;tests&quot;"));
    assert_eq!(html.matches("<svg").count(), 1);
    assert!(!html.contains("<script"));

    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    std::fs::write(&page, &html).unwrap();
    let shot = dir.path().join("shot.png");
    let status = Command::new("chromium")
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
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1920,1400")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs (Debian package `chromium`)");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let (total, green, grey) = pixel_stats(&std::fs::read(&shot).unwrap());
    assert_eq!(total, 1920 * 1400);
    // Not blank: the matrix's covered cells paint a good share of the page green, and
    // unclaimed cells show too.
    assert!(green * 10 > total, "green pixels: {green} of {total}");
    assert!(grey * 200 > total, "grey cell pixels: {grey} of {total}");
}
