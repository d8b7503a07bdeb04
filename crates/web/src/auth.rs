//! Signing in and out, the forced password change (Đ13.4), and the settings screen.
//!
//! The session cookie holds a random token (`HttpOnly; Secure; SameSite=Lax`); the store keeps
//! only its hash (`Core::open_web_session`). Every form carries the session's CSRF token and a
//! POST without the right one changes nothing. The sign-in form, before any session exists,
//! uses a double-submit token: a random value in a short-lived cookie and in the form.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use hopthu_core::web_session::{
    Language, PASSWORD_RULE_EN, PASSWORD_RULE_VI, PasswordChangeError, WebSession, WebSettings,
};
use hopthu_core::{AuthError, SignInError};
use maud::{Markup, html};
use serde::Deserialize;

use crate::AppState;
use crate::html::{T, csrf_input, page, see_other};

pub(crate) const SESSION_COOKIE: &str = "hopthu_session";
const LOGIN_COOKIE: &str = "hopthu_login";

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/logout-all", post(logout_all))
        .route("/password", get(password_form).post(password))
        .route("/settings", get(settings_form).post(settings))
        .route("/settings/compromised", post(compromised))
}

#[derive(Deserialize)]
pub(crate) struct CompromisedForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm: String,
}

/// "My account is compromised" (Đ13.4): the mailbox is locked at once (`Core::report_compromised`)
/// and this browser is signed out with a page that says what happens next.
async fn compromised(
    State(state): State<AppState>,
    crate::ClientIp(client): crate::ClientIp,
    headers: HeaderMap,
    Form(form): Form<CompromisedForm>,
) -> Response {
    let signed = match signed_form(&state, &headers, true, &form.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let t = signed.t();
    if form.confirm != "yes" {
        return crate::html::error_page(
            t,
            StatusCode::BAD_REQUEST,
            t.s(
                "Hãy đánh dấu ô xác nhận trước khi khoá hộp thư.",
                "Tick the confirmation box before locking the mailbox.",
            ),
        );
    }
    if let Err(e) = state
        .core
        .report_compromised(&signed.session.principal, client)
        .await
    {
        return crate::html::error_page(t, StatusCode::SERVICE_UNAVAILABLE, &e.message);
    }
    let body = html! {
        main id="main" class="narrow" {
            h1 { (t.s("Hộp thư đã được khoá", "Your mailbox is locked")) }
            p class="notice" role="status" {
                (t.s(
                    "Mọi phiên đăng nhập đã kết thúc và mật khẩu cũ không còn dùng được. Thư gửi đến vẫn được nhận. Đơn vị đầu mối đã được báo và một sự cố (mức độ cao) đã được mở.",
                    "Every session has ended and the old password no longer works. Incoming mail is still kept. The focal unit has been told and an incident (high severity) is open."
                ))
            }
            p {
                (t.s(
                    "Theo Điều 13 khoản 4, cơ quan của bạn xác nhận bằng văn bản; sau đó bạn được cấp lại mật khẩu và phải đổi ngay khi đăng nhập.",
                    "As article 13.4 requires, your agency confirms in writing; you then receive a new password, which you must change at the first sign-in."
                ))
            }
        }
    };
    clear_session(
        page(t, t.s("Hộp thư đã được khoá", "Mailbox locked"), None, body).into_response(),
    )
}

/// The value of a cookie in the request.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn set_cookie(response: &mut Response, name: &str, value: &str, max_age: i64) {
    let c = format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; Secure; SameSite=Lax");
    if let Ok(v) = HeaderValue::from_str(&c) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// What a handler gets from [`signed_in`]: the session and its cookie token.
pub(crate) struct Signed {
    pub session: WebSession,
    pub token: String,
}

impl Signed {
    pub(crate) fn t(&self) -> T {
        T(self.session.settings.language)
    }

    /// Compares a form's CSRF token with the session's in constant time.
    pub(crate) fn csrf_ok(&self, given: &str) -> bool {
        let want = self.session.csrf_token.as_bytes();
        let given = given.as_bytes();
        want.len() == given.len()
            && want
                .iter()
                .zip(given)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// The signed-in session of a request, or the response to send instead: the sign-in page
/// when there is none, the password change while one is due (except on `/password` itself).
pub(crate) async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    allow_pending_change: bool,
) -> Result<Signed, Response> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Err(see_other("/login"));
    };
    match state.core.web_session(token).await {
        Ok(Some(session)) => {
            if session.principal.must_change_password && !allow_pending_change {
                return Err(see_other("/password"));
            }
            Ok(Signed {
                session,
                token: token.to_string(),
            })
        }
        Ok(None) => Err(see_other("/login")),
        Err(e) => {
            tracing::warn!(error = %e, "web session look-up");
            Err((
                StatusCode::SERVICE_UNAVAILABLE,
                "Tạm thời không truy cập được",
            )
                .into_response())
        }
    }
}

