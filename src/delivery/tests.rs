//! The core's tests: single decisions first, then a property over whole
//! runs of several clients against a simulated network and server that
//! reorders, drops and repeats pushes, loses answers, restarts, refuses
//! sends for a while or for good, and reloads pages: once the network is
//! quiet, every client's view equals the stored log.

use std::collections::{BTreeMap, HashMap, VecDeque};

use proptest::prelude::*;

use super::*;
use crate::delivery::line::{Body, Delivery, Line};
use crate::model::conversation::Outgoing;
use crate::model::ids::UserId;

const T0: u64 = 1_000_000;

fn chat() -> ConversationId {
    ConversationId::new()
}

fn stored(conversation: ConversationId, seq: u64, id: MessageId, me: bool) -> Line {
    let _ = conversation;
    Line {
        id,
        seq: Some(seq),
        sender_id: UserId::new(),
        sender: "ann".into(),
        mine: me,
        body: Body::Text(format!("m{seq}")),
        at: format!("2026-11-30T00:00:{:02}.000Z", seq % 60),
        delivery: Delivery::Sent,
        epoch: 0,
    }
}

fn pending(id: MessageId) -> Line {
    Line {
        id,
        seq: None,
        sender_id: UserId::new(),
        sender: "me".into(),
        mine: true,
        body: Body::Text("hello".into()),
        at: "2026-11-30T00:00:00.000Z".into(),
        delivery: Delivery::Pending,
        epoch: 0,
    }
}

fn parcel(conversation: ConversationId, id: MessageId, key: &str) -> Parcel {
    Parcel {
        key: key.into(),
        user_id: "me".into(),
        outgoing: Outgoing {
            conversation_id: conversation,
            message_id: id,
            epoch: 0,
            nonce: Default::default(),
            ciphertext: Default::default(),
            signature: Default::default(),
        },
    }
}

fn fetches(commands: &[Command]) -> Vec<Fetch> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::Fetch(f) => Some(*f),
            _ => None,
        })
        .collect()
}

fn head(id: ConversationId, last_seq: u64) -> Head {
    Head {
        id,
        last_seq,
        epoch: 0,
        pending: 0,
    }
}

fn held(core: &Core<Line>, c: ConversationId) -> Vec<u64> {
    core.timeline(c)
        .map(|t| t.lines().iter().filter_map(|l| l.seq).collect())
        .unwrap_or_default()
}

/// A core that has listed `c` as empty and holds nothing.
fn listed_empty(c: ConversationId) -> Core<Line> {
    let mut core = Core::new(7);
    core.handle(T0, Event::Connected);
    core.handle(T0, Event::Listed(vec![head(c, 0)]));
    core
}

fn push(core: &mut Core<Line>, c: ConversationId, seq: u64) -> Vec<Command> {
    let entry = stored(c, seq, MessageId::new(), false);
    core.handle(
        T0,
        Event::Pushed {
            conversation: c,
            entry,
        },
    )
}

/// The user writes message `id`: it shows as pending.
fn written(core: &mut Core<Line>, c: ConversationId, id: MessageId) -> Vec<Command> {
    let entry = pending(id);
    core.handle(
        T0,
        Event::Written {
            conversation: c,
            entry,
        },
    )
}

/// The server stores `a` (parcel "1") at seq 1: its parcel is forgotten,
/// its line shown, and `b` (parcel "2") goes next.
fn stored_then_next(core: &mut Core<Line>, c: ConversationId, a: MessageId, b: MessageId) {
    let commands = core.handle(
        T0,
        Event::Sent {
            id: a,
            seq: 1,
            at: "2026-11-30T00:00:01.000Z".into(),
        },
    );
    assert_eq!(
        commands,
        [
            Command::Unpark("1".into()),
            Command::Show(c),
            Command::Send(parcel(c, b, "2")),
        ]
    );
}

/// Answers `fetch` with messages `seqs`.
fn answer(
    core: &mut Core<Line>,
    fetch: Fetch,
    seqs: std::ops::RangeInclusive<u64>,
) -> Vec<Command> {
    let c = fetch.conversation;
    let entries = seqs
        .map(|s| stored(c, s, MessageId::new(), false))
        .collect();
    core.handle(T0, Event::Page { fetch, entries })
}

