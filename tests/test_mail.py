"""`reporter email` against a real SMTP server (aiosmtpd on 127.0.0.1) and a throwaway CA (trustme)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import json
import re
import socket
import ssl
import struct
import zlib
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner

from reporter.cli import cli
from reporter.errors import ConfigError, DeliveryError, EmailContentError, InputError
from reporter.mail import CAFILE_ENV, PASSWORD_ENV, EmailOptions, email_report, load_report_email

HTML = (
    '<html><body><table><tr><td><h1>Delivery report</h1><img src="cid:daily" alt="Daily failures">'
    '<img src="cid:by-channel" alt="Failures by channel"></td></tr></table></body></html>'
)
TEXT = "Delivery report\nMessages: 1200\nFailure rate: 3.2%\n"
SUBJECT = "Delivery report 2026-11-24"
SENDER = "Reports <reports@example.com>"


def _png(red: int) -> bytes:
    """A valid 1x1 PNG; `red` makes each one's bytes distinct."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(bytes([0, red, 0, 0]))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


PNGS = {"daily": _png(1), "by-channel": _png(2)}


@pytest.fixture(autouse=True)
def _no_smtp_env(monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    monkeypatch.delenv(CAFILE_ENV, raising=False)


@pytest.fixture
def report_dir(tmp_path: Path) -> Path:
    """The report writer's contract: manifest.json and email/{body.html,body.txt,subject.txt,*.png}."""
    report = tmp_path / "report"
    (report / "email").mkdir(parents=True)
    (report / "manifest.json").write_text(json.dumps({"inputs": []}), encoding="utf-8")
    (report / "email" / "body.html").write_text(HTML, encoding="utf-8")
    (report / "email" / "body.txt").write_text(TEXT, encoding="utf-8")
    (report / "email" / "subject.txt").write_text(SUBJECT + "\n", encoding="utf-8")
    for name, data in PNGS.items():
        (report / "email" / f"{name}.png").write_bytes(data)
    return report


class Inbox:
    """An aiosmtpd handler that keeps what it accepts; rcpt_reply (for all but ops@) and data_reply refuse."""

    def __init__(self, rcpt_reply: str | None = None, data_reply: str | None = None) -> None:
        self.rcpt_reply, self.data_reply = rcpt_reply, data_reply
        self.received: list[tuple[str, list[str], bytes]] = []
        self.over_tls: list[bool] = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply and not address.startswith("ops@"):
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        self.over_tls.append(server.transport.get_extra_info("ssl_object") is not None)
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=self.logins[-1:] == [(b"reports", b"s3cret")])


