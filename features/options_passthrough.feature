@login @options-passthrough
Feature: Options passthrough
  With options passthrough on, CORS preflight requests reach the application without
  authentication — and without identity headers, so nothing can be learned or forged
  through them.

  Scenario: A CORS preflight reaches the application without a session
    Given options passthrough is on
    When alice's web page sends a CORS preflight for "/api/items"
    Then the application receives the OPTIONS request for "/api/items"
    And the application sees no identity headers

  Scenario: With passthrough off a preflight needs a session
    When alice's web page sends a CORS preflight for "/api/items"
    Then alice is refused with status 401
    And the application receives nothing

  Scenario: An OPTIONS request that is not a preflight still needs a session
    Given options passthrough is on
    When alice sends OPTIONS "/api/items"
    Then alice is refused with status 401
    And the application receives nothing

  @identity-headers
  Scenario: Even a logged-in user's OPTIONS requests carry no identity headers
    Given options passthrough is on
    And alice is logged in
    When alice sends OPTIONS "/api/items"
    Then the application receives the OPTIONS request for "/api/items"
    And the application sees no identity headers

  @header-stripping
  Scenario: Identity headers forged on a preflight are removed
    Given options passthrough is on
    When alice's web page sends a CORS preflight for "/api/items" with the header "ngrok-auth-user-email" set to "admin@evil.test"
    Then the application receives the OPTIONS request for "/api/items"
    And no header the application sees contains "evil"
