@login
Feature: Failures at the token endpoint
  The code exchange can fail in many ways. Each ends the login without a session and without
  reaching the application (every gateway); a gateway with error pages (`@error-page`) also
  says what the identity provider answered.

  Scenario Outline: The code exchange answers <status> <error>
    Given the identity provider will answer the code exchange with <status> "<error>"
    When alice opens "/"
    And alice follows the redirects
    Then alice has no session
    And the application receives nothing

    Examples:
      | status | error               |
      | 400    | invalid_grant       |
      | 400    | invalid_request     |
      | 401    | invalid_client      |
      | 400    | unauthorized_client |
      | 400    | unsupported_grant_type |

  Scenario: A token endpoint failing with a server error
    Given the identity provider's token endpoint will fail with a server error
    When alice opens "/"
    And alice follows the redirects
    Then alice is not let in
    And the application receives nothing

  Scenario: A token endpoint answering a malformed body
    Given the identity provider's token endpoint will answer with a malformed body
    When alice opens "/"
    And alice follows the redirects
    Then alice is not let in
    And the application receives nothing

  @idp-outage
  Scenario: A token endpoint that never answers times out into an error page
    Given the identity provider's token endpoint will hang
    When alice opens "/"
    And alice follows the redirects
    Then alice is not let in
    And the application receives nothing

  @error-page
  Scenario Outline: The page says what the code exchange answered: <status> <error>
    Given the identity provider will answer the code exchange with <status> "<error>"
    When alice opens "/"
    And alice follows the redirects
    Then alice has no session
    And the page says "<error>"

    Examples:
      | status | error               |
      | 400    | invalid_grant       |
      | 401    | invalid_client      |

  @error-page
  Scenario: A code the identity provider refuses as invalid_grant
    Given the identity provider is Google
    And the identity provider will refuse the code as invalid_grant
    When alice opens "/"
    And alice follows the redirects
    Then alice has no session
    And the page says "invalid_grant"
