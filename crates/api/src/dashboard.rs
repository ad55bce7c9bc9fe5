//! The web dashboard: a login form that trades the token for a session cookie (HttpOnly,
//! SameSite=Strict), and the page itself — HTML, CSS and JavaScript compiled into the binary
//! (`assets/`), no CDN, no build step. The page reads the same JSON API as every other client,
//! with the cookie instead of the bearer token.
//!
//! Everything it shows from logs is written by attackers; the script only ever sets
//! `textContent`, and every response carries a Content-Security-Policy that allows no inline
//! script, no inline style, and nothing from another origin.

use crate::{same_secret, ApiError, ApiState};
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "tripline_session";
/// How long a dashboard login lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Most sessions held at once; a new login beyond it ends the one closest to expiry.
const MAX_SESSIONS: usize = 1024;
/// A request that changes something with the cookie must carry this header (value `1`):
/// a page on another origin cannot send it without a CORS preflight this server never grants.
pub const CSRF_HEADER: &str = "x-tripline-csrf";

/// What every response carries: scripts, styles, images and connections from this origin
/// only, no inline script or style, no framing, forms post only here.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                       connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const INDEX_HTML: &str = include_str!("../assets/index.html");
const LOGIN_HTML: &str = include_str!("../assets/login.html");
const APP_JS: &str = include_str!("../assets/app.js");
const APP_CSS: &str = include_str!("../assets/app.css");
const ICON_SVG: &str = include_str!("../assets/icon.svg");

/// Every file the dashboard loads, with its path: what a first visit downloads.
pub const ASSETS: [(&str, &str); 4] = [
    ("/", INDEX_HTML),
    ("/assets/app.css", APP_CSS),
    ("/assets/app.js", APP_JS),
    ("/assets/icon.svg", ICON_SVG),
];

/// Dashboard logins: random ids and when each expires. Held in memory: a restart logs
/// everyone out, which is what a restart of a security tool should do.
#[derive(Default)]
pub(crate) struct Sessions {
    map: Mutex<HashMap<String, Instant>>,
}

impl Sessions {
    fn create(&self) -> std::io::Result<String> {
        let id = crate::token::random_hex(32)?;
        let now = Instant::now();
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, exp| *exp > now);
        if map.len() >= MAX_SESSIONS {
            if let Some(oldest) = map.iter().min_by_key(|(_, e)| **e).map(|(k, _)| k.clone()) {
                map.remove(&oldest);
            }
        }
        map.insert(id.clone(), now + SESSION_TTL);
        Ok(id)
    }

    pub(crate) fn valid(&self, id: &str) -> bool {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(id).is_some_and(|exp| *exp > Instant::now())
    }

    fn remove(&self, id: &str) {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }
}

/// The session id in the request's cookies, if there is one.
pub(crate) fn session_of(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v)
}

/// Whether the request carries a live session.
fn logged_in(st: &ApiState, headers: &HeaderMap) -> bool {
    session_of(headers).is_some_and(|id| st.sessions.valid(id))
}

/// The routes anyone may reach: the page (which sends strangers to the login form), the form,
/// the stylesheet and the icon. The script and `/logout` need a session (see `app`).
pub(crate) fn public_routes() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/", get(index))
        .route("/login", get(login_form).post(login))
        .route(
            "/assets/app.css",
            get(|| async { asset("text/css", APP_CSS) }),
        )
        .route(
            "/assets/icon.svg",
            get(|| async { asset("image/svg+xml", ICON_SVG) }),
        )
}

/// The routes that need a session or the token.
pub(crate) fn protected_routes() -> Router<Arc<ApiState>> {
    Router::new()
        .route(
            "/assets/app.js",
            get(|| async { asset("text/javascript", APP_JS) }),
        )
        .route("/logout", axum::routing::post(logout))
}

