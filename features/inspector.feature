@login @browser
Feature: The identity provider's inspector
  A developer whose app does not log in opens the mock identity provider's inspector: every
  request the app made, the tokens it was given, decoded, and the mistakes it made, in plain
  words with the fix.

  Scenario: After a login the inspector shows the decoded ID token and the client's mistakes
    Given the identity provider is Google
    When alice opens "/reports" in the browser
    And alice signs in at the identity provider as alice
    Then the browser shows the application's page for "/reports"
    When alice opens the identity provider's inspector
    And alice expands the token request
    Then the inspector shows the decoded ID token with alice's email
    And the inspector shows a finding saying "uses http" with its fix
    And a screenshot of the page is kept in the report as "inspector after a Google login"
