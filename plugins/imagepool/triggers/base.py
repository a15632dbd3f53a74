"""One polling loop for every imagepool wait.

Subclasses must implement ``hook_class`` (the hook to open), ``poll(hook)`` (one look at Azure,
returning a :class:`Poll`) and ``_kwargs()`` (their own constructor arguments, plain JSON).

The loop honours Retry-After, backs off while nothing changes, logs progress when it changes,
does not count throttling, 5xx or dropped connections against the wait, takes one last look
before reporting a timeout, never raises, and ends with exactly one event:
``{"status": "success" | "error" | "timeout", "message": ..., **details}``.
The deadline is an absolute instant, so a triggerer restart does not extend the wait.

A deferred wait ends no sooner than ``not_before``, a few seconds after the task deferred: Airflow's
scheduler can handle the deferring worker's exit after a quick event has already resumed the task,
and then fails the resumed try as externally changed (apache/airflow#72716), costing a retry.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from imagepool.errors import AzureOperationFailed
from imagepool.hooks.errors import TRANSIENT_STATUS

SUCCESS, WAITING, FAILED = "success", "waiting", "failed"
NUMBERS = re.compile(r"\d+(?:\.\d+)?")


@dataclass
class Poll:
    """What one look at Azure found."""

    state: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    retry_after: float | None = None

    @classmethod
    def done(cls, message: str, **details) -> Poll:
        return cls(SUCCESS, message, details)

    @classmethod
    def waiting(cls, message: str, retry_after: float | None = None, **details) -> Poll:
        return cls(WAITING, message, details, retry_after)

    @classmethod
    def failed(cls, message: str, **details) -> Poll:
        return cls(FAILED, message, details)


def phase_of(message: str) -> str:
    """A progress message with its numbers masked: what stays the same while an operation advances."""
    return NUMBERS.sub("#", message)


def is_transient(exc: BaseException) -> bool:
    from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

    if isinstance(exc, (ServiceRequestError, ServiceResponseError, asyncio.TimeoutError, ConnectionError)):
        return True
    return isinstance(exc, HttpResponseError) and exc.status_code in TRANSIENT_STATUS


class AzurePollingTrigger(BaseTrigger):
    """Poll Azure until ``poll`` says success or failure, or the deadline passes.

    :param azure_conn_id: connection to open the hook with.
    :param deadline: absolute UNIX time after which the wait reports a timeout.
    :param poll_interval: first delay between looks when Azure gives no Retry-After (seconds).
    :param max_poll_interval: the delay grows while nothing changes, up to this (seconds).
    :param timeout_hint: what to look at when the wait times out (part of the timeout message).
    :param not_before: absolute UNIX time before which the wait does not end (set when deferring).
    """

    hook_class: type

    def __init__(
        self,
        *,
        azure_conn_id: str,
        deadline: float,
        poll_interval: float = 15.0,
        max_poll_interval: float = 120.0,
        timeout_hint: str = "",
        not_before: float | None = None,
    ):
        super().__init__()
        self.azure_conn_id = azure_conn_id
        self.deadline = float(deadline)
        self.poll_interval = float(poll_interval)
        self.max_poll_interval = float(max_poll_interval)
        self.timeout_hint = timeout_hint
        self.not_before = not_before

    # --- what subclasses provide -------------------------------------------------------------------
    async def poll(self, hook) -> Poll:
        raise NotImplementedError

    def _kwargs(self) -> dict[str, Any]:
        raise NotImplementedError

    def make_hook(self):
        """The hook to poll with; a trigger whose hook needs more than the connection overrides this."""
        return self.hook_class(self.azure_conn_id)

    # --- serialization -----------------------------------------------------------------------------
    def serialize(self) -> tuple[str, dict[str, Any]]:
        common = {
            "azure_conn_id": self.azure_conn_id,
            "deadline": self.deadline,
            "poll_interval": self.poll_interval,
            "max_poll_interval": self.max_poll_interval,
            "timeout_hint": self.timeout_hint,
            "not_before": self.not_before,
        }
        kwargs = {k: v for k, v in {**common, **self._kwargs()}.items() if v is not None}
        return f"{type(self).__module__}.{type(self).__qualname__}", kwargs

    # --- the loop ----------------------------------------------------------------------------------
    async def run(self) -> AsyncIterator[TriggerEvent]:
        event = await self.wait()
        if self.not_before is not None:
            await asyncio.sleep(max(0.0, self.not_before - time.time()))
        yield TriggerEvent(event)

    async def wait(self) -> dict[str, Any]:
        # Logged at every start: a triggerer that takes the wait over after a restart names the same instant.
        self.log.info(
            "Waiting until %s at the latest", datetime.fromtimestamp(self.deadline, UTC).isoformat(timespec="seconds")
        )
        try:
            async with self.make_hook() as hook:
                return await self._loop(hook)
        except Exception as exc:  # a trigger never raises: the task gets the reason as an event
            self.log.exception("wait failed")
            return {"status": "error", "message": f"{type(exc).__name__}: {exc}"}

    async def _loop(self, hook) -> dict[str, Any]:
        delay = self.poll_interval
        last_message = last_phase = None
        while True:
            result = await self._look(hook)
            if result.state == SUCCESS:
                self.log.info("%s", result.message)
                return {"status": "success", "message": result.message, **result.details}
            if result.state == FAILED:
                self.log.error("%s", result.message)
                return {"status": "error", "message": result.message, **result.details}
            if result.message != last_message:
                self.log.info("%s", result.message)
                last_message = result.message
            # Looks come sooner again once the wait enters a new phase (resizing -> steady); while only its
            # numbers move (replication 62% -> 64%, 1800/3000 idle), an operation that takes an hour backs
            # off like one that shows nothing.
            phase = phase_of(result.message)
            delay = self.poll_interval if phase != last_phase else min(delay * 1.5, self.max_poll_interval)
            last_phase = phase
            remaining = self.deadline - time.time()
            if remaining <= 0:
                hint = f" {self.timeout_hint}" if self.timeout_hint else ""
                return {
                    "status": "timeout",
                    "message": f"Timed out; last seen: {result.message}.{hint}",
                    **result.details,
                }
            wait = result.retry_after if result.retry_after is not None else delay
            await asyncio.sleep(max(0.0, min(wait, remaining)))

    async def _look(self, hook) -> Poll:
        try:
            return await self.poll(hook)
        except AzureOperationFailed as exc:
            return Poll.failed(str(exc))
        except Exception as exc:
            if is_transient(exc):
                return Poll.waiting(
                    f"Azure busy or unreachable ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}); trying again"
                )
            raise