#[test]
fn connecting_lists_and_an_empty_conversation_is_complete_without_a_fetch() {
    let c = chat();
    let mut core: Core<Line> = Core::new(1);
    assert_eq!(core.handle(T0, Event::Connected), [Command::List]);
    assert!(!core.settled());
    let commands = core.handle(T0, Event::Listed(vec![head(c, 0)]));
    assert_eq!(commands, [Command::Show(c)]);
    assert!(core.timeline(c).unwrap().complete);
    assert!(core.settled());
}

#[test]
fn a_list_asked_for_while_one_runs_runs_once_more_after_it() {
    let mut core: Core<Line> = Core::new(1);
    assert_eq!(core.handle(T0, Event::Refresh), [Command::List]);
    assert!(core.handle(T0, Event::Connected).is_empty());
    assert!(core.handle(T0, Event::Refresh).is_empty());
    assert_eq!(core.handle(T0, Event::Listed(vec![])), [Command::List]);
    assert!(core.handle(T0, Event::Listed(vec![])).is_empty());
    assert!(core.settled());
}

#[test]
fn a_conversation_with_history_fetches_its_newest_page_first() {
    let c = chat();
    let mut core: Core<Line> = Core::new(1);
    core.handle(T0, Event::Connected);
    let commands = core.handle(T0, Event::Listed(vec![head(c, 500)]));
    let newest = Fetch {
        conversation: c,
        after: None,
        before: None,
        limit: PAGE,
    };
    assert_eq!(fetches(&commands), [newest]);
    let commands = answer(&mut core, newest, 451..=500);
    assert_eq!(
        commands,
        [Command::Show(c)],
        "nothing older is fetched unasked"
    );
    assert!(!core.timeline(c).unwrap().complete);
    assert_eq!(core.contiguous(c), 500);

    // Scrolling up asks for the page below the oldest held.
    let commands = core.handle(T0, Event::Older(c));
    let older = Fetch {
        conversation: c,
        after: None,
        before: Some(451),
        limit: PAGE,
    };
    assert_eq!(fetches(&commands), [older]);
    assert!(core.wants_older(c));
    answer(&mut core, older, 430..=450);
    assert!(!core.wants_older(c));
    assert!(
        core.timeline(c).unwrap().complete,
        "a short older page reached the oldest"
    );
}

#[test]
fn regression_a_push_that_skips_ahead_shows_at_once_and_fetches_exactly_the_missing_range() {
    // The hole a lost push left: the browser put the pushed line in first,
    // then asked for what came after the highest seq held, which was that
    // very line, so the missing one was never fetched.
    let c = chat();
    let mut core = listed_empty(c);
    push(&mut core, c, 1);
    push(&mut core, c, 2);
    let commands = push(&mut core, c, 5);
    assert_eq!(commands[0], Command::Show(c), "the new line shows first");
    assert_eq!(
        fetches(&commands),
        [Fetch {
            conversation: c,
            after: Some(2),
            before: Some(5),
            limit: 2,
        }]
    );
    assert_eq!(held(&core, c), [1, 2, 5]);
    assert!(
        fetches(&push(&mut core, c, 6)).is_empty(),
        "one fetch at a time"
    );
    let commands = answer(&mut core, fetches(&commands)[0], 3..=4);
    assert_eq!(commands, [Command::Show(c)]);
    assert_eq!(held(&core, c), [1, 2, 3, 4, 5, 6]);
    assert_eq!(core.contiguous(c), 6);
}

#[test]
fn a_reconnect_fetches_everything_after_the_last_held_in_full_pages() {
    let c = chat();
    let mut core = listed_empty(c);
    push(&mut core, c, 1);
    core.handle(T0, Event::Disconnected);
    core.handle(T0, Event::Connected);
    let commands = core.handle(T0, Event::Listed(vec![head(c, 450)]));
    let first = Fetch {
        conversation: c,
        after: Some(1),
        before: None,
        limit: MAX_HISTORY_LIMIT,
    };
    assert_eq!(fetches(&commands), [first]);
    let commands = answer(&mut core, first, 2..=201);
    assert_eq!(
        fetches(&commands),
        [Fetch {
            after: Some(201),
            ..first
        }]
    );
}

