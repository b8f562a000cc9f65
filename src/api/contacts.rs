//! Contact book endpoints: get, put. Each acts on the caller's own book
//! only; the book is ciphertext the server stores as given and never reads.

mod get;
mod put;

pub use get::{GetContactBook, get};
pub use put::{PutContactBook, put};
