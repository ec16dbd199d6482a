"""Alerts on new exposures and verdict changes: webhooks (JSON, Slack, Teams), e-mail, files.

Each alert is queued in the store once (its key de-duplicates it); each channel records
what it delivered, so an alert reaches a channel once, and a failed delivery is retried by
the next run. ``digest`` sends one message per channel and run instead of one per alert.

Channels are written ``KIND=TARGET``:
  webhook=https://host/path    JSON body {"tool": "finalexam", "alerts": [...]}
  slack=https://hooks...       Slack incoming-webhook body (text + blocks)
  teams=https://...            Microsoft Teams body (an Adaptive Card message)
  email=smtp://[user:password@]host[:port]?from=ADDR&to=ADDR[,ADDR][&starttls=1]
                               (smtps:// for TLS from the start)
  file=PATH                    the run's alerts as JSON, or SARIF 2.1.0 when PATH ends .sarif
"""

from __future__ import annotations

import hashlib
import json
import smtplib
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from sqlalchemy import Connection, and_, insert, select, update

from finalexam.errors import UsageError
from finalexam.monitor.text import visible
from finalexam.report.base import write_atomically
from finalexam.store import schema as t
from finalexam.store.records import utc_now
from finalexam.store.store import Store, insert_ignoring_conflict
from finalexam.version import __version__

KINDS = ("webhook", "slack", "teams", "email", "file")
TIMEOUT = 15
_SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}


@dataclass(frozen=True)
class Channel:
    kind: str
    target: str

    @property
    def id(self) -> str:
        """What the deliveries table knows the channel by (never the secret in its URL)."""
        return f"{self.kind}:{hashlib.sha256(self.target.encode()).hexdigest()[:24]}"

    @property
    def label(self) -> str:
        if self.kind == "file":
            return f"file {self.target}"
        parts = urllib.parse.urlsplit(self.target)
        return f"{self.kind} {parts.scheme}://{parts.hostname or ''}"


@dataclass(frozen=True)
class Alert:
    id: int
    kind: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class Delivery:
    channel: Channel
    alerts: int
    messages: int
    error: str | None


def parse_channel(spec: str) -> Channel:
    kind, sep, target = spec.partition("=")
    kind = kind.strip().lower()
    if not sep or kind not in KINDS or not target.strip():
        raise UsageError(
            f"--alert {spec!r}: expected KIND=TARGET with KIND one of {', '.join(KINDS)}"
        )
    target = target.strip()
    if kind in ("webhook", "slack", "teams"):
        if urllib.parse.urlsplit(target).scheme not in ("http", "https"):
            raise UsageError(f"--alert {kind}: expected an http(s) URL")
    elif kind == "email":
        parts = urllib.parse.urlsplit(target)
        query = urllib.parse.parse_qs(parts.query)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise UsageError("--alert email: expected smtp://host[:port]?from=ADDR&to=ADDR")
        if not query.get("from") or not query.get("to"):
            raise UsageError("--alert email: the URL needs from= and to= addresses")
    return Channel(kind, target)


# -- text ---------------------------------------------------------------------------------


def visible_line(value: object) -> str:
    return visible(value, lines=False)


def _release(payload: Mapping[str, Any]) -> str:
    release = payload["release"]
    product, version = visible_line(release["product"]), visible_line(release["version"])
    return f"{product} {version} ({release['source']})"


def describe(payload: Mapping[str, Any]) -> str:
    """One line per alert, with untrusted text made visible."""
    if payload["kind"] == "verdict-change":
        return (
            f"VERDICT {_release(payload)}: {payload['before']} -> {payload['after']}"
            f" ({visible_line(payload['reason'])})"
        )
    aliases = (
        f" ({', '.join(visible_line(a) for a in payload['aliases'])})" if payload["aliases"] else ""
    )
    fixed = (
        f"fixed in {', '.join(visible_line(v) for v in payload['fixed'])}"
        if payload["fixed"]
        else "no fix known"
    )
    waived = " [waived]" if payload.get("waived") else ""
    version = f" {visible_line(payload['version'])}" if payload.get("version") else ""
    return (
        f"NEW [{payload['severity']}] {visible_line(payload['advisory'])}{aliases} in "
        f"{visible_line(payload['package'])}{version} of {_release(payload)}; {fixed}: "
        f"{visible_line(payload['title'])}{waived}"
    )


def subject(alerts: Sequence[Alert]) -> str:
    exposures = sum(1 for a in alerts if a.kind == "new-exposure")
    changes = len(alerts) - exposures
    parts = []
    if exposures:
        parts.append(f"{exposures} new exposure{'s' if exposures != 1 else ''}")
    if changes:
        parts.append(f"{changes} verdict change{'s' if changes != 1 else ''}")
    return "finalexam: " + ", ".join(parts)


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _markdown_escape(text: str) -> str:
    return "".join("\\" + c if c in "\\`*_{}[]()#+-.!<>|~" else c for c in text)


# -- bodies -------------------------------------------------------------------------------


def webhook_body(alerts: Sequence[Alert]) -> dict[str, Any]:
    return {
        "tool": {"name": "finalexam", "version": __version__},
        "summary": subject(alerts),
        "alerts": [dict(a.payload) for a in alerts],
    }


def slack_body(alerts: Sequence[Alert]) -> dict[str, Any]:
    lines = [_slack_escape(describe(a.payload)) for a in alerts]
    return {
        "text": _slack_escape(subject(alerts)),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": subject(alerts)[:150]}},
            *(
                {"type": "section", "text": {"type": "mrkdwn", "text": line[:2900]}}
                for line in lines[:48]
            ),
        ],
    }


