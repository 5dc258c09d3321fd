@login @identity-headers
Feature: What the application receives
  The gateway tells the application who the user is, and nothing a client sends can pretend
  otherwise: every client-sent copy of an identity header is removed, in any spelling. The
  gateway sets the forwarding headers itself and keeps hop-by-hop headers to itself.

  Background:
    Given alice is logged in

  @header-stripping
  Scenario Outline: A forged <role> header, spelled <spelling>, never reaches the application
    When alice forges the <role> header <spelling> as "forged@evil.test"
    Then the application receives "/me"
    And the application sees alice's email
    And the application sees alice's user id
    And no header the application sees contains "evil"

    Examples:
      | role          | spelling                     |
      | user email    | exactly                      |
      | user email    | in capitals                  |
      | user email    | with the other separator     |
      | user id       | exactly                      |
      | user id       | with the other separator     |
      | user name     | exactly                      |

    @token-headers
    Examples: the token headers, where the gateway sends them
      | role          | spelling                     |
      | access token  | exactly                      |
      | refresh token | exactly                      |

  @header-stripping @other-identity-headers
  Scenario Outline: A forged <header> header never reaches the application
    When alice opens "/me" with the header "<header>" set to "forged@evil.test"
    Then the application receives "/me"
    And no header the application sees contains "evil"

    Examples:
      | header                          |
      | ngrok-auth-something-new        |
      | X-Forwarded-Email               |
      | X-Forwarded-User                |
      | X-Auth-Request-Email            |
      | Remote-User                     |

  @header-stripping
  Scenario: A Connection header cannot remove the gateway's identity headers
    When alice opens "/conn" with the header "Connection" set to "ngrok-auth-user-email, ngrok-auth-user-id"
    Then the application sees alice's email
    And the application sees alice's user id

  @forwarded-headers
  Scenario: The gateway sets the forwarding headers itself
    When alice opens "/fwd" with the headers:
      | header            | value          |
      | X-Forwarded-For   | 203.0.113.66   |
      | X-Forwarded-Host  | evil.test      |
      | X-Original-URL    | /admin         |
    Then the application receives "/fwd"
    And the last X-Forwarded-For address the application sees is the client's
    And the application sees the header "x-forwarded-host" set to "app.localhost:{port}"
    And the application sees no header "x-original-url"

  @forwarded-headers
  Scenario: Hop-by-hop headers stop at the gateway
    When alice opens "/hop" with the headers:
      | header              | value     |
      | Proxy-Authorization | Basic Zm9v |
      | Keep-Alive          | timeout=5 |
    Then the application sees no header "proxy-authorization"
    And the application sees no header "keep-alive"

  Scenario: The gateway's cookies are not passed to the application
    When alice opens "/cookies"
    Then the application sees no header "cookie"

  Scenario: A request body reaches the application intact
    When alice sends POST "/submit"
    Then the application receives the POST request for "/submit"
    And the application receives the body "payload=1"

  @websocket
  Scenario: A WebSocket upgrade passes through for a logged-in user
    When alice opens a WebSocket to "/ws"
    Then the upgrade reaches the application
    And the application sees alice's email

  @websocket
  Scenario: An upgrade without a session never reaches the application
    When bob opens a WebSocket to "/ws"
    Then bob is refused with status 401
