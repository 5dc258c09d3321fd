@security @login
Feature: Security — redirects, headers and the pages the gateway shows
  The security checklist's sections F, G and K: no destination a user can write sends the
  browser off the gateway's origin (a corpus of over 300 open-redirect tricks, in
  fixtures/security/open-redirects.txt), identity comes only from the gateway's own headers,
  and the gateway's pages leak nothing.

  @sec-45
  Scenario: 45 — No open-redirect trick used as the page asked for leaves the origin after login
    When alice opens every path of the open-redirect corpus and logs in each time
    Then no payload sent the browser off the gateway's origin

  @sec-45 @special-paths
  Scenario: 45 — No open-redirect trick given to the special paths or the callback leaves the origin
    When alice sends every payload of the open-redirect corpus as "rd" to "/auth/authn"
    And alice sends every payload of the open-redirect corpus as "return_to" to "/auth/logout"
    And alice sends every payload of the open-redirect corpus as "redirect" to "/oauth2/callback?code=x&state=y"
    Then no payload sent the browser off the gateway's origin

  @sec-46
  Scenario: 46 — No redirect or page of the gateway carries a token or the session
    When alice logs in at "/reports?next=https://evil.test"
    Then no redirect the gateway made and no page it showed carries a token

  @sec-46 @central-callback
  Scenario: 46 — A forged hand-off ticket is refused
    Given the gateway uses one central callback origin
    When alice opens "/auth/handoff?ticket=forged-ticket-value"
    Then alice sees an error page with status 400
    And alice has no session

  @sec-47 @header-stripping @other-identity-headers
  Scenario: 47 — Forged identity headers, repeated and in every spelling, never reach the application
    Given alice is logged in
    When alice sends the raw request "GET /me" with the headers:
      | header                   | value                |
      | ngrok-auth-user-email    | admin@evil.test      |
      | ngrok-auth-user-email    | admin@evil.test      |
      | NGROK_AUTH_USER_EMAIL    | admin@evil.test      |
      | Ngrok-Auth_User-Id       | admin@evil.test      |
      | X-Forwarded-Email        | admin@evil.test      |
      | X_Forwarded_Email        | admin@evil.test      |
      | X-Auth-Request-Email     | admin@evil.test      |
      | Remote-User              | admin@evil.test      |
      | X-Remote-User            | admin@evil.test      |
      | OIDC_CLAIM_email         | admin@evil.test      |
    Then no header the application sees contains "admin@evil.test"
    And the application sees alice's email

  @sec-47 @header-stripping
  Scenario: 47 — An identity header folded over two lines is refused or removed
    Given alice is logged in
    When alice forges the user email header folded over two lines as "admin@evil.test"
    Then no header the application sees contains "admin@evil.test"

  @sec-47 @header-stripping @options-passthrough
  Scenario: 47, 58 — Identity headers forged on a preflight are removed
    Given options passthrough is on
    When alice's web page sends a CORS preflight for "/api" with the header "ngrok-auth-user-email" set to "admin@evil.test"
    Then no header the application sees contains "admin@evil.test"

  @sec-48 @forwarded-headers
  Scenario: 48 — Forwarding and path-override headers cannot change what is authorized
    When alice sends the raw request "GET /private" with the headers:
      | header          | value                |
      | X-Original-URL  | /auth/logout         |
      | X-Rewrite-URL   | /public              |
      | X-Forwarded-Uri | /public              |
      | X-Forwarded-For | 10.0.0.1             |
      | X-Forwarded-Proto | https              |
      | X-Forwarded-Host  | evil.test          |
    Then alice is sent to the identity provider
    And the login request carried the configured scope, client and callback, each once
    And the application receives nothing

  @sec-48 @forwarded-headers
  Scenario: 48 — The application sees the gateway's forwarding headers, never the client's
    Given alice is logged in
    When alice opens "/fwd" with the headers:
      | header            | value     |
      | X-Forwarded-For   | 10.6.6.6  |
      | X-Original-URL    | /admin    |
    Then the application receives "/fwd"
    And the last X-Forwarded-For address the application sees is the client's
    And the application sees no header "x-original-url"

  @sec-49 @header-stripping
  Scenario: 49 — A Connection header cannot remove the gateway's identity headers
    Given alice is logged in
    When alice sends the raw request "GET /conn" with the headers:
      | header     | value                                      |
      | Connection | close, ngrok-auth-user-email, Authorization |
    Then the application sees alice's email

  @sec-50
  Scenario Outline: 50 — A request whose user agent is <which> is not let through
    When alice's request carries the user agent <which>
    Then alice is sent to the identity provider
    And the application receives nothing

    Examples:
      | which                        |
      | empty                        |
      | of a health checker          |
      | of Google's health checker   |

  @sec-51
  Scenario: 51 — The callback's answer keeps the code from caches, referrers and frames
    When alice logs in at "/"
    Then the callback's answer keeps the code from caches, referrers and frames

  @sec-51 @error-page
  Scenario: 51 — Gateway error pages cannot be framed or cached
    Given the identity provider will deny the next login
    When alice opens "/"
    And alice follows the redirects
    Then the page cannot be framed and is not cached

  @sec-52 @events
  Scenario: 52 — Codes, verifiers, the client secret and the session never leave the gateway
    Given the identity provider is Google
    When alice logs in at "/"
    And alice opens "/next"
    Then nothing the application received or the gateway reported contains the code, the verifier, the client secret or the session
    And no event contains a token or a cookie

  @sec-58
  Scenario: 58 — The gateway's own pages grant no cross-origin reads
    Given alice is logged in
    When alice opens "/auth/authn" with the header "Origin" set to "https://evil.test"
    Then the answer grants no cross-origin read

  @sec-58 @options-passthrough
  Scenario: 58 — An OPTIONS request that is not a preflight still needs a session
    Given options passthrough is on
    When alice sends OPTIONS "/api"
    Then alice is refused with status 401
    And the application receives nothing

  @sec-62 @error-page @email-rules
  Scenario: 62 — Claims shown on an error page are escaped, and the client secret is never shown
    Given the identity provider is Google
    And the gateway allows the email "someone@example.com"
    And a user mallory with the username "</pre><script>alert(1)</script>" and email "mallory@evil.test"
    When mallory opens "/"
    And mallory completes the login
    Then mallory is not let in
    And no page mallory saw contains "<script>alert(1)</script>"
    And no page mallory saw contains "mock-secret"
