//! The benchmark harness still works: `hush-bench --smoke` drives this
//! build's server and the Node.js peer through every scenario at a tiny
//! size (the soak for seconds, not an hour) and writes its report; and
//! Hush's set-ups side by side (one node on SQLite, one on PostgreSQL,
//! two nodes on PostgreSQL and Redis with a third listening), each
//! process's CPU and the services' work per message measured. Figures at
//! this size mean nothing; what is checked is that every scenario ran
//! against every server (the browser's and the soak's against Hush only),
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

/// Runs `hush-bench --smoke --quiet` with `args`; the report.
fn smoke(args: &[&str]) -> (String, tempfile::TempDir) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let site = root.join("target/site/pkg");
    assert!(
        site.is_dir(),
        "the browser app is not built ({} is missing): run `cargo leptos build --split` first (scripts/test does)",
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
        .args(args)
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
    assert!(!report.contains("failed**"), "a scenario failed:\n{report}");
    (report, out)
}

/// Every row of the report's figure tables: its section's title and its
/// cells (the figure's name first). (The soak's table of samples is not a
/// figure table.)
fn figure_rows(report: &str) -> Vec<(&str, Vec<&str>)> {
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
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            rows.push((section, cells[1..cells.len() - 1].to_vec()));
        }
    }
    rows
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
    let (report, out) = smoke(&[]);
    let folder = std::fs::read_dir(out.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    for plot in ["latency.svg", "soak.svg"] {
        let svg = std::fs::read_to_string(folder.join(plot)).unwrap();
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
    // Every row of the figure tables has Hush's figure, and the peer's
    // unless the section is Hush's only (the browser, the soak); every
    // completeness figure is 100 %, and nobody lost a message.
    let rows = figure_rows(&report);
    assert!(rows.len() >= 30, "{} rows:\n{report}", rows.len());
    for (section, cells) in &rows {
        let row = cells.join(" | ");
        let (name, hush, peer) = (cells[0], cells[1], cells[2]);
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

#[test]
fn hush_set_ups_run_side_by_side_with_each_process_measured() {
    // PostgreSQL: the suite's server (as scripts/test names it), a database
    // of this run's own on it (dropped with the suite's, by its prefix).
    let server =
        crate::pg::server().unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let answers = Command::new("psql")
        .arg(&server)
        .args(["-Atqc", "SELECT 1"])
        .output()
        .is_ok_and(|o| o.status.success());
    let host = server.rsplit('@').next().unwrap_or_default();
    assert!(
        answers,
        "PostgreSQL at {host} does not answer: the benchmark's set-ups on it need it; start it or set TEST_POSTGRES_URL"
    );
    let (base, _) = server.split('?').next().unwrap().rsplit_once('/').unwrap();
    let database = format!("{base}/{}bench_{}", crate::pg::PREFIX, std::process::id());
    let redis = crate::redis::shared();
    let (report, _out) = smoke(&[
        "--only",
        "bd",
        "--servers",
        "hush,hush-pg,hush-cluster+1",
        "--postgres-url",
        &database,
        "--redis-url",
        &redis,
    ]);
    let _ = Command::new("psql")
        .arg(&server)
        .arg("-Atqc")
        .arg(format!(
            "DROP DATABASE IF EXISTS {}bench_{} WITH (FORCE)",
            crate::pg::PREFIX,
            std::process::id()
        ))
        .output();

    assert!(
        report.contains(
            "| figure | Hush | Hush on PostgreSQL | Hush, 2 nodes + 1 listening | Hush on PostgreSQL ÷ Hush |"
        ),
        "one column per set-up, each divided by the first:\n{report}"
    );
    let rows = figure_rows(&report);
    let value = |name: &str, column: usize| -> Option<f64> {
        let (_, cells) = rows.iter().find(|(_, c)| c[0].starts_with(name))?;
        cells[column]
            .trim_end_matches([' ', '✓', '✗'])
            .replace(',', "")
            .parse()
            .ok()
    };
    for (_, cells) in &rows {
        let name = cells[0];
        if name.contains("completeness") {
            for column in 1..=3 {
                assert!(cells[column].starts_with("100"), "{}", cells.join(" | "));
            }
        }
        if name.contains("CPU of") || name.contains("per message") {
            continue;
        }
        // What every set-up measures, every set-up has.
        for column in 1..=3 {
            assert_ne!(cells[column], "–", "{}", cells.join(" | "));
        }
    }
    // Each process of the cluster, and the services, at (b)'s reference
    // step and in the room of 1,000's: a row each (at this size a process's
    // share may be under one of /proc's 10-ms ticks, so zero); at (b)'s
    // step, 60 messages, the server side as a whole spent some on every
    // set-up.
    for prefix in ["at 100 msg/s: ", "12 members, 10 msg/s: "] {
        for process in [
            "node 1",
            "node 2",
            "node 3 (no clients)",
            "postgres",
            "redis-server",
        ] {
            let cpu = value(&format!("{prefix}CPU per message, {process}"), 3);
            assert!(cpu.is_some(), "{prefix}{process}:\n{report}");
        }
        for column in 1..=3 {
            let whole = value(
                &format!("{prefix}CPU per message, whole server side"),
                column,
            );
            let busy = prefix.starts_with("at ");
            assert!(
                whole.is_some_and(|v| v > 0.0 || !busy),
                "{prefix}{column}:\n{report}"
            );
        }
        assert!(value(&format!("{prefix}CPU per message, postgres"), 2).is_some());
        for column in [2, 3] {
            let transactions = value(
                &format!("{prefix}PostgreSQL transactions per message"),
                column,
            );
            assert!(
                transactions.is_some_and(|t| t > 0.0),
                "{prefix}{column}:\n{report}"
            );
            // Each message stored once, no more, no less: the counts are
            // the run's own, taken once PostgreSQL reported them.
            let inserted = value(
                &format!("{prefix}PostgreSQL rows inserted per message"),
                column,
            );
            assert!(
                inserted.is_some_and(|i| (i - 1.0).abs() < 0.005),
                "{prefix}{column}: {inserted:?}\n{report}"
            );
        }
        // Every message is published once at least (other tests share
        // this Redis, so more may be counted).
        let published = value(&format!("{prefix}Redis publishes per message"), 3);
        assert!(published.is_some_and(|p| p >= 1.0), "{prefix}:\n{report}");
        assert_eq!(
            value(&format!("{prefix}Redis publishes per message"), 2),
            None
        );
    }
}
