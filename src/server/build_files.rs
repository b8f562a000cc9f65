//! The browser app's build files and how long browsers may keep them.
//! cargo-leptos names every file under `/pkg/` after a hash of its content
//! (`hash-files` in Cargo.toml) and lists those hashes in the site's
//! `hash.txt`: a hashed file never changes, so browsers keep it for a year
//! without asking again, while `hash.txt` (which the service worker reads
//! to follow the build) and `sw.js` are asked for every time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use axum::extract::Request;
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

/// The list of the build's hashes, in the site directory.
pub const HASH_FILE: &str = "hash.txt";

/// A hashed file, kept as long as browsers allow: its name changes with it.
const FOREVER: &str = "public, max-age=31536000, immutable";
/// Stored, but checked with the server before each use.
const ALWAYS_ASK: &str = "no-cache";

/// Where the build's `hash.txt` is, as an absolute path (Leptos reads it
/// relative to the server's executable otherwise), if the site has one.
pub fn hash_file(site_dir: &Path) -> Option<PathBuf> {
    let path = std::path::absolute(site_dir.join(HASH_FILE)).ok()?;
    path.is_file().then_some(path)
}

/// The hashes in a built site's file names, by kind, as cargo-leptos lists
/// them in its `hash.txt` (`js: …`, `wasm: …`, `css: …`, and in a build split
/// by route `manifest: …` and `split: …`): `hush.<js>.js` is the script.
pub fn hashes(site_dir: &Path) -> std::io::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(site_dir.join(HASH_FILE))?;
    Ok(text
        .lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(kind, hash)| (kind.trim().to_owned(), hash.trim().to_owned()))
        .collect())
}

/// Whether a built site was split by route (`cargo leptos build --split`),
/// as every build of the app must be: its `hash.txt` names the parts'
/// loader. The app's script imports that loader, so without it the app
/// does not start.
pub fn is_split(site_dir: &Path) -> bool {
    hashes(site_dir).is_ok_and(|hashes| hashes.contains_key("split"))
}

/// Whether a file name carries its content's hash the way cargo-leptos
/// writes it (`stem.<22 characters of base64url>.extension`); the split
/// loader's unhashed placeholder (all underscores) does not count.
pub fn is_hashed(file_name: &str) -> bool {
    let parts: Vec<&str> = file_name.split('.').collect();
    parts.len() >= 3
        && parts[1..parts.len() - 1].iter().any(|part| {
            part.len() == 22
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                && !part.bytes().all(|b| b == b'_')
        })
}

/// The `Cache-Control` a static file's path gets, if any.
fn cache_control(path: &str) -> Option<&'static str> {
    if let Some(name) = path.strip_prefix("/pkg/") {
        return (!name.contains('/') && is_hashed(name)).then_some(FOREVER);
    }
    matches!(path.trim_start_matches('/'), HASH_FILE | "sw.js").then_some(ALWAYS_ASK)
}

/// Sets [`cache_control`] on a successful answer for a build file.
pub async fn caching(request: Request, next: Next) -> Response {
    let policy = cache_control(request.uri().path());
    let mut response = next.run(request).await;
    if let Some(policy) = policy
        && (response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED)
    {
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_a_content_hash_are_told_apart_from_the_rest() {
        for name in [
            "hush.R2k6mJd0Xw9tA7pQe1Lc_g.wasm",
            "hush.R2k6mJd0Xw9tA7pQe1Lc-g.js",
            "__wasm_split.R2k6mJd0Xw9tA7pQe1Lc_g.js",
            "split___chats_route_view_a1.R2k6mJd0Xw9tA7pQe1Lc_g.wasm",
        ] {
            assert!(is_hashed(name), "{name}");
        }
        for name in [
            "hush.wasm",
            "hush.js",
            "__wasm_split.______________________.js",
            "hush.R2k6mJd0Xw9tA7pQe1Lc_.wasm",
            "hush.R2k6mJd0Xw9tA7pQe1Lc_g",
            "R2k6mJd0Xw9tA7pQe1Lc_g.js",
            "hush.R2k6mJd0Xw9tA7pQe1L!_g.js",
        ] {
            assert!(!is_hashed(name), "{name}");
        }
    }

    #[test]
    fn hashed_build_files_are_kept_and_the_build_list_always_checked() {
        assert_eq!(
            cache_control("/pkg/hush.R2k6mJd0Xw9tA7pQe1Lc_g.wasm"),
            Some(FOREVER)
        );
        assert_eq!(cache_control("/pkg/hush.wasm"), None);
        assert_eq!(
            cache_control("/pkg/snippets/x.R2k6mJd0Xw9tA7pQe1Lc_g.js"),
            None
        );
        assert_eq!(cache_control("/hash.txt"), Some(ALWAYS_ASK));
        assert_eq!(cache_control("/sw.js"), Some(ALWAYS_ASK));
        assert_eq!(cache_control("/"), None);
        assert_eq!(cache_control("/chats/hush.R2k6mJd0Xw9tA7pQe1Lc_g.js"), None);
    }

    #[test]
    fn a_site_built_without_the_split_is_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path();
        assert!(!is_split(site), "no hash.txt");
        std::fs::write(site.join(HASH_FILE), "js: a\nwasm: b\ncss: c\n").unwrap();
        assert!(!is_split(site), "a whole-app build");
        std::fs::write(
            site.join(HASH_FILE),
            "js: a\nwasm: b\ncss: c\nmanifest: d\nsplit: e\n",
        )
        .unwrap();
        assert!(is_split(site), "a build split by route");
    }
}
