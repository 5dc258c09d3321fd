@login @id-token-checks
Feature: ID token validation
  An OpenID Connect gateway must check every ID token: signature and algorithm, issuer,
  audience, expiry and issue time, nonce, and the access-token hash. These are the OpenID
  Foundation's relying-party tests; the three "must accept" variants must still log in.

  Background:
    Given the identity provider is Google

  Scenario Outline: An ID token with <fault> is refused
    Given the identity provider will sign an ID token with the fault <fault>
    When alice opens "/private"
    And alice follows the redirects
    Then alice is not let in
    And the application receives nothing

    Examples:
      | fault               |
      | invalid_iss         |
      | missing_iss         |
      | invalid_aud         |
      | missing_aud         |
      | secondary_aud       |
      | missing_sub         |
      | missing_iat         |
      | iat_week_ago        |
      | iat_in_future       |
      | nbf_in_future       |
      | expired             |
      | missing_exp         |
      | invalid_nonce       |
      | missing_nonce       |
      | invalid_at_hash     |
      | invalid_signature   |
      | alg_none            |
      | unknown_kid         |
      | hs256_with_public_key |
      | embedded_jwk        |
      | wrong_typ           |

  Scenario: An ID token whose subject differs from the userinfo subject is refused by a gateway that reads userinfo
    Given the identity provider will sign an ID token with the fault invalid_sub
    When alice opens "/private"
    And alice follows the redirects
    Then if the gateway read the identity provider's userinfo, alice is not let in

  Scenario Outline: An ID token with <variant> is still accepted
    Given the identity provider will sign an ID token with the fault <variant>
    When alice logs in at "/private"
    Then the application sees alice's email

    Examples:
      | variant         |
      | aud_as_array    |
      | no_kid          |
      | missing_at_hash |

  Scenario Outline: A token response that <change> is still accepted
    Given the identity provider will change the token response: <change>
    When alice logs in at "/"
    Then the application sees alice's email

    Examples:
      | change                  |
      | invert_token_type_case  |
      | omit_expires_in         |
      | omit_scope              |
      | omit_refresh_token      |

  Scenario: A token response without an ID token is refused
    Given the identity provider will change the token response: omit_id_token
    When alice opens "/"
    And alice follows the redirects
    Then alice has no session
    And the application receives nothing

  Scenario Outline: A callback whose <change> is refused before any token request
    Given the identity provider will spoil the callback: <change>
    When alice opens "/"
    And alice follows the redirects
    Then alice is not let in
    And the identity provider received no token requests

    Examples:
      | change        |
      | invalid_state |
      | missing_state |
      | missing_code  |

  Scenario: A callback naming another issuer is refused before any token request (RFC 9207)
    Given the identity provider will spoil the callback: invalid_iss
    When alice opens "/"
    And alice follows the redirects
    Then alice has no session
    And the identity provider received no token requests
