@login
Feature: Cookies and the callback
  The session cookie is an opaque random id, never trusted without the server-side record.
  The callback only completes the login that this browser started, once.

  @cookies
  Scenario: The session cookie is HttpOnly, Secure, SameSite and opaque
    When alice logs in at "/"
    Then the session cookie is HttpOnly, Secure and SameSite=Lax and its value is opaque

  @cookies
  Scenario Outline: A forged session cookie "<value>" is not a session
    When alice forges a session cookie "<value>"
    And alice opens "/secret"
    Then alice is sent to the identity provider
    And the application receives nothing

    Examples:
      | value                                        |
      | alice                                        |
      | admin                                        |
      | AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA  |
      | ../../etc/passwd                             |

  Scenario: Login CSRF: a callback from someone else's login is refused before any code is redeemed
    When an attacker tricks alice into opening the callback of the attacker's own login
    Then alice is not let in
    And alice has no session
    And the identity provider received no token requests

  Scenario: Replaying a callback in the browser that logged in returns to the site, redeeming nothing
    When alice logs in at "/reports"
    And alice opens the callback of that login a second time
    And alice follows the redirects
    Then alice gets the application's page
    And the identity provider received 1 token request

  Scenario: Replaying someone's callback in another browser is an error, redeeming nothing
    When alice logs in at "/"
    And mallory opens alice's callback
    Then mallory is not let in
    And mallory has no session
    And the identity provider received 1 token request

  Scenario Outline: A callback with <what> is refused
    When alice opens "/"
    And alice opens the callback with the parameters "<query>"
    Then alice is not let in
    And if the login request carried a state, the identity provider received no token requests

    Examples:
      | what                    | query                         |
      | an unknown state        | code=abc&state=not-a-state    |
      | no state                | code=abc                      |
      | a repeated state        | code=abc&state=a&state=b      |
      | nothing at all          | x=1                           |

  Scenario: Two tabs logging in at the same time both succeed
    When alice opens "/tab-one"
    And bob opens "/tab-two"
    And alice completes the login
    Then alice lands on "/tab-one"

  @central-callback
  Scenario Outline: With one central callback origin, <provider> logins come back to the right site
    Given the identity provider is <provider>
    And the gateway uses one central callback origin
    When alice logs in at "/deep/page?x=1"
    Then alice lands on "/deep/page?x=1"
    And the application sees alice's email

    Examples:
      | provider  |
      | Google    |
      | GitHub    |
      | Microsoft |

  @central-callback
  Scenario: Through the central callback, login CSRF still yields no session
    Given the gateway uses one central callback origin
    When an attacker tricks alice into opening the callback of the attacker's own login
    And alice follows the redirects
    Then alice has no session
    And the application receives nothing
