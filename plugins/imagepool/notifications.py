"""A word when a run fails or ends degraded: the family, the version, the task, Azure's error code and the
next step, sent where the spec's ``notify`` says through the providers' notifiers (SMTP, Slack webhook,
Apprise for Microsoft Teams).

Every task of a pipeline records why it failed for good (an XCom, :data:`FAILURE_KEY`), notify or not: the
imagepool view in the Airflow UI reads it, since Airflow keeps no failure message of its own. A pool wait
that succeeded with failed nodes (within the spec's tolerance) is a degraded run.
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import asdict, dataclass
from typing import Any

from imagepool.notify_spec import DEGRADED, FAILED, Notify

log = logging.getLogger(__name__)

FAILURE_KEY = "imagepool_failure"
PLAN_TASK = "plan"
AZURE_CODE = re.compile(r"Azure error ([A-Za-z][\w.]*)")
# Every imagepool failure message ends with " -> <what to do next>".
NEXT_STEP = " -> "
NO_CODE = "none (the failure is not an Azure error)"
READ_THE_LOG = "read the task's log in the Airflow UI, fix the cause and clear the task to run it again"


@dataclass(frozen=True)
class Failure:
    """Why a task failed for good, from its exception's message."""

    task_id: str
    code: str | None
    detail: str
    next_step: str

    @classmethod
    def of(cls, task_id: str, error: BaseException | str | None) -> Failure:
        text = str(error or "").strip()
        # Airflow prefixes nothing, but a wrapped exception may carry its class: keep the imagepool part.
        text = text.splitlines()[0] if text else ""
        if not text:
            return cls(task_id, None, "the task ended without an error message (killed, or timed out)", READ_THE_LOG)
        found = AZURE_CODE.search(text)
        detail, _, step = text.rpartition(NEXT_STEP) if NEXT_STEP in text else (text, "", "")
        return cls(task_id, found.group(1) if found else None, detail, step or READ_THE_LOG)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str


def compose(
    event: str,
    *,
    family: str,
    version: str | None,
    dag_id: str,
    run_id: str,
    failure: Failure,
    run_url: str | None,
) -> Message:
    """The notification for a failed or degraded run, as a subject line, plain text and HTML."""
    what = "failed" if event == FAILED else "ended degraded"
    shown_version = version or "not decided (the run failed before its plan)"
    subject = f"[imagepool] {family} {version or ''} {what}: {failure.task_id} ({failure.code or 'no Azure code'})"
    rows = [
        ("Image family", family),
        ("Version", shown_version),
        ("Run", f"{dag_id} / {run_id}"),
        ("Failed task" if event == FAILED else "Task", failure.task_id),
        ("Azure error code", failure.code or NO_CODE),
        ("What happened", failure.detail),
        ("Next step", failure.next_step),
    ]
    if run_url:
        rows.append(("In Airflow", run_url))
    text = f"The imagepool run of {family} {what}.\n\n" + "\n".join(f"{k}: {v}" for k, v in rows) + "\n"
    cells = "".join(
        f"<tr><th align='left' valign='top'>{html.escape(k)}</th><td>{_html_value(k, v)}</td></tr>" for k, v in rows
    )
    body = f"<p>The imagepool run of <b>{html.escape(family)}</b> {what}.</p><table>{cells}</table>"
    return Message(" ".join(subject.split()), text, body)


def _html_value(key: str, value: str) -> str:
    if key == "In Airflow":
        return f"<a href='{html.escape(value, quote=True)}'>{html.escape(value)}</a>"
    return html.escape(value)


def run_url(dag_id: str, run_id: str, task_id: str) -> str | None:
    """The task's page in the Airflow UI, from ``[api] base_url`` (None when it is not set)."""
    from urllib.parse import quote

    from airflow.sdk import conf

    base = conf.get("api", "base_url", fallback="") or ""
    if not base.startswith("http"):
        return None
    return f"{base.rstrip('/')}/dags/{quote(dag_id)}/runs/{quote(run_id)}/tasks/{quote(task_id)}"


