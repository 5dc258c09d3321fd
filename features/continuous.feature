@login @auth-check-interval @fake-clock
Feature: Continuous authorization
  After the auth check interval, the first request triggers a backchannel re-check with the
  identity provider (a refresh where the provider issues refresh tokens, then the profile)
  and the email rules are evaluated again. The user notices nothing unless something
  changed.

  Scenario Outline: Within the interval <provider> is not asked again
    Given the identity provider is <provider>
    And the auth check interval is 5 minutes
    And alice is logged in
    When 4 minutes pass
    And alice opens "/later"
    Then alice gets the application's page
    And the identity provider received no refresh requests

    Examples:
      | provider |
      | Google   |
      | GitLab   |
      | GitHub   |

  Scenario Outline: After the interval <provider> re-checks silently
    Given the identity provider is <provider>
    And the auth check interval is 5 minutes
    And alice is logged in
    When 6 minutes pass
    And alice opens "/later"
    Then alice gets the application's page
    And the application sees alice's email

    Examples:
      | provider                |
      | Google                  |
      | Microsoft               |
      | GitLab                  |
      | Twitch                  |
      | Amazon                  |
      | GitHub                  |
      | LinkedIn                |
      | Facebook                |
      | a generic OAuth 2.0 IdP |

  Scenario Outline: An email changed at <provider> is noticed at the next check
    Given the identity provider is <provider>
    And the gateway allows the email domain "example.com"
    And the auth check interval is 5 minutes
    And alice is logged in
    When the identity provider changes alice's email to "alice@elsewhere.test"
    And 6 minutes pass
    And alice opens "/after-change"
    Then alice sees an error page with status 403
    And the page offers a link to log in again
    And the application never receives "/after-change"
    And alice has no session

    Examples:
      | provider |
      | Google   |
      | GitLab   |
      | GitHub   |

  Scenario Outline: A refresh token <provider> reports <how> sends the user through login again
    Given the identity provider is <provider>
    And the auth check interval is 5 minutes
    And alice is logged in
    When the identity provider reports the refresh token as <how>
    And 6 minutes pass
    Then alice must log in again

    # Every provider that issues refresh tokens to a web app, each refusing in its own wire
    # shape (Google's "Token has been expired or revoked.", Entra's AADSTS codes, Twitch's
    # 400 "Invalid refresh token", Amazon's invalid_grant…). GitHub OAuth apps, LinkedIn and
    # Facebook issue none: their re-check is the profile call above.
    Examples:
      | provider                | how     |
      | Google                  | revoked |
      | Google                  | expired |
      | Microsoft               | revoked |
      | Microsoft               | expired |
      | GitLab                  | revoked |
      | GitLab                  | expired |
      | Twitch                  | revoked |
      | Twitch                  | expired |
      | Amazon                  | revoked |
      | Amazon                  | expired |
      | a generic OAuth 2.0 IdP | revoked |
      | a generic OAuth 2.0 IdP | expired |

  @oidf @fapi2-security-profile-final-client-refresh-token-test
  Scenario: A rotated refresh token is followed and the new one reaches the application
    Given the identity provider is GitHub with rotating refresh tokens
    And the auth check interval is 5 minutes
    And alice is logged in
    When 6 minutes pass
    And alice opens "/one"
    And 6 minutes pass
    And alice opens "/two"
    Then alice gets the application's page
    And the identity provider received 2 refresh requests
    And the application sees the access token

  Scenario: A user removed at the identity provider loses access at the next check
    Given the identity provider is Google
    And the auth check interval is 5 minutes
    And alice is logged in
    When the identity provider removes alice
    And 6 minutes pass
    Then alice must log in again

  Scenario: A verified email that becomes unverified no longer satisfies the rules
    Given the identity provider is GitLab
    And the gateway allows the email "alice@example.com"
    And the auth check interval is 5 minutes
    And alice is logged in
    When the identity provider marks alice's email as unverified
    And 6 minutes pass
    And alice opens "/x"
    Then alice sees an error page with status 403

  Scenario: A new name at the identity provider reaches the application after the check
    Given the identity provider is GitLab
    And the auth check interval is 5 minutes
    And alice is logged in
    When the identity provider renames alice to "Alice Renamed"
    And 6 minutes pass
    And alice opens "/renamed"
    Then the application sees the name "Alice Renamed"

  Scenario: With no interval the identity provider is only asked at login
    Given the identity provider is GitLab
    And alice is logged in
    When 3 days pass
    And alice opens "/much-later"
    Then alice gets the application's page
    And the identity provider received no refresh requests

  @idp-outage
  Scenario: An identity provider outage during a check fails closed and the session survives it
    Given the identity provider is GitLab
    And the auth check interval is 5 minutes
    And alice is logged in
    When the identity provider becomes unreachable
    And 6 minutes pass
    And alice opens "/during-outage"
    Then alice sees an error page with status 503
    And the application never receives "/during-outage"
    And alice has a session
    When the identity provider answers again
    Then alice is still logged in

  @reload
  Scenario: A configuration change re-evaluates existing sessions on their next request
    Given the identity provider is GitHub
    And alice is logged in
    When the gateway's configuration changes to allow only the email domain "acme.org"
    And alice opens "/after-reload"
    Then alice sees an error page with status 403
    And the application never receives "/after-reload"

  @reload
  Scenario: A configuration change that still admits the user goes unnoticed
    Given the identity provider is GitHub
    And alice is logged in
    When the gateway's configuration changes to allow only the email domain "example.com"
    Then alice is still logged in