fn asset(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

fn see_other(to: &'static str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
}

async fn index(State(st): State<Arc<ApiState>>, headers: HeaderMap) -> Response {
    if logged_in(&st, &headers) {
        html(StatusCode::OK, INDEX_HTML.to_string())
    } else {
        see_other("/login")
    }
}

async fn login_form(State(st): State<Arc<ApiState>>, headers: HeaderMap) -> Response {
    if logged_in(&st, &headers) {
        return see_other("/");
    }
    html(StatusCode::OK, LOGIN_HTML.replace("<!--error-->", ""))
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

/// The form's token, compared in constant time; right, a session cookie and the page; wrong,
/// the form again with a 401 and nothing about why.
async fn login(
    State(st): State<Arc<ApiState>>,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body too large")
        }
        _ => ApiError::bad(
            "token",
            "token: a form field (application/x-www-form-urlencoded)",
        ),
    })?;
    if !same_secret(form.token.trim().as_bytes(), st.token.as_bytes()) {
        return Ok(html(
            StatusCode::UNAUTHORIZED,
            LOGIN_HTML.replace(
                "<!--error-->",
                "<p class=\"error\" role=\"alert\">That is not the token.</p>",
            ),
        ));
    }
    let id = st.sessions.create().map_err(|e| {
        tracing::warn!(error = %e, "api: session");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    })?;
    let secure = if st.secure_cookies { "; Secure" } else { "" };
    let cookie = format!(
        "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        SESSION_TTL.as_secs()
    );
    let mut r = see_other("/");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}

/// End the session and clear the cookie.
async fn logout(State(st): State<Arc<ApiState>>, headers: HeaderMap) -> Response {
    if let Some(id) = session_of(&headers) {
        st.sessions.remove(id);
    }
    (
        StatusCode::NO_CONTENT,
        [(
            header::SET_COOKIE,
            format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
        )],
    )
        .into_response()
}

/// Add the security headers to a response (every response, API included).
pub(crate) async fn security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_expire_are_bounded_and_end() {
        let s = Sessions::default();
        let a = s.create().unwrap();
        assert!(s.valid(&a));
        assert!(!s.valid("nope"));
        s.remove(&a);
        assert!(!s.valid(&a));
        let first = s.create().unwrap();
        for _ in 0..MAX_SESSIONS {
            s.create().unwrap();
        }
        assert!(!s.valid(&first), "the oldest login makes room");
        assert_eq!(s.map.lock().unwrap().len(), MAX_SESSIONS);
        // an expired one is not valid
        let b = s.create().unwrap();
        s.map.lock().unwrap().insert(b.clone(), Instant::now());
        assert!(!s.valid(&b));
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; tripline_session=abc; b=2"),
        );
        assert_eq!(session_of(&h), Some("abc"));
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("tripline_sessionx=abc"),
        );
        assert_eq!(session_of(&h), None);
    }

    /// ` onclick=`, ` onerror =` and the like.
    fn has_inline_handler(html: &str) -> bool {
        html.match_indices(" on").any(|(i, _)| {
            let rest = &html[i + 3..];
            let name = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
            name > 0 && rest[name..].trim_start().starts_with('=')
        })
    }

    #[test]
    fn the_handler_check_finds_handlers() {
        assert!(has_inline_handler("<img src=x onerror=alert(1)>"));
        assert!(has_inline_handler("<a onclick = 'x'>"));
        assert!(!has_inline_handler("<p>click on the alert</p>"));
    }

    #[test]
    fn no_asset_has_inline_script_or_style() {
        for (path, body) in ASSETS {
            if path == "/" {
                assert!(!body.contains("<script>"), "inline script in {path}");
                assert!(!body.contains("style="), "inline style in {path}");
                assert!(!has_inline_handler(body), "inline handler in {path}");
            }
            if path == "/assets/app.js" {
                for bad in [
                    "innerHTML",
                    "outerHTML",
                    "insertAdjacentHTML",
                    "document.write",
                    "eval(",
                ] {
                    assert!(!body.contains(bad), "{bad} in {path}");
                }
            }
        }
        assert!(
            !LOGIN_HTML.contains("<script"),
            "the login form needs no script"
        );
    }
}