/// A form whose CSRF token is wrong: nothing is done.
pub(crate) fn csrf_refused(t: T) -> Response {
    crate::html::error_page(
        t,
        StatusCode::FORBIDDEN,
        t.s(
            "Biểu mẫu đã hết hạn hoặc không hợp lệ. Hãy tải lại trang và thử lại.",
            "The form has expired or is invalid. Reload the page and try again.",
        ),
    )
}

/// The signed-in session of a form post whose CSRF token is the session's, or the response to
/// send instead (as [`signed_in`], or the refusal of the form).
pub(crate) async fn signed_form(
    state: &AppState,
    headers: &HeaderMap,
    allow_pending_change: bool,
    csrf: &str,
) -> Result<Signed, Response> {
    let signed = signed_in(state, headers, allow_pending_change).await?;
    if !signed.csrf_ok(csrf) {
        return Err(csrf_refused(signed.t()));
    }
    Ok(signed)
}

#[derive(Deserialize, Default)]
pub(crate) struct LangQuery {
    #[serde(default)]
    lang: String,
}

fn login_page(t: T, csrf: &str, login: &str, error: Option<&str>) -> Response {
    let body = html! {
        main id="main" class="narrow card" {
            h1 { (t.s("Đăng nhập hộp thư", "Sign in to your mailbox")) }
            @if let Some(e) = error {
                p class="error" role="alert" { (e) }
            }
            form method="post" action="/login" class="stack" {
                (csrf_input(csrf))
                input type="hidden" name="lang" value=(t.code());
                label for="login" {
                    (t.s("Địa chỉ thư hoặc tên đăng nhập", "E-mail address or user name"))
                }
                input id="login" name="login" type="text" autocomplete="username" required value=(login) autofocus;
                label for="password" { (t.s("Mật khẩu", "Password")) }
                input id="password" name="password" type="password" autocomplete="current-password" required;
                button type="submit" class="primary" { (t.s("Đăng nhập", "Sign in")) }
            }
            p class="muted" {
                (t.s(
                    "Lần đăng nhập đầu tiên, bạn sẽ được yêu cầu đổi mật khẩu.",
                    "At your first sign-in you will be asked to change the password."
                ))
            }
            p {
                a href="/directory" { (t.s("Danh bạ thư điện tử", "E-mail directory")) }
                " · "
                @match t.0 {
                    Language::Vi => { a href="/login?lang=en" lang="en" { "English" } }
                    Language::En => { a href="/login?lang=vi" lang="vi" { "Tiếng Việt" } }
                }
            }
        }
    };
    let mut r = page(t, t.s("Đăng nhập", "Sign in"), None, body).into_response();
    set_cookie(&mut r, LOGIN_COOKIE, csrf, 3600);
    r
}

fn lang_of(s: &str) -> T {
    T(Language::parse(s).unwrap_or(Language::Vi))
}

async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    if let Some(token) = cookie(&headers, SESSION_COOKIE)
        && let Ok(Some(_)) = state.core.web_session(token).await
    {
        return see_other("/mail");
    }
    let csrf = hopthu_core::web_session::new_token();
    login_page(lang_of(&q.lang), &csrf, "", None)
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

