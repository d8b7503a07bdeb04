//! The JSON API of the directory lifecycle (for the admin consoles and scripts), under `/api`:
//!
//! | method and path | who | what |
//! |---|---|---|
//! | `GET /api/me` | any admin | the caller and their scope |
//! | `GET /api/units`, `GET /api/people` | any admin | units and people in scope |
//! | `GET /api/changes`, `POST /api/changes` | any admin | list / file change requests |
//! | `GET /api/changes/{id}` | any admin | one request in scope |
//! | `POST /api/changes/{id}/approve`, `…/reject` | focal | decide (`{"note": …}`) |
//! | `GET /api/notices`, `GET /api/notices/{id}` | any admin | notices; one as an HTML file (`?format=text|json`) |
//! | `GET /api/audit` | focal | the audit log and whether its hash chain holds |
//! | `GET /api/admins`, `POST /api/admins`, `DELETE /api/admins/{address}` | focal | administrators |
//! | `POST /api/sweep` | focal | the inactivity sweep (`{"as_of": unix, "dry_run": true}`; a future `as_of` only with `dry_run`) |
//! | `POST /api/documents` | admin of the issuing unit | dispatch a document (Đ15: `{"from", "number", "date", "kind", "summary", "file_name", "file": base64, "to": [codes], "subtree": bool}` → 201 `{"id"}`) |
//! | `GET /api/documents/{id}` | admin of the issuing unit | its tracking table per recipient unit |
//!
//! Authentication is HTTP Basic (only ever over HTTPS or loopback HTTP: plain HTTP elsewhere
//! redirects) through `Core::authenticate_from`, in ONE extractor ([`Admin`]); every rule —
//! who is an administrator, the scope check, what a change does — is in `hopthu_core`.
//! Errors are JSON `{"error": "…"}` with 400, 401, 403, 404, 409, 429 or 503. Bodies must be
//! `application/json`, which a cross-site form cannot send.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use base64::Engine as _;
use hopthu_core::admin::Actor;
use hopthu_core::directory::{ChangeInput, PersonRecord, UnitRecord};
use hopthu_core::{AdminScope, AuthError, ErrorKind, NoticeRecord, SignInError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/me", get(me))
        .route("/api/units", get(units))
        .route("/api/people", get(people))
        .route("/api/changes", get(list_changes).post(file_change))
        .route("/api/changes/{id}", get(one_change))
        .route("/api/changes/{id}/approve", post(approve))
        .route("/api/changes/{id}/reject", post(reject))
        .route("/api/notices", get(list_notices))
        .route("/api/notices/{id}", get(one_notice))
        .route("/api/audit", get(audit))
        .route("/api/admins", get(list_admins).post(grant_admin))
        .route("/api/admins/{address}", delete(revoke_admin))
        .route("/api/sweep", post(sweep))
        .route(
            "/api/documents",
            post(dispatch_document).layer(axum::extract::DefaultBodyLimit::max(DOCUMENT_BODY_MAX)),
        )
        .route("/api/documents/{id}", get(document_status))
}

/// An API failure: a status and a reason, rendered as `{"error": reason}`.
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }
}

impl From<hopthu_core::Error> for ApiError {
    fn from(e: hopthu_core::Error) -> Self {
        let status = match e.kind {
            ErrorKind::Invalid | ErrorKind::QuotaExceeded => StatusCode::BAD_REQUEST,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::AlreadyExists | ErrorKind::HasChildren => StatusCode::CONFLICT,
            ErrorKind::Temporary => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(json!({ "error": self.message }))).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Basic realm=\"hopthu\", charset=\"UTF-8\""),
            );
        }
        response
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// The signed-in administrator: HTTP Basic checked with `Core::authenticate_from`, then
/// `Core::actor`. The one place to add the webmail's session cookie.
pub(crate) struct Admin(pub Actor);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let unauthorized = || {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "cần đăng nhập / authentication required (HTTP Basic)",
            )
        };
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(unauthorized)?;
        let encoded = value
            .strip_prefix("Basic ")
            .or_else(|| value.strip_prefix("basic "))
            .ok_or_else(unauthorized)?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(unauthorized)?;
        let (login, password) = decoded.split_once(':').ok_or_else(unauthorized)?;
        // The client (the peer, or the forwarded address behind a trusted proxy); throttling
        // by account also applies.
        let ip = crate::client_ip(
            &state.core.config().web,
            crate::peer_ip(parts),
            &parts.headers,
        );
        let principal = match state
            .core
            .authenticate_from(ip, hopthu_core::SignInVia::Api, login, password)
            .await
        {
            Ok(p) => p,
            Err(SignInError::Throttled { retry_after }) => {
                return Err(ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    format!(
                        "quá nhiều lần đăng nhập sai / too many failed sign-ins; retry in {} s",
                        retry_after.as_secs()
                    ),
                ));
            }
            Err(SignInError::Auth(AuthError::Disabled | AuthError::Expired)) => {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "hộp thư đã bị thu hồi hoặc mật khẩu hết hạn / account revoked or password expired",
                ));
            }
            Err(SignInError::Auth(AuthError::Delegated)) => {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "hộp thư đơn vị đã giao quyền, hãy đăng nhập bằng hộp thư của chính mình / the unit mailbox is delegated: sign in with your own mailbox",
                ));
            }
            Err(SignInError::Auth(AuthError::Temporary)) => {
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "tạm thời không đăng nhập được / temporary failure",
                ));
            }
            Err(_) => return Err(unauthorized()),
        };
        Ok(Admin(state.core.actor(&principal).await?))
    }
}

