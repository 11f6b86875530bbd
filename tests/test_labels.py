"""Labels people read: one spelling per channel, country names, region labels from the config."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reporter.codes import CHANNEL_KEYS
from reporter.config import Config, load_config
from reporter.country_names import NAMES, from_phonenumbers
from reporter.errors import ConfigError
from reporter.labels import channel_label, country_name, region_label


def test_one_spelling_per_channel():
    expected = {
        "sms": "SMS", "whatsapp": "WhatsApp", "push": "Push", "inapp": "In-App", "email": "Email",
        "voice": "Voice", "rcs": "RCS", "mms": "MMS", "wechat": "WeChat", "twitter": "Twitter DM",
    }  # fmt: skip
    assert {key: channel_label(key) for key in expected} == expected
    labels = [channel_label(key) for key in CHANNEL_KEYS]
    assert len(set(labels)) == len(CHANNEL_KEYS)
    assert all(len(label) <= 24 for label in labels), labels
    assert channel_label("pigeon") == "pigeon"


@pytest.mark.parametrize(
    ("code", "name"),
    [("IN", "India"), ("US", "United States"), ("GB", "United Kingdom"), ("DE", "Germany"),
     ("KR", "South Korea"), ("in", "India"), ("XK", "Kosovo"), ("MK", "North Macedonia")],
)  # fmt: skip
def test_country_names(code, name):
    assert country_name(code) == name


def test_the_country_table_is_phonenumbers_own():
    """The table shipped (not imported from phonenumbers at every start) is what phonenumbers says."""
    regenerate = 'python -c "from reporter.country_names import regenerate; regenerate()"'
    assert from_phonenumbers() == NAMES, f"phonenumbers renamed a country: {regenerate}"
    assert len(NAMES) > 240 and NAMES["KR"] == "South Korea"


def test_a_run_does_not_load_phonenumbers_geocoding_data():
    code = "import sys, reporter.run; print('phonenumbers.geodata' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unknown_and_missing_countries():
    assert country_name("QQ") == "QQ"
    assert country_name(None) == "Unknown" and country_name("") == "Unknown"


def test_region_labels_have_defaults_and_come_from_the_config(tmp_path):
    assert region_label("in") == "India" and region_label("eu", Config()) == "Europe"
    assert [region_label(r) for r in ("us", "ca", "uk", "sg", "au")] == [
        "United States", "Canada", "United Kingdom", "Singapore", "Australia",
    ]  # fmt: skip
    assert region_label("jp") == "JP" and region_label(None) == "Unknown"
    path = tmp_path / "reporter.toml"
    path.write_text('[regions]\neu = "Europe (Frankfurt)"\njp = "Japan"\n')
    config = load_config(path)
    assert region_label("eu", config) == "Europe (Frankfurt)"
    assert region_label("jp", config) == "Japan"
    assert region_label("in", config) == "India"  # the defaults stay for the regions not named


@pytest.mark.parametrize(
    ("body", "message"),
    [('[regions]\nIN = "India"\n', "'IN' is not a region key"),
     ('[regions]\nin = ""\n', "the label of 'in' must be non-empty text"),
     ('[regions]\nin = 3\n', "the label of 'in' must be non-empty text"),
     ('regions = "in"\n', "'regions' must be a table"),
     ('[region_labels]\nin = "India"\n', "unknown key 'region_labels'")],
)  # fmt: skip
def test_bad_region_labels_are_config_errors(tmp_path, body, message):
    path = tmp_path / "reporter.toml"
    path.write_text(body)
    with pytest.raises(ConfigError, match=message) as error:
        load_config(path)
    assert str(error.value).startswith(str(path))
