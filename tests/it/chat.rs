//! The chat fixture: what a browser does for conversations and messages,
//! done with the native twin of `hush-v1` — make and wrap a content key,
//! sign the key set, create; seal, sign and send; open and verify what
//! arrives. Tests use it to speak the wire contract like a real client.

use hush::crypto::encoding::{b64, unb64};
use hush::crypto::native::{self, Key32, PrivateKey};
use hush::crypto::suite::{self, MemberKeys};
use hush::model::ids::{ConversationId, MessageId};
use serde_json::{Value, json};

use crate::util::{Account, Client, random};

/// A conversation as its creator made it, with the content key of epoch 0.
pub struct Chat {
    pub id: String,
    pub ck: Key32,
    /// The conversation as create answered it.
    pub wire: Value,
}

/// The create body for `members` (the creator included), with a fresh
/// content key, one wrap per member and the creator's signature.
pub fn create_body(creator: &Account, members: &[&Account], title: Option<&str>) -> (Value, Key32) {
    let id = ConversationId::new().to_string();
    let ck = Key32::from_bytes(&random::<32>()).unwrap();
    let wraps: Vec<(String, Vec<u8>)> = members
        .iter()
        .map(|m| {
            let wrapped = native::wrap_content_key(
                &ck,
                &id,
                0,
                &m.id,
                &m.dh_public,
                &PrivateKey::generate(),
                &random::<12>(),
            )
            .unwrap();
            (m.id.clone(), wrapped)
        })
        .collect();
    let lines: Vec<MemberKeys> = members
        .iter()
        .zip(&wraps)
        .map(|(m, (_, wrapped))| MemberKeys {
            member_id: m.id.clone(),
            dh_public: m.dh_public.to_vec(),
            sig_public: m.sig_public.to_vec(),
            wrapped_key_sha256: native::sha256(wrapped).to_vec(),
        })
        .collect();
    let commit = native::commit(&ck, &id, 0);
    let signature = native::sign_keys(&creator.sig, &id, 0, &creator.id, &commit, &lines);
    let body = json!({
        "conversation_id": id,
        "title": title,
        "member_ids": members.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
        "epoch": 0,
        "keys": wraps.iter().map(|(member, w)| json!({"member_id": member, "wrapped_key": b64(w)})).collect::<Vec<_>>(),
        "keys_signature": b64(&signature),
    });
    (body, ck)
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
pub fn accept(conversation: &Value, me: &Account) -> Key32 {
    let id = conversation["id"].as_str().unwrap();
    let creator = conversation["created_by"].as_str().unwrap();
    let epoch = &conversation["epochs"][0];
    assert_eq!(epoch["epoch"], 0);
    assert_eq!(epoch["signer_id"], creator);
    let members = conversation["members"].as_array().unwrap();
    let keys = epoch["keys"].as_array().unwrap();
    assert_eq!(members.len(), keys.len());
    let key_of = |member: &str| -> Vec<u8> {
        let key = keys
            .iter()
            .find(|k| k["member_id"] == member)
            .expect("a key per member");
        unb64(key["wrapped_key"].as_str().unwrap()).unwrap()
    };
    let mine = key_of(&me.id);
    let ck = native::unwrap_content_key(&mine, id, 0, &me.id, &me.dh).expect("my key unwraps");
    let lines: Vec<MemberKeys> = members
        .iter()
        .map(|m| {
            let member = m["id"].as_str().unwrap().to_owned();
            MemberKeys {
                wrapped_key_sha256: native::sha256(&key_of(&member)).to_vec(),
                member_id: member,
                dh_public: unb64(m["dh_public"].as_str().unwrap()).unwrap(),
                sig_public: unb64(m["sig_public"].as_str().unwrap()).unwrap(),
            }
        })
        .collect();
    let signer = &lines
        .iter()
        .find(|l| l.member_id == creator)
        .expect("the creator is a member")
        .sig_public;
    let commit = native::commit(&ck, id, 0);
    let signed = suite::keys_signed_message(id, 0, creator, &commit, &lines);
    let signature = unb64(epoch["keys_signature"].as_str().unwrap()).unwrap();
    native::verify(signer, &signed, &signature).expect("the key set signature verifies");
    ck
}

/// A send body: `text` sealed under `ck` and signed by `sender`.
pub fn seal(chat_id: &str, ck: &Key32, sender: &Account, text: &str) -> Value {
    seal_with_id(chat_id, ck, sender, text, &MessageId::new().to_string())
}

pub fn seal_with_id(chat_id: &str, ck: &Key32, sender: &Account, text: &str, id: &str) -> Value {
    let plaintext =
        json!({"v": 1, "kind": "text", "body": text, "sent_at": "2026-11-26T01:00:00.000Z"});
    let nonce = random::<12>();
    let ciphertext = native::seal_message(
        ck,
        chat_id,
        0,
        id,
        &sender.id,
        &nonce,
        plaintext.to_string().as_bytes(),
    )
    .unwrap();
    let aad = suite::message_aad(chat_id, 0, id, &sender.id);
    let signature = native::sign(
        &sender.sig,
        &suite::message_signed_bytes(&aad, &nonce, &ciphertext),
    );
    json!({
        "conversation_id": chat_id,
        "message_id": id,
        "epoch": 0,
        "nonce": b64(&nonce),
        "ciphertext": b64(&ciphertext),
        "signature": b64(&signature),
    })
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
    ck: &Key32,
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
pub fn open(message: &Value, ck: &Key32, sender_sig_public: &[u8]) -> String {
    let text = |field: &str| message[field].as_str().unwrap().to_owned();
    let bytes = |field: &str| unb64(message[field].as_str().unwrap()).unwrap();
    let (chat, id, sender) = (text("conversation_id"), text("id"), text("sender_id"));
    let epoch = message["epoch"].as_u64().unwrap() as u32;
    let aad = suite::message_aad(&chat, epoch, &id, &sender);
    native::verify(
        sender_sig_public,
        &suite::message_signed_bytes(&aad, &bytes("nonce"), &bytes("ciphertext")),
        &bytes("signature"),
    )
    .expect("the message signature verifies");
    let plaintext = native::open_message(
        ck,
        &chat,
        epoch,
        &id,
        &sender,
        &bytes("nonce"),
        &bytes("ciphertext"),
    )
    .expect("the message decrypts");
    let plaintext: Value = serde_json::from_slice(&plaintext).unwrap();
    assert_eq!(plaintext["v"], 1);
    assert_eq!(plaintext["kind"], "text");
    plaintext["body"].as_str().unwrap().to_owned()
}

/// One history page as `reader`.
pub async fn history(server: &Client, reader: &Account, body: Value) -> (u16, Value) {
    let response = server
        .post("messages/history", body, Some(&reader.token))
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}
