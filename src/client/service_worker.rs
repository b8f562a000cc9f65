//! Registers the service worker (`public/sw.js`) that keeps the app's shell,
//! so a reload without a network still opens the app and its outbox. Where
//! service workers are unavailable (an insecure origin, a private window in
//! some browsers) the app works as before, online only.

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// Asks the browser to install `/sw.js`; failures are only logged.
pub fn register() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let navigator = Reflect::get(&window, &JsValue::from_str("navigator")).unwrap_or_default();
    let container = Reflect::get(&navigator, &JsValue::from_str("serviceWorker"))
        .ok()
        .filter(|c| !c.is_undefined() && !c.is_null());
    let Some(container) = container else { return };
    let register = Reflect::get(&container, &JsValue::from_str("register"))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok());
    if let Some(register) = register
        && register
            .call1(&container, &JsValue::from_str("/sw.js"))
            .is_err()
    {
        leptos::logging::warn!("the service worker could not be registered");
    }
}
