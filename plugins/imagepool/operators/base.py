"""What every imagepool operator shares: the connection, the wait (deferred or in the worker)
and the check of the event a wait ends with.

Waiting runs one implementation either way: deferred, the triggerer runs the trigger; not
deferred, the worker runs the same trigger's loop in place. Before deferring, the operator looks
once, and keeps looking for up to ``defer_after`` seconds: a deferral costs two task starts (one to
defer, one to resume), several seconds of scheduler and worker time, more than waiting in place
for work that is about to finish.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from imagepool.triggers.base import FAILED, SUCCESS, WAITING, AzurePollingTrigger

if TYPE_CHECKING:
    from imagepool.errors import AzureOperationFailed

# The triggerer reports the reason itself at the deadline; Airflow's own timeout is a backstop.
DEFERRAL_GRACE = timedelta(minutes=5)
# A deferred wait ends at least this long after the task deferred (see triggers/base.py): several
# scheduler loops, for the deferring worker's exit to be handled before the task resumes.
SETTLE_S = 5.0


class ImagepoolBaseOperator(BaseOperator):
    """Base of imagepool's operators.

    :param azure_conn_id: Azure connection (templated); default ``azure_default``.
    :param deferrable: wait in the triggerer (default True) instead of occupying a worker slot.
    :param poll_interval: first delay between looks when Azure gives no Retry-After (seconds).
    :param max_poll_interval: longest delay between looks while nothing changes (seconds).
    :param defer_after: keep looking on the worker this long before deferring (seconds; default 0:
        one look, then defer).
    """

    template_fields: Sequence[str] = ("azure_conn_id",)
    ui_color = "#cfe8fc"

    def __init__(
        self,
        *,
        azure_conn_id: str = "azure_default",
        deferrable: bool = True,
        poll_interval: float = 15.0,
        max_poll_interval: float = 120.0,
        defer_after: float = 0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.azure_conn_id = azure_conn_id
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self.defer_after = defer_after

    def polling(self, timeout_seconds: float, timeout_hint: str = "") -> dict[str, Any]:
        """The common trigger arguments for a wait of ``timeout_seconds`` starting now."""
        return {
            "azure_conn_id": self.azure_conn_id,
            "deadline": time.time() + timeout_seconds,
            "poll_interval": self.poll_interval,
            "max_poll_interval": self.max_poll_interval,
            "timeout_hint": timeout_hint,
        }

    def wait_for(
        self,
        context,
        trigger: AzurePollingTrigger,
        method_name: str = "execute_complete",
        kwargs: dict[str, Any] | None = None,
    ):
        """Wait for ``trigger``'s condition, then call ``method_name(context, event, **kwargs)``.

        ``kwargs`` (plain JSON) carry the operator's own progress across a deferral.
        """
        first = asyncio.run(_look_for(trigger, self.defer_after))
        if first.state in (SUCCESS, FAILED) or not self.deferrable:
            event = (
                asyncio.run(trigger.wait())
                if first.state not in (SUCCESS, FAILED)
                else {
                    "status": "success" if first.state == SUCCESS else "error",
                    "message": first.message,
                    **first.details,
                }
            )
            return getattr(self, method_name)(context, event, **(kwargs or {}))
        trigger.not_before = time.time() + SETTLE_S
        self.defer(
            trigger=trigger,
            method_name=method_name,
            kwargs=kwargs,
            timeout=timedelta(seconds=max(0.0, trigger.deadline - time.time())) + DEFERRAL_GRACE,
        )

    def reject(self, problems: list[str]) -> None:
        """Fail at once, before any Azure call, naming every bad parameter: a retry cannot mend input."""
        if problems:
            raise AirflowFailException(f"{self.task_id}: invalid input: " + "; ".join(problems))

    def check_event(self, event: dict[str, Any] | None, *, verdicts_final: bool = False) -> dict[str, Any]:
        """The event of a successful wait; otherwise raise with the wait's reason.

        With ``verdicts_final``, a failure carrying Azure's code (a verdict on the resource, which stays as
        it is) fails the task without Airflow's retries: another try would find the same resource.
        """
        if event is None:
            raise AirflowException(f"{self.task_id}: the wait ended without an event; retry the task.")
        if verdicts_final and event.get("status") == "error" and event.get("code"):
            raise AirflowFailException(event["message"])
        if event.get("status") != "success":
            raise AirflowException(event.get("message") or f"{self.task_id}: wait ended with {event}")
        return event


def for_good(error: AzureOperationFailed) -> AirflowFailException:
    """``error`` as a failure Airflow does not retry: a verdict another try would only meet again."""
    return AirflowFailException(str(error))


async def _look_for(trigger: AzurePollingTrigger, seconds: float):
    """Look, and look again at the trigger's pace while the wait goes on, for up to ``seconds``."""
    until = time.monotonic() + seconds
    async with trigger.make_hook() as hook:
        while True:
            found = await trigger._look(hook)
            left = until - time.monotonic()
            if found.state != WAITING or left <= 0:
                return found
            pause = found.retry_after if found.retry_after is not None else trigger.poll_interval
            await asyncio.sleep(min(pause, left))
