@security @login
Feature: Security — paths, methods, hosts and limits
  The security checklist's sections H and J: the gateway decides on one canonical path and
  forwards that same path, its reserved paths are its own in every spelling, unknown methods
  and hosts are refused, and nothing an anonymous client sends — huge cookies, huge
  callbacks, a hundred logins — costs more than a quick refusal.

  @sec-53
  Scenario Outline: 53 — <path> without a session is sent to log in
    When alice sends the raw request "GET <path>"
    Then alice is refused or sent to log in, without a server error
    And the application receives nothing

    Examples:
      | path                      |
      | /public/../admin          |
      | /public/%2e%2e/admin      |
      | /public/.%2e/admin        |
      | /public/..%2fadmin        |
      | /public%2F..%2Fadmin      |
      | /%70ublic/../admin        |
      | //public/../admin         |
      | /public;x=/../admin       |
      | /public/..;/admin         |
      | /public/%2e%2e%5cadmin    |
      | /PUBLIC/../admin          |

  # Only a gateway that decides by path (here: its reserved paths) can authorize one spelling
  # and forward another; one without path rules may forward the path as received (RFC 9110
  # §7.1 has intermediaries leave it unchanged).
  @sec-53 @special-paths
  Scenario Outline: 53 — <path> is forwarded as the path it was authorized as, or refused
    Given alice is logged in
    When alice sends the raw request "GET <path>"
    Then the application receives "/admin" or nothing

    Examples:
      | path                      |
      | /public/../admin          |
      | /public/%2e%2e/admin      |
      | /public/.%2e/admin        |
      | //public/../admin         |
      | /public/./../admin        |

  @sec-54 @special-paths
  Scenario Outline: 54 — Special-path text in the query or fragment (<target>) does not count
    When alice sends the raw request "GET <target>"
    Then alice is refused or sent to log in, without a server error
    And the application receives nothing

    Examples:
      | target                    |
      | /private?x=/auth/logout   |
      | /private?/auth/           |
      | /private#/auth/logout     |

  @sec-55
  Scenario Outline: 55 — The method <method> without a session is never forwarded
    When alice sends the raw request "<method> /admin"
    Then alice is refused or sent to log in, without a server error
    And the application receives nothing

    Examples:
      | method   |
      | get      |
      | Get      |
      | FOO      |
      | PROPFIND |
      | TRACE    |

  @sec-56 @special-paths
  Scenario Outline: 56 — The callback path spelled <path> never reaches the application
    Given alice is logged in
    When alice sends the raw request "GET <path>"
    Then the application received nothing under "/oauth2/"

    Examples:
      | path                     |
      | /oauth2/callback         |
      | /oauth2/callback/        |
      | //oauth2/callback        |
      | /OAUTH2/callback         |
      | /oauth2/%63allback       |
      | /oauth2/./callback       |
      | /x/../oauth2/callback    |
      | /oauth2%2Fcallback       |

  @sec-56 @special-paths
  Scenario Outline: 56 — <path> never reaches the application
    Given alice is logged in
    When alice sends the raw request "GET <path>"
    Then the application receives no request under /auth/

    Examples:
      | path                  |
      | /auth/anything        |
      | /AUTH/admin           |
      | /%61uth/x             |
      | /x/../auth/y          |
      | //auth/y              |
      | /auth;jsessionid=1/y  |
      | /auth%2fy             |
      | /auth./x              |
      | /./auth/x             |
      | /x/%2e%2e/auth/x      |

  @sec-57
  Scenario: 57 — An absolute-form request for another host is not served as this one's
    When alice sends the raw request "GET http://evil.test/admin"
    Then alice is refused or sent to log in, without a server error
    And the application receives nothing

  @sec-59
  Scenario: 59 — A 64 KB Cookie header is refused quickly and the gateway keeps serving
    When mallory sends a Cookie header of 64 KB
    Then mallory is refused or sent to log in, without a server error
    When alice logs in at "/still-serving"
    Then the application sees alice's email

  @sec-59
  Scenario: 59 — 500 cookies, many claiming to be the session, are no session
    When mallory sends 500 cookies
    Then mallory is refused or sent to log in, without a server error
    And the application receives nothing

  @sec-60
  Scenario: 60 — A hundred logins started in one browser keep a few small cookies, and the last completes
    When alice starts 100 logins
    Then alice holds at most 8 cookies from the gateway
    When alice completes the last of them
    Then alice lands on "/page/99"

  @sec-61
  Scenario Outline: 61 — A callback with a 100 KB <what> is refused without a token request
    When alice opens the callback with a 100 KB <what>
    Then alice is refused or sent to log in, without a server error
    And the identity provider received no token requests

    Examples:
      | what  |
      | state |
      | code  |

  @sec-61
  Scenario: 61 — A token endpoint answering with a 4 MB body ends the login without a session
    Given the identity provider is Google
    And the identity provider's token endpoint will answer with a 4 MB body
    When alice opens "/"
    And alice follows the redirects
    Then alice is not let in
    And alice has no session
    And the application receives nothing
