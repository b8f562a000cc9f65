//! (g) The browser: the gzip size of what a browser downloads (the release
//! WASM and JS), and the time Chromium takes to open a conversation of
//! 1,000 messages, measured in the page by `end2end/bench/open.mjs`
//! (Playwright) against the server under test.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::Options;
use crate::api::{self, User};
use crate::load::{self, Plan};
use crate::report::{Better, Col, Section};
use crate::world::World;

/// Bytes of `path` compressed with `gzip -9`.
fn gzip_size(path: &Path) -> Result<u64, String> {
    let out = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output()
        .map_err(|e| format!("gzip: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "gzip {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out.stdout.len() as u64)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

pub async fn measure(
    world: &World,
    options: &Options,
    section: &mut Section,
    col: Col,
) -> Result<(), String> {
    let pkg = options.launch.site_dir.join("pkg");
    let wasm =
        gzip_size(&pkg.join("hush_bg.wasm")).or_else(|_| gzip_size(&pkg.join("hush.wasm")))?;
    let js = gzip_size(&pkg.join("hush.js"))?;
    let name = "WASM + JS, gzip -9";
    section.put(col, name, "KB", Better::Lower, (wasm + js) as f64 / 1000.0);
    section.target(name, Better::Lower, 300.0);
    section.put(
        col,
        "of which WASM",
        "KB",
        Better::Lower,
        wasm as f64 / 1000.0,
    );

    // A reader the browser can sign in as: the browser accepts only the
    // real iteration count.
    let count = if options.smoke { 60 } else { 1000 };
    let password = "benchmark browser password";
    let reader = User::sign_up_with(
        &world.api,
        "reader",
        password,
        hush::model::suite::KDF_ITERATIONS.start().to_owned(),
    )
    .await
    .map_err(|e| format!("sign up the reader: {e}"))?;
    let mut users = vec![reader];
    users.push(
        User::sign_up(&world.api, "writer")
            .await
            .map_err(|e| format!("sign up the writer: {e}"))?,
    );
    let room = api::create_room(&world.api, &users, vec![0, 1])
        .await
        .map_err(|e| format!("create: {e}"))?;
    let fill = Plan {
        rate: 500.0,
        duration: std::time::Duration::from_secs_f64(count as f64 / 500.0),
        warmup: std::time::Duration::ZERO,
        sample_every: u32::MAX,
    };
    let rooms = [room];
    let o = load::run(fill, &world.target, &world.apis, &world.hub, &users, &rooms).await;
    if o.accepted != count {
        return Err(format!(
            "fill: {} of {count} stored ({:?})",
            o.accepted, o.errors
        ));
    }
    let runs = if options.smoke { 1 } else { 5 };
    let out = tokio::task::spawn_blocking({
        let base = world.target.base();
        let id = rooms[0].id.clone();
        let end2end = options.end2end.clone();
        move || {
            Command::new("node")
                .arg("bench/open.mjs")
                .current_dir(end2end)
                .env("BENCH_BASE", base)
                .env("BENCH_USER", "reader")
                .env("BENCH_PASSWORD", password)
                .env("BENCH_CONVERSATION", id)
                .env("BENCH_MARKER", load::text_of(count as usize - 1))
                .env("BENCH_RUNS", runs.to_string())
                .output()
        }
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("node: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "open.mjs failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let answer: Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "open.mjs printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })?;
    let numbers = |value: &Value| -> Vec<f64> {
        value
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default()
    };
    let times = |key: &str| -> Result<Vec<f64>, String> {
        Some(numbers(&answer[key]))
            .filter(|a| !a.is_empty())
            .ok_or_else(|| format!("open.mjs: no {key} times"))
    };
    let name =
        format!("open a conversation of {count}: page load to its last message (median of {runs})");
    section.put(col, &name, "ms", Better::Lower, median(&mut times("cold")?));
    section.target(&name, Better::Lower, 150.0);
    // Where the page load's time goes: each phase's median, from the
    // navigation's start.
    for (key, what) in [
        ("html", "HTML arrived"),
        ("js", "JS arrived"),
        ("wasm_requested", "WASM requested"),
        ("wasm", "WASM arrived"),
        ("list_sent", "list sent"),
        ("list_answered", "list answered"),
        ("history_sent", "history sent"),
        ("history_answered", "history answered"),
    ] {
        let mut at = numbers(&answer["phases"][key]);
        if !at.is_empty() {
            let name = format!("page load: {what} at");
            section.put(col, &name, "ms", Better::Lower, median(&mut at));
        }
    }
    section.put(col, &format!("open a conversation of {count}: click in the list to its last message (median of {runs})"), "ms", Better::Lower, median(&mut times("warm")?));
    section.notes.push("The app fetches, verifies and decrypts the newest 50 messages when a conversation opens and loads older pages as the reader scrolls up; both times end when the newest message is on screen. The peer serves no app, so it has no figures here.".to_owned());
    section.notes.push("The page load's phases are medians over the same runs, from the navigation's start, as the page's Resource Timing records them. The browser's cache holds the WASM after the first run, so \"WASM arrived\" is mostly Chromium reading and compiling it.".to_owned());
    Ok(())
}