/// A JSON body whose rejection is a JSON 400 (415 for another content type).
pub(crate) struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> ApiResult<Self> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Content-Type phải là application/json / must be application/json",
            )),
            Err(e) => Err(ApiError::new(StatusCode::BAD_REQUEST, e.body_text())),
        }
    }
}

/// A numeric id from the path; anything else is a JSON 400.
pub(crate) struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
        raw.parse().map(Id).map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("{raw:?}: mã số không hợp lệ / not a number"),
            )
        })
    }
}

fn scope_json(scope: AdminScope, units: &[UnitRecord]) -> Value {
    match scope {
        AdminScope::Focal => json!({ "scope": "focal" }),
        AdminScope::Inspector => json!({ "scope": "inspector" }),
        AdminScope::Unit(id) => {
            let unit = units.iter().find(|u| u.id == id);
            json!({
                "scope": "unit",
                "unit_code": unit.map(|u| u.code.as_str()),
                "unit_name": unit.map(|u| u.name.as_str()),
            })
        }
    }
}

async fn me(State(state): State<AppState>, Admin(actor): Admin) -> ApiResult<Json<Value>> {
    let units = state.core.units().await?;
    let mut v = scope_json(actor.scope, &units);
    v["address"] = json!(actor.name);
    Ok(Json(v))
}

#[derive(Serialize)]
struct UnitView {
    code: String,
    kind: String,
    name: String,
    parent: Option<String>,
    address: String,
}

async fn units(State(state): State<AppState>, Admin(actor): Admin) -> ApiResult<Json<Value>> {
    let all = state.core.units().await?;
    let code = |id| all.iter().find(|u| u.id == id).map(|u| u.code.clone());
    let units: Vec<UnitView> = state
        .core
        .units_in_scope(&actor)
        .await?
        .into_iter()
        .map(|u| UnitView {
            parent: u.parent.and_then(code),
            code: u.code,
            kind: u.kind,
            name: u.name,
            address: u.address,
        })
        .collect();
    Ok(Json(json!({ "units": units })))
}

#[derive(Serialize)]
struct PersonView {
    full_name: String,
    address: String,
    unit: String,
    position: Option<String>,
    staff_id: Option<String>,
    state: &'static str,
    public: bool,
    last_access_at: Option<i64>,
    phone: Option<String>,
}

async fn people(State(state): State<AppState>, Admin(actor): Admin) -> ApiResult<Json<Value>> {
    let units = state.core.units().await?;
    let people: Vec<PersonView> = state
        .core
        .people_in_scope(&actor)
        .await?
        .into_iter()
        .map(|p: PersonRecord| PersonView {
            unit: units
                .iter()
                .find(|u| u.id == p.unit)
                .map(|u| u.code.clone())
                .unwrap_or_default(),
            full_name: p.full_name,
            address: p.address,
            position: p.position,
            staff_id: p.staff_id,
            state: p.state.as_str(),
            public: p.public,
            last_access_at: p.last_access_at,
            phone: p.phone,
        })
        .collect();
    Ok(Json(json!({ "people": people })))
}

async fn list_changes(
    State(state): State<AppState>,
    Admin(actor): Admin,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({ "changes": state.core.changes(&actor).await? }),
    ))
}

async fn file_change(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Body(input): Body<ChangeInput>,
) -> ApiResult<Response> {
    let change = state.core.file_change(&actor, &input).await?;
    Ok((StatusCode::CREATED, Json(change)).into_response())
}

/// The largest `POST /api/documents` body: a signed file of the largest message size,
/// base64-encoded, with room for the other fields (the message size itself is checked by core).
const DOCUMENT_BODY_MAX: usize = 96 * 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DispatchBody {
    from: String,
    number: String,
    date: String,
    kind: String,
    summary: String,
    file_name: String,
    /// The signed file, base64.
    file: String,
    to: Vec<String>,
    #[serde(default)]
    subtree: bool,
}

async fn dispatch_document(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Body(body): Body<DispatchBody>,
) -> ApiResult<Response> {
    let file = base64::engine::general_purpose::STANDARD
        .decode(body.file.trim())
        .map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "file: không phải base64 / not base64",
            )
        })?;
    let request = hopthu_core::documents::DispatchRequest {
        from: body.from,
        number: body.number,
        date: body.date,
        kind: body.kind,
        summary: body.summary,
        file_name: body.file_name,
        file,
        to: body.to,
        subtree: body.subtree,
    };
    let done = state.core.dispatch_document(&actor, &request).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": done.id, "number": done.number, "recipients": done.recipients })),
    )
        .into_response())
}

async fn document_status(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Id(id): Id,
) -> ApiResult<Response> {
    Ok(Json(state.core.document_status(&actor, id).await?).into_response())
}

