//! The chat page's bridge to the browser engine: one public name per action,
//! with the real body in the browser build (`client::engine`) and an inert
//! one on the server, which renders the page's frame but never holds keys
//! or a socket.

/// A message time as the timeline shows it, in the browser's time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalTime {
    /// Equal for two times on the same local day.
    pub day: String,
    /// "Today", "Yesterday", or a date.
    pub day_label: String,
    /// "14:05" (or the locale's form).
    pub clock: String,
    /// Minutes since the epoch, to group messages close in time.
    pub minutes: i64,
}

#[cfg(feature = "hydrate")]
mod imp {
    pub use crate::client::engine::{
        accept_change, add_people, check_name, create, discard, forget, leave, load_older, log_out,
        react, read_up_to, remove_member, send, set_notices, set_sharing, set_verified, start,
        stop, typing, verification,
    };

    use super::LocalTime;

    pub fn local_time(at: &str) -> LocalTime {
        use js_sys::Date;
        use wasm_bindgen::JsValue;
        let date = Date::new(&JsValue::from_str(at));
        let day_of = |d: &Date| format!("{}-{}-{}", d.get_full_year(), d.get_month(), d.get_date());
        let today = Date::new_0();
        let yesterday = Date::new_0();
        yesterday.set_date(today.get_date() - 1);
        let day = day_of(&date);
        let day_label = if day == day_of(&today) {
            "Today".to_owned()
        } else if day == day_of(&yesterday) {
            "Yesterday".to_owned()
        } else {
            let options = js_sys::Object::new();
            for (key, value) in [("weekday", "long"), ("day", "numeric"), ("month", "long")] {
                let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
            }
            if date.get_full_year() != today.get_full_year() {
                let _ = js_sys::Reflect::set(&options, &"year".into(), &"numeric".into());
            }
            String::from(date.to_locale_date_string("default", &options))
        };
        LocalTime {
            day,
            day_label,
            clock: format!("{:02}:{:02}", date.get_hours(), date.get_minutes()),
            minutes: (date.get_time() / 60_000.0) as i64,
        }
    }
}

#[cfg(not(feature = "hydrate"))]
mod imp {
    use super::LocalTime;
    use crate::model::account::PublicUser;
    use crate::model::ids::{ConversationId, MessageId, UserId};
    use crate::screen::{Chats, NameProblem, Notices, Sharing, Verification};

    pub fn start(_: Chats, _: impl Fn() + 'static) {}
    pub fn read_up_to(_: ConversationId, _: u64) {}
    pub fn set_sharing(_: Sharing, _: impl FnOnce(Result<Sharing, String>) + 'static) {}
    pub fn set_notices(_: Notices, _: impl FnOnce(Result<Notices, String>) + 'static) {}
    pub fn stop() {}
    pub fn send(_: ConversationId, _: String) {}
    pub fn react(_: ConversationId, _: MessageId, _: String, _: bool) {}
    pub fn typing(_: ConversationId) {}
    pub fn load_older(_: ConversationId, _: impl FnOnce() + 'static) {}
    pub fn discard(_: ConversationId, _: MessageId) {}
    pub fn check_name(_: String, _: impl FnOnce(Result<PublicUser, NameProblem>) + 'static) {}
    pub fn accept_change(_: UserId) {}
    pub fn verification(_: UserId) -> Option<Verification> {
        None
    }
    pub fn set_verified(_: UserId, _: bool) {}
    pub fn create(
        _: Vec<PublicUser>,
        _: Option<String>,
        _: impl FnOnce(Result<ConversationId, String>) + 'static,
    ) {
    }
    pub fn log_out(_: impl FnOnce(Result<(), String>) + 'static) {}
    pub fn add_people(
        _: ConversationId,
        _: Vec<PublicUser>,
        _: impl FnOnce(Result<(), String>) + 'static,
    ) {
    }
    pub fn remove_member(
        _: ConversationId,
        _: UserId,
        _: impl FnOnce(Result<(), String>) + 'static,
    ) {
    }
    pub fn leave(_: ConversationId, _: impl FnOnce(Result<(), String>) + 'static) {}
    pub fn forget(_: ConversationId) {}

    /// The server never renders message times; this keeps the UTC text.
    pub fn local_time(at: &str) -> LocalTime {
        LocalTime {
            day: at.get(..10).unwrap_or_default().to_owned(),
            day_label: at.get(..10).unwrap_or_default().to_owned(),
            clock: at.get(11..16).unwrap_or_default().to_owned(),
            minutes: 0,
        }
    }
}

pub use imp::*;
