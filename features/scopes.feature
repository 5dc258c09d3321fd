@login
Feature: Scope mismatches
  When the identity provider will not grant what the gateway asks for, nobody gets in half
  logged in: no session, nothing upstream, no code redeemed — at every provider. A gateway
  with scope-error pages (`@scope-errors`) shows the identity provider's error as an
  "invalid request" page; a grant narrowed below what the email rules need admits nobody.

  Scenario Outline: <provider> refusing the requested scope lets nobody in
    Given the identity provider is <provider>
    And the identity provider will answer the next login with the error "invalid_scope" described as "Some requested scopes were invalid"
    When alice opens "/"
    And alice follows the redirects
    Then alice is not let in
    And alice has no session
    And the application receives nothing
    And the identity provider received no token requests

    Examples:
      | provider                |
      | Google                  |
      | GitHub                  |
      | Microsoft               |
      | GitLab                  |
      | LinkedIn                |
      | Twitch                  |
      | Amazon                  |
      | Facebook                |
      | a generic OAuth 2.0 IdP |

  @email-rules
  Scenario Outline: A grant <provider> narrowed to exclude the email cannot satisfy the email rules
    Given the identity provider is <provider>
    And the gateway allows the email domain "example.com"
    And the identity provider will grant only the scope "<scope>"
    When alice opens "/"
    And alice follows the redirects
    Then alice is not let in
    And the application receives nothing

    # The scope each provider grants without the user's email.
    Examples:
      | provider                | scope            |
      | Google                  | openid           |
      | Microsoft               | openid profile   |
      | GitLab                  | openid read_user |
      | LinkedIn                | openid profile   |
      | Twitch                  | openid           |
      | Amazon                  | profile:user_id  |
      | Facebook                | public_profile   |

  @scope-errors
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

  @scope-errors
  Scenario: The generic provider's invalid request is shown as such
    Given the identity provider is a generic OAuth 2.0 IdP
    And the generic provider's scope is "openid email profile admin"
    And the identity provider will answer the next login with the error "invalid_request" described as "unknown scope admin"
    When alice opens "/"
    And alice follows the redirects
    Then alice sees an error page with status 400
    And the page says "Invalid request"
    And the page says "unknown scope admin"

  @scope-errors @email-rules
  Scenario: A grant narrowed to exclude the email is refused with the gateway's page
    Given the identity provider is Google
    And the gateway allows the email domain "example.com"
    And the identity provider will grant only the scope "openid"
    When alice opens "/"
    And alice follows the redirects
    Then alice sees an error page with status 403
    And alice has no session
    And the application receives nothing

  @identity-headers
  Scenario: A grant narrowed on GitHub without user:email still identifies the user
    Given the identity provider is GitHub
    And the identity provider will grant only the scope "read:user"
    When alice opens "/"
    And alice follows the redirects
    Then alice gets the application's page
    And the application sees alice's user id
