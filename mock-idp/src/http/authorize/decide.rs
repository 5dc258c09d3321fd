//! The decision on a valid authorization request: who logs in, and whether the IdP approves,
//! refuses, stops, or asks the person at the browser.
//!
//! In order: the scripted outcome; `prompt=none` (an IdP session that is fresh enough, and in
//! login-page mode a consent given before, or an error); headless mode (the scripted user,
//! the `login_hint` user, the IdP session's user, the first enabled user); login-page mode
//! (skip the page when the IdP session is fresh and consent was given before, else ask). The
//! login page's form is decided here too. The answer is a [`Decision`] — data, so that
//! `respond.rs` alone turns it into a session, a grant, a code and a redirect. The only write
//! here is the account a person types on the login page, created as they name it.

use crate::authorization::{AuthorizationRequest, PendingAuthorization};
use crate::http::params::Params;
use crate::outcome::{AuthorizeResponseChange, Outcome};
use crate::personality::AuthorizeFailure;
use crate::settings::Interaction;
use crate::shared::Shared;
use crate::store::IdpSession;
use crate::types::{ScopeSet, UserId};
use crate::users::User;

/// What the authorization endpoint does with a valid request.
pub(super) enum Decision {
    /// Log the user in and send a code back.
    Approve(Approval),
    /// Send the client an error redirect (RFC 6749 §4.1.2.1).
    Refuse(AuthorizeFailure),
    /// Stop at the IdP with an error page: there is nobody to log in.
    Stop(Stop),
    /// Show the login/consent page; the request waits until its form comes back.
    Ask(Box<PendingAuthorization>),
}

/// An approval: who, and how the grant and the redirect come out.
pub(super) struct Approval {
    /// The user who approves.
    pub user: UserId,
    /// Log in afresh even when the IdP session is this user's (`prompt=login`, `max_age`
    /// passed, another account chosen, a scripted approval): a new session and `auth_time`.
    pub reauthenticate: bool,
    /// Whether the person saw the consent screen (the grant remembers it; Google issues
    /// refresh tokens then). A first consent to these scopes counts as shown anyway.
    pub consent_shown: bool,
    /// Scripted: grant only these of the requested scopes.
    pub narrow: Option<ScopeSet>,
    /// Scripted: spoil the redirect back.
    pub change: Option<AuthorizeResponseChange>,
}

/// An error page at the IdP (400), naming the problem and the fix.
pub(super) struct Stop {
    /// Machine-readable code (`x-mock-idp-error`).
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub fix: &'static str,
}

/// Decides a request that passed validation, given the IdP session behind its cookie and
/// the outcome the script had for it.
pub(super) fn decide(
    shared: &Shared,
    req: &AuthorizationRequest,
    session: Option<&IdpSession>,
    scripted: Option<Outcome>,
) -> Decision {
    let mut narrow = None;
    let mut change = None;
    match scripted {
        Some(Outcome::Deny) => return Decision::Refuse(AuthorizeFailure::Denied),
        Some(Outcome::AuthorizeError { error, description }) => {
            return Decision::Refuse(AuthorizeFailure::Scripted { error, description });
        }
        Some(Outcome::Approve { user }) => return scripted_approval(shared, user),
        Some(Outcome::NarrowScope { granted }) => narrow = Some(granted),
        Some(Outcome::AuthorizeResponse { change: c }) => change = Some(c),
        _ => {}
    }
    let approve = |user: UserId, reauthenticate: bool, consent_shown: bool| {
        Decision::Approve(Approval {
            user,
            reauthenticate,
            consent_shown,
            narrow: narrow.clone(),
            change,
        })
    };
    let max_age_exceeded = |s: &IdpSession| {
        req.max_age
            .is_some_and(|max| shared.clock.unix().saturating_sub(s.auth_time) > max)
    };
    let fresh_session = session.filter(|s| !max_age_exceeded(s));
    let wants = |p: &str| req.prompt.iter().any(|v| v == p);
    let consented = |s: &IdpSession| {
        shared
            .store
            .lock()
            .unwrap()
            .has_consent(&s.user, &req.client_id, &req.scopes)
    };
    let interaction = shared.settings().interaction;

    if wants("none") {
        let Some(s) = fresh_session else {
            return Decision::Refuse(AuthorizeFailure::LoginRequired);
        };
        if interaction == Interaction::LoginPage && !consented(s) {
            return Decision::Refuse(AuthorizeFailure::ConsentRequired);
        }
        return approve(s.user.clone(), false, false);
    }

    let must_login = wants("login") || wants("select_account") || fresh_session.is_none();
    match interaction {
        Interaction::Headless => match headless_user(shared, req, session) {
            Ok(user) => {
                let switched = fresh_session.is_some_and(|s| s.user != user);
                approve(user, must_login || switched, wants("consent"))
            }
            Err(why) => Decision::Stop(Stop {
                code: "unknown_user",
                message: why,
                fix: "add the user (MockIdp::add_user or POST /__admin/users) or send a login_hint that names one",
            }),
        },
        Interaction::LoginPage => {
            if let Some(s) = fresh_session.filter(|s| !must_login && !wants("consent") && consented(s)) {
                return approve(s.user.clone(), false, false);
            }
            let consent_only_for = (!must_login)
                .then(|| fresh_session.map(|s| s.user.clone()))
                .flatten();
            Decision::Ask(Box::new(PendingAuthorization {
                request: req.clone(),
                created: shared.clock.now(),
                narrow,
                change,
                consent_only_for,
            }))
        }
    }
}