#[test]
fn an_answer_that_brings_nothing_stops_the_chase_until_news() {
    // A server that says it holds 10 but answers nothing must not keep
    // the client fetching in a loop.
    let c = chat();
    let mut core = listed_empty(c);
    push(&mut core, c, 1);
    let commands = core.handle(T0, Event::Heads(vec![head(c, 10)]));
    let fetch = fetches(&commands)[0];
    let commands = core.handle(
        T0,
        Event::Page {
            fetch,
            entries: vec![],
        },
    );
    assert!(commands.is_empty(), "{commands:?}");
    // A push is news: the hole is chased again.
    assert_eq!(fetches(&push(&mut core, c, 12)).len(), 1);
}

#[test]
fn a_failed_fetch_is_retried_after_a_backoff_while_connected_and_at_the_next_connect_when_not() {
    let c = chat();
    let mut core = listed_empty(c);
    push(&mut core, c, 1);
    let fetch = fetches(&push(&mut core, c, 3))[0];
    let commands = core.handle(T0, Event::PageFailed(fetch));
    let Some(Command::Wake { at }) = commands.first().cloned() else {
        panic!("{commands:?}")
    };
    assert!((T0..=T0 + 1_000).contains(&at), "first retry within 1 s");
    assert!(fetches(&core.handle(at - 1, Event::Timer)).is_empty() || at == T0);
    assert_eq!(fetches(&core.handle(at, Event::Timer)), [fetch]);

    core.handle(T0, Event::Disconnected);
    assert!(fetches(&core.handle(at, Event::PageFailed(fetch))).is_empty());
    assert!(fetches(&core.handle(at + 60_000, Event::Timer)).is_empty());
    let commands = core.handle(at, Event::Connected);
    assert_eq!(fetches(&commands), [fetch], "a reconnect fetches at once");
}

#[test]
fn a_forged_copy_sent_first_gives_way_to_the_genuine_one() {
    let c = chat();
    let mut core = listed_empty(c);
    let id = MessageId::new();
    let genuine = stored(c, 1, id, false);
    let mut forged = genuine.clone();
    forged.body = Body::Unverified;
    for entry in [forged.clone(), genuine.clone(), forged] {
        core.handle(
            T0,
            Event::Pushed {
                conversation: c,
                entry,
            },
        );
    }
    assert_eq!(core.timeline(c).unwrap().lines(), [genuine]);
}

#[test]
fn the_outbox_sends_one_at_a_time_in_writing_order() {
    let c = chat();
    let mut core = listed_empty(c);
    let (a, b) = (MessageId::new(), MessageId::new());
    for id in [a, b] {
        written(&mut core, c, id);
    }
    assert_eq!(
        core.handle(T0, Event::Parked(parcel(c, a, "1"))),
        [Command::Send(parcel(c, a, "1"))]
    );
    assert!(core.handle(T0, Event::Parked(parcel(c, b, "2"))).is_empty());
    assert_eq!(core.unsent(), 2);
    stored_then_next(&mut core, c, a, b);
    let line = core.timeline(c).unwrap().get(a).unwrap().clone();
    assert_eq!(
        (line.seq, line.delivery, line.at.as_str()),
        (Some(1), Delivery::Sent, "2026-11-30T00:00:01.000Z")
    );
    // An answer about a message not in flight changes nothing.
    assert!(
        core.handle(
            T0,
            Event::Sent {
                id: a,
                seq: 1,
                at: String::new()
            }
        )
        .is_empty()
    );
}

/// The in-flight `id` is refused for its epoch and cannot be sealed again
/// yet (the next epoch is not held): it waits. Answers when it wakes.
fn reseal_not_yet(core: &mut Core<Line>, now: u64, id: MessageId) -> u64 {
    core.handle(now, Event::Stale { id });
    let reason = "the next epoch is not here yet".into();
    let refused = Event::Refused {
        id,
        transient: true,
        reason,
    };
    let [Command::Wake { at }] = core.handle(now, refused)[..] else {
        panic!("a wake")
    };
    at
}

