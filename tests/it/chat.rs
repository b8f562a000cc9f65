//! The chat fixture: what a browser does for conversations and messages,
//! done with the native twin of `hush-v1` — make and wrap a content key,
//! sign the key set, create; seal, sign and send; open and verify what
//! arrives. Tests use it to speak the wire contract like a real client.

use hush::crypto::native_client::{self, EpochKey};
use hush::model::account::PublicUser;
use hush::model::changes::{Changes, Misfit};
use hush::model::conversation::Conversation;
use hush::model::ids::MessageId;
use serde_json::Value;

use crate::util::{Account, Client};

/// A conversation as its creator made it, with the content key of epoch 0.
pub struct Chat {
    pub id: String,
    pub ck: EpochKey,
    /// The conversation as create answered it.
    pub wire: Value,
}

/// The account as others see it.
pub fn member(account: &Account) -> PublicUser {
    PublicUser {
        id: account.id.parse().expect("the server's ids are canonical"),
        username: account.username.clone(),
        dh_public: account.dh_public.into(),
        sig_public: account.sig_public.into(),
    }
}

/// The create body for `members` (the creator included), with a fresh
/// content key, one wrap per member and the creator's signature.
pub fn create_body(
    creator: &Account,
    members: &[&Account],
    title: Option<&str>,
) -> (Value, EpochKey) {
    let members: Vec<PublicUser> = members.iter().map(|m| member(m)).collect();
    native_client::create_body(&creator.id, &creator.sig, &members, title).unwrap()
}

/// Creates a conversation of `members` (the creator included) and checks
/// the answer.
pub async fn create(
    server: &Client,
    creator: &Account,
    members: &[&Account],
    title: Option<&str>,
) -> Chat {
    let (body, ck) = create_body(creator, members, title);
    let id = body["conversation_id"].as_str().unwrap().to_owned();
    let response = server
        .post("conversations/create", body, Some(&creator.token))
        .await;
    assert_eq!(response.status(), 200, "create");
    let wire: Value = response.json().await.unwrap();
    assert_eq!(wire["id"], id.as_str());
    Chat { id, ck, wire }
}

/// What a member's browser does before it trusts a conversation: check the
/// epoch-0 key set signed by the creator names exactly the members, unwrap
/// its own copy of the key and check the commitment. Returns the key.
pub fn accept(conversation: &Value, me: &Account) -> EpochKey {
    native_client::accept(conversation, &me.id, &me.dh).expect("the conversation is accepted")
}

/// A send body: `text` sealed under `ck` and signed by `sender`.
pub fn seal(chat_id: &str, ck: &EpochKey, sender: &Account, text: &str) -> Value {
    seal_with_id(chat_id, ck, sender, text, &MessageId::new().to_string())
}

pub fn seal_with_id(chat_id: &str, ck: &EpochKey, sender: &Account, text: &str, id: &str) -> Value {
    let sent_at = "2026-11-26T01:00:00.000Z";
    native_client::seal(chat_id, ck, &sender.id, &sender.sig, id, text, sent_at)
}

