-- The first digits of an international phone number: enough to tell its country (outcomes.py
-- looks each distinct prefix up once with phonenumbers). Only channels that send to phone numbers.
CREATE OR REPLACE TEMP MACRO destination_prefix(channel, destination) AS
    CASE
        WHEN channel NOT IN ('sms', 'mms', 'whatsapp', 'voice') THEN NULL
        WHEN starts_with(destination, '+') THEN left(destination, 7)
        WHEN starts_with(destination, '00') THEN '+' || substr(destination, 3, 6)
    END
