@login
Feature: Identity provider misbehaviour
  Identity providers are sometimes wrong, rate-limited or confused. The gateway refuses what
  it cannot verify, explains what happened, and never lets a doubtful identity through.

  @id-token-checks
  Scenario: A discovery document for another issuer stops the login
    Given the identity provider is GitLab
    And the identity provider's discovery document will name another issuer
    When alice opens "/"
    Then alice is not let in
    And the application receives nothing

  Scenario: A rate-limited token endpoint ends the login without a session
    Given the identity provider's token endpoint will answer 429 with "slow down"
    When alice opens "/"
    And alice follows the redirects
    Then alice is not let in
    And the application receives nothing

  @auth-check-interval @fake-clock @id-token-checks
  Scenario: A profile that names another subject at the re-check ends the session
    Given the identity provider is Google
    And the auth check interval is 5 minutes
    And alice is logged in
    When the identity provider's profile will name another subject
    And 6 minutes pass
    Then alice must log in again

  @auth-check-interval @fake-clock @email-rules
  Scenario: A profile that suddenly shows another email is judged by it
    Given the identity provider is Google
    And the gateway allows the email "alice@example.com"
    And the auth check interval is 5 minutes
    And alice is logged in
    When the identity provider's profile will show the email "intruder@evil.test" once
    And 6 minutes pass
    And alice opens "/x"
    Then alice sees an error page with status 403
    And the application never receives "/x"
