@login @email-rules
Feature: Allowed emails and email domains
  The gateway admits a user whose verified email is on the allowed list, or whose email's
  domain is an allowed domain — matched exactly, subdomains listed one by one. Addresses
  compare case-insensitively. Anyone else gets an error page and can try another account.

  Background:
    Given the identity provider is Google
    And a user kate with email "Kate.Libby@Gmail.com"
    And a user bob with email "bob@acme.org"
    And a user eve with email "eve@eng.acme.org"
    And a user mallory with email "mallory@evilacme.org"
    And a user ann whose email "ann@acme.org" is not verified
    And a user nemo without an email address
    And the gateway allows the email "kate.libby@gmail.com"
    And the gateway allows the email domain "acme.org"

  Scenario: An allowed email gets in whatever its case
    When kate logs in at "/"
    Then the application sees kate's email

  Scenario: An address in an allowed domain gets in
    When bob logs in at "/"
    Then the application sees bob's email

  Scenario Outline: <who> is refused (<why>)
    When <who> opens "/"
    And <who> completes the login
    Then <who> is not let in
    And the application receives nothing

    Examples:
      | who     | why                                       |
      | eve     | subdomains must be listed                |
      | mallory | a look-alike domain is not a suffix match |
      | ann     | unverified emails never match            |
      | nemo    | no email at all                          |
      | alice   | not on any list                          |

  @events
  Scenario: A refused user is named in the gateway's events
    When bob opens "/"
    And alice opens "/"
    And alice completes the login
    Then the gateway reports block for "/oauth2/callback" naming alice

  Scenario: Listing a subdomain admits it
    Given the gateway allows the email domain "eng.acme.org"
    When eve logs in at "/"
    Then the application sees eve's email

  @retry-link
  Scenario: A refused user is told so and can try another account
    When alice opens "/"
    And alice completes the login
    Then alice sees an error page with status 403
    And the page offers a link to log in again
