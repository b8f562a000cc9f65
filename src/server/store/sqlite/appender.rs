//! Group commit for messages. Sends that arrive while an append is being
//! written wait in one queue; a single task takes everything waiting (up
//! to [`MAX_BATCH`]) and appends it in one `BEGIN IMMEDIATE` transaction:
//! three reads for the checks, a decision that does no I/O (`decide`), one
//! `UPDATE … RETURNING` for the `seq`s, one multi-row `INSERT`, one commit
//! (one fsync). Each message is checked and numbered exactly as if it had
//! been appended alone, in queue order; a failure of the transaction fails
//! every message in it, and none is stored. Under light load a batch is one
//! message.
//!
//! The same task keeps the write-ahead log short, off the write path.
//! SQLite's own checkpoint runs inside the commit that crosses its
//! threshold, so every send waiting behind that commit waited for a copy of
//! the log into the database and its fsync. Here, every
//! [`CHECKPOINT_AFTER`] commits a checkpoint starts on another connection
//! while appends go on; once it is done, the task copies the little written
//! meanwhile between two batches, and the next commit starts the log over.

use std::collections::HashMap;

use sqlx::sqlite::SqlitePool;
use sqlx::{AssertSqlSafe, Row, Sqlite, Transaction};
use tokio::sync::oneshot;

use super::super::decide::{Decision, Found, Plan, decide};
use super::super::rows::select_message;
use super::super::{AppendRefusal, Appended, NewMessage, StoreError, queue};
use crate::model::conversation::Message;
use crate::model::ids::{ConversationId, UserId};

/// Most messages in one transaction (9 bound values each, well under
/// SQLite's limit of 32,766).
pub const MAX_BATCH: usize = 256;

/// Commits between two checkpoints. A lone message's commit adds about
/// four pages to the log, so this is about SQLite's default threshold of
/// 1,000 pages (raised in `sqlite::open`, where it is only the backstop).
const CHECKPOINT_AFTER: u32 = 250;

/// The appending task: group commit, and checkpoints between batches.
pub(super) async fn run(pool: SqlitePool, mut jobs: queue::Jobs) {
    let mut commits = 0u32;
    // A checkpoint under way on another connection, and its end.
    let mut copying: Option<oneshot::Receiver<()>> = None;
    loop {
        let first = tokio::select! {
            biased;
            _ = async { copying.as_mut().expect("guarded").await }, if copying.is_some() => {
                copying = None;
                // No append runs now: this copies the rest, so the next
                // commit can start the log over.
                checkpoint(&pool).await;
                commits = 0;
                continue;
            }
            job = jobs.recv() => match job {
                Some(job) => job,
                None => break,
            },
        };
        let batch = jobs.batch(first, MAX_BATCH);
        let messages: Vec<&NewMessage> = batch.iter().map(|j| &j.message).collect();
        let outcomes = append_batch(&pool, &messages).await;
        queue::answer(batch, outcomes);
        commits += 1;
        if commits >= CHECKPOINT_AFTER && copying.is_none() {
            let (done, end) = oneshot::channel();
            let pool = pool.clone();
            tokio::spawn(async move {
                checkpoint(&pool).await;
                let _ = done.send(());
            });
            copying = Some(end);
        }
    }
}

/// Copies the log into the database as far as readers allow, without
/// waiting for anyone. A failure only leaves the log longer; it is logged.
async fn checkpoint(pool: &SqlitePool) {
    match sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(pool)
        .await
    {
        Ok(row) => {
            let (log, copied): (i64, i64) = (row.get(1), row.get(2));
            tracing::debug!(log, copied, "checkpoint");
        }
        Err(error) => tracing::warn!(%error, "checkpoint failed"),
    }
}

/// `?, ?, …` (`n` of them), or `(?, ?), (?, ?), …` with `width` per row.
pub(super) fn placeholders(n: usize, width: usize) -> String {
    let row = if width == 1 {
        "?".to_owned()
    } else {
        format!("({})", vec!["?"; width].join(", "))
    };
    vec![row; n].join(", ")
}

