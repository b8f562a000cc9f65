//! When the database cannot take a write, a send is answered 503
//! `store_unavailable`, nothing is pushed, and the same send succeeds once
//! the database is back: one row, one push, the first `seq`.

use std::time::Duration;

use sqlx::Connection;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

use crate::chat::{self, history, seal, send};
use crate::live::Live;
use crate::util::TestServer;

#[tokio::test]
async fn with_the_database_locked_a_send_is_503_nothing_is_pushed_and_a_retry_succeeds() {
    let server = TestServer::start_for_accounts().await;
    let password = "correct horse battery staple";
    let hi = server.sign_up("hi89", password).await;
    let lo = server.sign_up("lo89", password).await;
    let chat = chat::create(&server, &hi, &[&hi, &lo], None).await;
    let mut lo_live = Live::connect(&server, &lo.token).await;

    // Another process holds the database's write lock (a backup, a repair).
    let holder = Holder::lock(&server).await;

    let body = seal(&chat.id, &chat.ck, &hi, "sent during the outage");
    let (status, answer) = send(&server, &hi, &body).await;
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["error"], "store_unavailable");
    assert!(!answer["message"].as_str().unwrap().is_empty());
    lo_live.expect_silence(Duration::from_millis(500)).await;

    holder.release().await;

    let (status, sent) = send(&server, &hi, &body).await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["seq"], 1);
    let pushed = lo_live.expect("new-message").await;
    assert_eq!(pushed["id"], body["message_id"]);
    lo_live.expect_silence(Duration::from_millis(500)).await;
    let (_, page) = history(
        &server,
        &lo,
        serde_json::json!({"conversation_id": chat.id, "limit": 10}),
    )
    .await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 1);
}

/// Another connection holding the lock that every append needs: SQLite's
/// write lock, or on PostgreSQL an exclusive lock on the messages table
/// (the server gives up after its `lock_timeout`).
enum Holder {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl Holder {
    async fn lock(server: &TestServer) -> Holder {
        let mut holder = match crate::pg::database_for(server.data.path()) {
            Some(url) => Holder::Postgres(PgConnection::connect(&url).await.unwrap()),
            None => {
                let options =
                    SqliteConnectOptions::new().filename(server.data.path().join("hush.db"));
                Holder::Sqlite(SqliteConnection::connect_with(&options).await.unwrap())
            }
        };
        match &mut holder {
            Holder::Sqlite(c) => {
                sqlx::query("BEGIN EXCLUSIVE").execute(c).await.unwrap();
            }
            Holder::Postgres(c) => {
                sqlx::query("BEGIN").execute(&mut *c).await.unwrap();
                sqlx::query("LOCK TABLE messages IN EXCLUSIVE MODE")
                    .execute(c)
                    .await
                    .unwrap();
            }
        }
        holder
    }

    async fn release(self) {
        match self {
            Holder::Sqlite(mut c) => {
                sqlx::query("ROLLBACK").execute(&mut c).await.unwrap();
                c.close().await.unwrap();
            }
            Holder::Postgres(mut c) => {
                sqlx::query("ROLLBACK").execute(&mut c).await.unwrap();
                c.close().await.unwrap();
            }
        }
    }
}
