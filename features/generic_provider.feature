@login @generic-provider
Feature: The generic OAuth 2.0 provider (Authmonger options)
  Any OAuth 2.0 identity provider with authorize, token and profile URLs: the scope, which
  profile field becomes the user id, just-in-time provisioning, how the access token reaches
  the profile URL, and single logout.

  Background:
    Given the identity provider is a generic OAuth 2.0 IdP

  Scenario: The default scope is "openid email profile" and the user id is the profile's id
    When alice logs in at "/"
    Then the login requested the scope "openid email profile"
    And the application sees alice's user id

  Scenario: A configured scope replaces the default
    Given the generic provider's scope is "openid email read"
    When alice logs in at "/"
    Then the login requested the scope "openid email read"

  Scenario: The login attribute picks the profile field that becomes the user id
    Given a user bob with the username "bobby_tables" and email "bob@example.com"
    And the login attribute is "username"
    When bob logs in at "/"
    Then the application sees the header "ngrok-auth-user-id" set to "bobby_tables"

  Scenario: A login attribute missing from the profile ends the login with an error
    Given the login attribute is "employee_number"
    When alice opens "/"
    And alice follows the redirects
    Then alice sees an error page with status 401
    And the page says "employee_number"
    And alice has no session

  Scenario: With just-in-time provisioning off, a provisioned user gets in
    Given just-in-time provisioning is off
    And "alice" is a provisioned user
    When alice logs in at "/"
    Then the application sees alice's email

  Scenario: With just-in-time provisioning off, anyone else is refused
    Given a user carol with email "carol@example.com"
    And just-in-time provisioning is off
    And "alice" is a provisioned user
    When carol opens "/"
    And carol completes the login
    Then carol sees an error page with status 403
    And the page says "carol"
    And carol has no session

  Scenario: The access token can go to the profile URL as a query parameter
    Given the access token goes to the profile URL as a query parameter
    When alice logs in at "/"
    Then the profile request carried the token as a query parameter

  Scenario: By default the access token goes to the profile URL as a bearer header
    When alice logs in at "/"
    Then the profile request carried the token as a bearer header

  @logout @oidf @oidcc-client-test-rp-init-logout
  Scenario: Logging out continues to the identity provider's end-session URL
    Given single logout through the identity provider is on
    And alice is logged in
    When alice logs out
    Then the identity provider ended alice's session too
    And alice has no session
    And alice must log in again
