//! The benchmark harness still works: `hush-bench --smoke` drives this
//! build's server and the Node.js peer through every scenario at a tiny
//! size (the soak for seconds, not an hour) and writes its report. Figures
//! at this size mean nothing; what is checked is that every scenario ran
//! against both servers (the browser's and the soak's against Hush only),
//! delivered everything it sent, and filled its table.

use std::path::PathBuf;
use std::process::Command;

/// `target/debug/examples/hush-bench`, which `cargo test` builds.
fn generator() -> PathBuf {
    let deps = std::env::current_exe().expect("the test binary's path");
    let profile = deps
        .parent()
        .and_then(|d| d.parent())
        .expect("target/<profile>/deps");
    profile.join("examples").join("hush-bench")
}

#[test]
fn every_scenario_runs_against_both_servers() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let peer_modules = root.join("bench/peers/node/node_modules");
    assert!(
        peer_modules.is_dir(),
        "the benchmark peer is not installed ({} is missing): run scripts/setup --with-browser",
        peer_modules.display()
    );
    let site = root.join("target/site/pkg");
    assert!(
        site.is_dir(),
        "the browser app is not built ({} is missing): run `cargo leptos build` first (scripts/test does)",
        site.display()
    );
    let generator = generator();
    assert!(generator.is_file(), "{} is missing", generator.display());
    let out = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let run = Command::new(&generator)
        .current_dir(&root)
        .args([
            "--smoke",
            "--quiet",
            "--hush-bin",
            env!("CARGO_BIN_EXE_hush"),
        ])
        .arg("--out")
        .arg(out.path())
        .arg("--scratch")
        .arg(scratch.path())
        .output()
        .expect("hush-bench runs");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "hush-bench --smoke failed:\n{stderr}");

    let reports: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(reports.len(), 1, "one report folder per run");
    let report = std::fs::read_to_string(reports[0].join("report.md")).unwrap();
    for plot in ["latency.svg", "soak.svg"] {
        let svg = std::fs::read_to_string(reports[0].join(plot)).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("polyline"),
            "{plot} has curves"
        );
    }
    for title in [
        "(a) End-to-end latency",
        "(b) Sustained message rate",
        "(c) Idle authenticated connections",
        "(d) A room of",
        "(e) History",
        "(f) Reconnect storm",
        "(g) The browser",
        "(h) Soak",
    ] {
        assert!(report.contains(title), "no section {title}:\n{report}");
    }
    assert!(!report.contains("failed**"), "a scenario failed:\n{report}");
    // Every row of the figure tables has Hush's figure, and the peer's
    // unless the section is Hush's only (the browser, the soak); every
    // completeness figure is 100 %, and nobody lost a message. (The soak's
    // table of samples is not a figure table.)
    let mut rows = Vec::new();
    let (mut section, mut figures) = ("", false);
    for line in report.lines() {
        if let Some(title) = line.strip_prefix("## ") {
            section = title;
        } else if line.starts_with("| figure") {
            figures = true;
        } else if !line.starts_with('|') {
            figures = false;
        } else if figures && !line.starts_with("|---") {
            rows.push((section, line));
        }
    }
    assert!(rows.len() >= 30, "{} rows:\n{report}", rows.len());
    for (section, row) in &rows {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (name, hush, peer) = (cells[1], cells[2], cells[3]);
        assert!(hush != "–", "Hush has no figure for {name}");
        // A section of Hush alone has no peer column; elsewhere every row
        // has the peer's figure, or says the peer has none like it ("n/a").
        let hush_only = section.starts_with("(g)") || section.starts_with("(h)");
        assert_eq!(peer == "–", hush_only, "peer figure for {name}: {peer}");
        if name.contains("completeness") {
            assert!(hush.starts_with("100"), "{row}");
            assert!(
                hush_only || peer == "n/a" || peer.starts_with("100"),
                "{row}"
            );
        }
        if name.starts_with("copies lost") {
            assert_eq!(hush, "0", "{row}");
        }
        if name.starts_with("clients not back with every message") {
            assert_eq!((hush, peer), ("0", "0"), "{row}");
        }
    }
}
