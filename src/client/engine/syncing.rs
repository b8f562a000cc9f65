//! The contact book following the user (suite step 8), for the engine: the
//! server keeps it sealed under `cbk`, versioned, and put is
//! compare-and-set. At start and after every change here, the engine
//! fetches the server's copy, refuses one older than (or forked from) what
//! this browser saw, opens and merges it, and writes the union back when it
//! holds more; a lost race (409 `version_conflict`) fetches and merges again.

use std::rc::Rc;

use leptos::task::spawn_local;

use super::Engine;
use crate::api::contacts;
use crate::crypto::keyset::sha256;
use crate::crypto::pins::{Anchor, Shared};
use crate::crypto::web::{self, primitives as p};
use crate::model::contacts::PutBook;
use crate::model::encoding::b64;
use crate::model::error::ErrorCode;
use crate::model::suite::NONCE_LEN;

/// Rounds of fetch, merge and put before giving up until the next change.
const ATTEMPTS: usize = 3;

/// What ended a sync round early.
enum Stop {
    /// Another browser wrote first: fetch and merge again.
    Raced,
    /// Anything else (offline, refused, a copy that is not ours): said in
    /// the console, tried again at the next change.
    Failed(String),
}

impl Engine {
    /// Brings the server's copy and this book in step, once at a time; a
    /// request made while one runs runs after it.
    pub(super) fn sync_book(self: &Rc<Self>) {
        if self.book_sync.running.replace(true) {
            self.book_sync.again.set(true);
            return;
        }
        let engine = self.clone();
        spawn_local(async move {
            loop {
                engine.book_sync.again.set(false);
                for _ in 0..ATTEMPTS {
                    match engine.sync_round().await {
                        Ok(()) => break,
                        Err(Stop::Raced) => continue,
                        Err(Stop::Failed(why)) => {
                            leptos::logging::warn!("contact book not synced: {why}");
                            break;
                        }
                    }
                }
                if !engine.book_sync.again.get() {
                    break;
                }
            }
            engine.book_sync.running.set(false);
        });
    }

    /// One fetch, check, merge and, if this book holds more, put.
    async fn sync_round(self: &Rc<Self>) -> Result<(), Stop> {
        let failed = |what: &str| Stop::Failed(what.to_owned());
        let stored = contacts::get().await.map_err(|e| Stop::Failed(e.message))?;
        let me = self.me_public();
        let user_id = &self.me.user_id;
        let mut ahead = true;
        let mut prev = String::new();
        if stored.version > 0 {
            let hash = sha256(&stored.book);
            self.book
                .borrow()
                .check_offer(stored.version, &hash)
                .map_err(|e| Stop::Failed(e.to_string()))?;
            prev = b64(&hash);
            let held = self.book.borrow().anchor().map(|a| a.version);
            if held == Some(stored.version) {
                // The copy this browser last read or wrote (`check_offer`
                // made sure): nothing to merge.
                if !self.book.borrow().dirty() {
                    return Ok(());
                }
                return self.put_book(stored.version + 1, prev).await;
            }
            let plain = web::open_book(&self.me.cbk, user_id, stored.version, &stored.book)
                .await
                .map_err(|_| failed("the server's copy does not open with your key"))?;
            let shared: Shared = serde_json::from_slice(&plain)
                .map_err(|_| failed("the server's copy is not a contact book"))?;
            let merged = {
                let mut book = self.book.borrow_mut();
                book.check_prev(stored.version, &shared)
                    .map_err(|e| Stop::Failed(e.to_string()))?;
                let merged = book.merge(&me, &shared.contacts);
                let anchor = Anchor {
                    version: stored.version,
                    hash: hash.into(),
                };
                book.anchored(anchor, !merged.ahead);
                merged
            };
            // The marks follow the merged book: key changes it holds, and
            // verified marks taken from the server's copy, which
            // conversations opened before it came do not show yet.
            self.refresh_marks();
            ahead = merged.ahead || self.book.borrow().dirty();
        }
        self.keep_book().await;
        if !ahead || self.book.borrow().anchor().is_none() && self.book.borrow().is_empty() {
            return Ok(());
        }
        self.put_book(stored.version + 1, prev).await
    }

    /// Seals the book as `version`, naming `prev`, and puts it.
    async fn put_book(self: &Rc<Self>, version: u64, prev: String) -> Result<(), Stop> {
        let failed = |what: &str| Stop::Failed(what.to_owned());
        let user_id = &self.me.user_id;
        let shared = self.book.borrow().shared(prev);
        let json = serde_json::to_vec(&shared).map_err(|_| failed("the book would not encode"))?;
        let nonce = p::random::<NONCE_LEN>().map_err(|e| Stop::Failed(e.to_string()))?;
        let sealed = web::seal_book(&self.me.cbk, user_id, version, &nonce, &json)
            .await
            .map_err(|e| Stop::Failed(e.to_string()))?;
        let hash = sha256(&sealed);
        match contacts::put(PutBook {
            version,
            book: sealed.into(),
        })
        .await
        {
            Ok(_) => {
                let anchor = Anchor {
                    version,
                    hash: hash.into(),
                };
                self.book.borrow_mut().anchored(anchor, true);
                self.keep_book().await;
                Ok(())
            }
            Err(e) if e.error == ErrorCode::VersionConflict => Err(Stop::Raced),
            Err(e) => Err(Stop::Failed(e.message)),
        }
    }
}
