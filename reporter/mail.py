"""`reporter email`: a report's email/ folder as one MIME message, sent over verified SMTP.

The message is multipart/alternative[text/plain, multipart/related[text/html, image/png...]]: HTML clients
show the charts inline by Content-ID (Gmail shows no data: images), the others show the plain text.
Every failure is one line naming the server and its reply; see DeliveryError for the exit codes.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import json
import os
import re
import smtplib
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from reporter.config import SmtpConfig, load_config
from reporter.errors import (
    ConfigError,
    DeliveryError,
    EmailContentError,
    InputError,
    ReporterError,
    TransientDeliveryError,
    UsageError,
)
from reporter.fsio import atomic_path

PASSWORD_ENV = "REPORTER_SMTP_PASSWORD"
CAFILE_ENV = "REPORTER_SMTP_CAFILE"
# Per socket operation: a relay that hangs becomes exit 75 instead of a cron job that never ends.
TIMEOUT = 30.0
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A cid: URL in src="..." or CSS url(...); NAME is a PNG's file stem.
CID_REF = re.compile(r"cid:([^\"'\s)>]+)", re.IGNORECASE)
# Stems that need no quoting inside a Content-ID or a cid: URL.
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
REPLY_STAGES: dict[type[smtplib.SMTPResponseException], str] = {
    smtplib.SMTPConnectError: "greeting refused",
    smtplib.SMTPHeloError: "EHLO refused",
    smtplib.SMTPAuthenticationError: "AUTH refused",
    smtplib.SMTPSenderRefused: "MAIL FROM refused",
    smtplib.SMTPDataError: "DATA refused",
}


@dataclass(frozen=True)
class EmailOptions:
    report_dir: Path
    to: tuple[str, ...]
    cc: tuple[str, ...] = ()
    subject: str | None = None  # None: the report's email/subject.txt
    dry_run: Path | None = None  # write the message to this .eml file and send nothing
    config: Path | None = None  # the TOML config holding [smtp]
    date: dt.datetime | None = None  # the Date header; None: now
    sender: str | None = None  # the From address; None: [smtp] sender, else default_sender()


@dataclass(frozen=True)
class ReportEmail:
    """A report's email/ folder, checked: every cid: has its PNG and every PNG is referenced."""

    html: str
    text: str
    subject: str
    images: tuple[tuple[str, bytes], ...]  # (file stem = Content-ID, PNG bytes), sorted by stem
    message_id: str


def message_id(html: bytes) -> str:
    """`<hash@reporter>` from body.html: a resend of the same report carries the same Message-ID."""
    return f"<{hashlib.sha256(html).hexdigest()[:32]}@reporter>"


def email_report(options: EmailOptions) -> EmailMessage:
    """Build the report's message and send it (or write it to options.dry_run); returns the message."""
    smtp = load_config(options.config).smtp
    where = f"{options.config}: [smtp]" if options.config else "[smtp] (no --config given)"
    sender = _sender(options.sender, smtp.sender, where)
    if not options.to:
        raise UsageError("give at least one --to address")
    for value in options.to + options.cc:
        _address(value, "--to/--cc", UsageError)
    report = load_report_email(options.report_dir)
    msg = build_message(report, sender, options.to, options.cc, subject=options.subject, date=options.date)
    if options.dry_run is not None:
        write_eml(msg, options.dry_run)
        return msg
    if not smtp.host:
        raise ConfigError(f"{where}: missing 'host' (needed to send; --dry-run needs none)")
    password = os.environ.get(PASSWORD_ENV)
    deliver(msg, smtp, password=password, cafile=os.environ.get(CAFILE_ENV) or smtp.cafile)
    return msg


def default_sender() -> str:
    """The From address when neither --from nor [smtp] sender gives one: reporter@ this host's name
    (as cron's own mail is from user@host), so a dry run needs no config at all."""
    return f"reporter@{socket.gethostname() or 'localhost'}"


def _sender(option: str | None, configured: str | None, where: str) -> str:
    """--from, else [smtp] sender, else default_sender(); each checked to be one address."""
    if option is not None:
        _address(option, "--from", UsageError)
        return option
    if configured is None:
        return default_sender()
    if not configured:
        raise ConfigError(f"{where}: 'sender' is empty (leave it out for the default, {default_sender()})")
    _address(configured, f"{where} sender", ConfigError)
    return configured


