"""The one polling loop every wait uses: success, failure, timeout, transient errors, Retry-After, backoff."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ServiceResponseError

from imagepool.errors import AzureOperationFailed
from imagepool.triggers import base
from imagepool.triggers.base import AzurePollingTrigger, Poll


class FakeHook:
    def __init__(self, conn_id):
        self.conn_id = conn_id

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return None


def http_error(status: int) -> HttpResponseError:
    err = HttpResponseError(message=f"status {status}")
    err.status_code = status
    return err


class ScriptedTrigger(AzurePollingTrigger):
    """Answers each poll from a script; an exception in the script is raised."""

    hook_class = FakeHook

    def __init__(self, script, **kwargs):
        super().__init__(**kwargs)
        self.script = list(script)
        self.polls = 0

    def _kwargs(self):
        return {"script": []}

    async def poll(self, hook):
        self.polls += 1
        step = self.script.pop(0)
        if isinstance(step, BaseException):
            raise step
        return step


@pytest.fixture
def sleeps(monkeypatch):
    """Sleeping advances a virtual clock instead of waiting; the delays are recorded."""
    recorded = []
    clock = [1000.0]

    async def fake_sleep(seconds):
        recorded.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(base.asyncio, "sleep", fake_sleep)
    monkeypatch.setattr(base.time, "time", lambda: clock[0])
    return recorded


def trigger(script, deadline_in=3600.0, **kwargs):
    return ScriptedTrigger(
        script,
        azure_conn_id="c",
        deadline=base.time.time() + deadline_in,
        poll_interval=10,
        max_poll_interval=40,
        **kwargs,
    )


async def test_success_after_waiting_carries_details(sleeps):
    t = trigger([Poll.waiting("creating"), Poll.waiting("creating"), Poll.done("ready", resource_id="/x")])
    event = await t.wait()
    assert event == {"status": "success", "message": "ready", "resource_id": "/x"}
    assert sleeps == [10, 15]  # unchanged message: the delay backs off by half


async def test_backoff_is_capped_and_resets_on_a_new_phase(sleeps):
    script = [Poll.waiting("a")] * 5 + [Poll.waiting("b"), Poll.done("ok")]
    await trigger(script).wait()
    assert sleeps == [10, 15, 22.5, 33.75, 40, 10]


async def test_progress_in_numbers_backs_off_and_is_logged(sleeps):
    script = [Poll.waiting(f"replication {p}%, 1/3 regions") for p in (10, 12, 15, 19)]
    script += [Poll.waiting("replication 24%, 2/3 regions"), Poll.waiting("pool steady"), Poll.done("ok")]
    t = trigger(script)
    logged = []
    t.log.info = lambda fmt, *args: logged.append(fmt % args)
    await t.wait()
    assert sleeps == [10, 15, 22.5, 33.75, 40, 10]
    assert {"replication 19%, 1/3 regions", "replication 24%, 2/3 regions", "pool steady"} <= set(logged), logged


async def test_retry_after_wins_over_backoff(sleeps):
    await trigger([Poll.waiting("x", retry_after=2.5), Poll.done("ok")]).wait()
    assert sleeps == [2.5]


async def test_failure_event_names_reason(sleeps):
    event = await trigger([Poll.waiting("x"), Poll.failed("vm1: Azure error OSProvisioningTimedOut")]).wait()
    assert event["status"] == "error"
    assert "OSProvisioningTimedOut" in event["message"]


async def test_azure_operation_failed_becomes_error_event(sleeps):
    failure = AzureOperationFailed("snapshot s1", "InternalOperationError", "boom", "retry the task")
    event = await trigger([failure]).wait()
    assert event["status"] == "error"
    assert "snapshot s1" in event["message"]
    assert "InternalOperationError" in event["message"]


@pytest.mark.parametrize("transient", [http_error(429), http_error(503), ServiceResponseError("dropped")])
async def test_transient_errors_do_not_end_the_wait(sleeps, transient):
    t = trigger([transient, transient, Poll.done("ok")])
    event = await t.wait()
    assert event["status"] == "success"
    assert t.polls == 3


async def test_permanent_http_error_is_reported_not_raised(sleeps):
    event = await trigger([http_error(403)]).wait()
    assert event["status"] == "error"
    assert "HttpResponseError" in event["message"]


async def test_timeout_after_last_look_names_what_was_seen(sleeps):
    t = trigger([Poll.waiting("replicating 40%")] * 3, deadline_in=-1, timeout_hint="Check the region's quota.")
    event = await t.wait()
    assert event["status"] == "timeout"
    assert "replicating 40%" in event["message"]
    assert "Check the region's quota." in event["message"]
    assert t.polls == 1


async def test_sleep_never_passes_the_deadline(sleeps):
    t = trigger([Poll.waiting("x", retry_after=600), Poll.waiting("x")], deadline_in=5)
    event = await t.wait()
    assert sleeps == [5]
    assert event["status"] == "timeout"
    assert t.polls == 2  # the last look happens at the deadline


def test_serialize_prunes_none_and_keeps_plain_json():
    classpath, kwargs = trigger([], timeout_hint="").serialize()
    assert classpath == f"{__name__}.ScriptedTrigger"
    assert set(kwargs) == {"azure_conn_id", "deadline", "poll_interval", "max_poll_interval", "timeout_hint", "script"}


async def test_a_deferred_wait_ends_no_sooner_than_not_before(sleeps):
    t = trigger([Poll.done("ready")], not_before=base.time.time() + 5)
    events = [event.payload async for event in t.run()]
    assert events == [{"status": "success", "message": "ready"}]
    assert sleeps == [5]


async def test_a_wait_past_not_before_ends_at_once(sleeps):
    t = trigger([Poll.waiting("x"), Poll.done("ready")], not_before=base.time.time() + 5)
    assert [event.payload["status"] async for event in t.run()] == ["success"]
    assert sleeps == [10, 0]
