"""A concrete next step for a failure code: the code's own where the vendor's document says something
specific about it, else one per failure category.

Keys are (channel, code); ("common", code) applies to any channel that has no row of its own for it.
Each text paraphrases what the document's description says causes the code.
"""

from __future__ import annotations

BY_CODE: dict[tuple[str, int], str] = {
    ("common", 7000): "Fix the request body: it is not valid JSON.",
    ("common", 7001): "Check the service key and credentials of the app sending these messages.",
    ("common", 7002): "Send the service key with every request; it was missing.",
    ("common", 7003): "Add the missing mandatory parameters to the request.",
    ("common", 7004): "Find the parameter with an invalid value (the API response names it) and fix it.",
    ("common", 7005): "Requests expired before processing: check clock skew and queue delays on your side.",
    (
        "common",
        7006,
    ): "An internal platform error: retry, and open a ticket with the provider if it persists.",
    ("common", 7007): "The service is inactive: reactivate it in the provider's console.",
    ("common", 7009): "Split the batch: at most 1,000 destinations per request.",
    ("common", 7020): "The account hit its transaction limit: slow down or ask the provider to raise it.",
    ("common", 7104): "Use a valid app id for this service.",
    ("sms", 7006): "Failed at the gateway, not sent to the operator: usually intermittent; retry and watch.",
    ("sms", 7101): "Register the sender ID with the destination operator, or use an authorised one.",
    ("sms", 7102): "Clean the list: these addresses are not valid phone numbers.",
    ("sms", 7109): "Respect Do Not Disturb: suppress these numbers for promotional traffic.",
    ("sms", 7111): "Carrier spam filter: review content and sending speed against the carrier's rules.",
    ("sms", 7201): "The operator rejected the messages: ask the provider for the operator's reason.",
    ("sms", 7202): "Delivery failed at the platform: open a ticket with the provider.",
    ("sms", 7203): "Remove these numbers: the destination network does not know the subscriber.",
    ("sms", 7204): "Prepaid subscribers without credit: retry later or use another channel.",
    ("sms", 7206): "The handset's SIM is full: retry later.",
    ("sms", 7207): "Subscribers out of coverage: retry later; consider a longer validity period.",
    ("sms", 7208): "The handset stayed unreachable until expiry: extend the validity period or retry.",
    ("sms", 7209): "Multipart delivery failed: shorten the text to one part or check concatenation support.",
    ("sms", 7210): "Fix the billing configuration of the account with the provider.",
    ("sms", 7211): "The operator reports a billing error: ask the provider to check the route.",
    ("sms", 7281): "Register the number with an approved 10DLC brand and campaign.",
    ("sms", 7282): "No valid route: ask the provider to check routing to this destination.",
    ("sms", 7283): "Landline or invalid operator: remove these numbers or send voice instead.",
    ("sms", 7284): "Duplicates caught by the guard: check for a retry loop sending the same message.",
    ("sms", 7302): "The sender exceeded its authorised TPS: slow down or raise the 10DLC throughput.",
    ("sms", 7607): "The operator refuses this message type (binary or Unicode): send plain GSM text.",
    ("sms", 7720): "The recipient blocked these messages: suppress them.",
    ("email", 7240): "The address bounced before: remove it from the list.",
    ("email", 7241): "The address unsubscribed: stop sending to it.",
    ("email", 7520): "Bounces: suppress permanent bounces; check sending reputation if the rate rises.",
    ("email", 7521): "Recipients complained: stop sending to them and review the campaign's consent.",
    ("email", 7522): "The account is in sandbox mode: verify the addresses or request production access.",
    ("email", 7523): "Invalid addresses: validate addresses at sign-up.",
    ("email", 7535): "Email too large: shrink attachments below the size limit.",
    ("push", 7504): "Push authentication failed: renew the app's push credentials.",
    ("push", 7505): "Payload over 4 KB (Android): shorten it.",
    ("push", 7507): "Too many requests for the app: slow down sending.",
    ("push", 7508): "Google's push server erred: retry later.",
    ("push", 7510): "Payload over 4 KB (iOS): shorten it.",
    ("push", 7512): "Invalid push ids: drop them and re-register the devices.",
    ("push", 7513): "Uninstalled apps: remove these device tokens.",
    ("push", 7514): "Wrong APNS gateway for the certificate: match sandbox or production.",
    ("push", 7515): "The APNS certificate is invalid: upload a new one.",
    ("push", 7517): "Apple's push server erred: retry later.",
    ("whatsapp", 7010): "The WhatsApp provider raised an exception: open a ticket with the provider.",
    ("whatsapp", 7701): "The media URL could not be downloaded: check it is public and reachable.",
    ("whatsapp", 7705): "Messages expired in their TTL: check the queue and the TTL.",
    ("whatsapp", 7706): "Too many messages from this number in a short time: spread the sending.",
    ("whatsapp", 7710): "Outside the 24-hour window: use an approved template to re-engage.",
    ("whatsapp", 7711): "Spam limits on this number: improve its quality rating before sending more.",
    ("whatsapp", 7714): "Keep messages under 4,096 characters.",
    ("whatsapp", 7722): "Template parameters do not match the WABA namespace: fix the template call.",
}

BY_CATEGORY: dict[str, str] = {
    "request": "Fix the request: a parameter, template or payload is invalid.",
    "auth": "Check the credentials, keys and permissions of the app or account.",
    "sender": "Register or correct the sender ID or campaign.",
    "recipient": "Clean the list: these recipients are invalid, unreachable or opted out.",
    "content": "Change the content: its size, type or wording was refused.",
    "throttling": "Send more slowly or raise the limit, then retry.",
    "expired": "Retry; consider a longer validity period.",
    "billing": "Check the account's or subscriber's balance and billing set-up.",
    "network": "A network or operator problem: retry later; tell the provider if it persists.",
    "platform": "A provider or platform error: retry; open a ticket if it persists.",
    "unknown": "Ask the provider what this code means here.",
}


def next_step(channel: str, code: int | None, category: str | None) -> str:
    """The code's own next step (channel row, then common row), else its category's."""
    if code is not None:
        for key in ((channel, code), ("common", code)):
            if key in BY_CODE:
                return BY_CODE[key]
    return BY_CATEGORY.get(category or "unknown", BY_CATEGORY["unknown"])
