@login @scope-errors
Feature: Scope mismatches
  When the identity provider will not grant what the gateway asks for, the user gets an
  "invalid request" page carrying the identity provider's error rather than a confusing
  half-login.

  Scenario: The identity provider refuses the requested scope
    Given the identity provider is Google
    And the gateway requests the extra scope "https://www.googleapis.com/auth/drive"
    And the identity provider will answer the next login with the error "invalid_scope" described as "Some requested scopes were invalid"
    When alice opens "/"
    And alice follows the redirects
    Then alice sees an error page with status 400
    And the page says "Invalid request"
    And the page says "invalid_scope"
    And the page says "Some requested scopes were invalid"
    And alice has no session

  Scenario: The generic provider's invalid request is shown as such
    Given the identity provider is a generic OAuth 2.0 IdP
    And the generic provider's scope is "openid email profile admin"
    And the identity provider will answer the next login with the error "invalid_request" described as "unknown scope admin"
    When alice opens "/"
    And alice follows the redirects
    Then alice sees an error page with status 400
    And the page says "Invalid request"
    And the page says "unknown scope admin"

  Scenario: A grant narrowed to exclude the email cannot satisfy the email rules
    Given the identity provider is Google
    And the gateway allows the email domain "example.com"
    And the identity provider will grant only the scope "openid"
    When alice opens "/"
    And alice follows the redirects
    Then alice sees an error page with status 403
    And alice has no session
    And the application receives nothing

  Scenario: A grant narrowed on GitHub without user:email still identifies the user
    Given the identity provider is GitHub
    And the identity provider will grant only the scope "read:user"
    When alice opens "/"
    And alice follows the redirects
    Then alice gets the application's page
    And the application sees alice's user id
