//! Account endpoints: prelogin, signup, login, logout, lookup.

mod login;
mod logout;
mod lookup;
mod prelogin;
mod signup;

pub use login::{Login, login};
pub use logout::{Logout, logout};
pub use lookup::{Lookup, lookup};
pub use prelogin::{Prelogin, prelogin};
pub use signup::{CreateAccount, signup};