def _free_port() -> int:
    # aiosmtpd rejects port=0: let the OS pick a free port, then hand it over.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server():
    """Start servers on demand: smtp_server(inbox, **SMTP options) -> port; all stopped afterwards."""
    controllers = []

    def start(inbox: Inbox, **kwargs) -> int:
        port = _free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        controllers.append(controller)
        return port

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def server_tls(ca) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.fixture
def ca_file(ca, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def _config(tmp_path: Path, port: int | None = None, **smtp: object) -> Path:
    values: dict[str, object] = {"sender": SENDER, **({"host": "127.0.0.1", "port": port} if port else {})}
    values.update(smtp)
    values = {key: value for key, value in values.items() if value is not None}
    lines = ["[smtp]", *(f"{key} = {json.dumps(value)}" for key, value in values.items())]
    path = tmp_path / "reporter.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _send(report_dir: Path, config: Path, **options) -> None:
    email_report(EmailOptions(report_dir, ("ops@example.com",), config=config, **options))


def _parse(content: bytes) -> email.message.EmailMessage:
    msg = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(msg, email.message.EmailMessage)
    return msg


def test_report_arrives_as_text_and_html_with_inline_charts(report_dir, tmp_path, smtp_server):
    inbox = Inbox()
    port = smtp_server(inbox)
    config = _config(tmp_path, port, security="none", allow_plaintext=True)
    options = EmailOptions(report_dir, ("ops@example.com",), ("Boss <boss@example.com>",), config=config)
    email_report(options)

    [(mail_from, rcpt_tos, content)] = inbox.received
    assert mail_from == "reports@example.com"
    assert sorted(rcpt_tos) == ["boss@example.com", "ops@example.com"]
    msg = _parse(content)
    assert (msg["Subject"], msg["From"], msg["To"], msg["Cc"]) == (
        SUBJECT,
        SENDER,
        "ops@example.com",
        "Boss <boss@example.com>",
    )
    assert msg["Message-ID"] == f"<{hashlib.sha256(HTML.encode()).hexdigest()[:32]}@reporter>"
    assert msg.get_content_type() == "multipart/alternative"
    plain, related = msg.iter_parts()
    assert (plain.get_content_type(), related.get_content_type()) == ("text/plain", "multipart/related")
    assert plain.get_content().splitlines() == TEXT.splitlines()  # CRLF on the wire
    html, *images = related.iter_parts()
    assert html.get_content_type() == "text/html"
    assert html.get_content().strip() == HTML
    assert [image.get_content_type() for image in images] == ["image/png", "image/png"]
    cids = re.findall(r'src="cid:([^"]+)"', html.get_content())
    assert sorted(cids) == sorted(PNGS)
    for cid in cids:
        [image] = [image for image in images if image["Content-ID"] == f"<{cid}>"]
        assert image.get_content() == PNGS[cid]
    for image in images:
        assert image.get_content_disposition() == "inline"
        assert image.get_filename() is None


def test_message_id_is_the_same_for_the_same_report(report_dir):
    first = load_report_email(report_dir)
    again = load_report_email(report_dir)
    assert first.message_id == again.message_id
    (report_dir / "email" / "body.html").write_text(HTML.replace("Delivery", "Daily"), encoding="utf-8")
    assert load_report_email(report_dir).message_id != first.message_id


def test_subject_option_and_date(report_dir, tmp_path):
    eml = tmp_path / "out" / "report.eml"
    date = dt.datetime(2026, 11, 25, 6, 0, tzinfo=dt.UTC)
    _send(report_dir, _config(tmp_path), subject="Weekly", dry_run=eml, date=date)
    msg = _parse(eml.read_bytes())
    assert (msg["Subject"], msg["Date"]) == ("Weekly", "Wed, 25 Nov 2026 06:00:00 +0000")


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda email_dir: (email_dir / "daily.png").unlink(), "cid:daily has no PNG"),
        (lambda email_dir: (email_dir / "extra.png").write_bytes(_png(3)), "extra.png never referenced"),
        (lambda email_dir: (email_dir / "daily.png").write_bytes(b"GIF89a"), "daily.png: not a PNG"),
        (lambda email_dir: (email_dir / "subject.txt").write_text("a\nb"), "one non-empty line"),
    ],
)
def test_an_email_folder_that_does_not_hold_together_is_a_data_error(report_dir, change, fragment):
    change(report_dir / "email")
    with pytest.raises(EmailContentError, match=re.escape(fragment)) as caught:
        load_report_email(report_dir)
    assert caught.value.exit_code == 65


@pytest.mark.parametrize("missing", ["manifest.json", "email/body.txt"])
def test_a_missing_report_file_is_no_input(report_dir, missing):
    (report_dir / missing).unlink()
    with pytest.raises(InputError) as caught:
        load_report_email(report_dir)
    assert caught.value.exit_code == 66


def test_starttls_with_an_untrusted_certificate_is_refused(report_dir, tmp_path, smtp_server, server_tls):
    inbox = Inbox()
    port = smtp_server(inbox, tls_context=server_tls, require_starttls=True)
    with pytest.raises(DeliveryError, match="TLS certificate not trusted") as caught:
        _send(report_dir, _config(tmp_path, port))
    assert caught.value.exit_code == 69
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert inbox.received == []


@pytest.mark.parametrize("how", ["env", "config"])
def test_starttls_with_the_private_ca_delivers(
    report_dir, tmp_path, smtp_server, server_tls, ca_file, monkeypatch, how
):
    inbox = Inbox()
    port = smtp_server(inbox, tls_context=server_tls, require_starttls=True)
    if how == "env":
        monkeypatch.setenv(CAFILE_ENV, str(ca_file))
        config = _config(tmp_path, port)
    else:  # relative to the config file's folder
        config = _config(tmp_path, port, cafile=ca_file.name)
    _send(report_dir, config)
    assert inbox.over_tls == [True]


def test_implicit_tls_delivers(report_dir, tmp_path, smtp_server, server_tls, ca_file):
    inbox = Inbox()
    port = smtp_server(inbox, ssl_context=server_tls)
    _send(report_dir, _config(tmp_path, port, security="ssl", cafile=str(ca_file)))
    assert inbox.over_tls == [True]