#[test]
fn a_send_refused_for_its_epoch_is_sealed_again_in_its_place_with_the_same_id() {
    let c = chat();
    let mut core = listed_empty(c);
    let (a, b) = (MessageId::new(), MessageId::new());
    for id in [a, b] {
        written(&mut core, c, id);
    }
    core.handle(T0, Event::Parked(parcel(c, a, "1")));
    core.handle(T0, Event::Parked(parcel(c, b, "2")));
    // Refused for its epoch: sealed again, nothing else goes meanwhile.
    assert_eq!(
        core.handle(T0, Event::Stale { id: a }),
        [Command::Reseal(parcel(c, a, "1"))]
    );
    assert!(core.handle(T0 + 60_000, Event::Timer).is_empty());
    // Something else's reseal, or a stale answer about another, changes
    // nothing.
    assert!(
        core.handle(T0, Event::Resealed(parcel(c, b, "2")))
            .is_empty()
    );
    assert!(core.handle(T0, Event::Stale { id: b }).is_empty());
    // The new parcel (next epoch) takes its place and goes now.
    let mut again = parcel(c, a, "1");
    again.outgoing.epoch = 1;
    assert_eq!(
        core.handle(T0, Event::Resealed(again.clone())),
        [Command::Send(again.clone())]
    );
    stored_then_next(&mut core, c, a, b);
    assert_eq!(
        core.timeline(c).unwrap().get(a).unwrap().delivery,
        Delivery::Sent
    );
    // A reseal that cannot be made yet waits and tries again: the old
    // parcel goes again, and is refused for its epoch again.
    let at = reseal_not_yet(&mut core, T0, b);
    assert_eq!(
        core.handle(at, Event::Timer),
        [Command::Send(parcel(c, b, "2"))]
    );
    assert_eq!(core.unsent(), 1);

    // Refused for its epoch again and waiting: when the next epoch is held
    // here it goes at once, not after the backoff; another conversation's
    // keys moving on changes nothing.
    let later = reseal_not_yet(&mut core, at, b);
    assert!(core.handle(at, Event::Rekeyed(chat())).is_empty());
    assert!(later > at);
    assert_eq!(
        core.handle(at, Event::Rekeyed(c)),
        [Command::Send(parcel(c, b, "2"))]
    );
}

#[test]
fn a_send_that_may_pass_is_retried_with_the_same_parcel_and_at_once_when_the_link_is_back() {
    let c = chat();
    let mut core = listed_empty(c);
    let a = MessageId::new();
    written(&mut core, c, a);
    core.handle(T0, Event::Parked(parcel(c, a, "1")));
    let mut now = T0;
    let mut ceilings = Vec::new();
    for _ in 0..6 {
        let commands = core.handle(
            now,
            Event::Refused {
                id: a,
                transient: true,
                reason: "offline".into(),
            },
        );
        let [Command::Wake { at }] = commands[..] else {
            panic!("{commands:?}")
        };
        ceilings.push(at - now);
        assert!(
            core.handle(at.saturating_sub(1).max(now), Event::Timer)
                .is_empty()
                || at == now
        );
        now = at;
        assert_eq!(
            core.handle(now, Event::Timer),
            [Command::Send(parcel(c, a, "1"))]
        );
    }
    assert!(ceilings.iter().all(|&d| d <= 15_000), "{ceilings:?}");
    core.handle(
        now,
        Event::Refused {
            id: a,
            transient: true,
            reason: "offline".into(),
        },
    );
    let commands = core.handle(now, Event::Connected);
    assert!(
        commands.contains(&Command::Send(parcel(c, a, "1"))),
        "{commands:?}"
    );
    assert_eq!(
        core.timeline(c).unwrap().get(a).unwrap().delivery,
        Delivery::Pending
    );
}

