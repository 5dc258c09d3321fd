@login @redis-replicas
Feature: Several gateway replicas sharing sessions through Redis
  Behind a load balancer, any replica can serve any request of a logged-in user: the login
  transaction, the session and its logout live in Redis.

  Scenario: A login that alternates between two replicas works and the session is shared
    Given the gateway runs as 2 replicas sharing sessions through Redis
    When alice logs in at "/first"
    Then alice lands on "/first"
    And both replicas served alice
    And alice is still logged in
    And alice is still logged in

  @logout
  Scenario: Logging out on one replica ends the session on every replica
    Given the gateway runs as 2 replicas sharing sessions through Redis
    And alice is logged in
    When alice keeps a copy of the session cookie
    And alice logs out
    And someone replays alice's old session cookie
    Then someone is sent to the identity provider
    When someone replays alice's old session cookie
    Then someone is sent to the identity provider

  @app-users
  Scenario: Revoking through either replica ends the session everywhere
    Given the gateway runs as 2 replicas sharing sessions through Redis
    And alice is logged in
    When an admin revokes alice's sessions
    Then alice must log in again
