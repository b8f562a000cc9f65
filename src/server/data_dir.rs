//! The data directory: the embedded database and the server's generated
//! secrets live here, so it is created readable by its owner only.

use std::path::Path;

/// Creates `dir` and its parents, mode 0700 on Unix; fine if it exists.
#[cfg(unix)]
pub fn create(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
pub fn create(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}
