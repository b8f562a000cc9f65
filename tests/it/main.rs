//! Integration tests: the real server, booted on `127.0.0.1:0`, spoken to over
//! HTTP and Socket.IO like any client would. One binary, one module per area;
//! the fixtures are `util` (a server, accounts), `chat` (conversations and
//! messages done the browser's way, with the native crypto twin) and `live`
//! (a Socket.IO client).

mod abuse;
mod accounts;
mod bench_smoke;
mod blindness;
mod catch_up;
mod chat;
mod cli;
mod cluster;
mod contacts;
mod conversations;
mod crypto_vectors;
mod delivery;
mod groups;
mod health;
mod limits;
mod live;
mod messages;
mod nodes;
mod outage;
mod pages;
mod pg;
mod presence;
mod property;
mod reader;
mod reads;
mod redis;
mod restart;
mod slow_client;
mod socketio;
mod typing;
mod util;