async fn login(
    State(state): State<AppState>,
    crate::ClientIp(client): crate::ClientIp,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let t = lang_of(&form.lang);
    let fresh = hopthu_core::web_session::new_token();
    if form.csrf.is_empty() || cookie(&headers, LOGIN_COOKIE) != Some(form.csrf.as_str()) {
        let msg = t.s(
            "Phiên đăng nhập đã hết hạn, hãy thử lại.",
            "The sign-in form expired; please try again.",
        );
        return with_status(
            StatusCode::FORBIDDEN,
            login_page(t, &fresh, &form.login, Some(msg)),
        );
    }
    match state
        .core
        .open_web_session(client, &form.login, &form.password)
        .await
    {
        Ok((token, session)) => {
            let to = if session.principal.must_change_password {
                "/password"
            } else {
                "/mail"
            };
            let mut r = see_other(to);
            set_cookie(
                &mut r,
                SESSION_COOKIE,
                &token,
                hopthu_core::web_session::SESSION_IDLE_SECS,
            );
            set_cookie(&mut r, LOGIN_COOKIE, "", 0);
            r
        }
        Err(e) => {
            let (status, msg) = match e {
                SignInError::Throttled { .. } => (
                    StatusCode::TOO_MANY_REQUESTS,
                    t.s(
                        "Đăng nhập sai quá nhiều lần. Hãy chờ vài phút rồi thử lại.",
                        "Too many failed sign-ins. Wait a few minutes and try again.",
                    ),
                ),
                SignInError::Auth(AuthError::Temporary) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    t.s(
                        "Hệ thống tạm thời không đăng nhập được, hãy thử lại sau.",
                        "Sign-in is temporarily unavailable; try again later.",
                    ),
                ),
                SignInError::Auth(AuthError::Expired) => (
                    StatusCode::UNAUTHORIZED,
                    t.s(
                        "Mật khẩu lần đầu đã hết hạn vì không được đổi kịp thời. Hãy đề nghị đơn vị cấp lại mật khẩu.",
                        "The first password has expired because it was not changed in time. Ask your unit for a new one.",
                    ),
                ),
                SignInError::Auth(AuthError::Delegated) => (
                    StatusCode::FORBIDDEN,
                    t.s(
                        "Hộp thư đơn vị này đã được giao quyền cho cán bộ: hãy đăng nhập bằng hộp thư của chính mình.",
                        "This unit mailbox is delegated to its staff: sign in with your own mailbox.",
                    ),
                ),
                SignInError::Auth(_) => (
                    StatusCode::UNAUTHORIZED,
                    t.s(
                        "Sai địa chỉ thư hoặc mật khẩu.",
                        "Wrong address or password.",
                    ),
                ),
            };
            with_status(status, login_page(t, &fresh, &form.login, Some(msg)))
        }
    }
}

