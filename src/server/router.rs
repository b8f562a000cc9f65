//! The axum router: health, the Leptos pages, static files (and how long
//! browsers keep them), Socket.IO, the cross-origin guard and the intake
//! limits (`intake`) in front of them, and the security headers on every
//! response.

use axum::Router;
use axum::middleware;
use axum::routing::get;
use leptos_axum::{LeptosRoutes, file_and_error_handler, generate_route_list};

use super::fanout::Layer;
use super::state::AppState;
use super::{api_status, build_files, headers, health, intake, origin, realtime};
use crate::app::{App, shell};
use leptos::prelude::provide_context;

pub fn router(state: AppState, sockets: Layer) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    Router::new()
        .route("/healthz", get(health::healthz))
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let state = state.clone();
                move || {
                    provide_context(state.clone());
                    headers::content_security_policy();
                }
            },
            move || shell(options.clone()),
        )
        .fallback(file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn(build_files::caching))
        .layer(middleware::from_fn(api_status::fix_status))
        .layer(sockets)
        .layer(middleware::map_request(realtime::detach_handshake))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            intake::handshakes,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            intake::bounded_body,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), origin::guard))
        .layer(middleware::map_response_with_state(
            state.clone(),
            headers::secure,
        ))
        .with_state(state)
}
