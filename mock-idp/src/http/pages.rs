//! The IdP's HTML: login + consent page, error page, signed-out page, form_post response.
//!
//! Plain server-rendered HTML without scripts (except the form_post auto-submit), so a
//! browser test can drive it with stable selectors: `#user-<id>` radios, `#login` text
//! field, `#allow` / `#deny` buttons, `#switch` to pick another account.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::users::User;

/// Escapes text for HTML content and attribute values.
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1d232a}\
h1{font-size:1.4rem}.card{border:1px solid #d0d7de;border-radius:8px;padding:1.2rem 1.4rem}\
label{display:block;margin:.4rem 0}.muted{color:#57606a;font-size:.9rem}code{background:#f3f4f6;padding:0 .25rem}\
button{font-size:1rem;padding:.45rem 1.2rem;margin-right:.6rem;border-radius:6px;border:1px solid #8c959f;cursor:pointer}\
#allow{background:#1f883d;color:#fff;border-color:#1f883d}input[type=text]{font-size:1rem;padding:.3rem;width:100%}";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <meta name=\"viewport\" content=\"width=device-width\"><style>{STYLE}</style></head>\
         <body>{body}</body></html>",
        t = esc(title)
    )
}

/// What the login/consent page shows.
pub(super) struct LoginPage<'a> {
    pub provider: &'a str,
    pub action: &'a str,
    pub txn: &'a str,
    pub client_id: &'a str,
    pub scopes: &'a str,
    pub users: &'a [User],
    /// `Some`: the user is logged in at the IdP; only consent is asked.
    pub signed_in_as: Option<&'a User>,
    pub preselect: Option<&'a str>,
}

/// The login + consent page.
pub(super) fn login_page(p: &LoginPage<'_>) -> Response {
    let scopes = if p.scopes.is_empty() {
        "(no scopes)".to_owned()
    } else {
        esc(p.scopes)
    };
    let mut body = format!(
        "<h1>Sign in to {provider}</h1><div class=\"card\"><p><b>{client}</b> wants to access your account.</p>\
         <p class=\"muted\">Requested scopes: <code id=\"scopes\">{scopes}</code></p>\
         <form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"txn\" value=\"{txn}\">",
        provider = esc(p.provider),
        client = esc(p.client_id),
        action = esc(p.action),
        txn = esc(p.txn),
    );
    if let Some(user) = p.signed_in_as {
        body.push_str(&format!(
            "<p id=\"signed-in\">Signed in as <b>{}</b> ({})</p>\
             <input type=\"hidden\" name=\"user\" value=\"{}\">",
            esc(user.name.as_deref().unwrap_or(user.id.as_str())),
            esc(user.email.as_deref().unwrap_or("no email")),
            esc(user.id.as_str())
        ));
    } else {
        body.push_str("<fieldset><legend>Choose an account</legend>");
        for (i, u) in p.users.iter().enumerate() {
            let checked = match p.preselect {
                Some(id) => id == u.id.as_str(),
                None => i == 0,
            };
            body.push_str(&format!(
                "<label><input type=\"radio\" name=\"user\" id=\"user-{id}\" value=\"{id}\"{c}{d}> {name} \
                 <span class=\"muted\">{email}{dis}</span></label>",
                id = esc(u.id.as_str()),
                c = if checked { " checked" } else { "" },
                d = if u.disabled { " disabled" } else { "" },
                name = esc(u.name.as_deref().unwrap_or(u.id.as_str())),
                email = esc(u.email.as_deref().unwrap_or("no email")),
                dis = if u.disabled { " — disabled" } else { "" },
            ));
        }
        body.push_str(
            "<label>…or sign in as another user (login or email; created if new):\
             <input type=\"text\" name=\"login\" id=\"login\" autocomplete=\"username\"></label></fieldset>",
        );
    }
    body.push_str(
        "<p><button type=\"submit\" name=\"action\" value=\"allow\" id=\"allow\">Allow</button>\
         <button type=\"submit\" name=\"action\" value=\"deny\" id=\"deny\">Deny</button>",
    );
    if p.signed_in_as.is_some() {
        body.push_str("<button type=\"submit\" name=\"action\" value=\"switch\" id=\"switch\">Use another account</button>");
    }
    body.push_str(
        "</p></form></div><p class=\"muted\">gatecheck mock-idp — no real account is involved.</p>",
    );
    let mut resp = Html(page(&format!("Sign in – {}", p.provider), &body)).into_response();
    no_store(&mut resp);
    resp
}

/// An error shown at the IdP (when redirecting back would be unsafe), naming the problem
/// and the fix. The `x-mock-idp-error` header carries a machine-readable code.
pub(super) fn error_page(status: StatusCode, code: &str, message: &str, fix: &str) -> Response {
    let body = format!(
        "<h1>The identity provider cannot continue</h1><div class=\"card\">\
         <p id=\"error\"><b>{code}</b>: {message}</p><p id=\"fix\" class=\"muted\">{fix}</p></div>",
        code = esc(code),
        message = esc(message),
        fix = esc(fix)
    );
    let mut resp = (status, Html(page("Error – mock-idp", &body))).into_response();
    if let Ok(v) = HeaderValue::from_str(code) {
        resp.headers_mut().insert("x-mock-idp-error", v);
    }
    no_store(&mut resp);
    resp
}

/// "You are signed out", when no post-logout redirect was asked for.
pub(super) fn signed_out_page() -> Response {
    let mut resp = Html(page(
        "Signed out – mock-idp",
        "<h1 id=\"signed-out\">You are signed out of the identity provider</h1>",
    ))
    .into_response();
    no_store(&mut resp);
    resp
}

/// The `response_mode=form_post` answer: a form that posts the parameters to the client.
pub(super) fn form_post(action: &str, params: &[(String, String)]) -> Response {
    let inputs: String = params
        .iter()
        .map(|(k, v)| format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", esc(k), esc(v)))
        .collect();
    let body = format!(
        "<form method=\"post\" action=\"{}\" id=\"form_post\">{inputs}<noscript><button type=\"submit\">Continue</button></noscript></form>\
         <script>document.getElementById('form_post').submit()</script>",
        esc(action)
    );
    let mut resp = Html(page("Continue – mock-idp", &body)).into_response();
    no_store(&mut resp);
    resp
}

fn no_store(resp: &mut Response) {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;"
        );
    }
}
