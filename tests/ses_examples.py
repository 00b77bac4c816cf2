"""Amazon SES's own example events, copied from its documentation, with a builder that puts in the address, the
Message-ID or the delivery tag of an email the test's mailing really sent.

Notifications set on an identity (`notificationType`): docs.aws.amazon.com/ses/latest/dg/notification-examples.html
Event publishing (`eventType`): docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-examples.html
"""

import json

HEADERS = """
    "headersTruncated":false,
    "headers":[
      {"name":"From", "value":"\\"John Doe\\" <john@example.com>"},
      {"name":"To", "value":"\\"Jane Doe\\" <jane@example.com>, \\"Mary Doe\\" <mary@example.com>, \\"Richard Doe\\" <richard@example.com>"},
      {"name":"Message-ID", "value":"custom-message-ID"},
      {"name":"Subject", "value":"Hello"},
      {"name":"Content-Type", "value":"text/plain; charset=\\"UTF-8\\""},
      {"name":"Content-Transfer-Encoding", "value":"base64"},
      {"name":"Date", "value":"Wed, 27 Jan 2016 14:05:45 +0000"}
    ],
    "commonHeaders":{
      "from":["John Doe <john@example.com>"],
      "date":"Wed, 27 Jan 2016 14:05:45 +0000",
      "to":["Jane Doe <jane@example.com>, Mary Doe <mary@example.com>, Richard Doe <richard@example.com>"],
      "messageId":"custom-message-ID",
      "subject":"Hello"
    }"""


def identity_mail(message_id: str) -> str:
    """The `mail` object the identity notification examples share, with the original headers; SES's own id."""
    return (
        """{
    "timestamp":"2016-01-27T14:59:38.237Z",
    "source":"john@example.com",
    "sourceArn": "arn:aws:ses:us-west-2:888888888888:identity/example.com",
    "sourceIp": "127.0.3.0",
    "sendingAccountId":"123456789012",
    "messageId":"%s",
    "destination":["jane@example.com", "mary@example.com", "richard@example.com"],"""
        % message_id
        + HEADERS
        + """
  }"""
    )


BOUNCE_WITH_DSN = (
    """{
  "notificationType":"Bounce",
  "bounce":{
    "bounceType":"Permanent",
    "reportingMTA":"dns; email.example.com",
    "bouncedRecipients":[
      {"emailAddress":"jane@example.com", "status":"5.1.1", "action":"failed",
       "diagnosticCode":"smtp; 550 5.1.1 <jane@example.com>... User"}
    ],
    "bounceSubType":"General",
    "timestamp":"2016-01-27T14:59:38.237Z",
    "feedbackId":"00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000",
    "remoteMtaIp":"127.0.2.0"
  },
  "mail":"""
    + identity_mail("00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000")
    + """
}"""
)

BOUNCE_WITHOUT_DSN = (
    """{
  "notificationType":"Bounce",
  "bounce":{
    "bounceType":"Permanent",
    "bounceSubType": "General",
    "bouncedRecipients":[{"emailAddress":"jane@example.com"}, {"emailAddress":"richard@example.com"}],
    "timestamp":"2016-01-27T14:59:38.237Z",
    "feedbackId":"00000137860315fd-869464a4-8680-4114-98d3-716fe35851f9-000000",
    "remoteMtaIp":"127.0.2.0"
  },
  "mail":"""
    + identity_mail("00000137860315fd-34208509-5b74-41f3-95c5-22c1edc3c924-000000")
    + """
}"""
)

COMPLAINT_WITH_FEEDBACK = (
    """{
  "notificationType":"Complaint",
  "complaint":{
    "userAgent":"AnyCompany Feedback Loop (V0.01)",
    "complainedRecipients":[{"emailAddress":"richard@example.com"}],
    "complaintFeedbackType":"abuse",
    "arrivalDate":"2016-01-27T14:59:38.237Z",
    "timestamp":"2016-01-27T14:59:38.237Z",
    "feedbackId":"000001378603177f-18c07c78-fa81-4a58-9dd1-fedc3cb8f49a-000000"
  },
  "mail":"""
    + identity_mail("000001378603177f-7a5433e7-8edb-42ae-af10-f0181f34d6ee-000000")
    + """
}"""
)

COMPLAINT_WITHOUT_FEEDBACK = (
    """{
  "notificationType":"Complaint",
  "complaint":{
    "complainedRecipients":[{"emailAddress":"richard@example.com"}],
    "timestamp":"2016-01-27T14:59:38.237Z",
    "feedbackId":"0000013786031775-fea503bc-7497-49e1-881b-a0379bb037d3-000000"
  },
  "mail":"""
    + identity_mail("0000013786031775-163e3910-53eb-4c8e-a04a-f29debf88a84-000000")
    + """
}"""
)