def teams_body(alerts: Sequence[Alert]) -> dict[str, Any]:
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        {
                            "type": "TextBlock",
                            "size": "Medium",
                            "weight": "Bolder",
                            "text": _markdown_escape(subject(alerts)),
                            "wrap": True,
                        },
                        *(
                            {
                                "type": "TextBlock",
                                "text": _markdown_escape(describe(a.payload)),
                                "wrap": True,
                            }
                            for a in alerts
                        ),
                    ],
                },
            }
        ],
    }


def sarif_document(alerts: Sequence[Alert]) -> dict[str, Any]:
    results = []
    for alert in alerts:
        payload = alert.payload
        release = payload["release"]
        where = f"{release['product']}@{release['version']}"
        if payload["kind"] == "new-exposure":
            rule, level = payload["advisory"], _SARIF_LEVEL.get(payload["severity"], "note")
            where += f"/{payload['component']}"
        else:
            rule, level = "verdict-change", "error" if payload["after"] == "failed" else "note"
        results.append(
            {
                "ruleId": rule,
                "level": level,
                "message": {"text": describe(payload)},
                "locations": [
                    {"logicalLocations": [{"fullyQualifiedName": where, "kind": "module"}]}
                ],
                "properties": dict(payload),
            }
        )
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "finalexam",
                        "version": __version__,
                        "informationUri": "https://pypi.org/project/finalexam/",
                    }
                },
                "results": results,
            }
        ],
    }


# -- sending ------------------------------------------------------------------------------


def _post(url: str, body: Mapping[str, Any]) -> None:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": f"finalexam/{__version__}"},
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        if not 200 <= response.status < 300:
            raise OSError(f"HTTP {response.status}")


def _mail(target: str, alerts: Sequence[Alert]) -> None:
    parts = urllib.parse.urlsplit(target)
    query = urllib.parse.parse_qs(parts.query)
    message = EmailMessage()
    message["Subject"] = subject(alerts)
    message["From"] = query["from"][0]
    message["To"] = ", ".join(a for item in query["to"] for a in item.split(","))
    message["X-Finalexam-Alerts"] = str(len(alerts))
    message.set_content("\n".join(describe(a.payload) for a in alerts) + "\n")
    port = parts.port or (465 if parts.scheme == "smtps" else 25)
    client_type = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    with client_type(parts.hostname or "localhost", port, timeout=TIMEOUT) as client:
        if parts.scheme == "smtp" and query.get("starttls", ["0"])[0] in ("1", "true", "yes"):
            client.starttls(context=ssl.create_default_context())
        if parts.username:
            client.login(
                urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password or "")
            )
        client.send_message(message)


def _write_file(path: str, alerts: Sequence[Alert]) -> None:
    document = sarif_document(alerts) if path.endswith(".sarif") else webhook_body(alerts)
    write_atomically(path, (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode())


SENDERS: dict[str, Callable[[str, Sequence[Alert]], None]] = {
    "webhook": lambda target, alerts: _post(target, webhook_body(alerts)),
    "slack": lambda target, alerts: _post(target, slack_body(alerts)),
    "teams": lambda target, alerts: _post(target, teams_body(alerts)),
    "email": _mail,
    "file": _write_file,
}


def _pending(connection: Connection, channel: Channel, run_id: int) -> list[Alert]:
    """Alerts not yet delivered to the channel, queued since it was first used (this run
    for a new channel): earlier failures and alerts of runs without channels are caught up."""
    insert_ignoring_conflict(connection, t.channels, {"id": channel.id, "first_run": run_id})
    first = connection.execute(
        select(t.channels.c.first_run).where(t.channels.c.id == channel.id)
    ).scalar_one()
    a, d = t.alerts.c, t.deliveries.c
    delivered = select(d.alert_id).where(and_(d.channel == channel.id, d.error.is_(None)))
    rows = connection.execute(
        select(a.id, a.kind, a.payload)
        .where(and_(a.run_id >= first, a.id.not_in(delivered)))
        .order_by(a.id)
    )
    return [Alert(row.id, row.kind, json.loads(row.payload)) for row in rows]


def _record(
    connection: Connection, channel: Channel, alerts: Sequence[Alert], error: str | None
) -> None:
    d = t.deliveries.c
    now = utc_now()
    for alert in alerts:
        changed = connection.execute(
            update(t.deliveries)
            .where(and_(d.alert_id == alert.id, d.channel == channel.id))
            .values(at=now, error=error)
        ).rowcount
        if not changed:
            connection.execute(
                insert(t.deliveries).values(
                    alert_id=alert.id, channel=channel.id, at=now, error=error
                )
            )


def deliver(
    store: Store, run_id: int, channels: Sequence[Channel], digest: bool = False
) -> list[Delivery]:
    """Send every pending alert to every channel; a file channel always gets the run's file."""
    results: list[Delivery] = []
    for channel in channels:
        with store.writing() as connection:
            alerts = _pending(connection, channel, run_id)
        if not alerts and channel.kind != "file":
            results.append(Delivery(channel, 0, 0, None))
            continue
        batches = [alerts] if digest or channel.kind == "file" else [[a] for a in alerts]
        sent = 0
        error: str | None = None
        for batch in batches:
            try:
                SENDERS[channel.kind](channel.target, batch)
            except (OSError, smtplib.SMTPException, urllib.error.URLError, ValueError) as problem:
                error = f"{type(problem).__name__}: {problem}"
                with store.writing() as connection:
                    _record(connection, channel, batch, error)
                continue
            sent += 1
            with store.writing() as connection:
                _record(connection, channel, batch, None)
        results.append(Delivery(channel, len(alerts), sent, error))
    return results
