//! Group commit for messages on PostgreSQL. This node's sends wait in one
//! queue (`store::queue`); a single task takes everything waiting (up to
//! [`MAX_BATCH`]) and appends it in one transaction: the batch's
//! conversations locked in id order (`SELECT … ORDER BY id FOR UPDATE`, so
//! two nodes' batches never wait on each other in a circle, and a change
//! or a leave, which lock the same row, never interleaves), three reads
//! for the checks, the decision (`store::decide`, no I/O), one `UPDATE …
//! RETURNING` that reserves the `seq`s (never a sequence: they leave gaps),
//! one `INSERT` over arrays, one commit. Each message is checked and
//! numbered exactly as if it had been appended alone, in queue order; a
//! failure fails every message of the batch and stores none; a deadlock or
//! serialization failure runs the batch again.

use std::collections::HashMap;

use sqlx::error::DatabaseError;
use sqlx::postgres::PgPool;
use sqlx::{Postgres, Row, Transaction};

use super::super::decide::{Decision, Found, Plan, decide};
use super::super::rows::select_message;
use super::super::{AppendRefusal, Appended, NewMessage, queue};
use super::{retrying, texts};
use crate::model::conversation::Message;
use crate::model::ids::ConversationId;

/// Most messages in one transaction.
pub const MAX_BATCH: usize = 256;

/// The appending task.
pub(super) async fn run(pool: PgPool, mut jobs: queue::Jobs) {
    while let Some(first) = jobs.recv().await {
        let batch = jobs.batch(first, MAX_BATCH);
        let messages: Vec<&NewMessage> = batch.iter().map(|j| &j.message).collect();
        let outcomes = retrying(|| append_batch(&pool, &messages), id_taken_meanwhile).await;
        queue::answer(batch, outcomes);
    }
}

/// A message id stored by another node's batch after this one read the
/// ids, into another conversation (the same conversation's row lock keeps
/// those apart). Run again, the batch reads that message and refuses only
/// the send that reused its id (`id_conflict`), as a lone append would;
/// failed, every send of the batch would fail with it.
fn id_taken_meanwhile(e: &dyn DatabaseError) -> bool {
    e.is_unique_violation() && e.constraint() == Some("messages_pkey")
}

/// Appends `messages` in one transaction; one outcome per message, in order.
pub async fn append_batch(
    pool: &PgPool,
    messages: &[&NewMessage],
) -> Result<Vec<Result<Appended, AppendRefusal>>, sqlx::Error> {
    let mut conversations: Vec<ConversationId> =
        messages.iter().map(|m| m.sent.conversation_id).collect();
    conversations.sort_unstable();
    conversations.dedup();
    let conversations = texts(&conversations);
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT id FROM conversations WHERE id = ANY($1) ORDER BY id FOR UPDATE")
        .bind(&conversations)
        .execute(&mut *tx)
        .await?;
    let found = read(&mut tx, messages, &conversations).await?;
    let plan = decide(&found, messages);
    let seqs = write(&mut tx, messages, &plan).await?;
    tx.commit().await?;
    Ok(plan.outcomes(messages, &seqs))
}

/// Reads what deciding `messages` needs, in three queries: the memberships
/// of their `(conversation, sender)` pairs, the messages stored under their
/// ids, and their conversations' current epochs.
async fn read(
    tx: &mut Transaction<'static, Postgres>,
    messages: &[&NewMessage],
    conversations: &[String],
) -> Result<Found, sqlx::Error> {
    let mut found = Found::default();
    let (in_conversations, senders): (Vec<String>, Vec<String>) = messages
        .iter()
        .map(|m| (m.sent.conversation_id.to_string(), m.sender_id.to_string()))
        .unzip();
    let rows = sqlx::query(
        "SELECT DISTINCT m.conversation_id, m.user_id FROM members m \
         JOIN UNNEST($1::text[], $2::text[]) AS p (conversation_id, user_id) \
         ON m.conversation_id = p.conversation_id AND m.user_id = p.user_id",
    )
    .bind(in_conversations)
    .bind(senders)
    .fetch_all(&mut **tx)
    .await?;
    for row in rows {
        found
            .members
            .insert((row.try_get("conversation_id")?, row.try_get("user_id")?));
    }

    let ids: Vec<String> = messages
        .iter()
        .map(|m| m.sent.message_id.to_string())
        .collect();
    let earlier = sqlx::query_as::<_, Message>(select_message!("WHERE m.id = ANY($1)"))
        .bind(ids)
        .fetch_all(&mut **tx)
        .await?;
    for message in earlier {
        found.earlier.insert(message.id, message);
    }

    let rows = sqlx::query(
        "SELECT e.conversation_id, MAX(e.epoch) AS epoch, EXISTS (SELECT 1 FROM departures d \
         WHERE d.conversation_id = e.conversation_id AND d.carried_in IS NULL) AS pending \
         FROM epochs e WHERE e.conversation_id = ANY($1) GROUP BY e.conversation_id",
    )
    .bind(conversations)
    .fetch_all(&mut **tx)
    .await?;
    for row in rows {
        let conversation: ConversationId = row.try_get("conversation_id")?;
        found
            .epochs
            .insert(conversation, row.try_get::<i64, _>("epoch")? as u32);
        if row.try_get::<bool, _>("pending")? {
            found.pending.insert(conversation);
        }
    }
    Ok(found)
}