/// Sends a sealed body as `sender`; returns the status and the answer.
pub async fn send(server: &Client, sender: &Account, body: &Value) -> (u16, Value) {
    let response = server
        .post("messages/send", body.clone(), Some(&sender.token))
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// Sends "m{i}" for every `i` in `numbers`, one after the other, each
/// answered 200.
pub async fn send_numbered(
    server: &Client,
    sender: &Account,
    chat_id: &str,
    ck: &EpochKey,
    numbers: std::ops::RangeInclusive<u64>,
) {
    for i in numbers {
        let (status, answer) =
            send(server, sender, &seal(chat_id, ck, sender, &format!("m{i}"))).await;
        assert_eq!(status, 200, "{answer}");
    }
}

/// What a member's browser does with a stored message: verify the
/// signature under the sender's key from the signed member set, then
/// decrypt. Returns the plaintext body.
pub fn open(message: &Value, ck: &EpochKey, sender_sig_public: &[u8]) -> String {
    native_client::open(message, ck, sender_sig_public).expect("the message opens")
}

/// One history page as `reader`.
pub async fn history(server: &Client, reader: &Account, body: Value) -> (u16, Value) {
    let response = server
        .post("messages/history", body, Some(&reader.token))
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// The conversation `reader` is in, as get answers it (status, body).
pub async fn get(server: &Client, reader: &Account, chat_id: &str) -> (u16, Value) {
    asked_for(
        server,
        reader,
        serde_json::json!({ "conversation_id": chat_id }),
    )
    .await
}

/// The conversation's epochs from `since` on, as changes (status, body).
pub async fn changes(server: &Client, reader: &Account, chat_id: &str, since: u32) -> (u16, Value) {
    let body = serde_json::json!({ "conversation_id": chat_id, "since_epoch": since });
    let response = server
        .post("conversations/changes", body, Some(&reader.token))
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// `held` (wire form) followed by `changes` (wire form), as `me`'s app puts
/// them together.
pub fn caught_up(held: &Value, changes: &Value, me: &Account) -> Result<Value, Misfit> {
    let held: Conversation = serde_json::from_value(held.clone()).expect("a conversation");
    let changes: Changes = serde_json::from_value(changes.clone()).expect("changes");
    let me = me.id.parse().expect("the server's ids are canonical");
    Ok(serde_json::to_value(changes.onto(&held, me)?).unwrap())
}

async fn asked_for(server: &Client, reader: &Account, body: Value) -> (u16, Value) {
    let response = server
        .post("conversations/get", body, Some(&reader.token))
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// The change body that takes `conversation` (wire form) to its next epoch
/// with `members`, signed by `signer`, carrying its pending departures, and
/// the new epoch's key.
pub fn change_body(
    conversation: &Value,
    signer: &Account,
    members: &[&Account],
) -> (Value, EpochKey) {
    let members: Vec<PublicUser> = members.iter().map(|m| member(m)).collect();
    native_client::change_body(conversation, &signer.id, &signer.sig, &members)
        .expect("the chain checks out")
}

/// Posts a change body as `signer` (status, body).
pub async fn post_change(server: &Client, signer: &Account, body: &Value) -> (u16, Value) {
    let response = server
        .post("conversations/change", body.clone(), Some(&signer.token))
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// Reads the conversation as `signer` and takes it to its next epoch with
/// `members`; the change must be stored, and its answer must be the new
/// epoch as a change that, after what the signer held, checks out to the
/// key the signer made. Returns the whole new conversation (as `signer`
/// reads it) and the key of its new epoch.
pub async fn change(
    server: &Client,
    signer: &Account,
    chat_id: &str,
    members: &[&Account],
) -> (Value, EpochKey) {
    let (status, now) = get(server, signer, chat_id).await;
    assert_eq!(status, 200, "{now}");
    let (body, key) = change_body(&now, signer, members);
    let (status, changed) = post_change(server, signer, &body).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["epochs"].as_array().unwrap().len(), 1, "{changed}");
    assert_eq!(changed["epochs"][0]["epoch"], key.epoch);
    let put_together = caught_up(&now, &changed, signer).expect("the change follows");
    let answered = accept(&put_together, signer);
    assert_eq!((answered.epoch, answered.head), (key.epoch, key.head));
    let (status, whole) = get(server, signer, chat_id).await;
    assert_eq!(status, 200, "{whole}");
    (whole, key)
}

/// `leaver`'s signed departure from the current epoch of `conversation`
/// (wire form), posted (status, body).
pub async fn leave(server: &Client, leaver: &Account, conversation: &Value) -> (u16, Value) {
    let body = native_client::leave_body(conversation, &leaver.id, &leaver.sig)
        .expect("the chain checks out");
    let response = server
        .post("conversations/leave", body, Some(&leaver.token))
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}
