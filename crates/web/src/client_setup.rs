//! Mail clients setting themselves up (`hopthu_core::client_setup`): Thunderbird's autoconfig
//! (`/.well-known/autoconfig/mail/config-v1.1.xml`, and `/mail/config-v1.1.xml`, which it asks
//! of the host `autoconfig.<domain>`: served whatever the Host), Outlook's Autodiscover
//! (`POST /autodiscover/autodiscover.xml`, either capitalisation) and the Apple profile of
//! the signed-in user (`/settings/mobileconfig`).
//!
//! The first two need no session and carry no CSRF token (they change nothing); their answer
//! is the same for every address of the domain, so they tell nothing about which accounts exist.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hopthu_core::client_setup::{self as setup, BadAutodiscover};
use serde::Deserialize;

use crate::AppState;
use crate::auth::signed_in;

const XML: &str = "text/xml; charset=utf-8";

pub(crate) fn routes() -> Router<AppState> {
    let autodiscover =
        post(autodiscover).layer(DefaultBodyLimit::max(setup::AUTODISCOVER_MAX_BODY));
    Router::new()
        .route(
            "/.well-known/autoconfig/mail/config-v1.1.xml",
            get(autoconfig),
        )
        .route("/mail/config-v1.1.xml", get(autoconfig))
        .route("/autodiscover/autodiscover.xml", autodiscover.clone())
        .route("/Autodiscover/Autodiscover.xml", autodiscover)
        .route("/settings/mobileconfig", get(mobileconfig))
}

#[derive(Deserialize)]
struct AutoconfigQuery {
    #[serde(default)]
    emailaddress: Option<String>,
}

/// Thunderbird's `clientConfig`: for the domain, or for an address of it (another domain's
/// address: 404, Thunderbird then tries elsewhere).
async fn autoconfig(State(state): State<AppState>, Query(q): Query<AutoconfigQuery>) -> Response {
    let config = state.core.config();
    if let Some(address) = q.emailaddress.as_deref().filter(|a| !a.is_empty())
        && setup::served_address(config, address).is_none()
    {
        return (
            StatusCode::NOT_FOUND,
            "Không phục vụ địa chỉ này / not served here\n",
        )
            .into_response();
    }
    (
        [(header::CONTENT_TYPE, XML)],
        setup::autoconfig_xml(&config.domain, &config.public),
    )
        .into_response()
}

/// Outlook's POX Autodiscover: the settings for an address of the domain, an Autodiscover
/// error otherwise (500 for another domain, 601 for a response schema we do not give, 600
/// with HTTP 400 for a request that is not one).
async fn autodiscover(State(state): State<AppState>, body: Bytes) -> Response {
    let config = state.core.config();
    let now = chrono::Utc::now().timestamp();
    let error = |status: StatusCode, code: u16, message: &str| {
        (
            status,
            [(header::CONTENT_TYPE, XML)],
            setup::autodiscover_error_xml(code, message, now),
        )
            .into_response()
    };
    let request = match setup::parse_autodiscover_request(&body) {
        Ok(r) => r,
        Err(BadAutodiscover::TooLarge) => {
            return error(StatusCode::PAYLOAD_TOO_LARGE, 600, "Invalid Request");
        }
        Err(BadAutodiscover::Malformed(why)) => {
            tracing::debug!(%why, "autodiscover request refused");
            return error(StatusCode::BAD_REQUEST, 600, "Invalid Request");
        }
    };
    if request
        .schema
        .as_deref()
        .is_some_and(|s| s.trim() != setup::AUTODISCOVER_RESPONSE_SCHEMA)
    {
        return error(StatusCode::OK, 601, "Provider is not available");
    }
    match setup::served_address(config, &request.email) {
        Some(address) => (
            [(header::CONTENT_TYPE, XML)],
            setup::autodiscover_xml(&address, &config.public),
        )
            .into_response(),
        None => error(StatusCode::OK, 500, "The email address can't be found."),
    }
}

/// The signed-in user's Apple profile: a download, no password inside, fresh UUIDs.
async fn mobileconfig(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let signed = match signed_in(&state, &headers, false).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let config = state.core.config();
    let principal = &signed.session.principal;
    let (profile, payload, carddav) = (setup::new_uuid(), setup::new_uuid(), setup::new_uuid());
    let body = setup::mobileconfig(
        &config.domain,
        &config.public,
        &principal.address,
        &principal.display_name,
        [&profile, &payload, &carddav],
    );
    let file = format!(
        "attachment; filename=\"{}.mobileconfig\"",
        principal.address.to_string().replace(
            |c: char| !c.is_ascii_alphanumeric() && c != '.' && c != '-',
            "_"
        )
    );
    (
        [
            (
                header::CONTENT_TYPE,
                "application/x-apple-aspen-config".to_string(),
            ),
            (header::CONTENT_DISPOSITION, file),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        body,
    )
        .into_response()
}