/// Writes what `plan` decided: reserves each conversation's next seqs in
/// one `UPDATE … RETURNING`, then inserts the new messages in one `INSERT`.
/// Returns each message's seq (0 for those not new).
async fn write(
    tx: &mut Transaction<'static, Postgres>,
    messages: &[&NewMessage],
    plan: &Plan<'_>,
) -> Result<Vec<u64>, sqlx::Error> {
    if plan.reserve.is_empty() {
        return Ok(vec![0; messages.len()]);
    }
    let mut ids = Vec::with_capacity(plan.reserve.len());
    let mut counts = Vec::with_capacity(plan.reserve.len());
    let mut times = Vec::with_capacity(plan.reserve.len());
    for (conversation, (n, at)) in &plan.reserve {
        ids.push(conversation.to_string());
        counts.push(*n as i64);
        times.push(at.to_string());
    }
    let rows = sqlx::query(
        "UPDATE conversations c SET last_seq = c.last_seq + v.n, active_at = v.at \
         FROM UNNEST($1::text[], $2::int8[], $3::text[]) AS v (id, n, at) \
         WHERE c.id = v.id RETURNING c.id, c.last_seq",
    )
    .bind(ids)
    .bind(counts)
    .bind(times)
    .fetch_all(&mut **tx)
    .await?;
    let mut last: HashMap<ConversationId, u64> = HashMap::with_capacity(rows.len());
    for row in rows {
        last.insert(
            row.try_get("id")?,
            row.try_get::<i64, _>("last_seq")? as u64,
        );
    }
    let seqs = plan
        .seqs(messages, &last)
        .ok_or_else(|| sqlx::Error::Protocol("a conversation vanished inside its append".into()))?;

    let mut columns = Columns::default();
    for (i, decision) in plan.decisions.iter().enumerate() {
        if matches!(decision, Decision::New { .. }) {
            columns.push(messages[i], seqs[i]);
        }
    }
    sqlx::query(
        "INSERT INTO messages (id, conversation_id, seq, sender_id, epoch, nonce, ciphertext, \
         signature, created_at) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::text[], $5::int8[], \
         $6::bytea[], $7::bytea[], $8::bytea[], $9::text[])",
    )
    .bind(columns.id)
    .bind(columns.conversation_id)
    .bind(columns.seq)
    .bind(columns.sender_id)
    .bind(columns.epoch)
    .bind(columns.nonce)
    .bind(columns.ciphertext)
    .bind(columns.signature)
    .bind(columns.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(seqs)
}

/// New messages as one array per column, for one `INSERT … UNNEST`.
#[derive(Default)]
struct Columns {
    id: Vec<String>,
    conversation_id: Vec<String>,
    seq: Vec<i64>,
    sender_id: Vec<String>,
    epoch: Vec<i64>,
    nonce: Vec<Vec<u8>>,
    ciphertext: Vec<Vec<u8>>,
    signature: Vec<Vec<u8>>,
    created_at: Vec<String>,
}

impl Columns {
    fn push(&mut self, m: &NewMessage, seq: u64) {
        let sent = &m.sent;
        self.id.push(sent.message_id.to_string());
        self.conversation_id.push(sent.conversation_id.to_string());
        self.seq.push(seq as i64);
        self.sender_id.push(m.sender_id.to_string());
        self.epoch.push(i64::from(sent.epoch));
        self.nonce.push(sent.nonce.to_vec());
        self.ciphertext.push(sent.ciphertext.to_vec());
        self.signature.push(sent.signature.to_vec());
        self.created_at.push(m.created_at.clone());
    }
}
