//! One WebSocket text frame, through the Engine.IO and Socket.IO
//! decoders. The checks live in `hush::fuzzing::frames`, which `cargo test`
//! runs too.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hush::fuzzing::frames(data));