#[test]
fn a_send_refused_for_good_fails_visibly_keeps_its_parcel_until_discarded_and_the_next_goes() {
    let c = chat();
    let mut core = listed_empty(c);
    let (a, b) = (MessageId::new(), MessageId::new());
    for (id, key) in [(a, "1"), (b, "2")] {
        written(&mut core, c, id);
        core.handle(T0, Event::Parked(parcel(c, id, key)));
    }
    let commands = core.handle(
        T0,
        Event::Refused {
            id: a,
            transient: false,
            reason: "this message is too long to send.".into(),
        },
    );
    assert_eq!(
        commands,
        [Command::Show(c), Command::Send(parcel(c, b, "2"))]
    );
    assert_eq!(
        core.timeline(c).unwrap().get(a).unwrap().delivery,
        Delivery::Failed("this message is too long to send.".into())
    );
    let commands = core.handle(
        T0,
        Event::Discard {
            conversation: c,
            id: a,
        },
    );
    assert_eq!(commands, [Command::Show(c), Command::Unpark("1".into())]);
    assert!(core.timeline(c).unwrap().get(a).is_none());
}

#[test]
fn my_own_send_answered_past_a_hole_fetches_the_hole() {
    let c = chat();
    let mut core = listed_empty(c);
    push(&mut core, c, 1);
    let a = MessageId::new();
    written(&mut core, c, a);
    core.handle(T0, Event::Parked(parcel(c, a, "1")));
    let commands = core.handle(
        T0,
        Event::Sent {
            id: a,
            seq: 3,
            at: String::new(),
        },
    );
    assert_eq!(
        fetches(&commands),
        [Fetch {
            conversation: c,
            after: Some(1),
            before: Some(3),
            limit: 1,
        }]
    );
}

#[test]
fn opening_a_conversation_before_the_list_asks_for_its_newest_page_once() {
    let c = chat();
    let mut core: Core<Line> = Core::new(1);
    let commands = core.handle(T0, Event::Open(c));
    assert_eq!(
        fetches(&commands),
        [Fetch {
            conversation: c,
            after: None,
            before: None,
            limit: PAGE,
        }]
    );
    core.handle(T0, Event::Refresh);
    assert!(
        fetches(&core.handle(T0, Event::Listed(vec![head(c, 3)]))).is_empty(),
        "the page on its way is not asked for twice"
    );
}

// ---------------------------------------------------------------- property

/// The simulated server: one conversation's log.
#[derive(Default)]
struct Server {
    log: Vec<Line>,
    by_id: HashMap<MessageId, u64>,
    up: bool,
}

/// One simulated client: its core, what is on its way to it, its kept
/// parcels and its pending timers.
struct Client {
    core: Core<Line>,
    me: UserId,
    inbox: VecDeque<Delivered>,
    online: bool,
    kept: BTreeMap<String, Parcel>,
    /// Messages written that the server refuses for good.
    bad: Vec<MessageId>,
    wakes: Vec<u64>,
    written: u32,
}

/// Something on its way to a client.
#[derive(Debug, Clone)]
enum Delivered {
    Push(Line),
    Answer(Event<Line>),
}

#[derive(Debug, Clone)]
enum Op {
    Write {
        who: usize,
        bad: bool,
    },
    /// Delivers the `pick`-th thing on its way (reordering).
    Deliver {
        who: usize,
        pick: usize,
    },
    /// Loses it: a push vanishes; an answer becomes its failure.
    Lose {
        who: usize,
        pick: usize,
    },
    /// Delivers a push twice.
    Repeat {
        who: usize,
        pick: usize,
    },
    Disconnect {
        who: usize,
    },
    Reconnect {
        who: usize,
    },
    /// The page reloads: a new core, the kept outbox restored.
    Reload {
        who: usize,
    },
    /// The server stops (every socket drops, requests fail) and starts.
    Restart,
    Down,
    Up,
    Tick {
        ms: u64,
    },
}

const CLIENTS: usize = 3;

