//! Engine.IO v4 and Socket.IO v5 text frames for the default namespace `/`:
//! decoding what a server sends and encoding what a client sends, as pure
//! functions over strings. The browser's socket client is built on them and
//! tests use them to speak the protocol by hand.
//!
//! Two layers, one enum each: an [`EnginePacket`] is one WebSocket text
//! frame; its `4` (message) packet carries a [`SocketPacket`]. Decoding
//! treats every frame as hostile: it never panics, and anything it does not
//! serve (binary packets, other namespaces, bad ack ids, bad JSON, wrong
//! shapes) is a [`FrameError`], never a half-read value. This module must
//! never show a payload: its errors and `Debug` output name sizes and kinds,
//! never event data, since event data is message traffic.
//!
//! Event and ack arguments stay JSON text ([`RawValue`]), checked but not
//! decoded: whoever takes an event decodes its payload straight into its
//! type, so the browser carries no `serde_json::Value` and no second
//! decoder of each payload type from one.

use std::borrow::Borrow;
use std::fmt;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::error::Category;
use serde_json::value::RawValue;

/// Why a frame could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("empty frame")]
    Empty,
    #[error("unknown Engine.IO packet type {0:?}")]
    EngineType(char),
    #[error("unknown Socket.IO packet type {0:?}")]
    SocketType(char),
    #[error("binary Socket.IO packets are not supported")]
    Binary,
    #[error("a packet for namespace {0:?}, not \"/\"")]
    Namespace(String),
    #[error("an ack id that is missing, misplaced or too large")]
    AckId,
    #[error("a payload that is not JSON")]
    Json,
    #[error("a payload of the wrong shape: {0}")]
    Shape(&'static str),
}

/// The Engine.IO handshake, from the server's `0` packet. Times are in
/// milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Open {
    pub sid: String,
    #[serde(default)]
    pub upgrades: Vec<String>,
    pub ping_interval: u32,
    pub ping_timeout: u32,
    #[serde(default)]
    pub max_payload: u64,
}

/// One Engine.IO packet: one WebSocket text frame.
#[derive(Clone, PartialEq, Eq)]
pub enum EnginePacket<'a> {
    /// `0{…}`: the session is open.
    Open(Open),
    /// `1`: the server closes the session.
    Close,
    /// `2`, maybe with data (`2probe`): answer with [`encode_pong`].
    Ping(&'a str),
    /// `3`, maybe with data.
    Pong(&'a str),
    /// `4…`: a Socket.IO packet, for [`decode_socket`].
    Message(&'a str),
    /// `5`: a transport upgrade (nothing to do on a WebSocket).
    Upgrade,
    /// `6`: nothing.
    Noop,
}

impl fmt::Debug for EnginePacket<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open(open) => f.debug_tuple("Open").field(open).finish(),
            Self::Close => f.write_str("Close"),
            Self::Ping(data) => write!(f, "Ping({} bytes)", data.len()),
            Self::Pong(data) => write!(f, "Pong({} bytes)", data.len()),
            Self::Message(data) => write!(f, "Message({} bytes)", data.len()),
            Self::Upgrade => f.write_str("Upgrade"),
            Self::Noop => f.write_str("Noop"),
        }
    }
}

/// One event or ack argument: its JSON text, as it came.
pub type Arg = Box<RawValue>;

/// One Socket.IO packet of the namespace `/`, as a server sends it.
#[derive(Clone)]
pub enum SocketPacket {
    /// `0{"sid":…}`: the connect was accepted.
    Connect { sid: String },
    /// `4{"message":…}`: the connect was refused.
    ConnectError { message: String, data: Option<Arg> },
    /// `1`: the server disconnected this socket.
    Disconnect,
    /// `2[name, …args]`, or `2<id>[…]` when the server wants an ack.
    Event {
        ack: Option<u64>,
        name: String,
        args: Vec<Arg>,
    },
    /// `3<id>[…args]`: the answer to an event this side emitted.
    Ack { id: u64, args: Vec<Arg> },
}

