//! Fuzzing entry points: one function per fuzz target (`fuzz/`), each
//! taking arbitrary bytes, so the libFuzzer targets and the proptests in
//! `cargo test` run the same code. Each runs a decoder that reads hostile
//! input, and checks what should hold of what it accepts; a panic is a bug.
//! Nothing here may need the server: it builds without any feature.
//!
//! - [`frames`]: the Engine.IO / Socket.IO frame codec
//!   ([`protocol::frames`](crate::protocol::frames)).
//! - [`request_bodies`]: the body decoder of every `/api/…` endpoint
//!   ([`ENDPOINTS`]), exactly as the server runs it on a request body: the
//!   API codec's `FieldJson` into the endpoint's server-function arguments.
//!   With feature `ssr` (the server) or `fuzz` (the fuzz crate) that is the
//!   path-naming decoder; with neither, the browser's plain one.
//! - [`socket_payloads`]: every Socket.IO event payload: what the server
//!   decodes (the handshake's `auth`, the conversation id of a join or a
//!   leave) the way socketioxide's parser does, from the packet's JSON
//!   text; what the browser decodes (`new-message`, `conversation-added`,
//!   `conversation-changed`, `conversation-removed`, a join's or leave's
//!   ack) the way it does: the frame decoder captures the argument's JSON
//!   text, and the payload's type is decoded from that text.

