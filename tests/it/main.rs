//! Integration tests: the real server, booted on `127.0.0.1:0`, spoken to over
//! HTTP and Socket.IO like any client would. One binary, one module per area;
//! the fixture is in `util`.

mod accounts;
mod cli;
mod crypto_vectors;
mod health;
mod pages;
mod socketio;
mod util;
