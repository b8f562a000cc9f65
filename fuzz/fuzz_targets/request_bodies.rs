//! A request body for the endpoint its first byte picks, through the
//! server's decoder. The checks live in `hush::fuzzing::request_bodies`,
//! which `cargo test` runs too.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hush::fuzzing::request_bodies(data));