def test_login_uses_the_password_from_the_environment(
    report_dir, tmp_path, smtp_server, server_tls, ca_file, monkeypatch
):
    inbox = Inbox()
    port = smtp_server(
        inbox,
        tls_context=server_tls,
        require_starttls=True,
        auth_required=True,
        authenticator=inbox.authenticate,
    )
    config = _config(tmp_path, port, user="reports", cafile=str(ca_file))
    with pytest.raises(ConfigError, match=PASSWORD_ENV):
        _send(report_dir, config)
    monkeypatch.setenv(PASSWORD_ENV, "s3cret")
    _send(report_dir, config)
    assert inbox.logins == [(b"reports", b"s3cret")]
    assert len(inbox.received) == 1


@pytest.mark.parametrize("allow_plaintext", [False, True])
def test_a_server_without_starttls_gets_nothing_unless_plaintext_is_allowed(
    report_dir, tmp_path, smtp_server, allow_plaintext
):
    inbox = Inbox()
    port = smtp_server(inbox)
    config = _config(tmp_path, port, allow_plaintext=allow_plaintext)
    if allow_plaintext:
        _send(report_dir, config)
        assert inbox.over_tls == [False]
        return
    with pytest.raises(DeliveryError, match="offers no STARTTLS") as caught:
        _send(report_dir, config)
    assert caught.value.exit_code == 69
    assert inbox.received == []


@pytest.mark.parametrize(
    ("inbox", "exit_code", "reply"),
    [
        (Inbox(data_reply="451 4.3.0 try later"), 75, "DATA refused: 451 4.3.0 try later"),
        (
            Inbox(rcpt_reply="550 5.1.1 no such user"),
            69,
            "RCPT TO <nobody@example.com> refused: 550 5.1.1 no such user",
        ),
    ],
    ids=["4xx", "5xx"],
)
def test_smtp_replies_map_to_exit_codes(report_dir, tmp_path, smtp_server, inbox, exit_code, reply):
    port = smtp_server(inbox)
    config = _config(tmp_path, port, security="none", allow_plaintext=True)
    args = ["email", str(report_dir), "--to", "nobody@example.com", "--config", str(config)]
    result = CliRunner().invoke(cli, args)
    assert (result.exit_code, result.stdout) == (exit_code, "")
    assert result.stderr == f"reporter: SMTP 127.0.0.1:{port}: {reply}\n"


def test_a_partly_refused_message_says_the_others_got_it(report_dir, tmp_path, smtp_server):
    inbox = Inbox(rcpt_reply="550 5.1.1 no such user")  # refuses every address but ops@
    config = _config(tmp_path, smtp_server(inbox), security="none", allow_plaintext=True)
    with pytest.raises(DeliveryError, match="refused; sent to the other recipients: 550") as caught:
        _send(report_dir, config, cc=("nobody@example.com",))
    assert caught.value.exit_code == 69
    assert [rcpt for _, rcpt, _ in inbox.received] == [["ops@example.com"]]


def test_a_closed_port_is_a_temporary_failure(report_dir, tmp_path):
    with pytest.raises(DeliveryError, match="connection failed: Connection refused") as caught:
        _send(report_dir, _config(tmp_path, _free_port()))
    assert caught.value.exit_code == 75


def test_a_server_that_never_answers_is_a_temporary_failure(report_dir, tmp_path, monkeypatch):
    monkeypatch.setattr("reporter.mail.TIMEOUT", 0.2)
    with socket.socket() as silent:  # accepts connections (backlog) but never sends a greeting
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        with pytest.raises(DeliveryError, match="timed out") as caught:
            _send(report_dir, _config(tmp_path, silent.getsockname()[1]))
    assert caught.value.exit_code == 75


def test_dry_run_writes_the_message_and_connects_to_nothing(report_dir, tmp_path):
    # The configured port has no listener: any connection attempt would fail the command with 75.
    config = _config(tmp_path, _free_port())
    eml = tmp_path / "out" / "report.eml"
    args = ["email", str(report_dir), "--to", "ops@example.com", "--dry-run", str(eml)]
    result = CliRunner().invoke(cli, [*args, "--config", str(config)])
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    data = eml.read_bytes()
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    msg = _parse(data)
    assert (msg.get_content_type(), msg["To"]) == ("multipart/alternative", "ops@example.com")
    assert [p.get_content_type() for p in msg.walk()].count("image/png") == 2
    assert list(eml.parent.iterdir()) == [eml]  # no temporary file left behind