fn op() -> impl Strategy<Value = Op> {
    let who = 0..CLIENTS;
    let pick = 0..6usize;
    prop_oneof![
        6 => (who.clone(), prop::bool::weighted(0.1)).prop_map(|(who, bad)| Op::Write { who, bad }),
        10 => (who.clone(), pick.clone()).prop_map(|(who, pick)| Op::Deliver { who, pick }),
        2 => (who.clone(), pick.clone()).prop_map(|(who, pick)| Op::Lose { who, pick }),
        1 => (who.clone(), pick).prop_map(|(who, pick)| Op::Repeat { who, pick }),
        1 => who.clone().prop_map(|who| Op::Disconnect { who }),
        1 => who.clone().prop_map(|who| Op::Reconnect { who }),
        1 => who.prop_map(|who| Op::Reload { who }),
        1 => Just(Op::Restart),
        1 => Just(Op::Down),
        1 => Just(Op::Up),
        2 => (0..20_000u64).prop_map(|ms| Op::Tick { ms }),
    ]
}

struct World {
    chat: ConversationId,
    server: Server,
    clients: Vec<Client>,
    now: u64,
}

impl World {
    fn new() -> Self {
        let chat = chat();
        let clients = (0..CLIENTS)
            .map(|n| Client {
                core: Core::new(n as u64 + 1),
                me: UserId::new(),
                inbox: VecDeque::new(),
                online: false,
                kept: BTreeMap::new(),
                bad: Vec::new(),
                wakes: Vec::new(),
                written: 0,
            })
            .collect();
        let mut world = World {
            chat,
            server: Server {
                up: true,
                ..Server::default()
            },
            clients,
            now: T0,
        };
        for who in 0..CLIENTS {
            world.feed(who, Event::Refresh);
            world.connect(who);
        }
        world
    }

    fn feed(&mut self, who: usize, event: Event<Line>) {
        let commands = self.clients[who].core.handle(self.now, event);
        for command in commands {
            self.run(who, command);
        }
    }

    fn connect(&mut self, who: usize) {
        if self.server.up && !self.clients[who].online {
            self.clients[who].online = true;
            self.feed(who, Event::Connected);
        }
    }

    fn disconnect(&mut self, who: usize) {
        let client = &mut self.clients[who];
        if client.online {
            client.online = false;
            client.inbox.retain(|d| !matches!(d, Delivered::Push(_)));
            self.feed(who, Event::Disconnected);
        }
    }

    /// The server's copy of a message as a client opens it.
    fn as_seen(&self, who: usize, line: &Line) -> Line {
        Line {
            mine: line.sender_id == self.clients[who].me,
            ..line.clone()
        }
    }

    fn run(&mut self, who: usize, command: Command) {
        let up = self.server.up;
        let answer = match command {
            Command::Show(_) => return,
            Command::Reseal(_) => unreachable!("this world's epoch never moves"),
            Command::Wake { at } => return self.clients[who].wakes.push(at),
            Command::Unpark(key) => {
                self.clients[who].kept.remove(&key);
                return;
            }
            Command::List if up => {
                Event::Listed(vec![head(self.chat, self.server.log.len() as u64)])
            }
            Command::List => Event::ListFailed,
            Command::Fetch(fetch) if up => {
                let log = &self.server.log;
                let after = fetch.after.unwrap_or(0);
                let before = fetch.before.unwrap_or(u64::MAX);
                let range = log
                    .iter()
                    .filter(|l| (after + 1..before).contains(&l.seq.unwrap()));
                let mut entries: Vec<Line> = if fetch.after.is_some() {
                    range.take(fetch.limit as usize).cloned().collect()
                } else {
                    let all: Vec<Line> = range.cloned().collect();
                    all[all.len().saturating_sub(fetch.limit as usize)..].to_vec()
                };
                entries = entries.iter().map(|l| self.as_seen(who, l)).collect();
                Event::Page { fetch, entries }
            }
            Command::Fetch(fetch) => Event::PageFailed(fetch),
            Command::Send(parcel) if !up => Event::Refused {
                id: parcel.id(),
                transient: true,
                reason: "unreachable".into(),
            },
            Command::Send(parcel) => {
                let id = parcel.id();
                if self.clients[who].bad.contains(&id) {
                    Event::Refused {
                        id,
                        transient: false,
                        reason: "too long".into(),
                    }
                } else {
                    let seq = match self.server.by_id.get(&id) {
                        Some(seq) => *seq,
                        None => {
                            let seq = self.server.log.len() as u64 + 1;
                            let mut line = stored(self.chat, seq, id, false);
                            line.sender_id = self.clients[who].me;
                            self.server.log.push(line.clone());
                            self.server.by_id.insert(id, seq);
                            for to in 0..CLIENTS {
                                if self.clients[to].online {
                                    let seen = self.as_seen(to, &line);
                                    self.clients[to].inbox.push_back(Delivered::Push(seen));
                                }
                            }
                            seq
                        }
                    };
                    let at = self.server.log[seq as usize - 1].at.clone();
                    Event::Sent { id, seq, at }
                }
            }
        };
        self.clients[who].inbox.push_back(Delivered::Answer(answer));
    }

