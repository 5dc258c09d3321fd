@login @id-token-checks
Feature: ID token validation
  An OpenID Connect gateway checks every ID token. The OpenID Foundation's relying-party
  modules are replayed in oidf.feature and the security checklist's token items in
  security_tokens.feature; these are the remaining cases.

  Background:
    Given the identity provider is Google

  Scenario: An ID token signed by a key the identity provider never published is refused
    Given the identity provider will sign an ID token with the fault unknown_kid
    When alice opens "/private"
    And alice follows the redirects
    Then alice is not let in, unless the gateway relies on TLS to the token endpoint instead of the signature

  Scenario: An ID token without a key id, signed with the published key, is accepted
    Given the identity provider will sign an ID token with the fault no_kid
    When alice logs in at "/private"
    Then the application sees alice's email

  Scenario: An ID token whose subject differs from the userinfo subject is refused by a gateway that reads userinfo
    Given the identity provider will sign an ID token with the fault invalid_sub
    When alice opens "/private"
    And alice follows the redirects
    Then if the gateway read the identity provider's userinfo, alice is not let in

  Scenario: A token response without a refresh token is still accepted
    Given the identity provider will change the token response: omit_refresh_token
    When alice logs in at "/"
    Then the application sees alice's email

  Scenario: A callback without a code is refused before any token request
    Given the identity provider will spoil the callback: missing_code
    When alice opens "/"
    And alice follows the redirects
    Then alice is not let in
    And the identity provider received no token requests
