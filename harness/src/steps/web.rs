//! `@browser` steps: a real Chromium through the redirect flows — the identity provider's
//! login page, Allow and Deny, the gateway's error page and its retry link, tabs, the back
//! button, cookies as the browser sees them.

use cucumber::{given, then, when};
use mock_idp::Endpoint;

use crate::world::GateWorld;

async fn app_url(w: &mut GateWorld, path: &str) -> String {
    w.env().await;
    w.url(path)
}

#[given(regex = r#"^(\w+) opens "([^"]*)" in the browser$"#)]
#[when(regex = r#"^(\w+) opens "([^"]*)" in the browser$"#)]
async fn opens(w: &mut GateWorld, _name: String, path: String) {
    let url = app_url(w, &path).await;
    w.browser().await.goto(&url).await;
}

#[then(regex = r"^the browser shows the identity provider's login page$")]
async fn idp_page(w: &mut GateWorld) {
    let base = {
        w.env().await;
        w.started().idp.base_url().to_owned()
    };
    let b = w.browser().await;
    b.wait_for_url("the identity provider", |u| u.as_str().starts_with(&base))
        .await;
    b.element("#allow").await;
}

#[when(regex = r"^(\w+) signs in at the identity provider as (\w+)$")]
async fn signs_in(w: &mut GateWorld, _name: String, user: String) {
    idp_page(w).await;
    let b = w.browser().await;
    if b.has("#login").await {
        let field = b.element("#login").await;
        field.send_keys(&user).await.expect("typing the user");
    }
    b.element("#allow").await.click().await.expect("pressing Allow");
    left_idp(w).await;
}

/// Waits until the browser has left the identity provider (the click's navigation is done),
/// so a following step never acts in the middle of the redirect chain.
async fn left_idp(w: &mut GateWorld) {
    let base = w.started().idp.base_url().to_owned();
    w.browser()
        .await
        .wait_for_url("a page after the identity provider", |u| {
            !u.as_str().starts_with(&base)
        })
        .await;
}

#[when(regex = r"^(\w+) presses (Allow|Deny) at the identity provider$")]
async fn presses(w: &mut GateWorld, _name: String, button: String) {
    idp_page(w).await;
    let b = w.browser().await;
    let id = if button == "Allow" { "#allow" } else { "#deny" };
    b.element(id).await.click().await.expect("pressing the button");
    left_idp(w).await;
}

#[then(regex = r#"^the browser shows the application's page for "([^"]*)"$"#)]
async fn app_page(w: &mut GateWorld, path: String) {
    let origin = app_url(w, "").await;
    let expected = format!("{origin}{path}");
    let (bare_path, _) = path.split_once('?').unwrap_or((path.as_str(), ""));
    let b = w.browser().await;
    let at = b
        .wait_for_url(&expected, |u| {
            let mut u = u.clone();
            u.set_fragment(None);
            u.as_str() == expected
        })
        .await;
    let html = b.html().await;
    assert!(
        html.contains(&format!("\"path\":\"{bare_path}\"")),
        "the application's page for {bare_path} at {at}:\n{html}"
    );
}

#[then(regex = r"^the browser shows the gateway's error page$")]
async fn error_page(w: &mut GateWorld) {
    let b = w.browser().await;
    b.element("#retry").await;
    let u = b.url().await;
    assert_eq!(u.host_str(), Some("app.localhost"), "the gateway's page: {u}");
}

#[then(regex = r"^the browser is not on an error page$")]
async fn not_error(w: &mut GateWorld) {
    let b = w.browser().await;
    // Let any redirect chain settle.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let html = b.html().await;
    let u = b.url().await;
    assert!(
        !b.has("#retry").await && !html.contains("Login failed"),
        "an error page at {u}:\n{html}"
    );
    assert!(
        html.contains("\"path\":"),
        "the application's page at {u}:\n{html}"
    );
}

#[when(regex = r"^(\w+) clicks the link to log in again$")]
async fn retry(w: &mut GateWorld, _name: String) {
    let b = w.browser().await;
    b.element("#retry")
        .await
        .click()
        .await
        .expect("clicking the retry link");
}

#[when(regex = r#"^(\w+) goes to "([^"]*)" in the browser$"#)]
async fn goes_to(w: &mut GateWorld, name: String, path: String) {
    opens(w, name, path).await;
}

#[when(regex = r"^(\w+) presses the back button$")]
async fn back(w: &mut GateWorld, _name: String) {
    let b = w.browser().await;
    b.client.back().await.expect("going back");
}

#[when(regex = r"^(\w+) reloads the page$")]
async fn reload(w: &mut GateWorld, _name: String) {
    let b = w.browser().await;
    b.client.refresh().await.expect("reloading");
}

#[then(regex = r"^the browser holds the gateway's session cookie as HttpOnly, Secure and SameSite=Lax$")]
async fn cookie_attrs(w: &mut GateWorld) {
    let name = w.profile.session_cookie.clone();
    let b = w.browser().await;
    let cookies = b.client.get_all_cookies().await.expect("the browser's cookies");
    let c = cookies.iter().find(|c| c.name() == name).unwrap_or_else(|| {
        panic!(
            "no {name} cookie in {:?}",
            cookies.iter().map(|c| c.name()).collect::<Vec<_>>()
        )
    });
    assert_eq!(c.http_only(), Some(true), "HttpOnly");
    assert_eq!(c.secure(), Some(true), "Secure");
    assert_eq!(c.same_site(), Some(cookie::SameSite::Lax), "SameSite=Lax");
    assert!(
        c.domain()
            .is_none_or(|d| d.trim_start_matches('.') == "app.localhost"),
        "host-only: {:?}",
        c.domain()
    );
    // The page's scripts cannot read it.
    let visible = b
        .client
        .execute("return document.cookie", vec![])
        .await
        .expect("running a script");
    assert!(
        !visible.as_str().unwrap_or_default().contains(&format!("{name}=")),
        "document.cookie: {visible}"
    );
}

