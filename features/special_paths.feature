@login @special-paths
Feature: The gateway's own paths
  /auth/authn starts a fresh login (forcing re-authentication where the provider allows),
  /auth/logout ends the session, and nothing under /auth/ ever reaches the application,
  however the path is spelled.

  @force-reauth
  Scenario Outline: /auth/authn asks <provider> to authenticate the user again
    Given the identity provider is <provider>
    And alice is logged in
    When alice asks to log in again
    Then alice is sent to the identity provider
    And the login request asks <provider> to re-authenticate
    When alice completes the login
    Then alice lands on "/"

    Examples:
      | provider                |
      | Google                  |
      | GitHub                  |
      | Microsoft               |
      | GitLab                  |
      | Twitch                  |
      | Facebook                |
      | a generic OAuth 2.0 IdP |

  @logout
  Scenario: Logging out ends the session on the server, not only in the browser
    Given alice is logged in
    When alice keeps a copy of the session cookie
    And alice logs out
    Then alice has no session
    And the page says "logged out"
    When someone replays alice's old session cookie
    Then someone is sent to the identity provider
    And the application never receives "/replayed"

  Scenario: After logging out the next visit logs in again
    Given alice is logged in
    When alice logs out
    Then alice must log in again

  Scenario Outline: <path> never reaches the application
    Given alice is logged in
    When alice opens "<path>"
    Then the application receives no request under /auth/

    Examples:
      | path                  |
      | /auth/anything        |
      | /auth                 |
      | /AUTH/admin           |
      | /%61uth/x             |
      | /x/../auth/y          |
      | //auth/y              |
      | /auth;jsessionid=1/y  |
      | /auth%2fy             |
      | /auth%3B/x            |
      | /auth./x              |

  Scenario: A path that only starts like /auth is the application's
    Given alice is logged in
    When alice opens "/authors/42"
    Then the application receives "/authors/42"