/// `Outcome::Approve`: this user, as if they had logged in and consented just now.
fn scripted_approval(shared: &Shared, user: UserId) -> Decision {
    let approval = Approval {
        user,
        reauthenticate: true,
        consent_shown: true,
        narrow: None,
        change: None,
    };
    approve_if_active(shared, approval, |user| Stop {
        code: "unknown_user",
        message: format!("the scripted approval names user {user}, who does not exist or is disabled"),
        fix: "add the user before scripting Outcome::Approve",
    })
}

/// The approval, if its user exists and is enabled; else the stop `why_not` words.
fn approve_if_active(shared: &Shared, approval: Approval, why_not: impl FnOnce(&UserId) -> Stop) -> Decision {
    if shared.store.lock().unwrap().active_user(&approval.user).is_none() {
        return Decision::Stop(why_not(&approval.user));
    }
    Decision::Approve(approval)
}

/// Headless mode's user: the `login_hint` user, else the IdP session's, else the first
/// enabled one.
fn headless_user(
    shared: &Shared,
    req: &AuthorizationRequest,
    session: Option<&IdpSession>,
) -> Result<UserId, String> {
    let store = shared.store.lock().unwrap();
    if let Some(hint) = &req.login_hint {
        match store.find_user(hint) {
            Some(u) => Ok(u.id.clone()),
            None => Err(format!("login_hint {hint:?} matches no user of this IdP")),
        }
    } else if let Some(s) = session {
        Ok(s.user.clone())
    } else {
        store
            .users
            .values()
            .find(|u| !u.disabled)
            .map(|u| u.id.clone())
            .ok_or_else(|| "the IdP has no enabled user to log in headlessly".to_owned())
    }
}

/// The login page's form came back for `pending`: Allow (as the chosen, typed or signed-in
/// account), Deny, or switch account (the page again, with the account choice).
pub(super) fn on_page(shared: &Shared, form: &Params, mut pending: PendingAuthorization) -> Decision {
    match form.get("action") {
        Some("deny") => Decision::Refuse(AuthorizeFailure::Denied),
        Some("switch") => {
            pending.consent_only_for = None;
            Decision::Ask(Box::new(pending))
        }
        Some("allow") => {
            let user = match chosen_account(shared, form, &pending) {
                Ok(user) => user,
                Err(stop) => return Decision::Stop(stop),
            };
            let approval = Approval {
                reauthenticate: pending.consent_only_for.as_ref() != Some(&user),
                user,
                consent_shown: true,
                narrow: pending.narrow,
                change: pending.change,
            };
            approve_if_active(shared, approval, |user| Stop {
                code: "unknown_user",
                message: format!("user {user} does not exist or is disabled"),
                fix: "choose another account",
            })
        }
        _ => Decision::Stop(Stop {
            code: "invalid_request",
            message: "unknown action".into(),
            fix: "press Allow or Deny",
        }),
    }
}

/// The account the form names: a typed login or email (created if new), a chosen radio,
/// or the signed-in user who was only asked for consent.
fn chosen_account(shared: &Shared, form: &Params, pending: &PendingAuthorization) -> Result<UserId, Stop> {
    let mut store = shared.store.lock().unwrap();
    if let Some(login) = form.get("login").map(str::trim).filter(|l| !l.is_empty()) {
        Ok(match store.find_user(login) {
            Some(u) => u.id.clone(),
            None => {
                let user = User::new(login);
                let id = user.id.clone();
                store.add_user(user);
                id
            }
        })
    } else if let Some(id) = form.get("user") {
        Ok(UserId::new(id))
    } else if let Some(id) = &pending.consent_only_for {
        Ok(id.clone())
    } else {
        Err(Stop {
            code: "invalid_request",
            message: "no account was chosen".into(),
            fix: "pick an account or type a login",
        })
    }
}
