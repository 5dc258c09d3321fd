//! The App Users API: users with last access and sessions, revoking a user, monthly active
//! users.

use cucumber::{then, when};
use reqwest::Method;
use serde_json::Value;

use crate::world::GateWorld;

async fn users(w: &mut GateWorld) -> Vec<Value> {
    let (status, body) = w
        .env()
        .await
        .gateway
        .admin(Method::GET, "/app_users")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status, 200, "{body}");
    body.as_array().cloned().unwrap_or_default()
}

async fn key_of(w: &mut GateWorld, name: &str) -> String {
    let id = w.user_id(name);
    users(w)
        .await
        .iter()
        .find(|u| u["user_id"] == id.as_str())
        .and_then(|u| u["key"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("{name} is not in the App Users list"))
}

#[then(regex = r"^the App Users list shows (\w+) with (\d+) active sessions?$")]
async fn lists(w: &mut GateWorld, name: String, n: usize) {
    let id = w.user_id(&name);
    let list = users(w).await;
    let u = list
        .iter()
        .find(|u| u["user_id"] == id.as_str())
        .unwrap_or_else(|| panic!("{name} ({id}) is not listed: {list:#?}"));
    assert_eq!(u["sessions"].as_array().map(Vec::len), Some(n), "{u:#}");
    assert!(u["last_access"].as_u64().is_some(), "a last access time: {u:#}");
}

#[then(regex = r"^the App Users list does not show (\w+)$")]
async fn not_listed(w: &mut GateWorld, name: String) {
    let id = w.user_id(&name);
    let list = users(w).await;
    assert!(list.iter().all(|u| u["user_id"] != id.as_str()), "{list:#?}");
}

#[when(regex = r"^an admin revokes (\w+)'s sessions$")]
async fn revoke(w: &mut GateWorld, name: String) {
    let key = key_of(w, &name).await;
    let (status, body) = w
        .env()
        .await
        .gateway
        .admin(Method::DELETE, &format!("/app_users/{key}/sessions"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status, 200, "{body}");
}

#[then(regex = r"^the monthly active users count is (\d+)$")]
async fn mau(w: &mut GateWorld, n: u64) {
    let (status, body) = w
        .env()
        .await
        .gateway
        .admin(Method::GET, "/mau")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (status, body["monthly_active_users"].as_u64()),
        (200, Some(n)),
        "{body}"
    );
}

#[then(regex = r"^the App Users API refuses a request without its token$")]
async fn needs_token(w: &mut GateWorld) {
    w.env().await;
    let env = w.started();
    let base = match &env.gateway {
        crate::launch::Launched::InProcess(g) => {
            format!("http://{}", g.gws[0].admin_addr().expect("admin"))
        }
        crate::launch::Launched::Process(_) => return,
    };
    let resp = crate::ports::loopback_client()
        .get(format!("{base}/app_users"))
        .send()
        .await
        .expect("the admin API answers");
    assert_eq!(resp.status(), 401);
}