    fn deliver(&mut self, who: usize, what: Delivered) {
        let event = match what {
            Delivered::Push(entry) => Event::Pushed {
                conversation: self.chat,
                entry,
            },
            Delivered::Answer(event) => event,
        };
        self.feed(who, event);
    }

    fn write(&mut self, who: usize, bad: bool) {
        let id = MessageId::new();
        let client = &mut self.clients[who];
        client.written += 1;
        let key = format!("{:08}", client.written);
        if bad {
            client.bad.push(id);
        }
        let parcel = parcel(self.chat, id, &key);
        client.kept.insert(key, parcel.clone());
        self.park(who, parcel);
    }

    /// Shows a parcel's message as pending and queues it, as the browser
    /// does after sealing (or after a reload).
    fn park(&mut self, who: usize, parcel: Parcel) {
        let mut entry = pending(parcel.id());
        entry.sender_id = self.clients[who].me;
        let conversation = self.chat;
        self.feed(
            who,
            Event::Written {
                conversation,
                entry,
            },
        );
        self.feed(who, Event::Parked(parcel));
    }

    fn reload(&mut self, who: usize) {
        let client = &mut self.clients[who];
        client.core = Core::new(self.now);
        client.inbox.clear();
        client.wakes.clear();
        client.online = false;
        let kept: Vec<Parcel> = client.kept.values().cloned().collect();
        self.feed(who, Event::Open(self.chat));
        for parcel in kept {
            self.park(who, parcel);
        }
        self.feed(who, Event::Refresh);
        self.connect(who);
    }

    fn timers(&mut self) {
        for who in 0..CLIENTS {
            let now = self.now;
            let due = self.clients[who].wakes.iter().any(|&at| at <= now);
            if due {
                self.clients[who].wakes.retain(|&at| at > now);
                self.feed(who, Event::Timer);
            }
        }
    }

    fn apply(&mut self, op: Op) {
        match op {
            Op::Write { who, bad } => self.write(who, bad),
            Op::Deliver { who, pick } | Op::Lose { who, pick } | Op::Repeat { who, pick } => {
                let inbox = &mut self.clients[who].inbox;
                if inbox.is_empty() {
                    return;
                }
                let at = pick % inbox.len();
                let what = inbox.remove(at).unwrap();
                match (op, what) {
                    (Op::Deliver { .. }, what) => self.deliver(who, what),
                    (Op::Lose { .. }, Delivered::Push(_)) => {}
                    (Op::Lose { .. }, Delivered::Answer(answer)) => {
                        let failure = match answer {
                            Event::Listed(_) => Event::ListFailed,
                            Event::Page { fetch, .. } => Event::PageFailed(fetch),
                            Event::Sent { id, .. } => Event::Refused {
                                id,
                                transient: true,
                                reason: "no answer".into(),
                            },
                            other => other,
                        };
                        self.feed(who, failure);
                    }
                    (_, Delivered::Push(line)) => {
                        self.deliver(who, Delivered::Push(line.clone()));
                        self.deliver(who, Delivered::Push(line));
                    }
                    (_, answer) => self.deliver(who, answer),
                }
            }
            Op::Disconnect { who } => self.disconnect(who),
            Op::Reconnect { who } => self.connect(who),
            Op::Reload { who } => self.reload(who),
            Op::Restart => {
                self.apply(Op::Down);
                self.apply(Op::Up);
            }
            Op::Down => {
                self.server.up = false;
                for who in 0..CLIENTS {
                    self.disconnect(who);
                }
            }
            Op::Up => self.server.up = true,
            Op::Tick { ms } => {
                self.now += ms;
                self.timers();
            }
        }
    }

