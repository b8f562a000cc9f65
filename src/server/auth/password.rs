//! The stored proof of a password: Argon2id over the browser's `auth_key`
//! (m = 19456 KiB, t = 2, p = 1, as DESIGN.md fixes it). A login for an
//! unknown name still runs one verification against a dummy hash, so both
//! failures take the same time.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, LazyLock, Mutex};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Work for a hashing thread.
type Job = Box<dyn FnOnce() + Send>;

/// One hashing thread per core, fed from one queue. Each Argon2id run
/// takes 19 MiB: on a blocking pool, a burst of sign-ups or logins would
/// take a thread and 19 MiB each (which the allocator keeps afterwards,
/// thread by thread). Here they queue, and memory stays at one buffer per
/// core.
static HASHERS: LazyLock<Sender<Job>> = LazyLock::new(|| {
    let (jobs, queue) = mpsc::channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    for i in 0..threads {
        let queue = queue.clone();
        std::thread::Builder::new()
            .name(format!("argon2-{i}"))
            .spawn(move || {
                loop {
                    // The lock is released before the job runs.
                    let job = match queue.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            })
            .expect("a hashing thread starts");
    }
    jobs
});

/// Jobs queued or running at most. Beyond them a request is refused at
/// once (the caller answers 503 with `Retry-After`) rather than queued
/// behind seconds of hashing for clients that may have gone.
pub const MAX_QUEUED: usize = 64;

/// Counts what is queued or running, up to a bound.
#[derive(Debug)]
pub struct Gate {
    max: usize,
    held: AtomicUsize,
}

/// One place in a [`Gate`], given back when dropped.
#[derive(Debug)]
pub struct Place<'a>(&'a Gate);

impl Gate {
    pub const fn new(max: usize) -> Self {
        Gate {
            max,
            held: AtomicUsize::new(0),
        }
    }

    /// A place, if fewer than the bound are held.
    pub fn enter(&self) -> Option<Place<'_>> {
        self.held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            .map(|_| Place(self))
    }
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        self.0.held.fetch_sub(1, Ordering::AcqRel);
    }
}

static QUEUE: Gate = Gate::new(MAX_QUEUED);

/// Why offloaded work gave no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offload {
    /// [`MAX_QUEUED`] jobs are waiting or running already.
    Busy,
    /// A hashing thread panicked on it.
    Failed,
}

/// Runs `work` (a [`hash`] or a [`verify`]) on the hashing threads. Work
/// whose asker has gone by the time a thread takes it (the client hung up)
/// is dropped unrun.
pub async fn offload<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Offload> {
    let place = QUEUE.enter().ok_or(Offload::Busy)?;
    let (answer, answered) = tokio::sync::oneshot::channel();
    HASHERS
        .send(Box::new(move || {
            let _place = place;
            if !answer.is_closed() {
                let _ = answer.send(work());
            }
        }))
        .map_err(|_| Offload::Failed)?;
    answered.await.map_err(|_| Offload::Failed)
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string to store for an `auth_key`.
pub fn hash(auth_key: &[u8]) -> String {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system's random source works");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt");
    argon2()
        .hash_password(auth_key, &salt)
        .expect("hashing with valid parameters succeeds")
        .to_string()
}

/// Whether `auth_key` matches a stored PHC string (constant time inside).
pub fn verify(auth_key: &[u8], stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => argon2().verify_password(auth_key, &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Spends the same work as [`verify`] for a name that has no account.
pub fn verify_nobody(auth_key: &[u8]) {
    static DUMMY: LazyLock<String> = LazyLock::new(|| hash(b"no account has this key"));
    let _ = verify(auth_key, &DUMMY);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_verifies_only_the_same_key() {
        let stored = hash(&[7; 32]);
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(verify(&[7; 32], &stored));
        assert!(!verify(&[8; 32], &stored));
        assert!(!verify(&[7; 32], "not a hash"));
        assert_ne!(hash(&[7; 32]), stored, "salted");
    }

    #[tokio::test]
    async fn offloaded_work_answers_and_queues_beyond_the_threads() {
        // More hashes at once than there are hashing threads: all answer.
        let hashes: Vec<_> = (0..6u8)
            .map(|k| tokio::spawn(offload(move || (k, hash(&[k; 32])))))
            .collect();
        for handle in hashes {
            let (k, stored) = handle.await.unwrap().expect("answered");
            assert_eq!(offload(move || verify(&[k; 32], &stored)).await, Ok(true));
        }
    }

    #[test]
    fn the_gate_holds_at_most_its_bound() {
        let gate = Gate::new(2);
        let (a, b) = (gate.enter().unwrap(), gate.enter().unwrap());
        assert!(gate.enter().is_none());
        drop(a);
        let c = gate.enter().expect("a place came free");
        drop((b, c));
        assert_eq!(gate.held.load(Ordering::Acquire), 0);
    }

    #[tokio::test]
    async fn work_whose_asker_has_gone_is_dropped_unrun() {
        use std::time::Duration;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        // Every hashing thread busy for a moment...
        let busy: Vec<_> = (0..threads)
            .map(|_| tokio::spawn(offload(|| std::thread::sleep(Duration::from_millis(300)))))
            .collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        // ...while five askers queue work and hang up.
        let ran = Arc::new(AtomicUsize::new(0));
        for _ in 0..5 {
            let ran = ran.clone();
            let asked = offload(move || ran.fetch_add(1, Ordering::AcqRel));
            let _ = tokio::time::timeout(Duration::from_millis(1), asked).await;
        }
        for handle in busy {
            handle.await.unwrap().unwrap();
        }
        // Work queued after theirs answers; theirs never ran.
        assert_eq!(offload(|| 7).await, Ok(7));
        assert_eq!(ran.load(Ordering::Acquire), 0);
    }
}
