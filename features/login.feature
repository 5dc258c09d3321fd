@login @identity-headers
Feature: Logging in
  A visitor without a session is sent to the identity provider, comes back through the
  gateway and lands on the page they asked for. The application behind the gateway learns
  who they are from request headers.

  Scenario Outline: Logging in with <provider> lands on the page the user asked for
    Given the identity provider is <provider>
    When alice opens "/reports/2026?sort=desc"
    Then alice is sent to the identity provider
    When alice completes the login
    Then alice lands on "/reports/2026?sort=desc"
    And the application receives "/reports/2026?sort=desc"
    And alice has a session

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

  Scenario Outline: The application learns who logged in with <provider>
    Given the identity provider is <provider>
    When alice logs in at "/whoami"
    Then the application sees alice's user id
    And the application sees alice's email
    And the application sees the name "Alice Example"

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

  @token-headers
  Scenario Outline: The application receives the OAuth tokens from <provider>
    Given the identity provider is <provider>
    When alice logs in at "/"
    Then the application sees the access and refresh tokens

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

  Scenario: Without a path to return to, the user lands on the root
    When alice logs in at "/"
    Then alice lands on "/"

  Scenario: Once logged in, later requests go straight to the application
    Given alice is logged in
    When alice opens "/second"
    Then alice gets the application's page
    And the application receives "/second"
    And the identity provider received 1 authorization request

  Scenario: The login request is well formed
    When alice logs in at "/"
    Then the login request carried the configured callback
    And the login request is bound to the browser by an unguessable state or by PKCE with S256
    And the identity provider found no mistakes in the gateway's requests

  Scenario: Another user logs in with their own identity
    Given a user bob with email "bob@example.com"
    When bob logs in at "/bob"
    Then the application sees bob's email
    And the application sees bob's user id

  Scenario: API clients get 401 instead of a login redirect
    When alice sends GET "/api/items" accepting "application/json"
    Then alice is refused with status 401
    And the application receives nothing
    And the identity provider received no authorization requests

  Scenario: A form post without a session is not sent through a login
    When alice sends POST "/api/items"
    Then alice is refused with status 401
    And the application receives nothing

  @id-token-checks
  Scenario: An https identity provider with a private certificate authority
    Given the identity provider is Google
    And the identity provider serves https with its own certificate authority
    When alice logs in at "/tls"
    Then the application sees alice's email

  Scenario: Without any allow rule every user the identity provider authenticates gets in
    Given a user zoe with email "zoe@anywhere.test"
    When zoe logs in at "/"
    Then the application sees zoe's email

  @email-rules
  Scenario: GitHub users are checked by their primary verified address
    Given a user kim with email "kim@example.com"
    And the gateway allows the email domain "example.com"
    When kim logs in at "/"
    Then the application sees kim's email

  @security @sec-1
  Scenario: Every login attempt is bound to its own unguessable state (or PKCE challenge)
    When alice opens "/same-page"
    And bob opens "/same-page"
    Then the two logins are bound to different unguessable secrets
