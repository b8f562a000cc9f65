//! The `hush` binary itself: it says where it serves, stops cleanly on
//! SIGTERM, and refuses bad settings, an unopenable database and a busy port
//! with one line naming the problem and a non-zero exit.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

fn hush() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hush"));
    command.env("RUST_LOG", "warn").env_remove("HUSH_CONFIG");
    command
}

/// Runs `hush serve <args>` expecting it to fail at start-up; returns its output.
fn refused(args: &[&str], env: &[(&str, &str)]) -> Output {
    let data = tempfile::tempdir().unwrap();
    let output = hush()
        .arg("serve")
        .args(["--data-dir", data.path().to_str().unwrap()])
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success(), "must not start: {args:?} {env:?}");
    output
}

fn one_line(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "one line on stderr: {stderr:?}");
    stderr
}

#[test]
fn a_malformed_flag_value_names_the_setting() {
    let output = refused(&["--listen", "localhost"], &[]);
    assert_eq!(output.status.code(), Some(2));
    let line = one_line(&output);
    assert!(
        line.contains("`listen`") && line.contains("--listen"),
        "{line}"
    );
}

#[test]
fn an_unknown_variable_names_itself() {
    let output = refused(&[], &[("HUSH_LISEN", "127.0.0.1:1")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(one_line(&output).contains("HUSH_LISEN"));
}

#[test]
fn an_unknown_flag_names_itself() {
    let output = refused(&["--colour", "blue"], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(one_line(&output).contains("--colour"));
}

#[test]
fn a_busy_port_names_the_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = refused(&["--listen", &addr], &[]);
    let line = one_line(&output);
    assert!(line.contains(&format!("cannot listen on {addr}")), "{line}");
}

#[test]
fn an_unopenable_database_names_it() {
    let output = refused(
        &["--database-url", "sqlite:///nonexistent-hush-dir/x/hush.db"],
        &[],
    );
    let line = one_line(&output);
    assert!(line.contains("cannot open database"), "{line}");
    assert!(line.contains("/nonexistent-hush-dir/x/hush.db"), "{line}");
}

#[tokio::test]
async fn serves_says_where_and_stops_on_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let mut child = hush()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(["--data-dir", data.path().to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .strip_prefix("Hush is serving ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("start-up line: {line:?}"))
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(
        data.path().join("hush.db").exists(),
        "the embedded store is created"
    );

    let health = reqwest::get(format!("{url}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), r#"{"status":"ok","db":"ok"}"#);

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful exit on SIGTERM: {status:?}");
}
