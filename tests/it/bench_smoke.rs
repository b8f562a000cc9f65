//! The benchmark harness still works: `hush-bench --smoke` drives this
//! build's server and the Node.js peer through every scenario at a tiny
//! size and writes its report. Figures at this size mean nothing; what is
//! checked is that every scenario ran against both servers, delivered
//! everything it sent, and filled its table.

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
    let svg = std::fs::read_to_string(reports[0].join("latency.svg")).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("polyline"),
        "the plot has curves"
    );
    for title in [
        "(a) End-to-end latency",
        "(b) Sustained message rate",
        "(c) Idle authenticated connections",
        "(d) A room of",
        "(e) History",
        "(f) Reconnect storm",
        "(g) The browser",
    ] {
        assert!(report.contains(title), "no section {title}:\n{report}");
    }
    assert!(!report.contains("failed**"), "a scenario failed:\n{report}");
    // Every row of the tables that both servers measure has both figures;
    // every completeness figure is 100 %, and nobody lost a message.
    let rows: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| figure"))
        .collect();
    assert!(rows.len() >= 30, "{} rows:\n{report}", rows.len());
    for row in &rows {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (name, hush, peer) = (cells[1], cells[2], cells[3]);
        assert!(hush != "–", "Hush has no figure for {name}");
        let browser_only = name.contains("gzip")
            || name.contains("WASM")
            || name.contains("open a conversation")
            || name.starts_with("page load:");
        assert_eq!(peer == "–", browser_only, "peer figure for {name}: {peer}");
        if name.contains("completeness") {
            assert!(hush.starts_with("100") && peer.starts_with("100"), "{row}");
        }
        if name.starts_with("clients not back with every message") {
            assert_eq!((hush, peer), ("0", "0"), "{row}");
        }
    }
}
