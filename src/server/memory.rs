//! How the server asks the C allocator (glibc's malloc) to hand memory back.
//!
//! Every sign-up and login runs Argon2id over 19 MiB. glibc serves a block
//! that large from `mmap` and returns it on free, but only until the first
//! such free: from then on it raises its threshold to the freed size and
//! serves the next ones from the heap, where they stay. Measured with the
//! benchmark, 1,000 sign-ups left the server at 184 MiB before any socket
//! connected; with the threshold fixed at 1 MiB, at 14 MiB.

/// Blocks from this size up always come from `mmap` and go back on free.
const MMAP_THRESHOLD: i32 = 1 << 20;

/// Fixes the `mmap` threshold (which also stops glibc from moving it).
/// Call once, before the runtime starts threads. Elsewhere than glibc it
/// does nothing.
pub fn return_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only sets an allocator parameter; it returns 0 if
        // the value is refused, which leaves glibc's default in place.
        let _ = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) };
    }
}
