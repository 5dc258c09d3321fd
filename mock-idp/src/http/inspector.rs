//! The inspector: `GET /__inspector`, a page for a developer whose app fails to log in.
//!
//! It lists every request this IdP received (newest first: method, path, endpoint, client,
//! status), each expandable to its parameters and headers (secrets masked), the tokens the IdP
//! issued in the answer (header, claims and the key that signed them) and the lint findings —
//! the client's mistakes in plain words with the fix. Forms queue what the next request gets
//! (a denial, a narrowed scope, a revoked or expired refresh token, a server error, a refused
//! code), pick the user the next login approves, mark a user's email unverified, approve or
//! deny a device flow waiting for a person, and clear the log. Everything is rendered on the
//! server; a twenty-line script reloads the page when a new request arrives and nothing is
//! expanded.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use axum::Form;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::pages::esc;
use crate::outcome::Outcome;
use crate::script::{ScriptEntry, Times};
use crate::shared::Shared;
use crate::types::{Endpoint, GrantType, ScopeSet, UserId};
use crate::users::UserPatch;

/// Where the inspector lives.
pub const PATH: &str = "/__inspector";

fn pretty(v: &serde_json::Value) -> String {
    esc(&serde_json::to_string_pretty(v).unwrap_or_default())
}

/// The newest request's sequence number (the page's script polls it).
pub(super) async fn seq(State(shared): State<Arc<Shared>>) -> Response {
    let last = shared.requests().last().map(|r| r.seq).unwrap_or(0);
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_TYPE, "text/plain"),
        ],
        last.to_string(),
    )
        .into_response()
}