use leptos::server_fn::{Bytes, Decodes, Encodes};
use serde::de::{DeserializeOwned, DeserializeSeed, IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::api::codec::{FieldJson, Whole};
use crate::api::{accounts, contacts, conversations, messages, settings};
use crate::model::changes::ConversationChanged;
use crate::model::conversation::{Conversation, Message, Removed};
use crate::model::ids::ConversationId;
use crate::model::live::{Presence, Read, Sharing};
use crate::model::username;
use crate::protocol::frames::{
    EnginePacket, SocketPacket, decode_engine, decode_socket, encode_ack, encode_connect,
    encode_event, encode_pong,
};
use crate::protocol::{self, HandshakeAuth, RoomAck, Typing, TypingIn};

/// Reads `data` as one WebSocket text frame: as an Engine.IO packet, its
/// Socket.IO packet if it carries one, and as a Socket.IO packet on its
/// own. What decodes must encode to a frame that decodes to the same
/// packet, and its `Debug` output must not show event data.
pub fn frames(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(packet) = decode_engine(&text) {
        engine_packet(&packet);
        if let EnginePacket::Message(inner) = packet {
            socket_packet(inner);
        }
    }
    socket_packet(&text);
}

/// Every `/api/…` endpoint with a body, by the name in its path.
pub const ENDPOINTS: [&str; 18] = [
    "prelogin",
    "signup",
    "login",
    "logout",
    "users/lookup",
    "contacts/get",
    "contacts/put",
    "conversations/create",
    "conversations/list",
    "messages/history",
    "messages/send",
    "conversations/get",
    "conversations/change",
    "conversations/leave",
    "conversations/changes",
    "conversations/read",
    "settings/get",
    "settings/put",
];

/// The first byte picks an endpoint of [`ENDPOINTS`] (modulo their
/// number), the rest is its request body.
pub fn request_bodies(data: &[u8]) {
    if let Some((&pick, body)) = data.split_first() {
        let _ = request_body(usize::from(pick) % ENDPOINTS.len(), body);
    }
}

/// Decodes `body` as the server decodes a request to `ENDPOINTS[endpoint]`,
/// checks what it accepted, and says whether it did. Panics on a broken
/// property, or on an `endpoint` out of range.
pub fn request_body(endpoint: usize, body: &[u8]) -> Result<(), String> {
    match ENDPOINTS[endpoint] {
        "prelogin" => decode::<accounts::Prelogin>(body).map(|p| name(&p.username)),
        "signup" => {
            decode::<Whole<accounts::CreateAccount>>(body).map(|w| name(&w.0.signup.username))
        }
        "login" => decode::<accounts::Login>(body).map(|l| name(&l.username)),
        "logout" => decode::<accounts::Logout>(body).map(drop),
        "users/lookup" => decode::<accounts::Lookup>(body).map(|l| name(&l.username)),
        "contacts/get" => decode::<contacts::GetContactBook>(body).map(drop),
        "contacts/put" => decode::<Whole<contacts::PutContactBook>>(body).map(drop),
        "conversations/create" => decode::<Whole<conversations::CreateConversation>>(body)
            .map(|w| id(w.0.new.conversation_id)),
        "conversations/list" => decode::<conversations::ListConversations>(body)
            .map(|l| l.known.iter().flatten().copied().for_each(id)),
        "messages/history" => {
            decode::<messages::MessageHistory>(body).map(|h| id(h.conversation_id))
        }
        "messages/send" => {
            decode::<Whole<messages::SendMessage>>(body).map(|w| id(w.0.message.conversation_id))
        }
        "conversations/get" => decode::<Whole<conversations::GetConversationCall>>(body)
            .map(|w| id(w.0.asked.conversation_id)),
        "conversations/changes" => decode::<Whole<conversations::ConversationChanges>>(body)
            .map(|w| id(w.0.asked.conversation_id)),
        "conversations/change" => decode::<Whole<conversations::ChangeConversation>>(body)
            .map(|w| id(w.0.change.conversation_id)),
        "conversations/leave" => decode::<Whole<conversations::LeaveConversation>>(body)
            .map(|w| id(w.0.leave.conversation_id)),
        "conversations/read" => decode::<Whole<conversations::MarkConversationRead>>(body)
            .map(|w| id(w.0.mark.conversation_id)),
        "settings/get" => decode::<settings::GetSettings>(body).map(drop),
        "settings/put" => decode::<Whole<settings::PutSettings>>(body).map(drop),
        other => unreachable!("no decoder for {other}"),
    }
}

/// What kind of payload the first byte of [`socket_payloads`]'s input
/// picks (modulo their number).
pub const SOCKET_PAYLOADS: [&str; 12] = [
    "handshake auth",
    "join-conversation / leave-conversation",
    protocol::NEW_MESSAGE,
    protocol::CONVERSATION_ADDED,
    "room ack",
    protocol::CONVERSATION_CHANGED,
    protocol::CONVERSATION_REMOVED,
    "typing (to the server)",
    protocol::TYPING,
    protocol::READ,
    protocol::PRESENCE,
    protocol::SETTINGS,
];

/// The first byte picks a payload of [`SOCKET_PAYLOADS`] (modulo their
/// number), the rest is its JSON text: the handshake's `auth` object, a
/// join's whole event array (`["join-conversation", id]`), or one event
/// argument.
pub fn socket_payloads(data: &[u8]) {
    if let Some((&pick, rest)) = data.split_first() {
        let text = String::from_utf8_lossy(rest);
        socket_payload(usize::from(pick) % SOCKET_PAYLOADS.len(), &text);
    }
}

/// Decodes `text` as the payload `SOCKET_PAYLOADS[kind]`, checks what was
/// accepted, and says whether it was. Panics on a broken property, or on a
/// `kind` out of range.
pub fn socket_payload(kind: usize, text: &str) -> bool {
    match SOCKET_PAYLOADS[kind] {
        "handshake auth" => handshake_auth(text),
        "join-conversation / leave-conversation" => room_event(text),
        protocol::NEW_MESSAGE => browser_payload::<Message>(text),
        protocol::CONVERSATION_ADDED => browser_payload::<Conversation>(text),
        protocol::CONVERSATION_CHANGED => browser_payload::<ConversationChanged>(text),
        protocol::CONVERSATION_REMOVED => browser_payload::<Removed>(text),
        "room ack" => browser_payload::<RoomAck>(text),
        "typing (to the server)" => server_event::<TypingIn>(text),
        protocol::TYPING => browser_payload::<Typing>(text),
        protocol::READ => browser_payload::<Read>(text),
        protocol::PRESENCE => browser_payload::<Presence>(text),
        protocol::SETTINGS => browser_payload::<Sharing>(text),
        other => unreachable!("no decoder for {other}"),
    }
}

/// socketioxide reads a CONNECT's `auth` with `serde_json::from_str` on its
/// JSON text.
fn handshake_auth(text: &str) -> bool {
    let Ok(auth) = serde_json::from_str::<HandshakeAuth>(text) else {
        return false;
    };
    same_through_value(text, &auth);
    round_trips(&auth);
    true
}

/// socketioxide reads a handler's `TryData<T>` from the event's JSON array
/// text: the event name skipped, the first argument as `T`, the rest
/// ignored (and, as socketioxide does, anything after the array). An id
/// decodes only from its one spelling.
fn room_event(text: &str) -> bool {
    let first_value = || Value::deserialize(&mut serde_json::Deserializer::from_str(text));
    let mut json = serde_json::Deserializer::from_str(text);
    let Ok(id) = FirstArgument::<ConversationId>::default().deserialize(&mut json) else {
        return false;
    };
    let spelled = first_value()
        .expect("an event socketioxide reads is JSON")
        .get(1)
        .and_then(Value::as_str)
        .map(str::to_owned);
    assert_eq!(spelled, Some(id.to_string()), "an id with two spellings");
    assert_eq!(
        protocol::conversation_room(id),
        format!("conversation:{id}")
    );
    self::id(id);
    true
}

/// socketioxide reads a handler's `TryData<T>` of an object from the
/// event's JSON array text, as for a room event.
fn server_event<T>(text: &str) -> bool
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let mut json = serde_json::Deserializer::from_str(text);
    let Ok(event) = FirstArgument::<T>::default().deserialize(&mut json) else {
        return false;
    };
    round_trips(&event);
    true
}

/// The browser reads an event argument from the text the frame decoder
/// captured for it: here `text` is the one argument of an event.
fn browser_payload<T>(text: &str) -> bool
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let frame = format!(r#"2["event",{text}]"#);
    let Ok(SocketPacket::Event { args, .. }) = decode_socket(&frame) else {
        return false;
    };
    let [arg] = args.as_slice() else {
        return false;
    };
    let json_space: &[char] = &[' ', '\t', '\n', '\r'];
    assert_eq!(
        arg.get(),
        text.trim_matches(json_space),
        "an argument's text changed"
    );
    let Ok(payload) = serde_json::from_str::<T>(arg.get()) else {
        return false;
    };
    round_trips(&payload);
    true
}

