"""Each channel a spec's ``notify`` can name, sent through its Airflow provider to a real server on loopback:
SMTP (aiosmtpd), a Slack incoming webhook (Slack provider) and a Teams Workflows webhook over HTTPS (Apprise
provider); a channel that fails does not stop the others.
"""

from __future__ import annotations

import json
import ssl
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import trustme

from imagepool.notifications import Failure, compose, send
from imagepool.notify_spec import Notify
from tests.mailbox import Mailbox

FAILURE = Failure(
    "region_westeurope.pool_render-we.steady",
    "AccountCoreQuotaReached",
    "pool render-we-1-0-3: Azure error AccountCoreQuotaReached: the account's dedicated core quota is reached",
    "request more dedicated cores for the Batch account",
)
MESSAGE = compose(
    "failed",
    family="ubuntu-batch",
    version="1.0.3",
    dag_id="imagepool_ubuntu_batch",
    run_id="scheduled__2026-12-03T02:00:00+00:00",
    failure=FAILURE,
    run_url=None,
)


class Webhook(BaseHTTPRequestHandler):
    received: list[dict]

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append({"path": self.path, "json": json.loads(body)})  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@contextmanager
def serving(tls: ssl.SSLContext | None = None):
    """An HTTP(S) server on loopback keeping the JSON bodies posted to it (``server.received``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    server.received = []  # type: ignore[attr-defined]
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture
def tls(ca) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


def test_the_message_goes_by_mail_through_the_smtp_provider(monkeypatch):
    with Mailbox() as mailbox:
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_IMAGEPOOL", json.dumps(mailbox.connection()))
        sent = send(Notify(email=["a@example.com", "b@example.com"], smtp_conn_id="smtp_imagepool"), MESSAGE, {})
        mails = mailbox.wait_for(1, timeout=30)
    assert sent == ["e-mail (smtp_imagepool)"]
    assert len(mails) == 1
    assert sorted(mails[0].recipients) == ["a@example.com", "b@example.com"]
    assert mails[0].subject == MESSAGE.subject
    assert "AccountCoreQuotaReached" in mails[0].html


def test_the_message_goes_to_a_slack_incoming_webhook_through_the_slack_provider(monkeypatch):
    with serving() as webhook:
        host = f"http://127.0.0.1:{webhook.server_address[1]}/services"
        monkeypatch.setenv(
            "AIRFLOW_CONN_SLACK_IMAGEPOOL",
            json.dumps({"conn_type": "slackwebhook", "host": host, "password": "T0/B0/x"}),
        )
        sent = send(Notify(slack_conn_id="slack_imagepool"), MESSAGE, {})
    assert sent == ["Slack (slack_imagepool)"]
    assert [r["path"] for r in webhook.received] == ["/services/T0/B0/x"]
    assert webhook.received[0]["json"]["text"] == MESSAGE.text


def test_the_message_goes_to_a_teams_workflow_over_https_through_apprise(monkeypatch, tls, ca, tmp_path):
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    # Apprise posts with requests, which trusts this bundle.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    with serving(tls) as webhook:
        config = {"path": f"workflows://127.0.0.1:{webhook.server_address[1]}/imagepoolflow/signature0"}
        monkeypatch.setenv(
            "AIRFLOW_CONN_TEAMS_IMAGEPOOL", json.dumps({"conn_type": "apprise", "extra": {"config": config}})
        )
        sent = send(Notify(teams_conn_id="teams_imagepool"), MESSAGE, {})
    assert sent == ["Teams (teams_imagepool)"]
    [posted] = webhook.received
    where = urlsplit(posted["path"])
    assert where.path == "/workflows/imagepoolflow/triggers/manual/paths/invoke"
    assert parse_qs(where.query)["sig"] == ["signature0"]
    card = json.dumps(posted["json"])
    assert "AccountCoreQuotaReached" in card
    assert "request more dedicated cores for the Batch account" in card


def test_a_channel_that_fails_does_not_silence_the_others(monkeypatch):
    with Mailbox() as mailbox:
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps(mailbox.connection()))
        # Nothing listens on port 9 of loopback: the Slack webhook is refused.
        monkeypatch.setenv(
            "AIRFLOW_CONN_SLACK_BROKEN",
            json.dumps({"conn_type": "slackwebhook", "host": "http://127.0.0.1:9/services", "password": "T0/B0/x"}),
        )
        sent = send(Notify(email=["a@example.com"], slack_conn_id="slack_broken"), MESSAGE, {})
        mails = mailbox.wait_for(1, timeout=30)
    assert sent == ["e-mail (smtp_default)"]
    assert len(mails) == 1
