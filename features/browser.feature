@browser @login
Feature: Logging in with a real browser
  The redirect dance is where gateways break in real browsers: cookies kept apart per site,
  SameSite, fragments, the back button, two tabs. A headless Chromium goes through it with
  the identity provider's own login page.

  Scenario: Signing in at the identity provider lands on the deep link that started it
    When alice opens "/reports/2026?sort=desc" in the browser
    Then the browser shows the identity provider's login page
    When alice signs in at the identity provider as alice
    Then the browser shows the application's page for "/reports/2026?sort=desc"
    And the application sees alice's email
    And the application never sees the identity provider's cookies

  @error-page @retry-link
  Scenario: Deny, then try again from the gateway's error page
    When alice opens "/app" in the browser
    And alice presses Deny at the identity provider
    Then the browser shows the gateway's error page
    When alice clicks the link to log in again
    And alice presses Allow at the identity provider
    Then the browser shows the application's page for "/"

  @special-paths @force-reauth
  Scenario: /auth/authn shows the identity provider's login page even with a live session there
    When alice opens "/" in the browser
    And alice signs in at the identity provider as alice
    And alice goes to "/auth/authn" in the browser
    Then the browser shows the identity provider's login page
    When alice presses Allow at the identity provider
    Then the browser shows the application's page for "/"
    And the identity provider showed its login page 2 times

  @special-paths
  Scenario: After /auth/logout the next visit goes through the identity provider again
    When alice opens "/" in the browser
    And alice signs in at the identity provider as alice
    And alice goes to "/auth/logout" in the browser
    And alice goes to "/after-logout" in the browser
    Then the browser shows the application's page for "/after-logout"
    And the identity provider received at least 2 authorization requests

  @cookies
  Scenario: The browser holds the session cookie as HttpOnly, Secure and SameSite=Lax
    When alice opens "/" in the browser
    And alice signs in at the identity provider as alice
    Then the browser shows the application's page for "/"
    And the browser holds the gateway's session cookie as HttpOnly, Secure and SameSite=Lax

  Scenario: Facebook's "#_=_" fragment does not break the landing page
    Given the identity provider is Facebook
    When alice opens "/feed?tab=1" in the browser
    And alice signs in at the identity provider as alice
    Then the browser shows the application's page for "/feed?tab=1"

  Scenario: Two tabs starting logins at once both end logged in
    When alice opens "/one" in a new tab called "first"
    And alice opens "/two" in a new tab called "second"
    And alice switches to the tab "first"
    And alice signs in at the identity provider as alice
    Then the browser shows the application's page for "/one"
    When alice switches to the tab "second"
    And alice presses Allow at the identity provider
    Then the browser shows the application's page for "/two"

  Scenario: The back button after login does not replay the callback into an error
    When alice opens "/deep" in the browser
    And alice signs in at the identity provider as alice
    Then the browser shows the application's page for "/deep"
    When alice presses the back button
    Then the browser is not on an error page

  @inactivity-timeout @fake-clock
  Scenario: After the inactivity timeout the browser goes through login again
    Given the inactivity timeout is 30 minutes
    When alice opens "/work" in the browser
    And alice signs in at the identity provider as alice
    And 31 minutes pass
    And alice reloads the page
    Then the browser shows the application's page for "/work"
    And the identity provider received at least 2 authorization requests

  @central-callback
  Scenario: Through a central callback origin the browser lands back on the site
    Given the gateway uses one central callback origin
    When alice opens "/via-central?x=1" in the browser
    And alice signs in at the identity provider as alice
    Then the browser shows the application's page for "/via-central?x=1"
