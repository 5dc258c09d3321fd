@login @error-page
Feature: Failed logins
  When the identity provider refuses the login — the user said no, or it answered with an
  error — the user gets an error page that shows the identity provider's words and lets
  them try again. Nothing reaches the application and no session is created.

  Scenario Outline: The user denies access at <provider>
    Given the identity provider is <provider>
    And the identity provider will deny the next login
    When alice opens "/app"
    And alice follows the redirects
    Then alice is not let in
    And the page shows the identity provider's error
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

  @retry-link
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

  Scenario: An identity provider error and its description are shown to the user
    Given the identity provider will answer the next login with the error "temporarily_unavailable" described as "Maintenance until noon"
    When alice opens "/"
    And alice follows the redirects
    Then alice is not let in
    And the page says "temporarily_unavailable"
    And the page says "Maintenance until noon"
    And alice has no session

  Scenario: Markup in an identity provider's error description is not executed
    Given the identity provider will answer the next login with the error "access_denied" described as "<script>alert(1)</script>"
    When alice opens "/"
    And alice follows the redirects
    Then alice is not let in
    And the page says "&lt;script&gt;alert(1)&lt;/script&gt;"

  Scenario: A refused login is answered with an error status, not 200
    Given the identity provider will deny the next login
    When alice opens "/"
    And alice follows the redirects
    Then alice sees an error page

  Scenario: Gateway pages cannot be framed or cached
    Given the identity provider will deny the next login
    When alice opens "/"
    And alice follows the redirects
    Then the page cannot be framed and is not cached