def load_report_email(report_dir: Path) -> ReportEmail:
    """Read REPORT_DIR/email/{body.html,body.txt,subject.txt,*.png}; REPORT_DIR must hold a manifest."""
    if not report_dir.is_dir():
        raise InputError(f"{report_dir}: no such folder")
    _check_manifest(report_dir / "manifest.json")
    folder = report_dir / "email"
    html_bytes = _read(folder / "body.html")
    html = _decode(html_bytes, folder / "body.html")
    subject = _decode(_read(folder / "subject.txt"), folder / "subject.txt").strip()
    if not one_line(subject):
        raise EmailContentError(f"{folder / 'subject.txt'}: the subject must be one non-empty line")
    text = _decode(_read(folder / "body.txt"), folder / "body.txt")
    return ReportEmail(html, text, subject, _images(folder, html), message_id(html_bytes))


def one_line(subject: str) -> bool:
    """A subject is one non-empty line of printable text: no line break of any kind (vertical tab,
    U+2028...) and no control character, which a header cannot carry."""
    return bool(subject.strip()) and all(c.isprintable() or c == " " for c in subject)


def build_message(
    report: ReportEmail,
    sender: str,
    to: Sequence[str],
    cc: Sequence[str] = (),
    *,
    subject: str | None = None,
    date: dt.datetime | None = None,
) -> EmailMessage:
    """multipart/alternative[text/plain, multipart/related[text/html, image/png...]]."""
    if subject is not None and not one_line(subject):
        raise UsageError("--subject must be one non-empty line")
    msg = EmailMessage()
    msg["Subject"] = subject or report.subject
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Date"] = email.utils.format_datetime(date or dt.datetime.now(dt.UTC))
    msg["Message-ID"] = report.message_id
    msg.set_content(report.text)
    msg.add_alternative(report.html, subtype="html")
    html_part = msg.get_body(preferencelist=("html",))
    assert html_part is not None  # add_alternative just made it
    for name, png in report.images:
        # No filename: clients would list the chart as an attachment as well as showing it inline.
        html_part.add_related(png, "image", "png", cid=f"<{name}>", disposition="inline")
    return msg


def write_eml(msg: EmailMessage, path: Path) -> None:
    """The message as sent (CRLF line ends), written atomically."""
    data = msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def deliver(
    msg: EmailMessage, smtp: SmtpConfig, *, password: str | None = None, cafile: str | None = None
) -> None:
    """Send `msg` (envelope from its From, To and Cc) through the [smtp] server, TLS verified."""
    if not smtp.host:
        raise ConfigError("[smtp]: missing 'host'")
    if smtp.user and not password:
        raise ConfigError(f"[smtp] user {smtp.user!r} is set but {PASSWORD_ENV} is empty")
    context = _tls_context(cafile)
    server = f"SMTP {smtp.host}:{smtp.port}"
    try:
        if smtp.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=TIMEOUT, context=context)
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=TIMEOUT)
        try:
            _start_tls(client, smtp, context, server)
            if smtp.user and password:
                client.login(smtp.user, password)
            refused = client.send_message(msg)
        finally:
            _quit(client)
    except OSError as exc:  # smtplib.SMTPException and ssl.SSLError are OSErrors too
        raise _delivery_error(server, exc, cafile) from exc
    if refused:
        raise _refused(server, refused, sent_to_others=True)


def _start_tls(client: smtplib.SMTP, smtp: SmtpConfig, context: ssl.SSLContext, server: str) -> None:
    if smtp.security != "starttls":
        return
    client.ehlo()
    if client.has_extn("starttls"):
        client.starttls(context=context)
        client.ehlo()
    elif not smtp.allow_plaintext:
        raise DeliveryError(f"{server}: offers no STARTTLS; not sending in clear ([smtp] allow_plaintext)")


def _quit(client: smtplib.SMTP) -> None:
    # The message is already accepted (or the error already known): a failed QUIT changes nothing.
    try:
        client.quit()
    except OSError:
        client.close()


