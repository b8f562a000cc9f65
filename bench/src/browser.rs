//! (g) The browser: the size of what a browser downloads for the sign-in
//! page and for a conversation (the same whole app, unless the build was
//! split by route), and the time Chromium takes to open a conversation of
//! 1,000 messages, measured in the page by `end2end/bench/open.mjs`
//! (Playwright) against the server under test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
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

/// The hashes in the build's file names; none for a build without them
/// (before `hash-files`).
fn build_hashes(site: &Path) -> Result<BTreeMap<String, String>, String> {
    match hush::server::build_files::hashes(site) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        answer => answer.map_err(|e| format!("{}/hash.txt: {e}", site.display())),
    }
}

/// The app's files a page at each route downloads: the whole app for both,
/// or, in a build split by route (`cargo leptos build --split`, with the
/// routes made lazy; bench/README.md, "The first load"), the main
/// JS, WASM and split loader for the sign-in page, and for a conversation
/// those and the part the `/chats` route names in the split manifest.
fn route_files(site: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>), String> {
    let pkg = site.join("pkg");
    let hash = build_hashes(site)?;
    let named = |key: &str| match hash.get(key) {
        Some(hash) => pkg.join(format!("hush.{hash}.{key}")),
        None => pkg.join(format!("hush.{key}")),
    };
    let mut main = vec![named("js"), named("wasm")];
    let (Some(manifest), Some(loader)) = (hash.get("manifest"), hash.get("split")) else {
        // Not split: every page loads the whole app.
        return Ok((main.clone(), main));
    };
    main.push(pkg.join(format!("__wasm_split.{loader}.js")));
    let manifest = pkg.join(format!("__wasm_split_manifest.{manifest}.json"));
    let text =
        std::fs::read_to_string(&manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let parts: BTreeMap<String, Vec<String>> =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let mut conversation = main.clone();
    let mut stems: Vec<&String> = parts
        .iter()
        .filter(|(route, _)| route.contains("_chats_route_"))
        .flat_map(|(_, stems)| stems)
        .collect();
    if stems.is_empty() {
        return Err(format!(
            "{}: no part for the /chats route",
            manifest.display()
        ));
    }
    stems.sort();
    stems.dedup();
    conversation.extend(
        stems
            .into_iter()
            .map(|stem| pkg.join(format!("{stem}.wasm"))),
    );
    Ok((main, conversation))
}

/// Bytes of `files` as `gzip -9` makes them, and as the build's brotli
/// copies (`FILE.br`) hold them if it made them (a release build).
fn transfer(files: &[PathBuf]) -> Result<(u64, Option<u64>), String> {
    let mut gzip = 0;
    let mut brotli = Some(0);
    for file in files {
        gzip += gzip_size(file)?;
        let copy = PathBuf::from(format!("{}.br", file.display()));
        brotli = brotli.and_then(|sum| Some(sum + std::fs::metadata(copy).ok()?.len()));
    }
    Ok((gzip, brotli))
}

/// How many conversations the reader is in besides the one opened.
const OTHER_CONVERSATIONS: usize = 20;

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
    let (sign_in, conversation) = route_files(&options.launch.site_dir)?;
    for (page, files, target) in [
        ("the sign-in page", &sign_in, Some(150.0)),
        ("a conversation", &conversation, None),
    ] {
        let (gzip, brotli) = transfer(files)?;
        let name = format!("{page}: WASM + JS, gzip -9");
        section.put(col, &name, "KB", Better::Lower, gzip as f64 / 1000.0);
        if let Some(brotli) = brotli {
            let name = format!("{page}: WASM + JS, brotli as served");
            section.put(col, &name, "KB", Better::Lower, brotli as f64 / 1000.0);
            if let Some(target) = target {
                section.target(&name, Better::Lower, target);
            }
        }
    }

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
    // The reader's other conversations, empty: a reader is rarely in one
    // alone, and a page load checks every key set it kept.
    for _ in 0..OTHER_CONVERSATIONS {
        api::create_room(&world.api, &users, vec![1, 0])
            .await
            .map_err(|e| format!("create another: {e}"))?;
    }
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
    // navigation's start, for the cold open and for the same with the
    // service worker stopped.
    const PHASES: [(&str, &str); 9] = [
        ("html", "HTML arrived"),
        ("js", "JS arrived"),
        ("wasm_requested", "WASM requested"),
        ("wasm", "WASM arrived"),
        ("parts", "the route's last WASM part arrived"),
        ("list_sent", "list sent"),
        ("list_answered", "list answered"),
        ("history_sent", "history sent"),
        ("history_answered", "history answered"),
    ];
    for (phases, load) in [
        ("phases", "page load"),
        ("idle_phases", "page load with the service worker stopped"),
    ] {
        for (key, what) in PHASES {
            let mut at = numbers(&answer[phases][key]);
            if !at.is_empty() {
                let name = format!("{load}: {what} at");
                section.put(col, &name, "ms", Better::Lower, median(&mut at));
            }
        }
    }
    section.put(col, &format!("open a conversation of {count}: click in the list to its last message (median of {runs})"), "ms", Better::Lower, median(&mut times("warm")?));
    section.put(col, &format!("open a conversation of {count}: page load with the service worker stopped, to its last message (median of {runs})"), "ms", Better::Lower, median(&mut times("idle")?));
    section.notes.push(format!("The reader is in {OTHER_CONVERSATIONS} other conversations (empty), whose key sets a page load checks too. Each page load starts once the page before has settled (its socket connected, and 250 ms more), so that page's own start is not counted in it."));
    section.notes.push("The app fetches, verifies and decrypts the newest 50 messages when a conversation opens and loads older pages as the reader scrolls up; both times end when the newest message is on screen. The peer serves no app, so it has no figures here.".to_owned());
    section.notes.push("The page load's phases are medians over the same runs, from the navigation's start, as the page's Resource Timing records them. The page load with the service worker stopped is the same load after Chromium stopped the worker (as it does about 30 s after the worker's last event): the navigation waits for the worker to start. The browser's cache holds the WASM after the first run, so \"WASM arrived\" is mostly Chromium reading and compiling it.".to_owned());
    Ok(())
}