/// Equal when the fields are, arguments compared as text.
impl PartialEq for SocketPacket {
    fn eq(&self, other: &Self) -> bool {
        use SocketPacket::*;
        let texts = |a: &[Arg], b: &[Arg]| a.iter().map(|a| a.get()).eq(b.iter().map(|b| b.get()));
        match (self, other) {
            (Connect { sid: a }, Connect { sid: b }) => a == b,
            (
                ConnectError { message, data },
                ConnectError {
                    message: m,
                    data: d,
                },
            ) => message == m && data.as_ref().map(|a| a.get()) == d.as_ref().map(|d| d.get()),
            (Disconnect, Disconnect) => true,
            (
                Event { ack, name, args },
                Event {
                    ack: k,
                    name: n,
                    args: r,
                },
            ) => ack == k && name == n && texts(args, r),
            (Ack { id, args }, Ack { id: i, args: r }) => id == i && texts(args, r),
            _ => false,
        }
    }
}

impl fmt::Debug for SocketPacket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect { .. } => f.write_str("Connect"),
            Self::ConnectError { message, data } => f
                .debug_struct("ConnectError")
                .field("message", message)
                .field("data", &data.as_ref().map(|_| ".."))
                .finish(),
            Self::Disconnect => f.write_str("Disconnect"),
            Self::Event { ack, name, args } => f
                .debug_struct("Event")
                .field("ack", ack)
                .field("name", name)
                .field("args", &args.len())
                .finish(),
            Self::Ack { id, args } => f
                .debug_struct("Ack")
                .field("id", id)
                .field("args", &args.len())
                .finish(),
        }
    }
}

/// Reads one Engine.IO text frame.
pub fn decode_engine(frame: &str) -> Result<EnginePacket<'_>, FrameError> {
    let (kind, rest) = split_type(frame)?;
    Ok(match kind {
        '0' => EnginePacket::Open(from_json(rest, "an open packet needs sid and ping times")?),
        '1' => EnginePacket::Close,
        '2' => EnginePacket::Ping(rest),
        '3' => EnginePacket::Pong(rest),
        '4' => EnginePacket::Message(rest),
        '5' => EnginePacket::Upgrade,
        '6' => EnginePacket::Noop,
        other => return Err(FrameError::EngineType(other)),
    })
}

/// Reads one Socket.IO packet (the data of an Engine.IO message).
pub fn decode_socket(packet: &str) -> Result<SocketPacket, FrameError> {
    let (kind, rest) = split_type(packet)?;
    match kind {
        '0'..='4' => {}
        '5' | '6' => return Err(FrameError::Binary),
        other => return Err(FrameError::SocketType(other)),
    }
    let rest = strip_namespace(rest)?;
    let (id, rest) = split_ack_id(rest)?;
    let data = (!rest.is_empty()).then_some(rest);
    match (kind, id) {
        ('0', None) => connect(data),
        ('1', None) => disconnect(data),
        ('2', ack) => event(ack, data),
        ('3', Some(id)) => ack(id, data),
        ('4', None) => connect_error(data),
        _ => Err(FrameError::AckId),
    }
}

/// The answer to a ping: `3`, echoing its data.
pub fn encode_pong(data: &str) -> String {
    format!("3{data}")
}

/// A Socket.IO connect to `/`: `40`, or `40{auth}`.
pub fn encode_connect(auth: Option<&RawValue>) -> String {
    match auth {
        Some(auth) => format!("40{}", auth.get()),
        None => "40".to_owned(),
    }
}

/// An event: `42[name, …args]`, or `42<ack>[…]` to ask for an ack.
pub fn encode_event(ack: Option<u64>, name: &str, args: &[impl Borrow<RawValue>]) -> String {
    let id = ack.map(|id| id.to_string()).unwrap_or_default();
    let name = serde_json::to_string(name).expect("a string is JSON");
    format!("42{id}{}", array(Some(&name), args))
}

/// The ack of an event the server emitted with id `id`: `43<id>[…args]`.
pub fn encode_ack(id: u64, args: &[impl Borrow<RawValue>]) -> String {
    format!("43{id}{}", array(None, args))
}