def send(notify: Notify, message: Message, context: Any) -> list[str]:
    """Send ``message`` everywhere ``notify`` names; returns where it went. A channel that fails is logged,
    and the others are still tried: a broken webhook must not silence the e-mail.
    """
    sent = []
    for name, notifier in _notifiers(notify, message):
        try:
            notifier.notify(context)
        except Exception:
            log.exception("Could not send the imagepool notification through %s", name)
        else:
            sent.append(name)
    return sent


def _notifiers(notify: Notify, message: Message) -> list[tuple[str, Any]]:
    """The providers' notifiers for each channel ``notify`` names, with what each is called in logs."""
    found: list[tuple[str, Any]] = []
    if notify.email:
        found.append((f"e-mail ({notify.smtp_conn_id})", _email(notify, message)))
    if notify.slack_conn_id:
        found.append((f"Slack ({notify.slack_conn_id})", _slack(notify.slack_conn_id, message)))
    if notify.teams_conn_id:
        found.append((f"Teams ({notify.teams_conn_id})", _teams(notify.teams_conn_id, message)))
    return found


def _email(notify: Notify, message: Message):
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    return SmtpNotifier(
        to=notify.email,
        from_email=notify.from_email,
        subject=message.subject,
        html_content=message.html,
        smtp_conn_id=notify.smtp_conn_id,
    )


def _slack(conn_id: str, message: Message):
    from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier

    return SlackWebhookNotifier(slack_webhook_conn_id=conn_id, text=message.text)


def _teams(conn_id: str, message: Message):
    """Teams through Apprise: the connection's config names the channel's Workflows webhook."""
    from airflow.providers.apprise.notifications.apprise import AppriseNotifier
    from apprise import NotifyType

    return AppriseNotifier(
        apprise_conn_id=conn_id, title=message.subject, body=message.text, notify_type=NotifyType.FAILURE
    )


class RunNotifications:
    """The pipeline's callbacks for one spec: ``on_failure`` for every task, ``on_degraded`` for pool waits.

    :param family: the spec's name.
    :param notify: the spec's ``notify`` section (None: failures are recorded, nobody is told).
    """

    def __init__(self, family: str, notify: Notify | None):
        self.family = family
        self.notify = notify

    def on_failure(self, context: Any) -> None:
        """A task failed for good: record why, and tell whom the spec names."""
        ti = context["ti"]
        failure = Failure.of(ti.task_id, context.get("exception"))
        try:
            ti.xcom_push(key=FAILURE_KEY, value=failure.to_dict())
        except Exception:  # a callback must never hide the failure it reports
            log.exception("Could not record why %s failed", ti.task_id)
        self._tell(FAILED, context, failure)

    def on_degraded(self, context: Any) -> None:
        """A pool wait succeeded; if some of its nodes failed (within the spec's tolerance), tell."""
        ti = context["ti"]
        found = ti.xcom_pull(task_ids=ti.task_id, map_indexes=ti.map_index) or {}
        healthy, target = found.get("healthy_nodes"), found.get("target_nodes")
        if healthy is None or target is None or healthy >= target:
            return
        why = found.get("failed_node") or ""
        failure = Failure.of(
            ti.task_id,
            f"pool {found.get('pool_id')}: {target - healthy} of {target} nodes are not idle or running{why}, "
            f"within the spec's required_healthy_fraction{NEXT_STEP}look at the start task's stdout.txt and "
            "stderr.txt on a failed node (Azure portal > Batch account > Pools > Nodes), fix the image or the "
            "start task, then reboot or remove the failed nodes",
        )
        self._tell(DEGRADED, context, failure)

    def _tell(self, event: str, context: Any, failure: Failure) -> None:
        if self.notify is None or not self.notify.wants(event):
            return
        ti = context["ti"]
        try:
            version = ti.xcom_pull(task_ids=PLAN_TASK, key="version")
        except Exception:  # the plan may not have run; the message says so
            version = None
        message = compose(
            event,
            family=self.family,
            version=version,
            dag_id=ti.dag_id,
            run_id=ti.run_id,
            failure=failure,
            run_url=run_url(ti.dag_id, ti.run_id, ti.task_id),
        )
        sent = send(self.notify, message, context)
        log.info("Told %s: %s", ", ".join(sent) or "nobody (every channel failed)", message.subject)