async fn one_change(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Id(id): Id,
) -> ApiResult<Response> {
    Ok(Json(state.core.change(&actor, id).await?).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    #[serde(default)]
    note: String,
}

fn notice_summary(n: &NoticeRecord) -> Value {
    json!({
        "id": n.id,
        "reference": n.reference,
        "subject": n.subject,
        "unit_id": n.unit.0,
        "created_at": n.created_at,
        "url": format!("/api/notices/{}", n.id),
    })
}

async fn approve(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Id(id): Id,
    Body(body): Body<DecisionBody>,
) -> ApiResult<Json<Value>> {
    let approved = state.core.approve_change(&actor, id, &body.note).await?;
    Ok(Json(json!({
        "change": approved.change,
        "credential": approved.credential.map(|c| json!({
            "address": c.address,
            "password": c.password,
        })),
        "notices": approved.notices.iter().map(notice_summary).collect::<Vec<_>>(),
    })))
}

async fn reject(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Id(id): Id,
    Body(body): Body<DecisionBody>,
) -> ApiResult<Json<Value>> {
    let change = state.core.reject_change(&actor, id, &body.note).await?;
    Ok(Json(json!({ "change": change })))
}

async fn list_notices(
    State(state): State<AppState>,
    Admin(actor): Admin,
) -> ApiResult<Json<Value>> {
    let notices = state.core.notices(&actor).await?;
    Ok(Json(json!({
        "notices": notices.iter().map(notice_summary).collect::<Vec<_>>(),
    })))
}

#[derive(Debug, Default, Deserialize)]
struct NoticeQuery {
    #[serde(default)]
    format: Option<String>,
}

async fn one_notice(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Id(id): Id,
    Query(q): Query<NoticeQuery>,
) -> ApiResult<Response> {
    let notice = state.core.notice(&actor, id).await?;
    let file = format!("thong-bao-{}", notice.reference.replace('/', "-"));
    let attachment = |ext: &str| format!("attachment; filename=\"{file}.{ext}\"");
    Ok(match q.format.as_deref().unwrap_or("html") {
        "html" => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, attachment("html")),
            ],
            notice.body_html,
        )
            .into_response(),
        "text" => (
            [
                (
                    header::CONTENT_TYPE,
                    "text/plain; charset=utf-8".to_string(),
                ),
                (header::CONTENT_DISPOSITION, attachment("txt")),
            ],
            notice.body_text,
        )
            .into_response(),
        "json" => {
            let mut v = notice_summary(&notice);
            v["body_text"] = json!(notice.body_text);
            Json(v).into_response()
        }
        other => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("format {other:?}: html, text or json"),
            ));
        }
    })
}

async fn audit(State(state): State<AppState>, Admin(actor): Admin) -> ApiResult<Json<Value>> {
    let rows = state.core.audit_log(&actor).await?;
    let broken = hopthu_core::audit::verify_chain(&rows);
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "at": r.at,
                "actor": r.actor,
                "action": r.action,
                "target": r.target,
                "before": r.before.as_deref().and_then(|s| serde_json::from_str::<Value>(s).ok()),
                "after": r.after.as_deref().and_then(|s| serde_json::from_str::<Value>(s).ok()),
                "hash": r.hash,
            })
        })
        .collect();
    Ok(Json(json!({
        "entries": rows,
        "chain_ok": broken.is_none(),
        "broken_at": broken,
    })))
}

async fn list_admins(State(state): State<AppState>, Admin(actor): Admin) -> ApiResult<Json<Value>> {
    let units = state.core.units().await?;
    let admins: Vec<Value> = state
        .core
        .admins(&actor)
        .await?
        .into_iter()
        .map(|a| {
            let mut v = scope_json(a.scope, &units);
            v["address"] = json!(a.address);
            v["granted_by"] = json!(a.granted_by);
            v
        })
        .collect();
    Ok(Json(json!({ "admins": admins })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantBody {
    address: String,
    #[serde(default)]
    focal: bool,
    #[serde(default)]
    unit: Option<String>,
}

async fn grant_admin(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Body(body): Body<GrantBody>,
) -> ApiResult<Response> {
    if body.focal == body.unit.is_some() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "give either \"focal\": true or \"unit\": CODE",
        ));
    }
    let admin = state
        .core
        .grant_admin(&actor, &body.address, body.unit.as_deref())
        .await?;
    let units = state.core.units().await?;
    let mut v = scope_json(admin.scope, &units);
    v["address"] = json!(admin.address);
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn revoke_admin(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(address): Path<String>,
) -> ApiResult<StatusCode> {
    state.core.revoke_admin(&actor, &address).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepBody {
    #[serde(default)]
    as_of: Option<i64>,
    #[serde(default)]
    dry_run: bool,
}

async fn sweep(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Body(body): Body<SweepBody>,
) -> ApiResult<Json<Value>> {
    let as_of = state.core.requested_sweep_date(body.as_of, body.dry_run)?;
    let report = state
        .core
        .sweep_inactive(&actor, as_of, body.dry_run)
        .await?;
    Ok(Json(json!(report)))
}
