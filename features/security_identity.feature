@security @login @identity-headers
Feature: Security — the identity the application is given
  The security checklist's item 66: the application trusts the identity headers, so what
  they say must be what the provider vouches for. An email the user typed at the identity
  provider and never proved is not an identity (the "nOAuth" pattern): whoever registers
  alice@example.com unverified must not reach the application as alice.

  Amazon and Facebook only ever return an address they verified, so they are not among the
  providers below. Each scenario first shows that the gateway does forward a verified email
  for that provider (alice), so a gateway that forwards none at all cannot pass by accident.

  @sec-66
  Scenario Outline: 66 — <provider>: an email the provider did not verify never reaches the application as the user's
    Given the identity provider is <provider>
    And a user ann whose email "ann@example.com" is not verified
    When alice logs in at "/verified"
    Then the application sees alice's email
    When ann opens "/"
    And ann completes the login
    Then no identity header the application received carries "ann@example.com"

    Examples:
      | provider                   |
      | Google                     |
      | GitHub                     |
      | GitLab                     |
      | LinkedIn                   |
      | Microsoft                  |
      | Twitch                     |
      | a generic OAuth 2.0 IdP    |
