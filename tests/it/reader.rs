//! The reader fixture: a member's client for one conversation that runs the
//! browser's own delivery core (`hush::delivery::Core`) over HTTP and
//! Socket.IO. The core decides what to list and fetch after every connect
//! and every push; this shell only carries its commands out (and panics if
//! the server fails to answer, which no test here expects).

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hush::delivery::{Command, Core, Event, Fetch};
use hush::model::conversation::{Conversation, Conversations, Head, History, Message};
use hush::model::ids::ConversationId;
use serde_json::{Value, json};

use crate::chat::history;
use crate::live::Live;
use crate::util::{Account, Client};

pub struct Reader {
    pub account: Account,
    conversation: ConversationId,
    core: Core<Message>,
    /// Ids of the messages pushed to this reader.
    pushed: HashSet<String>,
    /// Pushes of a message already pushed (a push and a fetch bringing the
    /// same message is normal and not counted).
    pub repeats: usize,
    live: Option<Live>,
}

fn clock() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

impl Reader {
    pub fn new(account: Account, conversation: &str) -> Self {
        Reader {
            account,
            conversation: conversation.parse().unwrap(),
            core: Core::new(clock()),
            pushed: HashSet::new(),
            repeats: 0,
            live: None,
        }
    }

    fn messages(&self) -> &[Message] {
        self.core
            .timeline(self.conversation)
            .map(|t| t.lines())
            .unwrap_or_default()
    }

    /// The highest `seq` held.
    pub fn last_seq(&self) -> u64 {
        self.messages().last().map_or(0, |m| m.seq)
    }

    /// The `seq`s held, in order.
    pub fn seqs(&self) -> Vec<u64> {
        self.messages().iter().map(|m| m.seq).collect()
    }

    /// Every message held, in order, as the wire has it.
    pub fn held(&self) -> Vec<Value> {
        self.messages()
            .iter()
            .map(|m| serde_json::to_value(m).unwrap())
            .collect()
    }

    /// Connects, and catches up as the core says.
    pub async fn connect(&mut self, server: &Client) {
        self.live = Some(Live::connect(server, &self.account.token).await);
        self.feed(server, Event::Connected).await;
    }

    /// The reader's socket, while connected.
    pub fn live(&self) -> Option<&Live> {
        self.live.as_ref()
    }

    /// Goes away: pushes from now on are missed.
    pub fn disconnect(&mut self) {
        self.live = None;
        self.core.handle(clock(), Event::Disconnected);
    }

    /// Feeds the core one event and carries out what it decides, feeding
    /// each answer back, until it asks for nothing more.
    async fn feed(&mut self, server: &Client, event: Event<Message>) {
        let mut commands: VecDeque<Command> = self.core.handle(clock(), event).into();
        while let Some(command) = commands.pop_front() {
            let answer = match command {
                Command::List => Event::Listed(self.list(server).await),
                Command::Fetch(fetch) => Event::Page {
                    fetch,
                    entries: self.fetch(server, fetch).await,
                },
                // Nothing to draw, keep or wait for: the reader never sends.
                Command::Show(_) | Command::Unpark(_) | Command::Wake { .. } => continue,
                Command::Send(_) | Command::Reseal(_) => unreachable!("the reader never writes"),
            };
            commands.extend(self.core.handle(clock(), answer));
        }
    }

    /// Where this reader's conversation stands, as the list says.
    async fn list(&self, server: &Client) -> Vec<Head> {
        let response = server
            .post("conversations/list", json!({}), Some(&self.account.token))
            .await;
        assert_eq!(response.status(), 200);
        let list: Conversations = response.json().await.unwrap();
        list.conversations
            .iter()
            .map(Conversation::head)
            .chain(list.heads)
            .filter(|h| h.id == self.conversation)
            .collect()
    }

    async fn fetch(&self, server: &Client, fetch: Fetch) -> Vec<Message> {
        let (status, page) = history(
            server,
            &self.account,
            json!({
                "conversation_id": fetch.conversation,
                "after_seq": fetch.after,
                "before_seq": fetch.before,
                "limit": fetch.limit,
            }),
        )
        .await;
        assert_eq!(status, 200, "{page}");
        serde_json::from_value::<History>(page).unwrap().messages
    }

    /// Takes the pushes that arrive within `within` (ending early after a
    /// quiet 300 ms), doing whatever the core decides for each.
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
            let Ok(message) = serde_json::from_value::<Message>(message) else {
                continue;
            };
            if name != "new-message" || message.conversation_id != self.conversation {
                continue;
            }
            if !self.pushed.insert(message.id.to_string()) {
                self.repeats += 1;
            }
            let conversation = self.conversation;
            self.feed(
                server,
                Event::Pushed {
                    conversation,
                    entry: message,
                },
            )
            .await;
        }
    }
}
