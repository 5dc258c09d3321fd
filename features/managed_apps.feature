@login @managed-apps
Feature: Managed apps
  Leaving the client id empty uses the gateway's own shared OAuth app for the provider.
  The tokens then belong to the gateway operator, so they are not sent to the application.

  Scenario Outline: Logging in through the managed <provider> app
    Given the identity provider is <provider>
    And the gateway uses its managed app for this provider
    When alice logs in at "/managed"
    Then the application sees alice's email
    And the application sees no OAuth tokens

    Examples:
      | provider  |
      | Google    |
      | GitHub    |
      | Microsoft |
      | GitLab    |
      | LinkedIn  |
      | Twitch    |

  @token-headers
  Scenario: With its own app the application does get the tokens
    Given the identity provider is GitHub
    When alice logs in at "/own"
    Then the application sees the access token