fn with_status(status: StatusCode, mut r: Response) -> Response {
    *r.status_mut() = status;
    r
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

fn clear_session(mut r: Response) -> Response {
    set_cookie(&mut r, SESSION_COOKIE, "", 0);
    r
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let signed = match signed_form(&state, &headers, true, &form.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(e) = state.core.close_web_session(&signed.token).await {
        tracing::warn!(error = %e, "sign-out");
    }
    clear_session(see_other("/login"))
}

async fn logout_all(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let signed = match signed_form(&state, &headers, true, &form.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(e) = state
        .core
        .close_web_sessions(&signed.session.principal, None)
        .await
    {
        tracing::warn!(error = %e, "sign-out everywhere");
    }
    clear_session(see_other("/login"))
}

fn password_section(signed: &Signed, forced: bool, error: Option<&str>, done: bool) -> Markup {
    let t = signed.t();
    let rule = t.s(PASSWORD_RULE_VI, PASSWORD_RULE_EN);
    html! {
        section aria-labelledby="pw-title" {
            h2 id="pw-title" { (t.s("Đổi mật khẩu", "Change password")) }
            @if forced {
                p class="notice" role="status" {
                    (t.s(
                        "Bạn đang dùng mật khẩu được cấp lần đầu hoặc vừa được cấp lại. Theo Điều 13 khoản 4 của Quy chế, bạn phải đổi mật khẩu ngay trước khi dùng hộp thư.",
                        "You are using a first or reset password. As the regulation (article 13.4) requires, change it now before using your mailbox."
                    ))
                }
            }
            @if let Some(e) = error {
                p class="error" role="alert" id="pw-error" { (e) }
            }
            @if done {
                p class="ok" role="status" { (t.s("Đã đổi mật khẩu.", "Password changed.")) }
            }
            form method="post" action="/password" class="stack" {
                (csrf_input(&signed.session.csrf_token))
                label for="current" { (t.s("Mật khẩu hiện tại", "Current password")) }
                input id="current" name="current" type="password" autocomplete="current-password" required;
                label for="new" { (t.s("Mật khẩu mới", "New password")) }
                input id="new" name="new" type="password" autocomplete="new-password" required minlength="10" aria-describedby="rule";
                p id="rule" class="rule" { (rule) }
                label for="confirm" { (t.s("Nhập lại mật khẩu mới", "Repeat the new password")) }
                input id="confirm" name="confirm" type="password" autocomplete="new-password" required minlength="10";
                button type="submit" class="primary" { (t.s("Đổi mật khẩu", "Change password")) }
            }
        }
    }
}

fn password_page(signed: &Signed, error: Option<&str>) -> Response {
    let t = signed.t();
    let forced = signed.session.principal.must_change_password;
    let body = html! {
        main id="main" class="narrow card" {
            (password_section(signed, forced, error, false))
            @if forced {
                form method="post" action="/logout" {
                    (csrf_input(&signed.session.csrf_token))
                    button class="link" { (t.s("Đăng xuất", "Sign out")) }
                }
            } @else {
                p { a href="/settings" { (t.s("Về trang cài đặt", "Back to settings")) } }
            }
        }
    };
    let session = (!forced).then_some(&signed.session);
    page(t, t.s("Đổi mật khẩu", "Change password"), session, body).into_response()
}

async fn password_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match signed_in(&state, &headers, true).await {
        Ok(signed) => password_page(&signed, None),
        Err(r) => r,
    }
}

#[derive(Deserialize)]
pub(crate) struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

async fn password(
    State(state): State<AppState>,
    crate::ClientIp(client): crate::ClientIp,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Response {
    let signed = match signed_form(&state, &headers, true, &form.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let t = signed.t();
    if form.new != form.confirm {
        let msg = t.s(
            "Hai lần nhập mật khẩu mới không giống nhau.",
            "The two new passwords differ.",
        );
        return with_status(StatusCode::BAD_REQUEST, password_page(&signed, Some(msg)));
    }
    match state
        .core
        .change_password(
            &signed.session.principal,
            client,
            &form.current,
            &form.new,
            Some(&signed.token),
        )
        .await
    {
        Ok(()) => see_other("/mail?changed=1"),
        Err(e) => {
            let status = match &e {
                PasswordChangeError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::BAD_REQUEST,
            };
            let msg = match &e {
                PasswordChangeError::Throttled { .. } => t.s(
                    "Nhập sai mật khẩu quá nhiều lần. Hãy chờ vài phút rồi thử lại.",
                    "Too many wrong passwords. Wait a few minutes and try again.",
                ),
                PasswordChangeError::WrongCurrent => t.s(
                    "Mật khẩu hiện tại không đúng.",
                    "The current password is wrong.",
                ),
                PasswordChangeError::Weak(p) => match t.0 {
                    Language::Vi => p.vi(),
                    Language::En => p.en(),
                },
                PasswordChangeError::Other(_) => t.s(
                    "Không đổi được mật khẩu, hãy thử lại sau.",
                    "The password could not be changed; try again later.",
                ),
            };
            with_status(status, password_page(&signed, Some(msg)))
        }
    }
}

async fn settings_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let signed = match signed_in(&state, &headers, false).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    settings_page(&state, &signed, false).await
}

/// The sign-in history table of the settings page (SPEC §7): the last 20 attempts on the
/// account, from every protocol, with where they came from and how they ended.
async fn sign_in_history(state: &AppState, signed: &Signed) -> Markup {
    let t = signed.t();
    let rows = match state
        .core
        .sign_ins(signed.session.principal.account, 20)
        .await
    {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(error = %e, "sign-in history unavailable");
            return Markup::default();
        }
    };
    html! {
        h3 id="history-title" { (t.s("Lịch sử đăng nhập", "Sign-in history")) }
        table class="history" aria-labelledby="history-title" {
            thead {
                tr {
                    th { (t.s("Thời gian", "Time")) }
                    th { (t.s("Qua", "Through")) }
                    th { (t.s("Địa chỉ IP", "IP address")) }
                    th { (t.s("Kết quả", "Result")) }
                }
            }
            tbody {
                @for row in &rows {
                    tr class=[(row.result != "ok").then_some("warn")] {
                        td { (crate::html::date_time(row.at)) }
                        td {
                            (match row.via.as_str() {
                                "webmail" => t.s("Thư điện tử trên web", "Webmail"),
                                "imap" => "IMAP",
                                "pop3" => "POP3",
                                "smtp" => "SMTP",
                                "managesieve" => "ManageSieve",
                                _ => "API",
                            })
                        }
                        td { (row.ip) }
                        td {
                            (match row.result.as_str() {
                                "ok" => t.s("Thành công", "Signed in"),
                                "failed" => t.s("Sai mật khẩu", "Wrong password"),
                                "throttled" => t.s("Bị chặn tạm thời", "Blocked for a while"),
                                "expired" => t.s("Mật khẩu lần đầu hết hạn", "First password expired"),
                                "must_change" => t.s(
                                    "Từ chối: phải đổi mật khẩu một lần trước",
                                    "Refused: change the one-time password first",
                                ),
                                _ => t.s("Bị từ chối", "Refused"),
                            })
                        }
                    }
                }
                @if rows.is_empty() {
                    tr { td colspan="4" { (t.s("Chưa có lần đăng nhập nào.", "No sign-ins yet.")) } }
                }
            }
        }
    }
}

async fn settings_page(state: &AppState, signed: &Signed, saved: bool) -> Response {
    let history = sign_in_history(state, signed).await;
    let t = signed.t();
    let s = &signed.session.settings;
    let csrf = csrf_input(&signed.session.csrf_token);
    let body = html! {
        main id="main" class="narrow" {
            p { a href="/mail" { "← " (t.s("Về hộp thư", "Back to the mailbox")) } }
            h1 { (t.s("Cài đặt", "Settings")) }
            @if saved {
                p class="ok" role="status" { (t.s("Đã lưu.", "Saved.")) }
            }
            section aria-labelledby="pref-title" {
                h2 id="pref-title" { (t.s("Giao diện và chữ ký", "Language and signature")) }
                form method="post" action="/settings" class="stack" {
                    (csrf)
                    label for="language" { (t.s("Ngôn ngữ", "Language")) }
                    select id="language" name="language" {
                        option value="vi" selected[s.language == Language::Vi] { "Tiếng Việt" }
                        option value="en" selected[s.language == Language::En] { "English" }
                    }
                    label for="signature" {
                        (t.s("Chữ ký (thêm vào cuối thư mới)", "Signature (added to new messages)"))
                    }
                    textarea id="signature" name="signature" rows="4" { (s.signature) }
                    button type="submit" class="primary" { (t.s("Lưu", "Save")) }
                }
            }
            section aria-labelledby="filters-title" {
                h2 id="filters-title" { (t.s("Lọc thư và trả lời tự động", "Filters and automatic replies")) }
                ul {
                    li { a href="/settings/rules" id="rules-link" { (t.s("Quy tắc lọc thư", "Mail rules")) } }
                    li { a href="/settings/vacation" id="vacation-link" { (t.s("Trả lời tự động khi vắng mặt", "Out-of-office reply")) } }
                }
            }
            (password_section(signed, false, None, false))
            (devices_section(state, signed))
            section aria-labelledby="out-title" {
                h2 id="out-title" { (t.s("Phiên đăng nhập", "Sessions")) }
                form method="post" action="/logout-all" {
                    (csrf)
                    button type="submit" { (t.s("Đăng xuất khỏi mọi nơi", "Sign out everywhere")) }
                }
                (history)
            }
            section aria-labelledby="lost-title" {
                h2 id="lost-title" { (t.s("Mất kiểm soát hộp thư?", "Lost control of your mailbox?")) }
                p {
                    (t.s(
                        "Nếu mật khẩu bị lộ hoặc có người khác dùng hộp thư của bạn (Điều 13 khoản 4), hãy khoá ngay: mọi phiên đăng nhập kết thúc, mật khẩu cũ hết hiệu lực, đơn vị đầu mối được báo để cấp lại mật khẩu.",
                        "If your password leaked or someone else is using your mailbox (article 13.4), lock it now: every session ends, the old password stops working, and the focal unit is told so it can issue a new one."
                    ))
                }
                form method="post" action="/settings/compromised" class="stack" {
                    (csrf)
                    label {
                        input type="checkbox" name="confirm" value="yes" required;
                        " "
                        (t.s(
                            "Tôi xác nhận hộp thư của tôi đã bị mất kiểm soát",
                            "I confirm my mailbox is compromised"
                        ))
                    }
                    button type="submit" class="danger" { (t.s("Khoá hộp thư của tôi", "Lock my mailbox")) }
                }
            }
        }
    };
    page(t, t.s("Cài đặt", "Settings"), Some(&signed.session), body).into_response()
}

/// How to set up a mail program: the Apple profile download and the settings by hand, from
/// `[public]` (what clients are told, which may differ from the listeners).
fn devices_section(state: &AppState, signed: &Signed) -> Markup {
    let t = signed.t();
    let p = &state.core.config().public;
    let port = |tls: u16, starttls: u16, starttls_name: &str| match (tls, starttls) {
        (0, 0) => t.s("không cung cấp", "not offered").to_string(),
        (0, s) => format!("{s} ({starttls_name})"),
        (p, 0) => format!("{p} (SSL/TLS)"),
        (p, s) => format!("{p} (SSL/TLS) {} {s} ({starttls_name})", t.s("hoặc", "or")),
    };
    html! {
        section aria-labelledby="devices-title" {
            h2 id="devices-title" { (t.s("Cài đặt trên điện thoại và máy tính", "Set up phones and computers")) }
            p {
                (t.s(
                    "Thunderbird và Outlook tự tìm thông số khi bạn nhập địa chỉ thư. Trên iPhone, iPad hoặc Mac, hãy tải hồ sơ cấu hình rồi mở nó (mật khẩu sẽ được hỏi khi cài).",
                    "Thunderbird and Outlook find the settings once you type your address. On an iPhone, iPad or Mac, download the profile and open it (the password is asked when it is installed)."
                ))
            }
            p { a href="/settings/mobileconfig" download { (t.s("Tải hồ sơ cấu hình cho Apple (.mobileconfig)", "Download the Apple profile (.mobileconfig)")) } }
            ul {
                li { (t.s("Máy chủ", "Server")) ": " strong { (p.host) } }
                li { "IMAP: " (port(p.imaps_port, p.imap_port, "STARTTLS")) }
                li { "POP3: " (port(p.pop3s_port, p.pop3_port, "STLS")) }
                li { "SMTP: " (port(p.submissions_port, p.submission_port, "STARTTLS")) }
                li { (t.s("Bộ lọc (ManageSieve): ", "Filters (ManageSieve): ")) (port(0, p.managesieve_port, "STARTTLS")) }
                li { (t.s("Tên đăng nhập: ", "User name: ")) (signed.session.principal.address) }
            }
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct SettingsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    signature: String,
}

async fn settings(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SettingsForm>,
) -> Response {
    let mut signed = match signed_form(&state, &headers, false, &form.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let settings = WebSettings {
        language: Language::parse(&form.language).unwrap_or(signed.session.settings.language),
        signature: form.signature.replace("\r\n", "\n"),
    };
    if let Err(e) = state
        .core
        .set_web_settings(&signed.session.principal, &settings)
        .await
    {
        return crate::html::error_page(signed.t(), StatusCode::SERVICE_UNAVAILABLE, &e.message);
    }
    signed.session.settings = settings;
    settings_page(&state, &signed, true).await
}
