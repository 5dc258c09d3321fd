@security @login
Feature: Security — starting a login and handling the callback
  The security checklist's sections A and B (SECURITY.md maps every item to its
  scenarios): the authorization request cannot be steered, and only the callback of the login
  this browser started, once, with every parameter as the identity provider sent it, creates
  a session. Scenario names start with the checklist item they prove.

  Background:
    Given the identity provider is Google
    And a user mallory with email "mallory@example.com"

  @sec-1
  Scenario: 1 — Login CSRF: another browser's callback is refused before any code is redeemed
    When an attacker tricks alice into opening the callback of the attacker's own login
    Then alice is not let in
    And alice has no session
    And the identity provider received no token requests

  @sec-64
  Scenario Outline: 64 — <provider>: a leaked code is not redeemed through a state that is not this browser's login in flight
    Given the identity provider is <provider>
    When alice's authorization code leaks before she uses it
    And mallory tries alice's leaked code with every state that is not a login of hers in flight
    Then none of those states led to a token request
    And mallory never reached the application as alice

    Examples:
      | provider |
      | LinkedIn |
      | Twitch   |
      | Google   |

  @sec-2
  Scenario: 2 — Every login uses PKCE S256, and the identity provider checks the verifier
    When alice logs in at "/"
    Then the login request used PKCE with S256
    And the identity provider found no mistakes in the gateway's requests

  @sec-3
  Scenario: 3 — Two logins in one browser each redeem their own verifier
    When alice starts logins at "/first" and "/second" and the first one completes
    Then alice lands on "/first"
    And the identity provider found no mistakes in the gateway's requests

  @sec-3
  Scenario: 3 — A code injected into someone's own pending login is refused by PKCE
    When an attacker's authorization code is injected into alice's own pending login
    Then alice is not let in
    And alice has no session
    And the application receives nothing

  @sec-5
  Scenario: 5 — A forged X-Forwarded-Host does not change where the code is sent
    When alice opens "/" with the header "X-Forwarded-Host" set to "evil.test"
    Then alice is sent to the identity provider
    And the login request carried the configured scope, client and callback, each once
    When alice completes the login
    Then the identity provider found no mistakes in the gateway's requests

  @sec-5 @sec-57
  Scenario: 5, 57 — A request for an unknown host is not routed anywhere
    When alice sends the raw request "GET /private" with the Host "evil.test"
    Then alice is refused or sent to log in, without a server error
    And the application receives nothing

  @sec-8
  Scenario: 8 — Parameters the user adds cannot widen or redirect the login
    When alice opens "/private?scope=admin&redirect_uri=https://evil.test/cb&client_id=other&prompt=evil&acr_values=evil"
    Then alice is sent to the identity provider
    And the login request carried the configured scope, client and callback, each once

  @sec-6
  Scenario: 6 — A callback carrying tokens instead of a code is refused
    When alice opens "/"
    And alice opens the callback with the parameters "state=x&access_token=forged&id_token=forged.jwt.value"
    Then alice is not let in
    And the identity provider received no token requests

  @sec-7
  Scenario: 7 — A callback naming another issuer is refused before any token request
    Given the identity provider will spoil the callback: invalid_iss
    When alice opens "/"
    And alice follows the redirects
    Then alice has no session
    And the identity provider received no token requests

  @sec-9 @fake-clock
  Scenario: 9 — A login left pending for 15 minutes cannot be completed
    When alice opens "/slow"
    And 15 minutes pass
    And alice completes the login
    Then alice is not let in
    And the application receives nothing

  @sec-11
  Scenario Outline: 11 — A callback with <what> is refused, before any token request when a state was sent
    When alice opens "/"
    And alice opens the callback with the parameters "<query>"
    Then alice is not let in
    And if the login request carried a state, the identity provider received no token requests

    Examples:
      | what                 | query                      |
      | no state             | code=abc                   |
      | an unknown state     | code=abc&state=not-a-state |
      | an empty state       | code=abc&state=            |

  @sec-11
  Scenario: 11 — A callback whose state was changed by one character is refused, when a state was sent
    Given the identity provider will spoil the callback: invalid_state
    When alice opens "/"
    And alice follows the redirects
    Then if the login request carried a state, alice is not let in
    And if the login request carried a state, the identity provider received no token requests

  @sec-12
  Scenario: 12 — A replayed callback in another browser is refused and redeems nothing
    When alice logs in at "/"
    And mallory opens alice's callback
    Then mallory is not let in
    And mallory has no session
    And the identity provider received 1 token request

  @sec-13
  Scenario Outline: 13 — A callback repeating <what> is refused, before any token request when a state was sent
    When alice opens "/"
    And alice opens the callback with the parameters "<query>"
    Then alice is not let in
    And if the login request carried a state, the identity provider received no token requests

    Examples:
      | what        | query                               |
      | the code    | code=a&code=b&state=s               |
      | the issuer  | code=a&state=s&iss=A&iss=B          |
      | the error   | error=x&error=y&state=s             |

  @sec-13
  Scenario: 13 — A callback repeating the state is refused, before any token request when a state was sent
    When alice opens "/"
    And alice opens the callback with the parameters "state=s&state=t&code=a"
    Then alice is not let in
    And if the login request carried a state, the identity provider received no token requests

  @sec-14
  Scenario: 14 — An identity provider error with markup ends the login on an escaped error page
    Given the identity provider will answer the next login with the error "access_denied" described as "<script>alert(1)</script>"
    When alice opens "/"
    And alice follows the redirects
    Then alice is not let in
    And no page alice saw contains "<script>alert(1)</script>"
    And the identity provider received no token requests

  @sec-14
  Scenario: 14 — An error callback with a bad state is refused without a session
    When alice opens "/"
    And alice opens the callback with the parameters "error=access_denied&error_description=%3Cscript%3E&state=forged"
    Then alice is not let in
    And alice has no session
    And no page alice saw contains "<script>"

  @sec-15
  Scenario Outline: 15 — A token endpoint that <how> means no session, and one attempt only
    Given <setup>
    When alice opens "/"
    And alice follows the redirects
    Then alice is not let in
    And alice has no session
    And the identity provider received at most 1 token request

    Examples:
      | how                          | setup                                                                 |
      | refuses the code             | the identity provider will refuse the code as invalid_grant          |
      | fails with a server error    | the identity provider's token endpoint will fail with a server error |
      | answers garbage              | the identity provider's token endpoint will answer with a malformed body |
      | omits the access token       | the identity provider will change the token response: omit_access_token |
      | omits the ID token           | the identity provider will change the token response: omit_id_token |
      | sends token_type mac         | the identity provider will change the token response: unsupported_token_type |
      | sends a non-string token     | the identity provider's token endpoint will answer with an access token that is not a string |

  @sec-15 @idp-outage
  Scenario: 15 — A token endpoint that never answers times out into an error page
    Given the identity provider's token endpoint will hang
    When alice opens "/"
    And alice follows the redirects
    Then alice is not let in
    And alice has no session

  @sec-16
  Scenario: 16 — A flood of forged callbacks never reaches the token endpoint
    When mallory sends 1000 callbacks with random codes and no states
    And mallory sends 200 callbacks with random codes and made-up states
    Then every one of them was refused
    And the identity provider received no token requests

  @sec-16
  Scenario: 16 — The back button to a used callback redeems nothing
    When alice logs in at "/reports"
    And alice opens the callback of that login a second time
    Then the identity provider received 1 token request

  @sec-17
  Scenario: 17 — The landing page comes from the login, not from the callback's parameters
    When alice opens "/reports?year=2026"
    And alice's callback arrives with the extra parameters "rd=https://evil.test/&redirect=//evil.test&return_to=https://evil.test"
    Then alice never left the gateway's origin