/// Decodes a request body with the API codec, exactly as the server does;
/// what it accepts must be one JSON document, and encode to a body that
/// decodes to the same arguments.
fn decode<T: Serialize + DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    let args = <FieldJson as Decodes<T>>::decode(Bytes::copy_from_slice(body))?;
    if let Err(e) = serde_json::from_slice::<IgnoredAny>(body) {
        panic!("a body accepted that is not one JSON document: {e}");
    }
    let encoded = <FieldJson as Encodes<T>>::encode(&args).expect("arguments encode");
    let again = <FieldJson as Decodes<T>>::decode(encoded.clone())
        .unwrap_or_else(|e| panic!("an encoded body does not decode: {e}"));
    let encoded_again = <FieldJson as Encodes<T>>::encode(&again).expect("arguments encode");
    assert_eq!(encoded, encoded_again, "a body changes on its way back");
    Ok(args)
}

/// A username the server would canonicalize: the canonical form is its
/// own canonical form.
fn name(input: &str) {
    if let Ok(canonical) = username::canonical(input) {
        assert_eq!(username::canonical(&canonical), Ok(canonical.clone()));
    }
}

/// An id has one text form, which parses back to it.
fn id(id: ConversationId) {
    assert_eq!(id.to_string().parse(), Ok(id));
}

/// `value` as JSON decodes to itself.
fn round_trips<T>(value: &T)
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_string(value).expect("serializes");
    let back = serde_json::from_str::<T>(&json)
        .unwrap_or_else(|e| panic!("its own JSON does not decode: {e}"));
    assert_eq!(&back, value, "changed on its way back");
}

/// What decodes from JSON text decodes the same from its `Value`.
fn same_through_value<T>(text: &str, decoded: &T)
where
    T: DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let value = serde_json::from_str::<Value>(text).expect("what decodes is JSON");
    let through = serde_json::from_value::<T>(value);
    assert_eq!(
        through.as_ref().ok(),
        Some(decoded),
        "the text and its Value decode differently"
    );
}

/// The `FirstElement` seed socketioxide's common parser uses, with the
/// event name skipped as its deserializer does for `TryData`.
struct FirstArgument<T>(std::marker::PhantomData<T>);

impl<T> Default for FirstArgument<T> {
    fn default() -> Self {
        FirstArgument(std::marker::PhantomData)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for FirstArgument<T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an event: its name, then its arguments")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
        let _name = seq.next_element::<IgnoredAny>()?;
        let first = seq
            .next_element::<T>()?
            .ok_or_else(|| serde::de::Error::custom("first element not found"));
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        first
    }
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for FirstArgument<T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        d.deserialize_seq(self)
    }
}

/// An Engine.IO packet's answers decode back, and its `Debug` shows no data.
fn engine_packet(packet: &EnginePacket<'_>) {
    match packet {
        EnginePacket::Ping(data) | EnginePacket::Pong(data) => {
            assert_eq!(
                decode_engine(&encode_pong(data)),
                Ok(EnginePacket::Pong(data))
            );
        }
        _ => {}
    }
    if !matches!(packet, EnginePacket::Open(_)) {
        let shown = format!("{packet:?}");
        assert!(shown.len() <= 32, "Debug shows data: {shown}");
    }
}

/// A Socket.IO packet encodes back to itself, and its `Debug` shows no
/// event data.
fn socket_packet(text: &str) {
    let Ok(packet) = decode_socket(text) else {
        return;
    };
    let frame = match &packet {
        SocketPacket::Connect { sid } => {
            let auth = serde_json::json!({ "sid": sid }).to_string();
            encode_connect(Some(&RawValue::from_string(auth).expect("JSON")))
        }
        SocketPacket::ConnectError { message, data } => {
            let message = serde_json::to_string(message).expect("a string is JSON");
            let data = data.as_ref().map_or("null", |data| data.get());
            format!(r#"44{{"message":{message},"data":{data}}}"#)
        }
        SocketPacket::Disconnect => "41".to_owned(),
        SocketPacket::Event { ack, name, args } => encode_event(*ack, name, args),
        SocketPacket::Ack { id, args } => encode_ack(*id, args),
    };
    let Ok(EnginePacket::Message(inner)) = decode_engine(&frame) else {
        panic!("an encoded packet is not a message: {packet:?}");
    };
    let again = decode_socket(inner)
        .unwrap_or_else(|e| panic!("an encoded packet does not decode ({e}): {packet:?}"));
    assert_eq!(packet, again, "changed on its way back");

    let shown = format!("{packet:?}");
    let allowed = match &packet {
        SocketPacket::Event { name, .. } => format!("{name:?}").len(),
        SocketPacket::ConnectError { message, .. } => format!("{message:?}").len(),
        _ => 0,
    };
    assert!(
        shown.len() <= 96 + allowed,
        "Debug shows event data: {shown}"
    );
}

#[cfg(test)]
mod tests;
