//! The reader fixture: a member's client that does what the browser's engine
//! does with one conversation. After every connect it fetches the gap with
//! `history(after_seq = the last seq it holds)`; a push that skips ahead
//! makes it fill the gap the same way; it holds each message once, by `seq`.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use serde_json::{Value, json};

use crate::chat::history;
use crate::live::Live;
use crate::util::{Account, Client};

pub struct Reader {
    pub account: Account,
    conversation: String,
    /// Every message held, by `seq`.
    pub held: BTreeMap<u64, Value>,
    /// Ids of the messages pushed to this reader.
    pushed: HashSet<String>,
    /// Pushes of a message already pushed (a push and a fetch bringing the
    /// same message is normal and not counted).
    pub repeats: usize,
    live: Option<Live>,
}

impl Reader {
    pub fn new(account: Account, conversation: &str) -> Self {
        Reader {
            account,
            conversation: conversation.to_owned(),
            held: BTreeMap::new(),
            pushed: HashSet::new(),
            repeats: 0,
            live: None,
        }
    }

    /// The highest `seq` held.
    pub fn last_seq(&self) -> u64 {
        self.held.keys().next_back().copied().unwrap_or(0)
    }

    /// The `seq`s held, in order.
    pub fn seqs(&self) -> Vec<u64> {
        self.held.keys().copied().collect()
    }

    /// Connects and catches up.
    pub async fn connect(&mut self, server: &Client) {
        self.live = Some(Live::connect(server, &self.account.token).await);
        self.catch_up(server).await;
    }

    /// The reader's socket, while connected.
    pub fn live(&self) -> Option<&Live> {
        self.live.as_ref()
    }

    /// Goes away: pushes from now on are missed.
    pub fn disconnect(&mut self) {
        self.live = None;
    }

    /// Fetches everything after the last `seq` held.
    pub async fn catch_up(&mut self, server: &Client) {
        loop {
            let (status, page) = history(
                server,
                &self.account,
                json!({"conversation_id": self.conversation, "after_seq": self.last_seq(), "limit": 200}),
            )
            .await;
            assert_eq!(status, 200, "{page}");
            let messages = page["messages"].as_array().unwrap().clone();
            let full = messages.len() == 200;
            for m in messages {
                self.hold(m);
            }
            if !full {
                return;
            }
        }
    }

    fn hold(&mut self, message: Value) {
        let seq = message["seq"].as_u64().unwrap();
        self.held.insert(seq, message);
    }

    /// Takes the pushes that arrive within `within` (ending early after a
    /// quiet 300 ms), filling any gap a push reveals.
    pub async fn pump(&mut self, server: &Client, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some(live) = self.live.as_mut().filter(|_| !left.is_zero()) else {
                return;
            };
            let quiet = left.min(Duration::from_millis(300));
            let Some((name, message)) = live.next_event(quiet).await else {
                return;
            };
            if name != "new-message" || message["conversation_id"] != self.conversation.as_str() {
                continue;
            }
            if !self
                .pushed
                .insert(message["id"].as_str().unwrap().to_owned())
            {
                self.repeats += 1;
            }
            let seq = message["seq"].as_u64().unwrap();
            if seq > self.last_seq() + 1 {
                self.catch_up(server).await;
            }
            self.hold(message);
        }
    }
}
