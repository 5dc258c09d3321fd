@login @app-users
Feature: App Users
  The App Users API lists who used the application, lets an operator end a user's sessions
  remotely, and counts monthly active users by identity-provider user id.

  Scenario: Users are listed with their sessions
    Given a user bob with email "bob@example.com"
    When alice logs in at "/"
    And bob logs in at "/"
    Then the App Users list shows alice with 1 active session
    And the App Users list shows bob with 1 active session

  Scenario: Revoking a user ends their sessions; the next request logs in again
    Given a user bob with email "bob@example.com"
    And alice is logged in
    And bob is logged in
    When an admin revokes alice's sessions
    Then alice must log in again
    And bob is still logged in

  Scenario: Monthly active users count each user once
    Given a user bob with email "bob@example.com"
    When alice logs in at "/"
    And alice opens "/again"
    And bob logs in at "/"
    Then the monthly active users count is 2

  @fake-clock
  Scenario: A new month starts from zero
    Given alice is logged in
    When 32 days pass
    Then the monthly active users count is 0

  Scenario: The App Users API needs its token
    When alice logs in at "/"
    Then the App Users API refuses a request without its token
