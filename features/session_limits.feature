@login @fake-clock
Feature: Inactivity timeout and maximum duration
  A session ends after a period without requests (inactivity timeout) or after a fixed time
  whatever happens (maximum duration). Either way the next request goes through login.

  @inactivity-timeout
  Scenario: A session idle for longer than the inactivity timeout ends
    Given the inactivity timeout is 30 minutes
    And alice is logged in
    When 31 minutes pass
    Then alice must log in again

  @inactivity-timeout
  Scenario: Activity keeps the session alive past the inactivity timeout
    Given the inactivity timeout is 30 minutes
    And alice is logged in
    When 20 minutes pass
    And alice opens "/still-here"
    And 20 minutes pass
    Then alice is still logged in

  @max-duration
  Scenario: A session ends at its maximum duration even when active
    Given the maximum session duration is 1 hour
    And alice is logged in
    When 40 minutes pass
    And alice opens "/busy"
    And 30 minutes pass
    Then alice must log in again

  @max-duration
  Scenario: Before the maximum duration the session lasts
    Given the maximum session duration is 1 hour
    And alice is logged in
    When 50 minutes pass
    Then alice is still logged in

  @inactivity-timeout @max-duration
  Scenario: A user whose session ended logs in again and gets a fresh one
    Given the maximum session duration is 1 hour
    And alice is logged in
    When 2 hours pass
    And alice logs in at "/again"
    Then alice lands on "/again"
    And alice is still logged in
