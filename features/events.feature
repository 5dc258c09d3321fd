@login @events
Feature: Events
  Every request produces an http_request_complete.v0 event naming the OAuth decision and,
  when known, the user — so operators can audit who got in and who was turned away.

  Scenario: The login redirect is a block, the authenticated request an allow
    When alice logs in at "/report"
    Then the gateway reports allow for "/report" naming alice
    And the gateway's event for "/oauth2/callback" names no user

  Scenario: A request without a session is reported as a block without a user
    When alice opens "/anonymous"
    Then the gateway reports block for "/anonymous"
    And the gateway's event for "/anonymous" names no user

  Scenario: Every event names the application's OAuth client
    When alice logs in at "/"
    Then every event names the application's OAuth client

  Scenario: Events carry no tokens or cookies
    When alice logs in at "/"
    And alice opens "/second"
    Then no event contains a token or a cookie

  @email-rules
  Scenario: A user refused by the email rules is named in the block event
    Given the gateway allows the email domain "acme.org"
    When alice opens "/"
    And alice completes the login
    Then the gateway reports block for "/oauth2/callback" naming alice

  @auth-check-interval @fake-clock
  Scenario: A session refused at its re-check is reported as a block naming the user
    Given the identity provider is GitLab
    And the gateway allows the email domain "example.com"
    And the auth check interval is 5 minutes
    And alice is logged in
    When the identity provider changes alice's email to "alice@elsewhere.test"
    And 6 minutes pass
    And alice opens "/recheck"
    Then the gateway reports block for "/recheck" naming alice

  @options-passthrough
  Scenario: A passed-through preflight is an allow without a user
    Given options passthrough is on
    When alice's web page sends a CORS preflight for "/api"
    Then the gateway reports allow for "/api"
    And the gateway's event for "/api" names no user