#[then(regex = r"^the application never sees the identity provider's cookies$")]
async fn no_idp_cookies(w: &mut GateWorld) {
    let env = w.started();
    let idp_cookie = env.idp.session_cookie_name();
    for s in env.upstream.seen() {
        let cookie = s.header("cookie").unwrap_or_default();
        assert!(
            !cookie.contains(&idp_cookie),
            "{idp_cookie} reached the application: {cookie}"
        );
    }
}

#[when(regex = r#"^(\w+) opens "([^"]*)" in a new tab called "(\w+)"$"#)]
async fn new_tab(w: &mut GateWorld, name: String, path: String, tab: String) {
    let url = app_url(w, &path).await;
    let first = {
        let b = w.browser().await;
        b.client.window().await.ok()
    };
    if w.tabs.is_empty()
        && let Some(h) = first
    {
        // The first tab is the window the session opened with.
        let _ = name;
        w.tabs.insert(tab.clone(), h);
        w.browser().await.goto(&url).await;
        return;
    }
    let b = w.browser().await;
    let win = b.client.new_window(true).await.expect("a new tab");
    b.client
        .switch_to_window(win.handle.clone())
        .await
        .expect("switching tabs");
    b.goto(&url).await;
    w.tabs.insert(tab, win.handle);
}

#[when(regex = r#"^(\w+) switches to the tab "(\w+)"$"#)]
async fn switch_tab(w: &mut GateWorld, _name: String, tab: String) {
    let h = w
        .tabs
        .get(&tab)
        .cloned()
        .unwrap_or_else(|| panic!("no tab {tab}"));
    w.browser()
        .await
        .client
        .switch_to_window(h)
        .await
        .expect("switching tabs");
}

#[then(regex = r"^the identity provider showed its login page (\d+) times?$")]
async fn login_pages(w: &mut GateWorld, n: usize) {
    let shown = w
        .started()
        .idp
        .requests_to(Endpoint::Authorize)
        .iter()
        .filter(|r| r.status == 200)
        .count();
    assert_eq!(shown, n, "login pages shown by the identity provider");
}

#[when(regex = r"^(\w+) opens the identity provider's inspector$")]
async fn opens_inspector(w: &mut GateWorld, _name: String) {
    let url = {
        w.env().await;
        w.started().idp.url("/__inspector")
    };
    let b = w.browser().await;
    b.goto(&url).await;
    b.element("h1").await;
}

#[when(regex = r"^(\w+) expands the (token|authorization) request$")]
async fn expands(w: &mut GateWorld, _name: String, which: String) {
    let endpoint = if which == "token" { "token" } else { "authorize" };
    let b = w.browser().await;
    // The newest request of that endpoint is the first in the list.
    let css = format!(r#"details[data-endpoint="{endpoint}"] > summary"#);
    b.element(&css)
        .await
        .click()
        .await
        .expect("expanding the request");
    b.element(&format!(r#"details[data-endpoint="{endpoint}"][open]"#))
        .await;
}

#[then(regex = r"^the inspector shows the decoded ID token with (\w+)'s email$")]
async fn inspector_id_token(w: &mut GateWorld, name: String) {
    let email = w.users[&name].email.clone().expect("the user has an email");
    let b = w.browser().await;
    let token = b
        .element(r#"details[data-endpoint="token"][open] div.token[data-token="id_token"]"#)
        .await;
    let text = token.text().await.expect("the token's text");
    assert!(
        text.contains("\"iss\""),
        "the decoded claims are visible:\n{text}"
    );
    assert!(text.contains(&email), "the ID token names {email}:\n{text}");
    assert!(text.contains("signed RS256"), "the signing key is named:\n{text}");
}

#[then(regex = r#"^the inspector shows a finding saying "([^"]*)" with its fix$"#)]
async fn inspector_finding(w: &mut GateWorld, words: String) {
    let b = w.browser().await;
    let mut seen = Vec::new();
    for endpoint in ["token", "authorize"] {
        let css = format!(r#"details[data-endpoint="{endpoint}"] > summary"#);
        if !b
            .has(&format!(r#"details[data-endpoint="{endpoint}"][open]"#))
            .await
        {
            b.element(&css)
                .await
                .click()
                .await
                .expect("expanding the request");
        }
        let findings = b
            .client
            .find_all(fantoccini::Locator::Css(&format!(
                r#"details[data-endpoint="{endpoint}"][open] .finding, details[data-endpoint="{endpoint}"][open] .info"#
            )))
            .await
            .unwrap_or_default();
        for f in findings {
            let text = f.text().await.unwrap_or_default();
            if text.contains(&words) && text.contains("Fix:") {
                return;
            }
            seen.push(text);
        }
    }
    panic!("no finding saying {words:?} with a fix; the inspector shows: {seen:#?}");
}

#[then(regex = r#"^a screenshot of the page is kept in the report as "([^"]*)"$"#)]
async fn keep_screenshot(w: &mut GateWorld, name: String) {
    // A run without a report folder (a library call) keeps it in the scenario's scratch folder.
    let dir = match w.ctx.report_dir.clone() {
        Some(d) => d.join("screenshots"),
        None => w.work_dir.path().join("screenshots"),
    };
    let png = w.browser().await.client.screenshot().await.expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    std::fs::create_dir_all(&dir).expect("the screenshots folder");
    let path = dir.join(format!("{}.png", crate::report::slug(&name)));
    std::fs::write(&path, png).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}