/// Appends `messages` in one transaction; one outcome per message, in order.
pub async fn append_batch(
    pool: &SqlitePool,
    messages: &[&NewMessage],
) -> Result<Vec<Result<Appended, AppendRefusal>>, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let found = read(&mut tx, messages).await?;
    let plan = decide(&found, messages);
    let seqs = write(&mut tx, messages, &plan).await?;
    tx.commit().await?;
    Ok(plan.outcomes(messages, &seqs))
}

/// Reads what deciding `messages` needs, in three queries: the memberships
/// of their `(conversation, sender)` pairs, the messages stored under their
/// ids, and their conversations' current epochs.
async fn read(
    tx: &mut Transaction<'static, Sqlite>,
    messages: &[&NewMessage],
) -> Result<Found, StoreError> {
    let mut found = Found::default();
    let mut pairs: Vec<(ConversationId, UserId)> = messages
        .iter()
        .map(|m| (m.sent.conversation_id, m.sender_id))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    let sql = format!(
        "SELECT conversation_id, user_id FROM members WHERE (conversation_id, user_id) IN (VALUES {})",
        placeholders(pairs.len(), 2)
    );
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for (conversation, user) in &pairs {
        query = query.bind(conversation).bind(user);
    }
    for row in query.fetch_all(&mut **tx).await? {
        found
            .members
            .insert((row.try_get("conversation_id")?, row.try_get("user_id")?));
    }

    let sql = format!(
        "{} WHERE m.id IN ({})",
        select_message!(""),
        placeholders(messages.len(), 1)
    );
    let mut query = sqlx::query_as::<_, Message>(AssertSqlSafe(sql));
    for m in messages {
        query = query.bind(m.sent.message_id);
    }
    for message in query.fetch_all(&mut **tx).await? {
        found.earlier.insert(message.id, message);
    }

    // `pairs` is sorted by conversation first.
    let mut conversations: Vec<ConversationId> = pairs.iter().map(|(c, _)| *c).collect();
    conversations.dedup();
    let sql = format!(
        "SELECT e.conversation_id, MAX(e.epoch) AS epoch, EXISTS (SELECT 1 FROM departures d \
         WHERE d.conversation_id = e.conversation_id AND d.carried_in IS NULL) AS pending \
         FROM epochs e WHERE e.conversation_id IN ({}) GROUP BY e.conversation_id",
        placeholders(conversations.len(), 1)
    );
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for conversation in &conversations {
        query = query.bind(conversation);
    }
    for row in query.fetch_all(&mut **tx).await? {
        let conversation: ConversationId = row.try_get("conversation_id")?;
        found.epochs.insert(conversation, row.try_get("epoch")?);
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
    tx: &mut Transaction<'static, Sqlite>,
    messages: &[&NewMessage],
    plan: &Plan<'_>,
) -> Result<Vec<u64>, StoreError> {
    if plan.reserve.is_empty() {
        return Ok(vec![0; messages.len()]);
    }
    let sql = format!(
        "UPDATE conversations SET last_seq = last_seq + v.column2, active_at = v.column3 \
         FROM (VALUES {}) AS v WHERE conversations.id = v.column1 RETURNING id, last_seq",
        placeholders(plan.reserve.len(), 3)
    );
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for (conversation, (n, at)) in &plan.reserve {
        query = query.bind(conversation).bind(*n as i64).bind(*at);
    }
    let mut last: HashMap<ConversationId, u64> = HashMap::with_capacity(plan.reserve.len());
    for row in query.fetch_all(&mut **tx).await? {
        last.insert(
            row.try_get("id")?,
            row.try_get::<i64, _>("last_seq")? as u64,
        );
    }
    let seqs = plan.seqs(messages, &last).ok_or_else(|| {
        StoreError::Other(sqlx::Error::Protocol(
            "a conversation vanished inside its append".into(),
        ))
    })?;

    let rows: u64 = plan.reserve.values().map(|(n, _)| n).sum();
    let sql = format!(
        "INSERT INTO messages (id, conversation_id, seq, sender_id, epoch, nonce, ciphertext, \
         signature, created_at) VALUES {}",
        placeholders(rows as usize, 9)
    );
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for (i, decision) in plan.decisions.iter().enumerate() {
        if !matches!(decision, Decision::New { .. }) {
            continue;
        }
        let (m, sent) = (messages[i], &messages[i].sent);
        query = query
            .bind(sent.message_id)
            .bind(sent.conversation_id)
            .bind(seqs[i] as i64)
            .bind(m.sender_id)
            .bind(sent.epoch)
            .bind(&sent.nonce)
            .bind(&sent.ciphertext)
            .bind(&sent.signature)
            .bind(&m.created_at);
    }
    query.execute(&mut **tx).await?;
    Ok(seqs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::conversation::{NewConversation, WrappedKey};
    use crate::model::ids::ConversationId;
    use crate::server::store::sqlite::SqliteStore;
    use crate::server::store::test_user as user;
    use crate::server::store::{Creation, Store, UserRecord, altered, test_message as message};

    async fn conversation(store: &SqliteStore, members: &[&UserRecord]) -> ConversationId {
        let id = ConversationId::new();
        let keys = members
            .iter()
            .map(|m| WrappedKey {
                member_id: m.id,
                wrapped_key: [5; 125].into(),
                path: Default::default(),
            })
            .collect();
        store
            .create_conversation(&Creation {
                new: NewConversation {
                    conversation_id: id,
                    title: None,
                    member_ids: members.iter().map(|m| m.id).collect(),
                    epoch: 0,
                    commit: [6; 32].into(),
                    keys,
                    keys_signature: [3; 64].into(),
                },
                created_by: members[0].id,
                created_at: "2026-11-26T05:00:00.000Z".into(),
            })
            .await
            .unwrap();
        id
    }

    fn seq(outcome: &Result<Appended, AppendRefusal>) -> (&'static str, u64) {
        match outcome {
            Ok(Appended::New(m)) => ("new", m.seq),
            Ok(Appended::Repeat(m)) => ("repeat", m.seq),
            Err(AppendRefusal::NotAMember) => ("not a member", 0),
            Err(AppendRefusal::StaleEpoch { current }) => ("stale", u64::from(*current)),
            Err(AppendRefusal::IdConflict) => ("conflict", 0),
            Err(AppendRefusal::RekeyRequired) => ("rekey", 0),
        }
    }

    #[tokio::test]
    async fn one_batch_decides_each_message_as_a_lone_append_would() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_file(dir.path()).await.unwrap();
        let (a, b, c) = (user("ann"), user("bob"), user("cyd"));
        for u in [&a, &b, &c] {
            store.create_user(u).await.unwrap();
        }
        let x = conversation(&store, &[&a, &b]).await;
        let y = conversation(&store, &[&b, &c]).await;
        // One message stored before the batch.
        let before = message(x, &a, 1);
        let first = append_batch(&store.pool, &[&before]).await.unwrap();
        assert_eq!(seq(&first[0]), ("new", 1));

        let x2 = message(x, &b, 2);
        let y1 = message(y, &c, 3);
        let x2_again = x2.clone();
        let x2_forged = altered(&x2, |m| m.sent.ciphertext = [7; 40].into());
        let before_again = before.clone();
        let before_other = altered(&before, |m| m.sent.nonce = [8; 12].into());
        let outsider = message(x, &c, 4);
        let stale = altered(&message(y, &b, 5), |m| m.sent.epoch = 1);
        let x3 = message(x, &a, 6);
        let y2 = message(y, &b, 7);
        let batch = [
            &x2,
            &y1,
            &x2_again,
            &x2_forged,
            &before_again,
            &before_other,
            &outsider,
            &stale,
            &x3,
            &y2,
        ];
        let outcomes = append_batch(&store.pool, &batch).await.unwrap();
        let got: Vec<_> = outcomes.iter().map(seq).collect();
        assert_eq!(
            got,
            [
                ("new", 2),
                ("new", 1),
                ("repeat", 2),
                ("conflict", 0),
                ("repeat", 1),
                ("conflict", 0),
                ("not a member", 0),
                ("stale", 0),
                ("new", 3),
                ("new", 2),
            ]
        );
        // What is stored is exactly the new ones, gap-free, with their bytes.
        let all = crate::server::store::Page {
            after_seq: Some(0),
            before_seq: None,
            limit: 50,
        };
        let page = |c| store.history(c, b.id, all);
        let stored_x = page(x).await.unwrap();
        let stored_y = page(y).await.unwrap();
        let ids = |rows: &[Message]| rows.iter().map(|m| (m.seq, m.id)).collect::<Vec<_>>();
        let id = |m: &NewMessage| m.sent.message_id;
        assert_eq!(
            ids(&stored_x),
            [(1, id(&before)), (2, id(&x2)), (3, id(&x3))]
        );
        assert_eq!(ids(&stored_y), [(1, id(&y1)), (2, id(&y2))]);
        assert_eq!(stored_x[1].ciphertext, x2.sent.ciphertext);
        // The next lone append continues each conversation's numbering.
        let next = append_batch(&store.pool, &[&message(y, &c, 9)])
            .await
            .unwrap();
        assert_eq!(seq(&next[0]), ("new", 3));
    }

    #[tokio::test]
    async fn the_log_starts_over_while_appends_go_on() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_file(dir.path()).await.unwrap();
        let (a, b) = (user("ann"), user("bob"));
        store.create_user(&a).await.unwrap();
        store.create_user(&b).await.unwrap();
        let x = conversation(&store, &[&a, &b]).await;
        let wal = dir.path().join(format!("{}-wal", super::super::FILE_NAME));
        let log_bytes = || std::fs::metadata(&wal).unwrap().len();
        let append = |i: u32| {
            let m = message(x, &a, i as u8);
            let store = &store;
            async move { store.append_message(m).await.unwrap().unwrap() }
        };
        // What a lone commit adds to the log, before any checkpoint.
        let start = log_bytes();
        let sample = CHECKPOINT_AFTER / 2;
        for i in 0..sample {
            append(i).await;
        }
        let per_commit = (log_bytes() - start) / u64::from(sample);
        assert!(per_commit > 0);
        // The log file is reused from its start once checkpointed, so its
        // size is the longest the log has been. Without the checkpoints it
        // would reach the backstop, five rounds long here.
        for i in sample..5 * CHECKPOINT_AFTER {
            append(i).await;
        }
        let longest = log_bytes() / per_commit;
        assert!(
            longest < 2 * u64::from(CHECKPOINT_AFTER),
            "the log grew to {longest} commits' worth"
        );
    }

    #[tokio::test]
    async fn concurrent_appends_through_the_queue_get_distinct_gap_free_seqs() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(SqliteStore::open_file(dir.path()).await.unwrap());
        let (a, b) = (user("ann"), user("bob"));
        store.create_user(&a).await.unwrap();
        store.create_user(&b).await.unwrap();
        let x = conversation(&store, &[&a, &b]).await;
        let sends: Vec<_> = (0..300u32)
            .map(|i| {
                let (store, m) = (
                    store.clone(),
                    message(x, if i % 2 == 0 { &a } else { &b }, i as u8),
                );
                tokio::spawn(async move { store.append_message(m).await })
            })
            .collect();
        let mut seqs = Vec::new();
        for send in sends {
            match send.await.unwrap().unwrap() {
                Ok(Appended::New(m)) => seqs.push(m.seq),
                other => panic!("{other:?}"),
            }
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=300).collect::<Vec<u64>>());
    }
}