DELIVERY = """{
  "notificationType":"Delivery",
  "mail":{
    "timestamp":"2016-01-27T14:59:38.237Z",
    "messageId":"0000014644fe5ef6-9a483358-9170-4cb4-a269-f5dcdf415321-000000",
    "source":"john@example.com",
    "sourceArn": "arn:aws:ses:us-west-2:888888888888:identity/example.com",
    "sourceIp": "127.0.3.0",
    "sendingAccountId":"123456789012",
    "destination":["jane@example.com"]
  },
  "delivery":{
    "timestamp":"2016-01-27T14:59:38.237Z",
    "recipients":["jane@example.com"],
    "processingTimeMillis":546,
    "reportingMTA":"a8-70.smtp-out.amazonses.com",
    "smtpResponse":"250 ok:  Message 64111812 accepted",
    "remoteMtaIp":"127.0.2.0"
  }
}"""

EVENT_MAIL = """{
    "timestamp":"2017-08-05T00:40:02.012Z",
    "source":"Sender Name <sender@example.com>",
    "sourceArn":"arn:aws:ses:us-east-1:123456789012:identity/sender@example.com",
    "sendingAccountId":"123456789012",
    "messageId":"EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
    "destination":["recipient@example.com"],
    "headersTruncated":false,
    "headers":[
      {"name":"From", "value":"Sender Name <sender@example.com>"},
      {"name":"To", "value":"recipient@example.com"},
      {"name":"Subject", "value":"Message sent from Amazon SES"},
      {"name":"MIME-Version", "value":"1.0"},
      {"name":"Content-Type", "value":"multipart/alternative; boundary=\\"----=_Part_7307378_1629847660.1516840721503\\""}
    ],
    "commonHeaders":{
      "from":["Sender Name <sender@example.com>"],
      "to":["recipient@example.com"],
      "messageId":"EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
      "subject":"Message sent from Amazon SES"
    },
    "tags":{
      "ses:configuration-set":["ConfigSet"],
      "ses:source-ip":["192.0.2.0"],
      "ses:from-domain":["example.com"],
      "ses:caller-identity":["ses_user"]
    }
  }"""

EVENT_BOUNCE = (
    """{
  "eventType":"Bounce",
  "bounce":{
    "bounceType":"Permanent",
    "bounceSubType":"General",
    "bouncedRecipients":[
      {"emailAddress":"recipient@example.com", "action":"failed", "status":"5.1.1",
       "diagnosticCode":"smtp; 550 5.1.1 user unknown"}
    ],
    "timestamp":"2017-08-05T00:41:02.669Z",
    "feedbackId":"01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
    "reportingMTA":"dsn; mta.example.com"
  },
  "mail":"""
    + EVENT_MAIL
    + """
}"""
)

EVENT_COMPLAINT = (
    """{
  "eventType":"Complaint",
  "complaint": {
    "complainedRecipients":[{"emailAddress":"recipient@example.com"}],
    "timestamp":"2017-08-05T00:41:02.669Z",
    "feedbackId":"01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
    "userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/60.0.3112.90 Safari/537.36",
    "complaintFeedbackType":"abuse",
    "arrivalDate":"2017-08-05T00:41:02.669Z"
  },
  "mail":"""
    + EVENT_MAIL
    + """
}"""
)

EVENT_DELIVERY_DELAY = (
    """{
  "eventType": "DeliveryDelay",
  "mail":"""
    + EVENT_MAIL
    + """,
  "deliveryDelay": {
    "timestamp": "2020-06-16T00:25:40.095Z",
    "delayType": "TransientCommunicationFailure",
    "expirationTime": "2020-06-16T00:25:40.914Z",
    "delayedRecipients": [{"emailAddress": "recipient@example.com", "status": "4.4.1",
                           "diagnosticCode": "smtp; 421 4.4.1 Unable to connect to remote host"}]
  }
}"""
)

EVENT_REJECT = (
    """{
  "eventType": "Reject",
  "mail":"""
    + EVENT_MAIL
    + """,
  "reject": {"reason": "Bad content"}
}"""
)

EVENT_SUBSCRIPTION = (
    """{
  "eventType": "Subscription",
  "mail":"""
    + EVENT_MAIL
    + """,
  "subscription": {
    "contactList": "ContactListName",
    "timestamp": "2022-01-12T01:00:17.910Z",
    "source": "UnsubscribeHeader",
    "newTopicPreferences": {
      "unsubscribeAll": true,
      "topicSubscriptionStatus": [{"topicName": "ExampleTopicName", "subscriptionStatus": "OptOut"}]
    },
    "oldTopicPreferences": {
      "unsubscribeAll": false,
      "topicSubscriptionStatus": [{"topicName": "ExampleTopicName", "subscriptionStatus": "OptOut"}]
    }
  }
}"""
)


def example(
    text: str,
    *,
    address: str | None = None,
    example_address: str = "jane@example.com",
    message_id: str | None = None,
    delivery_id: int | None = None,
    **bounce,
) -> dict:
    """One of the examples above, naming an email the test sent: its recipient for `example_address`, its
    Message-ID for the example's, the delivery tag SES echoes from X-SES-MESSAGE-TAGS; `bounce` overrides
    fields of the bounce object (bounceType)."""
    if address:
        text = text.replace(example_address, address)
    if message_id:
        text = text.replace("custom-message-ID", message_id)
    event = json.loads(text)
    if delivery_id is not None:
        event["mail"].setdefault("tags", {})["mobilise_delivery"] = [str(delivery_id)]
    event.get("bounce", {}).update(bounce)
    return event
