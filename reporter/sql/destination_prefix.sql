-- The first digits of an international phone number: enough to tell its country (outcomes.py
-- looks each distinct prefix up once with phonenumbers). Only phone channels (reporter/vocabulary.py).
CREATE OR REPLACE TEMP MACRO destination_prefix(channel, destination) AS
    {{ destination_prefix(channel, destination) }}
