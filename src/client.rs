//! Browser-only code (feature `hydrate`): where the signed-in identity's keys
//! live, and the sign-up, login and logout flows that make them.

pub mod keystore;
pub mod session;
