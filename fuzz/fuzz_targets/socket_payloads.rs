//! A Socket.IO event payload of the kind its first byte picks, decoded as
//! the server or the browser decodes it. The checks live in
//! `hush::fuzzing::socket_payloads`, which `cargo test` runs too.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hush::fuzzing::socket_payloads(data));
