@security @login @email-rules
Feature: Security — who is let in
  The security checklist's section D: allowed emails and domains are whole, exact
  comparisons of a strictly formed, verified, ASCII address. Look-alikes of every kind are
  refused with an error page, and nothing reaches the application.

  Background:
    Given the identity provider is Google
    And the gateway allows the email "alice@example.com"
    And the gateway allows the email domain "example.org"

  @sec-30
  Scenario: 30 — The allowed address itself gets in, whatever its case (documented: addresses compare case-insensitively)
    Given a user al with email "ALICE@Example.COM"
    When al logs in at "/"
    Then the application sees al's email

  @sec-30 @sec-31 @sec-32 @sec-33
  Scenario Outline: 30–33 — <email> is refused (<why>)
    Given a user mallory with email "<email>"
    When mallory opens "/"
    And mallory completes the login
    Then mallory is not let in
    And the application receives nothing

    Examples:
      | email                          | why                                   |
      | xalice@example.com             | 30: a longer local part               |
      | alice@example.com.evil.test    | 30: the allowed address as a prefix   |
      | alice@example.community        | 30: a longer domain                   |
      | alice@example.com@evil.test    | 30: two @                             |
      | u@evilexample.org              | 31: the allowed domain as a suffix    |
      | u@example.org.evil.test        | 31: the allowed domain as a prefix    |
      | example.org@gmail.test         | 31: the domain in the local part      |
      | u@sub.example.org              | 31: subdomains are not listed         |
      | attacker@evil.test@example.org | 32: two @                             |
      | a(comment)@example.org         | 32: a comment                         |
      | {QUOTE}a@b{QUOTE}@example.org  | 32: a quoted local part               |
      | a@example.org{LF}              | 32: a trailing newline                |
      | a@example.org{NUL}             | 32: a trailing NUL                    |
      | a@example.org{TAB}             | 32: a trailing tab                    |
      | a@example.org%00               | 32: an encoded NUL                    |
      | u@example.org.                 | 32: a trailing dot                    |
      | u@EXAMPLE.ORG.                 | 32: a trailing dot in capitals        |
      | u@example.org:443              | 32: a port                            |
      | u@exаmple.org                  | 33: a Cyrillic а                      |
      | u@example․org                  | 33: a one-dot leader                  |
      | u@example。org                 | 33: an ideographic full stop          |
      | u＠example.org                 | 33: a fullwidth @                     |
      | u@ｅxample.org                 | 33: a fullwidth e                     |

  @sec-32
  Scenario: 32 — An address with a trailing space is refused
    Given a user mallory with email "mallory@example.org "
    When mallory opens "/"
    And mallory completes the login
    Then mallory is not let in
    And the application receives nothing

  @sec-34
  Scenario: 34 — An unverified address in an allowed domain is refused
    Given a user ann whose email "ann@example.org" is not verified
    When ann opens "/"
    And ann completes the login
    Then ann is refused with status 403
    And the application receives nothing

  @sec-34
  Scenario: 34 — GitHub: an address the emails API does not mark verified is refused
    Given the identity provider is GitHub
    And a user ann whose email "ann@example.org" is not verified
    When ann opens "/"
    And ann completes the login
    Then ann is not let in
    And the application receives nothing

  @sec-35 @auth-check-interval @fake-clock
  Scenario: 35 — An email changed at the identity provider is judged again at the next check
    Given the auth check interval is 5 minutes
    And a user bob with email "bob@example.org"
    When bob logs in at "/"
    And the identity provider changes bob's email to "bob@gmail.test"
    And 6 minutes pass
    And bob opens "/after"
    Then bob is not let in
    And the application never receives "/after"

  @sec-36 @auth-check-interval @fake-clock @idp-outage
  Scenario: 36 — When the identity provider cannot be asked, the check fails closed
    Given the auth check interval is 5 minutes
    When alice logs in at "/"
    And the identity provider becomes unreachable
    And 6 minutes pass
    And alice opens "/during"
    Then the application never receives "/during"
