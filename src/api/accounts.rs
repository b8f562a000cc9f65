//! Account endpoints: prelogin, signup, login, logout, lookup.

mod login;
mod logout;
mod lookup;
mod prelogin;
mod signup;

pub use login::login;
pub use logout::logout;
pub use lookup::lookup;
pub use prelogin::prelogin;
pub use signup::signup;