/// A JSON array of `first` (JSON text), if any, then `args`.
fn array(first: Option<&str>, args: &[impl Borrow<RawValue>]) -> String {
    let items: Vec<&str> = first
        .into_iter()
        .chain(args.iter().map(|arg| arg.borrow().get()))
        .collect();
    format!("[{}]", items.join(","))
}

/// Splits off the one-character packet type.
fn split_type(text: &str) -> Result<(char, &str), FrameError> {
    let kind = text.chars().next().ok_or(FrameError::Empty)?;
    Ok((kind, &text[kind.len_utf8()..]))
}

/// Drops a leading `/,` (the default namespace spelled out); any other
/// namespace is an error.
fn strip_namespace(rest: &str) -> Result<&str, FrameError> {
    if !rest.starts_with('/') {
        return Ok(rest);
    }
    let (namespace, after) = rest.split_once(',').unwrap_or((rest, ""));
    if namespace == "/" {
        Ok(after)
    } else {
        Err(FrameError::Namespace(namespace.to_owned()))
    }
}

/// Splits off the leading decimal ack id, if any.
fn split_ack_id(rest: &str) -> Result<(Option<u64>, &str), FrameError> {
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Ok((None, rest));
    }
    let id = rest[..digits].parse().map_err(|_| FrameError::AckId)?;
    Ok((Some(id), &rest[digits..]))
}

/// Parses `text` as JSON of type `T`: not JSON is [`FrameError::Json`], JSON
/// of another shape is [`FrameError::Shape`] with `shape`.
fn from_json<'de, T: Deserialize<'de>>(
    text: &'de str,
    shape: &'static str,
) -> Result<T, FrameError> {
    serde_json::from_str(text).map_err(|e| match e.classify() {
        // A parse that stopped at the first wrong type has not seen the
        // rest: read it all to tell a wrong shape from text that is not
        // JSON at all.
        Category::Data if serde_json::from_str::<IgnoredAny>(text).is_ok() => {
            FrameError::Shape(shape)
        }
        _ => FrameError::Json,
    })
}

/// Like [`from_json`], for data that may be missing (a missing one is the
/// wrong shape).
fn from_data<'de, T: Deserialize<'de>>(
    data: Option<&'de str>,
    shape: &'static str,
) -> Result<T, FrameError> {
    from_json(data.ok_or(FrameError::Shape(shape))?, shape)
}

fn connect(data: Option<&str>) -> Result<SocketPacket, FrameError> {
    #[derive(Deserialize)]
    struct Accepted {
        sid: String,
    }
    let Accepted { sid } = from_data(data, "a connect needs a sid")?;
    Ok(SocketPacket::Connect { sid })
}

fn disconnect(data: Option<&str>) -> Result<SocketPacket, FrameError> {
    match data {
        None => Ok(SocketPacket::Disconnect),
        Some(data) => {
            const SHAPE: &str = "a disconnect carries no data";
            from_json::<IgnoredAny>(data, SHAPE)?;
            Err(FrameError::Shape(SHAPE))
        }
    }
}

fn connect_error(data: Option<&str>) -> Result<SocketPacket, FrameError> {
    #[derive(Deserialize)]
    struct Refused {
        message: String,
        data: Option<Arg>,
    }
    const SHAPE: &str = "a connect error needs a message";
    // Older servers send the bare message.
    if data.is_some_and(|data| data.trim_start().starts_with('"')) {
        let message = from_data(data, SHAPE)?;
        return Ok(SocketPacket::ConnectError {
            message,
            data: None,
        });
    }
    let Refused { message, data } = from_data(data, SHAPE)?;
    Ok(SocketPacket::ConnectError { message, data })
}

fn event(ack: Option<u64>, data: Option<&str>) -> Result<SocketPacket, FrameError> {
    const SHAPE: &str = "an event is an array that starts with its name";
    let mut items = from_data::<Vec<Arg>>(data, SHAPE)?.into_iter();
    let name = items.next().ok_or(FrameError::Shape(SHAPE))?;
    let name = from_json(name.get(), SHAPE)?;
    Ok(SocketPacket::Event {
        ack,
        name,
        args: items.collect(),
    })
}