def _tls_context(cafile: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context()  # verifies the certificate and the host name
    if cafile:
        try:
            context.load_verify_locations(cafile=cafile)
        except OSError as exc:  # ssl.SSLError too: a file that holds no certificate
            reason = getattr(exc, "reason", None) or exc.strerror or exc
            raise ConfigError(f"{cafile}: cannot load the CA bundle: {reason}") from exc
    return context


def _delivery_error(server: str, exc: OSError, cafile: str | None = None) -> DeliveryError:
    """One line naming the server and its reply; 4xx and lost connections are transient (exit 75)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        hint = (
            f"trusted by neither the system nor {cafile}"
            if cafile
            else f"for a private CA set {CAFILE_ENV} or [smtp] cafile"
        )
        return DeliveryError(f"{server}: TLS certificate not trusted: {exc.verify_message} ({hint})")
    if isinstance(exc, ssl.SSLError):
        return DeliveryError(
            f"{server}: TLS failed: {exc.reason or _one_line(str(exc))} (is security right?)"
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return _refused(server, exc.recipients, sent_to_others=False)
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(server, REPLY_STAGES.get(type(exc), "replied"), exc.smtp_code, exc.smtp_error)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return TransientDeliveryError(f"{server}: connection lost: {_one_line(str(exc))}")
    if isinstance(exc, smtplib.SMTPException):  # e.g. no AUTH offered: retrying will not help
        return DeliveryError(f"{server}: {_one_line(str(exc))}")
    # Refused, timed out, unreachable, name not resolved: the network may be back on the next run.
    return TransientDeliveryError(
        f"{server}: connection failed: {exc.strerror or _one_line(str(exc)) or 'timed out'}"
    )


def _refused(server: str, recipients: dict[str, tuple[int, bytes]], *, sent_to_others: bool) -> DeliveryError:
    address, (code, text) = sorted(recipients.items())[0]
    more = f" (and {len(recipients) - 1} more)" if len(recipients) > 1 else ""
    others = "; sent to the other recipients" if sent_to_others else ""
    return _reply(server, f"RCPT TO <{address}> refused{more}{others}", code, text)


def _reply(server: str, what: str, code: int, text: bytes | str) -> DeliveryError:
    reply = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    line = f"{server}: {what}: {code} {_one_line(reply)}"
    return TransientDeliveryError(line) if 400 <= code < 500 else DeliveryError(line)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _address(value: str, where: str, error: type[ReporterError]) -> str:
    """The addr-spec of one address ("Name <a@b>" or "a@b"); header injection and lists are errors."""
    pairs = email.utils.getaddresses([value])
    addr = pairs[0][1] if len(pairs) == 1 else ""
    if "@" not in addr or any(c.isspace() for c in addr) or "\r" in value or "\n" in value:
        raise error(f"{where}: not one email address: {value!r}")
    return addr


def _check_manifest(path: Path) -> None:
    try:
        manifest = json.loads(path.read_bytes())
    except FileNotFoundError as exc:
        raise InputError(f"{path.parent}: not a report folder (no manifest.json)") from exc
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: unreadable: {_one_line(str(exc))}") from exc
    if not isinstance(manifest, dict):
        raise InputError(f"{path}: not a JSON object")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f"{path}: missing (the report writes it; was the report built?)") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from exc


def _decode(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EmailContentError(f"{path}: not UTF-8 (byte {exc.start})") from exc


def _images(folder: Path, html: str) -> tuple[tuple[str, bytes], ...]:
    pngs = {path.stem: path for path in sorted(folder.glob("*.png"))}
    used = set(CID_REF.findall(html))
    if missing := sorted(used - pngs.keys()):
        names = ", ".join(f"cid:{name}" for name in missing)
        raise EmailContentError(f"{folder / 'body.html'}: {names} has no PNG in {folder}")
    if unused := sorted(pngs.keys() - used):
        names = ", ".join(pngs[name].name for name in unused)
        raise EmailContentError(f"{folder}: {names} never referenced by a cid: in body.html")
    images = []
    for name, path in pngs.items():
        data = _read(path)
        if not SAFE_NAME.fullmatch(name) or not data.startswith(PNG_SIGNATURE):
            raise EmailContentError(f"{path}: not a PNG named [A-Za-z0-9._-]")
        images.append((name, data))
    return tuple(images)
