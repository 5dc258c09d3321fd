@login
Feature: Failed logins
  When the identity provider refuses the login — the user said no, or it answered with an
  error — nothing reaches the application, no session is created and no code is redeemed
  (every gateway). A gateway with error pages (`@error-page`) also shows the identity
  provider's words and lets the user try again.

  Scenario Outline: The user denies access at <provider>: no session, nothing upstream, no code redeemed
    Given the identity provider is <provider>
    And the identity provider will deny the next login
    When alice opens "/app"
    And alice follows the redirects
    Then alice is not let in
    And alice has no session
    And the application receives nothing
    And the identity provider received no token requests

    Examples:
      | provider                  |
      | Google                    |
      | GitHub                    |
      | Microsoft                 |
      | GitLab                    |
      | LinkedIn                  |
      | Twitch                    |
      | Amazon                    |
      | Facebook                  |
      | a generic OAuth 2.0 IdP   |

  @error-page
  Scenario Outline: A denial at <provider> is explained with the identity provider's error
    Given the identity provider is <provider>
    And the identity provider will deny the next login
    When alice opens "/app"
    And alice follows the redirects
    Then alice is not let in
    And the page shows the identity provider's error

    Examples:
      | provider                  |
      | Google                    |
      | GitHub                    |
      | Microsoft                 |
      | GitLab                    |
      | LinkedIn                  |
      | Twitch                    |
      | Amazon                    |
      | Facebook                  |
      | a generic OAuth 2.0 IdP   |

  @error-page @retry-link
  Scenario Outline: After a denial at <provider> the user can try again and get in
    Given the identity provider is <provider>
    And the identity provider will deny the next login
    When alice opens "/app"
    And alice follows the redirects
    Then the page offers a link to log in again
    When alice asks to log in again
    And alice completes the login
    Then alice lands on "/"
    And the application sees alice's email

    Examples:
      | provider                  |
      | Google                    |
      | GitHub                    |
      | Microsoft                 |
      | GitLab                    |
      | LinkedIn                  |
      | Twitch                    |
      | Amazon                    |
      | Facebook                  |
      | a generic OAuth 2.0 IdP   |

  @error-page
  Scenario: An identity provider error and its description are shown to the user
    Given the identity provider will answer the next login with the error "temporarily_unavailable" described as "Maintenance until noon"
    When alice opens "/"
    And alice follows the redirects
    Then alice is not let in
    And the page says "temporarily_unavailable"
    And the page says "Maintenance until noon"
    And alice has no session

  Scenario: Markup in an identity provider's error description is never served as markup
    Given the identity provider will answer the next login with the error "access_denied" described as "<script>alert(1)</script>"
    When alice opens "/"
    And alice follows the redirects
    Then alice is not let in
    And no page alice saw contains "<script>alert(1)</script>"

  @error-page
  Scenario: Markup in an identity provider's error description is shown as text
    Given the identity provider will answer the next login with the error "access_denied" described as "<script>alert(1)</script>"
    When alice opens "/"
    And alice follows the redirects
    Then alice is not let in
    And the page says "&lt;script&gt;alert(1)&lt;/script&gt;"

  @error-page
  Scenario: A refused login is answered with an error status, not 200
    Given the identity provider will deny the next login
    When alice opens "/"
    And alice follows the redirects
    Then alice sees an error page

  @error-page
  Scenario: Gateway pages cannot be framed or cached
    Given the identity provider will deny the next login
    When alice opens "/"
    And alice follows the redirects
    Then the page cannot be framed and is not cached