    /// Lets the network go quiet: the server up, those offline connected,
    /// everything delivered in order, every timer run; then one more
    /// message, so that a push lost by a client that stayed online shows
    /// as a hole, and quiet again.
    fn quiesce(&mut self) {
        self.server.up = true;
        for who in 0..CLIENTS {
            self.connect(who);
        }
        self.settle();
        self.write(0, false);
        self.settle();
    }

    /// Delivers everything and runs every timer until nothing moves.
    fn settle(&mut self) {
        for _ in 0..100_000 {
            let mut busy = false;
            for who in 0..CLIENTS {
                if let Some(what) = self.clients[who].inbox.pop_front() {
                    self.deliver(who, what);
                    busy = true;
                }
            }
            if busy {
                continue;
            }
            let next = self
                .clients
                .iter()
                .flat_map(|c| c.wakes.iter())
                .min()
                .copied();
            if let Some(at) = next {
                self.now = self.now.max(at);
                self.timers();
                continue;
            }
            // The user scrolls up until the oldest message shows.
            for who in 0..CLIENTS {
                let incomplete = self.clients[who]
                    .core
                    .timeline(self.chat)
                    .is_some_and(|t| !t.complete);
                if incomplete && !self.clients[who].core.wants_older(self.chat) {
                    self.feed(who, Event::Older(self.chat));
                    busy = true;
                }
            }
            if !busy {
                return;
            }
        }
        panic!("the network never went quiet");
    }
}

fn run(ops: Vec<Op>) {
    let mut world = World::new();
    for op in ops {
        world.apply(op);
    }
    world.quiesce();
    let log: Vec<(MessageId, u64)> = world
        .server
        .log
        .iter()
        .map(|l| (l.id, l.seq.unwrap()))
        .collect();
    for (who, client) in world.clients.iter().enumerate() {
        let timeline = client.core.timeline(world.chat).expect("a timeline");
        let stored: Vec<(MessageId, u64)> = timeline
            .lines()
            .iter()
            .filter_map(|l| Some((l.id, l.seq?)))
            .collect();
        assert_eq!(
            stored, log,
            "client {who}'s view is the log, each once, in order"
        );
        assert!(timeline.complete, "client {who} holds the oldest");
        for line in timeline.lines() {
            if let Some(seq) = line.seq {
                let original = &world.server.log[seq as usize - 1];
                assert_eq!(line.mine, original.sender_id == client.me);
                assert_eq!(line.delivery, Delivery::Sent);
            }
        }
        let mut failed: Vec<MessageId> = timeline
            .lines()
            .iter()
            .filter(|l| l.seq.is_none())
            .map(|l| {
                assert!(
                    matches!(l.delivery, Delivery::Failed(_)),
                    "nothing pending: {l:?}"
                );
                l.id
            })
            .collect();
        failed.sort();
        let mut bad: Vec<MessageId> = client
            .bad
            .iter()
            .filter(|id| client.kept.values().any(|p| p.id() == **id))
            .copied()
            .collect();
        bad.sort();
        assert_eq!(
            failed, bad,
            "client {who}: exactly its refused messages failed"
        );
        assert_eq!(client.core.unsent(), 0);
        assert!(client.core.settled());
        assert!(
            client.kept.values().all(|p| client.bad.contains(&p.id())),
            "client {who} keeps only parcels refused for good"
        );
    }
    for client in &world.clients {
        for id in client.kept.values().map(Parcel::id) {
            assert!(!world.server.by_id.contains_key(&id));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn once_the_network_is_quiet_every_view_equals_the_stored_log(
        ops in proptest::collection::vec(op(), 0..120)
    ) {
        run(ops);
    }
}