/// The page.
pub(super) async fn page(State(shared): State<Arc<Shared>>) -> Response {
    let requests = shared.requests();
    let last = requests.last().map(|r| r.seq).unwrap_or(0);
    let profile = shared.personality.profile();
    let provider = profile.id;
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>mock-idp inspector — {provider}</title>
<style>
body{{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}}
h1{{font-size:1.3em}} h2{{font-size:1.1em;margin-top:1.5em}}
code,pre{{font:12px/1.35 ui-monospace,monospace}} pre{{background:#f6f6f6;padding:.5em;overflow:auto;margin:.3em 0}}
table{{border-collapse:collapse}} td,th{{border-bottom:1px solid #ddd;padding:.15em .6em;text-align:left;vertical-align:top}}
details{{border:1px solid #ccc;border-radius:4px;margin:.3em 0;padding:.2em .6em}}
summary{{cursor:pointer}} .s2{{color:#176117}} .s3{{color:#1b4f9c}} .s4,.s5,.s0{{color:#a31515;font-weight:600}}
.finding{{border-left:4px solid #c60;padding:.2em .6em;margin:.3em 0;background:#fff7ef}}
.warning{{border-color:#c00;background:#fff1f1}} .info{{border-color:#888;background:#f7f7f7}}
form{{display:inline-block;margin:.15em .4em .15em 0}} button{{font:inherit}}
.muted{{color:#777}}
</style></head><body data-seq="{last}">
<h1>mock-idp inspector — {provider}</h1>
<p>issuer <code>{issuer}</code>"#,
        issuer = esc(&shared.issuer),
    );
    if let Some(d) = &profile.paths.discovery {
        let _ = write!(h, r#" · discovery <code>{}{}</code>"#, esc(&shared.base), esc(d));
    }
    let siblings = shared.settings.read().unwrap().sibling_inspectors.clone();
    if !siblings.is_empty() {
        h.push_str("</p>\n<p>Other providers:");
        for (name, url) in &siblings {
            let _ = write!(h, r#" <a href="{}">{}</a>"#, esc(url), esc(name));
        }
    }
    h.push_str(
        "</p>\n<h2>Clients</h2><table><tr><th>client id</th><th>secret</th><th>redirect URIs</th></tr>",
    );
    for c in shared.clients() {
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            esc(c.id.as_str()),
            if c.secret.is_some() {
                "set (printed by <code>mock-idp serve</code>)"
            } else {
                "none: public client, PKCE required"
            },
            c.redirect_uris
                .iter()
                .map(|u| format!("<code>{}</code>", esc(u)))
                .collect::<Vec<_>>()
                .join("<br>")
        );
    }
    h.push_str("</table>\n<h2>Users</h2><table><tr><th>user</th><th>email</th><th></th></tr>");
    for u in shared.users() {
        let id = esc(u.id.as_str());
        let verified = if u.email_verified {
            ""
        } else {
            " <span class=\"s4\">(unverified)</span>"
        };
        let _ = write!(
            h,
            r#"<tr><td>{id}</td><td>{email}{verified}</td><td>
<form method="post" action="{PATH}/user"><input type="hidden" name="user" value="{id}"><button>Next login: sign in as {id}</button></form>
<form method="post" action="{PATH}/unverify"><input type="hidden" name="user" value="{id}"><button>Mark email {toggle}</button></form></td></tr>"#,
            email = esc(u.email.as_deref().unwrap_or("—")),
            toggle = if u.email_verified {
                "unverified"
            } else {
                "verified"
            },
        );
    }
    h.push_str(
        "</table>\n<h2>Next outcome</h2><p>Queue what the next request to an endpoint gets (once):</p>",
    );
    for (what, label) in [
        ("deny", "Next login: user presses Deny"),
        ("refresh-revoked", "Next refresh: token revoked"),
        ("refresh-expired", "Next refresh: token expired"),
        ("invalid-grant", "Next code exchange: invalid_grant"),
        ("token-error", "Next token request: server error"),
        ("userinfo-error", "Next profile request: server error"),
        ("slow-token", "Next token request: 10 s slow"),
    ] {
        let _ = write!(
            h,
            r#"<form method="post" action="{PATH}/queue"><input type="hidden" name="what" value="{what}"><button>{label}</button></form>"#
        );
    }
    let _ = write!(
        h,
        r#"<form method="post" action="{PATH}/queue"><input type="hidden" name="what" value="narrow-scope">
<button>Next login: grant only</button> <input name="scope" value="openid" size="18" aria-label="granted scopes"></form>"#
    );
    let waiting = shared.waiting_devices();
    if !waiting.is_empty() {
        // A device flow (RFC 8628) waits for a person: approve it here as any user, or deny it.
        let options: String = shared
            .users()
            .iter()
            .map(|u| format!("<option>{}</option>", esc(u.id.as_str())))
            .collect();
        h.push_str(
            "<h2>Devices waiting for a person</h2><table><tr><th>user code</th><th>client</th><th></th></tr>",
        );
        for (code, client) in &waiting {
            let code = esc(code);
            let _ = write!(
                h,
                r#"<tr data-device="{code}"><td><code>{code}</code></td><td><code>{client}</code></td><td>
<form method="post" action="{PATH}/device"><input type="hidden" name="code" value="{code}"><input type="hidden" name="what" value="approve"><button>Approve as</button> <select name="user" aria-label="user">{options}</select></form>
<form method="post" action="{PATH}/device"><input type="hidden" name="code" value="{code}"><input type="hidden" name="what" value="deny"><button>Deny</button></form></td></tr>"#,
                client = esc(client.as_str()),
            );
        }
        h.push_str("</table>");
    }
    let script = shared.script_entries();
    if !script.is_empty() {
        h.push_str("<p>Queued:</p><ul>");
        for e in &script {
            let _ = write!(
                h,
                "<li><code>{}</code> → {} ({} used)</li>",
                esc(&e.endpoint.to_string()),
                esc(&e.outcome.describe()),
                e.used
            );
        }
        h.push_str("</ul>");
    }
    let _ = write!(
        h,
        r#"<h2>Requests <span class="muted">({n}, newest first)</span></h2>
<form method="post" action="{PATH}/clear"><button>Clear the log</button></form>"#,
        n = requests.len()
    );
    let keys = shared.keys.read().unwrap();
    // A browser's favicon probe is not the app's doing.
    for r in requests.iter().rev().filter(|r| r.path != "/favicon.ico") {
        let endpoint = r.endpoint.map(|e| e.to_string()).unwrap_or_else(|| "—".into());
        let client = r
            .client_id
            .as_ref()
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default();
        let warn = r
            .findings
            .iter()
            .filter(|f| f.severity > crate::lint::Severity::Info)
            .count();
        let _ = write!(
            h,
            r#"<details id="req-{seq}" data-endpoint="{endpoint}"><summary>#{seq} <b>{method} {path}</b> · {endpoint} · <code>{client}</code> → <span class="s{class}">{status}</span>{extra}</summary>"#,
            seq = r.seq,
            method = esc(&r.method),
            path = esc(&r.path),
            endpoint = esc(&endpoint),
            client = esc(&client),
            class = r.status / 100,
            status = if r.status == 0 {
                "no answer".to_owned()
            } else {
                r.status.to_string()
            },
            extra = if warn > 0 {
                format!(
                    r#" · <span class="s4">{warn} mistake{}</span>"#,
                    if warn == 1 { "" } else { "s" }
                )
            } else {
                String::new()
            },
        );
        for f in &r.findings {
            let class = match f.severity {
                crate::lint::Severity::Info => "info",
                crate::lint::Severity::Warning => "finding",
                _ => "finding warning",
            };
            let _ = write!(
                h,
                r#"<div class="{class}"><b>{sev:?}:</b> {msg}<br><b>Fix:</b> {fix}</div>"#,
                sev = f.severity,
                msg = esc(&f.message),
                fix = esc(&f.fix)
            );
        }
        if let Some(e) = &r.error {
            let _ = write!(h, r#"<p><b>Refused:</b> <span class="s4">{}</span></p>"#, esc(e));
        }
        if let Some(o) = &r.outcome {
            let _ = write!(h, "<p><b>Scripted outcome:</b> {}</p>", esc(o));
        }
        if !r.params.is_empty() {
            h.push_str("<p><b>Parameters</b></p><table>");
            for (k, v) in &r.params {
                let _ = write!(
                    h,
                    "<tr><td><code>{}</code></td><td><code>{}</code></td></tr>",
                    esc(k),
                    esc(v)
                );
            }
            h.push_str("</table>");
        }
        for t in &r.tokens {
            let (header, claims) = (t.header(), t.claims());
            let kid = header.get("kid").and_then(|k| k.as_str());
            let alg = header.get("alg").and_then(|k| k.as_str()).unwrap_or("none");
            let key = match kid {
                Some(kid) if keys.published().any(|k| k.kid() == kid) => {
                    format!("{alg}, key <code>{}</code> (published in the JWKS)", esc(kid))
                }
                Some(kid) => format!(
                    "{alg}, key <code>{}</code> — <span class=\"s4\">not in the JWKS now</span>",
                    esc(kid)
                ),
                None => format!("{alg}, no <code>kid</code>"),
            };
            let _ = write!(
                h,
                r#"<div class="token" data-token="{name}"><p><b>{name}</b> (decoded, issued by this IdP) · signed {key}</p><pre>{header}</pre><pre>{claims}</pre></div>"#,
                name = esc(t.name()),
                header = pretty(&header),
                claims = pretty(&claims),
            );
        }
        if !r.headers.is_empty() {
            h.push_str("<details><summary>Headers</summary><table>");
            for (k, v) in &r.headers {
                let _ = write!(
                    h,
                    "<tr><td><code>{}</code></td><td><code>{}</code></td></tr>",
                    esc(k),
                    esc(v)
                );
            }
            h.push_str("</table></details>");
        }
        let _ = write!(h, r#"<p class="muted">{} ms</p></details>"#, r.duration_ms);
    }
    if requests.is_empty() {
        h.push_str("<p class=\"muted\">No requests yet: point your app at the issuer above and log in.</p>");
    }
    let _ = write!(
        h,
        r#"<script>
// Reload when a new request arrives, unless the reader has something expanded or is typing.
const seen = document.body.dataset.seq;
setInterval(async () => {{
  if (document.querySelector("details[open]") || document.activeElement?.tagName === "INPUT") return;
  try {{
    const r = await fetch("{PATH}/seq", {{cache: "no-store"}});
    if (r.ok && (await r.text()) !== seen) location.reload();
  }} catch (_) {{}}
}}, 1500);
</script></body></html>"#
    );
    drop(keys);
    ([(header::CACHE_CONTROL, "no-store")], Html(h)).into_response()
}

/// Form fields of the inspector's buttons.
#[derive(Deserialize)]
pub(super) struct Action {
    #[serde(default)]
    what: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    code: String,
}

fn back() -> Response {
    Redirect::to(PATH).into_response()
}

fn bad(message: String) -> Response {
    (StatusCode::BAD_REQUEST, message).into_response()
}

/// Queues the next outcome of an endpoint.
pub(super) async fn queue(State(shared): State<Arc<Shared>>, Form(a): Form<Action>) -> Response {
    let (endpoint, outcome, delay) = match a.what.as_str() {
        "deny" => (Endpoint::Authorize, Outcome::Deny, Duration::ZERO),
        "narrow-scope" if a.scope.trim().is_empty() => {
            return bad("narrow-scope: name the scopes to grant (e.g. `openid`)".into());
        }
        "narrow-scope" => (
            Endpoint::Authorize,
            Outcome::NarrowScope {
                granted: ScopeSet::parse(&a.scope, &[]),
            },
            Duration::ZERO,
        ),
        "refresh-revoked" => (Endpoint::Refresh, Outcome::RefreshRevoked, Duration::ZERO),
        "refresh-expired" => (Endpoint::Refresh, Outcome::RefreshExpired, Duration::ZERO),
        "invalid-grant" => {
            // "Next code exchange": not a client-credentials request or a device's poll.
            let grant = Some(GrantType::AuthorizationCode);
            return queue_once(
                &shared,
                Endpoint::Token,
                grant,
                Outcome::InvalidGrant,
                Duration::ZERO,
            );
        }
        "token-error" => (Endpoint::Token, Outcome::ServerError, Duration::ZERO),
        "userinfo-error" => (Endpoint::Userinfo, Outcome::ServerError, Duration::ZERO),
        "slow-token" => (Endpoint::Token, Outcome::Success, Duration::from_secs(10)),
        other => return bad(format!("unknown outcome {other:?}")),
    };
    queue_once(&shared, endpoint, None, outcome, delay)
}

/// Queues `outcome` for the next request to `endpoint`, then back to the page.
fn queue_once(
    shared: &Shared,
    endpoint: Endpoint,
    grant: Option<GrantType>,
    outcome: Outcome,
    delay: Duration,
) -> Response {
    match shared.mount(ScriptEntry {
        id: 0,
        endpoint,
        client_id: None,
        grant,
        times: Times::N(1),
        used: 0,
        delay,
        name: Some("inspector".into()),
        outcome,
    }) {
        Ok(_) => back(),
        Err(e) => bad(e.to_string()),
    }
}

/// The next login approves this user.
pub(super) async fn user(State(shared): State<Arc<Shared>>, Form(a): Form<Action>) -> Response {
    let id = UserId::new(a.user.as_str());
    if !shared.users().iter().any(|u| u.id == id) {
        return bad(format!("no user {:?}", a.user));
    }
    queue_once(
        &shared,
        Endpoint::Authorize,
        None,
        Outcome::Approve { user: id },
        Duration::ZERO,
    )
}

/// Flips a user's `email_verified`.
pub(super) async fn unverify(State(shared): State<Arc<Shared>>, Form(a): Form<Action>) -> Response {
    let id = UserId::new(a.user.as_str());
    let Some(u) = shared.users().into_iter().find(|u| u.id == id) else {
        return bad(format!("no user {:?}", a.user));
    };
    let patch = UserPatch {
        email_verified: Some(!u.email_verified),
        ..Default::default()
    };
    match shared.update_user(&id, &patch) {
        Ok(_) => back(),
        Err(e) => bad(e.to_string()),
    }
}

/// Approves (as a user) or denies a device authorization waiting for a person.
pub(super) async fn device(State(shared): State<Arc<Shared>>, Form(a): Form<Action>) -> Response {
    let user = match a.what.as_str() {
        "approve" => Some(UserId::new(a.user.as_str())),
        "deny" => None,
        other => return bad(format!("unknown device decision {other:?}: approve or deny")),
    };
    match shared.decide_device(&a.code, user) {
        Ok(()) => back(),
        Err(e) => bad(e),
    }
}

/// Forgets the request log.
pub(super) async fn clear(State(shared): State<Arc<Shared>>) -> Response {
    shared.clear_requests();
    back()
}
