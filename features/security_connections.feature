@security @login
Feature: Security — connections: smuggled requests, slow clients, tunnels, hosts
  What an outside attack probe found holes in (the security checklist's items 63, 65, 67 and
  68): a gateway is judged by what the application receives and what each person is served,
  not by the status codes it chooses. The application here behaves like many real ones: where
  a scenario says so, it never reads a body on GET, HEAD or OPTIONS requests and keeps its
  connections open, so a body forwarded to it is read as the next request.

  @sec-63 @options-passthrough
  Scenario: 63 — The body of an unauthenticated CORS preflight never reaches the application as a request
    Given options passthrough is on
    And a user bob with email "bob@example.com"
    And the application never reads a body on GET, HEAD or OPTIONS requests, like Python's http.server
    And alice is logged in
    And bob is logged in
    When mallory sends a CORS preflight for "/api/items" whose body smuggles a request for "/admin" claiming to be alice
    And alice and bob each open 4 pages, taking turns
    Then the application never receives "/admin"
    And alice and bob each received only the answers to their own requests

  @sec-63
  Scenario Outline: 63 — The body of a logged-in <method> request never reaches the application as a request
    Given a user bob with email "bob@example.com"
    And the application never reads a body on GET, HEAD or OPTIONS requests, like Python's http.server
    And alice is logged in
    And bob is logged in
    When alice sends "<method> /mine" with a body that smuggles a request for "/admin" claiming to be bob
    And alice and bob each open 4 pages, taking turns
    Then the application never receives "/admin"
    And alice and bob each received only the answers to their own requests

    Examples:
      | method  |
      | GET     |
      | HEAD    |
      | OPTIONS |

  @sec-65
  Scenario: 65 — Slow clients neither keep a user out nor keep their connections
    When 40 clients open connections and trickle or withhold their request heads
    Then alice can log in at "/while-slow-clients-wait" within 10 seconds
    And the application sees alice's email
    And the gateway closed every slow connection within 25 seconds

  @sec-67 @websocket
  Scenario: 67 — A WebSocket ends when the session that opened it is logged out
    Given a user bob with email "bob@example.com"
    And alice is logged in
    And bob is logged in
    When alice opens a WebSocket to "/ws" and keeps it open
    And bob opens a WebSocket to "/ws" and keeps it open
    And alice logs out
    Then alice's WebSocket is closed within 10 seconds
    And bob's WebSocket is still open

  @sec-67 @websocket @app-users
  Scenario: 67 — A WebSocket ends when its user's sessions are revoked
    Given a user bob with email "bob@example.com"
    And alice is logged in
    And bob is logged in
    When alice opens a WebSocket to "/ws" and keeps it open
    And bob opens a WebSocket to "/ws" and keeps it open
    And an admin revokes alice's sessions
    Then alice's WebSocket is closed within 10 seconds
    And bob's WebSocket is still open

  @sec-68
  Scenario Outline: 68 — A request with two Host headers, <which> first, is refused
    Given alice is logged in
    When alice sends a request for "/two-hosts" with two Host headers, <which> first
    Then the gateway answered 400 or closed the connection without an answer
    And the application received nothing from that request

    Examples:
      | which          |
      | the site's     |
      | another site's |