def test_a_dry_run_needs_no_config_at_all(report_dir, tmp_path):
    eml = tmp_path / "m.eml"
    args = ["email", str(report_dir), "--to", "a@example.com", "--dry-run", str(eml)]
    result = CliRunner().invoke(cli, args)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    msg = _parse(eml.read_bytes())
    assert (msg["From"], msg["To"], msg["Subject"]) == (
        f"reporter@{socket.gethostname()}",
        "a@example.com",
        SUBJECT,
    )
    plain = msg.get_body(("plain",))
    assert plain is not None and plain.get_content().replace("\r\n", "\n") == TEXT


@pytest.mark.parametrize(
    ("configured", "option", "expected"),
    [
        (None, "Ops <ops@example.com>", "Ops <ops@example.com>"),
        (SENDER, None, SENDER),
        (SENDER, "x@example.com", "x@example.com"),
    ],
)
def test_from_is_the_option_else_the_configured_sender(report_dir, tmp_path, configured, option, expected):
    config = _config(tmp_path, **({} if configured else {"sender": None}))
    eml = tmp_path / "m.eml"
    _send(report_dir, config, dry_run=eml, sender=option)
    assert _parse(eml.read_bytes())["From"] == expected


def test_a_bad_from_address_is_a_usage_error(report_dir, tmp_path):
    args = ["email", str(report_dir), "--to", "a@example.com", "--from", "nobody", "--dry-run", "x.eml"]
    result = CliRunner().invoke(cli, args)
    assert (result.exit_code, result.stderr) == (64, "reporter: --from: not one email address: 'nobody'\n")
    assert not (tmp_path / "x.eml").exists()


@pytest.mark.parametrize(
    ("smtp", "fragment"),
    [
        ({"hostname": "mail"}, "[smtp]: unknown key 'hostname'"),
        ({"password": "x"}, "set REPORTER_SMTP_PASSWORD"),
        ({"security": "tls"}, "security must be one of starttls, ssl, none"),
        ({"security": "none"}, "also set allow_plaintext = true"),
        ({"port": "25"}, "'port' must be an integer"),
        ({"sender": ""}, "'sender' is empty"),
    ],
)
def test_config_errors_exit_78_naming_file_and_key(report_dir, tmp_path, smtp, fragment):
    config = _config(tmp_path, **smtp)
    args = ["email", str(report_dir), "--to", "a@example.com", "--dry-run", "x.eml", "--config", str(config)]
    result = CliRunner().invoke(cli, args)
    assert (result.exit_code, result.stdout) == (78, "")
    assert result.stderr.startswith(f"reporter: {config}")
    assert fragment in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_bad_address_is_a_usage_error(report_dir, tmp_path):
    two = "ops@example.com, boss@example.com"
    args = ["email", str(report_dir), "--to", two, "--dry-run", "x.eml", "--config", str(_config(tmp_path))]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 64
    assert result.stderr == f"reporter: --to/--cc: not one email address: {two!r}\n"


def test_a_real_run_is_emailed_end_to_end_over_starttls(tmp_path, smtp_server, server_tls, ca_file):
    """`reporter run` on sample_logs, then `reporter email` through the CLI to a STARTTLS server."""
    from tests.conftest import ROOT

    out = tmp_path / "run"
    assert CliRunner().invoke(cli, ["run", str(ROOT / "sample_logs"), "--out", str(out)]).exit_code == 0
    inbox = Inbox()
    port = smtp_server(inbox, tls_context=server_tls, require_starttls=True)
    config = _config(tmp_path, port, cafile=str(ca_file))
    result = CliRunner().invoke(
        cli,
        ["email", str(out), "--to", "ops@example.com", "--cc", "lead@example.com", "--config", str(config)],
    )
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    [(_, rcpt_tos, content)] = inbox.received
    assert sorted(rcpt_tos) == ["lead@example.com", "ops@example.com"]
    msg = _parse(content)
    assert msg["Subject"] == (out / "email" / "subject.txt").read_text().strip()
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",))
    html_part = msg.get_body(("html",))
    assert text is not None and html_part is not None
    html = html_part.get_content()
    cids = set(re.findall(r'src="cid:([^"]+)"', html))
    assert cids == {p.stem for p in (out / "email").glob("*.png")}
    images = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert sorted(str(i["Content-ID"]).strip("<>") for i in images) == sorted(cids)
    headline = (out / "email" / "body.txt").read_text().splitlines()[2]  # the figures line
    assert headline in text.get_content()