fn ack(id: u64, data: Option<&str>) -> Result<SocketPacket, FrameError> {
    let args = from_data(data, "an ack is an array")?;
    Ok(SocketPacket::Ack { id, args })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn socket(packet: &str) -> Result<SocketPacket, FrameError> {
        decode_socket(packet)
    }

    /// An argument of the given JSON text.
    fn raw(text: &str) -> Arg {
        RawValue::from_string(text.to_owned()).expect("the test's JSON")
    }

    #[test]
    fn the_open_packet_is_read() {
        let frame = r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
        assert_eq!(
            decode_engine(frame),
            Ok(EnginePacket::Open(Open {
                sid: "lv_VI97HAXpY6yYWAAAC".into(),
                upgrades: vec![],
                ping_interval: 25000,
                ping_timeout: 20000,
                max_payload: 1_000_000,
            }))
        );
    }

    #[test]
    fn an_open_packet_without_ping_times_is_refused() {
        assert_eq!(
            decode_engine(r#"0{"sid":"x"}"#),
            Err(FrameError::Shape("an open packet needs sid and ping times"))
        );
        assert_eq!(
            decode_engine(r#"0{"sid":"x","pingInterval":-1,"pingTimeout":1}"#),
            Err(FrameError::Shape("an open packet needs sid and ping times"))
        );
        assert_eq!(decode_engine("0"), Err(FrameError::Json));
        assert_eq!(decode_engine("0{\"sid\""), Err(FrameError::Json));
    }

    #[test]
    fn the_other_engine_packets_are_read() {
        assert_eq!(decode_engine("1"), Ok(EnginePacket::Close));
        assert_eq!(decode_engine("2"), Ok(EnginePacket::Ping("")));
        assert_eq!(decode_engine("2probe"), Ok(EnginePacket::Ping("probe")));
        assert_eq!(decode_engine("3"), Ok(EnginePacket::Pong("")));
        assert_eq!(decode_engine("40"), Ok(EnginePacket::Message("0")));
        assert_eq!(decode_engine("5"), Ok(EnginePacket::Upgrade));
        assert_eq!(decode_engine("6"), Ok(EnginePacket::Noop));
        assert_eq!(decode_engine(""), Err(FrameError::Empty));
        assert_eq!(decode_engine("7"), Err(FrameError::EngineType('7')));
        assert_eq!(decode_engine("é4"), Err(FrameError::EngineType('é')));
    }

    #[test]
    fn connect_ok_and_connect_error_are_read() {
        assert_eq!(
            socket(r#"0{"sid":"abc"}"#),
            Ok(SocketPacket::Connect { sid: "abc".into() })
        );
        assert_eq!(
            socket(r#"4{"message":"unauthorized"}"#),
            Ok(SocketPacket::ConnectError {
                message: "unauthorized".into(),
                data: None
            })
        );
        assert_eq!(
            socket(r#"4{"message":"no","data":{"why":1}}"#),
            Ok(SocketPacket::ConnectError {
                message: "no".into(),
                data: Some(raw(r#"{"why":1}"#))
            })
        );
        assert_eq!(
            socket(r#"4"unauthorized""#),
            Ok(SocketPacket::ConnectError {
                message: "unauthorized".into(),
                data: None
            })
        );
        assert_eq!(socket("1"), Ok(SocketPacket::Disconnect));
    }

    #[test]
    fn events_are_read_with_and_without_an_ack_id() {
        assert_eq!(
            socket(r#"2["new-message",{"seq":1},2]"#),
            Ok(SocketPacket::Event {
                ack: None,
                name: "new-message".into(),
                args: vec![raw(r#"{"seq":1}"#), raw("2")],
            })
        );
        assert_eq!(
            socket(r#"212["ping"]"#),
            Ok(SocketPacket::Event {
                ack: Some(12),
                name: "ping".into(),
                args: vec![],
            })
        );
        assert_eq!(
            socket(r#"2/,7["x"]"#),
            Ok(SocketPacket::Event {
                ack: Some(7),
                name: "x".into(),
                args: vec![],
            })
        );
    }

    #[test]
    fn acks_are_read() {
        assert_eq!(
            socket(r#"30[{"ok":true}]"#),
            Ok(SocketPacket::Ack {
                id: 0,
                args: vec![raw(r#"{"ok":true}"#)]
            })
        );
        assert_eq!(
            socket("313[]"),
            Ok(SocketPacket::Ack {
                id: 13,
                args: vec![]
            })
        );
        assert_eq!(
            socket(r#"3[{"ok":true}]"#),
            Err(FrameError::AckId),
            "an ack without an id"
        );
    }

    #[test]
    fn other_namespaces_and_binary_packets_are_refused() {
        assert_eq!(
            socket(r#"2/admin,["x"]"#),
            Err(FrameError::Namespace("/admin".into()))
        );
        assert_eq!(
            socket("0/admin"),
            Err(FrameError::Namespace("/admin".into()))
        );
        assert_eq!(
            socket(r#"51-["x",{"_placeholder":true,"num":0}]"#),
            Err(FrameError::Binary)
        );
        assert_eq!(socket("6"), Err(FrameError::Binary));
        assert_eq!(socket("9"), Err(FrameError::SocketType('9')));
        assert_eq!(socket(""), Err(FrameError::Empty));
    }

    #[test]
    fn hostile_packets_are_errors() {
        let shape = |s| Err(FrameError::Shape(s));
        let event_shape = shape("an event is an array that starts with its name");
        assert_eq!(socket("2"), event_shape);
        assert_eq!(socket("2[]"), event_shape);
        assert_eq!(socket("2[1,2]"), event_shape);
        assert_eq!(socket(r#"2{"a":1}"#), event_shape);
        assert_eq!(socket(r#"2["x""#), Err(FrameError::Json));
        assert_eq!(socket(r#"2x["x"]"#), Err(FrameError::Json));
        assert_eq!(socket(r#"2-1["x"]"#), Err(FrameError::Json));
        assert_eq!(socket(r#"21.5["x"]"#), Err(FrameError::Json));
        assert_eq!(
            socket(r#"2184467440737095516160["x"]"#),
            Err(FrameError::AckId),
            "an id past u64::MAX"
        );
        assert_eq!(
            socket(&format!("3{}[]", "9".repeat(500))),
            Err(FrameError::AckId)
        );
        assert_eq!(socket(r#"01{"sid":"a"}"#), Err(FrameError::AckId));
        assert_eq!(socket("0"), shape("a connect needs a sid"));
        assert_eq!(socket(r#"0{"sid":1}"#), shape("a connect needs a sid"));
        assert_eq!(socket("4"), shape("a connect error needs a message"));
        assert_eq!(socket("4{}"), shape("a connect error needs a message"));
        assert_eq!(socket("1{}"), shape("a disconnect carries no data"));
        assert_eq!(socket("31{}"), shape("an ack is an array"));
        assert_eq!(socket("31"), shape("an ack is an array"));
        assert_eq!(socket(r#"2["x",{]"#), Err(FrameError::Json));
        assert_eq!(socket(r#"2["x",1]]"#), Err(FrameError::Json));
        // Arguments are checked without recursion, so depth costs no
        // stack: a deep name is the wrong shape, and a deep argument is
        // for its taker's decoder, which stops at serde_json's depth limit.
        let deep = |n| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert_eq!(socket(&format!("2{}", deep(100_000))), event_shape);
        let Ok(SocketPacket::Event { args, .. }) = socket(&format!(r#"2["x",{}]"#, deep(100_000)))
        else {
            panic!("a deep argument is still JSON");
        };
        let message = serde_json::from_str::<crate::model::conversation::Message>(args[0].get());
        assert!(message.is_err());
    }

    #[test]
    fn the_largest_ack_id_is_read() {
        assert_eq!(
            socket(&format!("3{}[]", u64::MAX)),
            Ok(SocketPacket::Ack {
                id: u64::MAX,
                args: vec![]
            })
        );
    }

    /// Every prefix and many byte-level mutations of real frames decode to
    /// something or an error, never a panic.
    #[test]
    fn truncated_and_mutated_frames_never_panic() {
        let frames = [
            r#"0{"sid":"a","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#,
            r#"40{"sid":"abc"}"#,
            r#"44{"message":"unauthorized","data":{"é":"ü"}}"#,
            r#"4212["new-message",{"id":"x","seq":42}]"#,
            r#"42/,3["a"]"#,
            r#"42/admin,3["a"]"#,
            r#"4313[{"ok":true}]"#,
            "41",
            "2probe",
        ];
        let alphabet = b"0123456789[]{}\",:/-\\ ae\x00";
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let decode_all = |frame: &str| {
            if let Ok(EnginePacket::Message(packet)) = decode_engine(frame) {
                let _ = decode_socket(packet);
            }
            let _ = decode_socket(frame);
        };
        for frame in frames {
            for (end, _) in frame.char_indices() {
                decode_all(&frame[..end]);
            }
            for _ in 0..2_000 {
                let mut bytes = frame.as_bytes().to_vec();
                let at = next() as usize % bytes.len();
                bytes[at] = alphabet[next() as usize % alphabet.len()];
                if next() % 3 == 0 {
                    bytes.truncate(next() as usize % bytes.len());
                }
                decode_all(&String::from_utf8_lossy(&bytes));
            }
        }
    }

    #[test]
    fn client_frames_have_the_wire_shape() {
        assert_eq!(encode_pong(""), "3");
        assert_eq!(encode_pong("probe"), "3probe");
        assert_eq!(encode_connect(None), "40");
        assert_eq!(
            encode_connect(Some(&raw(r#"{"token":"a.b.c"}"#))),
            r#"40{"token":"a.b.c"}"#
        );
        let id = "0190a4d2-6c1e-7c3e-8e7a-2b1f0f6b7c11";
        assert_eq!(
            encode_event(None, "join-conversation", &[raw(&format!("{id:?}"))]),
            format!(r#"42["join-conversation","{id}"]"#)
        );
        assert_eq!(
            encode_event(Some(13), "leave-conversation", &[raw(&format!("{id:?}"))]),
            format!(r#"4213["leave-conversation","{id}"]"#)
        );
        let none: [Arg; 0] = [];
        assert_eq!(encode_event(Some(0), "x", &none), r#"420["x"]"#);
        assert_eq!(
            encode_ack(5, &[raw(r#"{"ok":true}"#)]),
            r#"435[{"ok":true}]"#
        );
        assert_eq!(encode_ack(6, &none), "436[]");
        assert_eq!(
            encode_ack(7, &[raw("1"), raw(r#""two""#)]),
            r#"437[1,"two"]"#
        );
        assert_eq!(
            encode_event(None, "quote\"name\n", &none),
            r#"42["quote\"name\n"]"#
        );
    }

    #[test]
    fn encoded_events_decode_to_themselves() {
        let args = [raw(r#"{"a": [1, "two"]}"#), raw("null")];
        let frame = encode_event(Some(99), "e", &args);
        let Ok(EnginePacket::Message(packet)) = decode_engine(&frame) else {
            panic!("not a message");
        };
        assert_eq!(
            decode_socket(packet),
            Ok(SocketPacket::Event {
                ack: Some(99),
                name: "e".into(),
                args: args.to_vec(),
            })
        );
    }

    #[test]
    fn debug_output_never_shows_event_data() {
        let event = socket(r#"2["new-message",{"ciphertext":"SECRET"}]"#).unwrap();
        let shown = format!("{event:?}");
        assert!(
            shown.contains("new-message") && !shown.contains("SECRET"),
            "{shown}"
        );
        let message = decode_engine(r#"42["x","SECRET"]"#).unwrap();
        assert!(!format!("{message:?}").contains("SECRET"));
        let ack = socket(r#"31["SECRET"]"#).unwrap();
        assert!(!format!("{ack:?}").contains("SECRET"));
        let refused = socket(r#"4{"message":"no","data":"SECRET"}"#).unwrap();
        assert!(!format!("{refused:?}").contains("SECRET"));
    }
}
