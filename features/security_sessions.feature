@security @login
Feature: Security — sessions and cookies
  The security checklist's section E: the session cookie is an opaque handle to a
  server-side session that only a login creates; anything else presented as one is no
  session at all, and every way out (idle, age, logout, revocation) ends it on the server.

  @sec-37 @cookies
  Scenario: 37 — The session cookie is HttpOnly, Secure, SameSite=Lax, host-only and opaque
    When alice logs in at "/"
    Then the session cookie is HttpOnly, Secure and SameSite=Lax and its value is opaque

  @sec-38 @cookies
  Scenario Outline: 38 — A session cookie with <how> is no session
    Given alice is logged in
    When alice's session cookie is tampered with: <how>
    And alice opens "/after"
    Then alice is sent to the identity provider
    And the application never receives "/after"

    Examples:
      | how                       |
      | one character changed     |
      | cut short                 |
      | doubled                   |
      | padded with base64 junk   |
      | made empty                |

  @sec-39 @cookies
  Scenario: 39 — A session id planted before login is never the one the login creates
    When alice forges a session cookie "planted-by-an-attacker-0123456789abcdef"
    And alice logs in at "/"
    Then alice's session cookie is a new one
    And the planted cookie does not give access to alice's session

  @sec-39 @cookies @force-reauth
  Scenario: 39 — Logging in over someone else's live session mints a new session
    Given a user bob with email "bob@example.com"
    And bob is logged in
    When alice plants bob's session cookie in her browser
    And alice asks to log in again
    And alice completes the login
    Then alice's session cookie is a new one
    And the planted cookie does not give access to alice's session

  @sec-40 @fake-clock @inactivity-timeout
  Scenario: 40 — An idle session ends on the server
    Given the inactivity timeout is 30 minutes
    And alice is logged in
    When 31 minutes pass
    Then alice must log in again

  @sec-40 @fake-clock @max-duration @auth-check-interval
  Scenario: 40 — Refreshing never extends a session past its maximum duration
    Given the identity provider is Google
    And the maximum session duration is 1 hour
    And the auth check interval is 5 minutes
    And alice is logged in
    When 50 minutes pass
    And alice opens "/still-here"
    Then alice gets the application's page
    When 11 minutes pass
    Then alice must log in again

  @sec-41 @logout
  Scenario: 41 — After logout a copied session cookie is worthless
    Given alice is logged in
    When alice keeps a copy of the session cookie
    And alice logs out
    And someone replays alice's old session cookie
    Then someone is sent to the identity provider
    And the application never receives "/replayed"

  @sec-41 @app-users
  Scenario: 41 — Revoking a user ends their sessions in every browser, and only theirs
    Given a user bob with email "bob@example.com"
    And alice is logged in
    And bob is logged in
    When an admin revokes alice's sessions
    Then alice must log in again
    And bob is still logged in

  @sec-43 @auth-check-interval @fake-clock
  Scenario Outline: 43 — A refresh token reported <how> ends the session at the next check
    Given the identity provider is Google
    And the auth check interval is 5 minutes
    And alice is logged in
    When the identity provider reports the refresh token as <how>
    And 6 minutes pass
    And alice opens "/after"
    Then alice is sent to the identity provider
    And the application never receives "/after"

    Examples:
      | how     |
      | revoked |
      | expired |

  @sec-43 @sec-26 @auth-check-interval @fake-clock
  Scenario: 43 — A refreshed ID token for another subject ends the session
    Given the identity provider is Google
    And the auth check interval is 5 minutes
    And alice is logged in
    And the identity provider will answer the next refresh with an ID token with the fault invalid_sub
    When 6 minutes pass
    And alice opens "/after"
    Then the application never receives "/after"

  @sec-44
  Scenario: 44 — The gateway's cookies never reach the application
    Given alice is logged in
    When alice opens "/page" with the header "Cookie" set to "app=1"
    Then nothing the application received or the gateway reported contains the code, the verifier, the client secret or the session
