"""The build-VM family's triggers: every state-table entry, the loop over several operations, and
serialization round trips (what the triggerer stores and rebuilds).
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from imagepool.hooks.vm import POWERED_OFF, VmState, read_state
from imagepool.triggers import base
from imagepool.triggers.arm import ArmOperationsTrigger, ArmOperationTrigger, operation_poll, operations_poll
from imagepool.triggers.base import FAILED, SUCCESS, WAITING, Poll
from imagepool.triggers.vm import BUILD_TIMEOUT_HINT, VmPowerStateTrigger, power_state_poll
from tests.integration.library.harness import rebuild_trigger

# Every power state Azure reports (PowerState/<state>), and provisioning states a build VM passes through.
POWER_STATES = ("starting", "running", "stopping", "stopped", "deallocating", "deallocated", "unknown", None)
PROVISIONING_STATES = ("creating", "updating", "succeeded", "deleting", None)


def status(code: str, message: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(code=code, message=message, display_status=code.rsplit("/", 1)[-1])


def operation(name: str, **overrides) -> dict:
    op = {
        "resource_id": f"/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/snapshots/{name}",
        "description": f"delete snapshot {name}",
        "status_url": f"https://arm/ops/{name}",
        "location_url": None,
        "retry_after": None,
        "done": False,
    }
    op.update(overrides)
    return op


# --- instance view -> VmState ------------------------------------------------------------------------


def test_read_state_takes_provisioning_power_and_generalized():
    state = read_state(
        [status("ProvisioningState/succeeded"), status("OSState/generalized"), status("PowerState/deallocated")]
    )
    assert state == VmState(provisioning="succeeded", power="deallocated", generalized=True)


def test_read_state_takes_the_provisioning_error_code_and_message():
    state = read_state(
        [
            status("ProvisioningState/failed/OSProvisioningTimedOut", "guest never reported"),
            status("PowerState/running"),
        ]
    )
    assert (state.provisioning, state.error_code, state.error_message, state.power) == (
        "failed",
        "OSProvisioningTimedOut",
        "guest never reported",
        "running",
    )


def test_read_state_of_an_empty_instance_view():
    assert read_state(None) == VmState(provisioning=None, power=None)


# --- VmState -> Poll (the power-state table) ---------------------------------------------------------


@pytest.mark.parametrize("provisioning", PROVISIONING_STATES)
@pytest.mark.parametrize("power", POWER_STATES)
def test_power_state_table(provisioning, power):
    poll = power_state_poll("bvm", VmState(provisioning=provisioning, power=power))
    if power in POWERED_OFF:
        assert poll.state == SUCCESS
        assert poll.details == {"power_state": power}
        assert "build script has finished" in poll.message
    else:
        assert poll.state == WAITING
        assert f"power {power or 'unknown'}" in poll.message


@pytest.mark.parametrize("power", POWER_STATES)
def test_provisioning_failure_wins_over_any_power_state(power):
    state = VmState(provisioning="failed", power=power, error_code="OSProvisioningTimedOut", error_message="late")
    poll = power_state_poll("bvm", state)
    assert poll.state == FAILED
    assert poll.details["code"] == "OSProvisioningTimedOut"
    assert "bvm" in poll.message
    assert "OSProvisioningTimedOut" in poll.message
    assert "cleanup" in poll.message


def test_a_vm_azure_does_not_know_yet_is_waited_for():
    poll = power_state_poll("bvm", None)
    assert (poll.state, poll.message) == (WAITING, "build VM bvm: not found (yet)")


def test_power_states_table_covers_what_generalize_accepts():
    assert set(POWERED_OFF) <= set(POWER_STATES)


# --- one ARM operation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        ({"status": "Succeeded"}, SUCCESS),
        ({"status": "Failed", "error": {"code": "InternalOperationError", "message": "boom"}}, FAILED),
        ({"status": "Canceled"}, FAILED),
        ({"status": "InProgress", "retry_after": 7.0}, WAITING),
        ({"status": "Deleting"}, WAITING),
    ],
)
def test_operation_table(found, expected):
    poll = operation_poll(operation("s1"), found, action="do this")
    assert poll.state == expected
    if expected == FAILED:
        assert poll.details["code"] in ("InternalOperationError", "canceled")
        assert poll.message.endswith("-> do this")
        assert "delete snapshot s1" in poll.message
    if expected == WAITING:
        assert poll.retry_after == found.get("retry_after")


# --- several ARM operations --------------------------------------------------------------------------


def test_operations_wait_while_any_runs_and_name_what_runs():
    ops = [operation("a"), operation("b")]
    poll = operations_poll(ops, {ops[0]["resource_id"]: Poll.done("a gone", resource_id=ops[0]["resource_id"])})
    assert poll.state == WAITING
    assert poll.message == "1/2 operations ended; waiting for: delete snapshot b"


def test_operations_succeed_when_all_succeeded():
    ops = [operation("a"), operation("b")]
    ended = {op["resource_id"]: Poll.done("gone", resource_id=op["resource_id"]) for op in ops}
    poll = operations_poll(ops, ended)
    assert poll.state == SUCCESS
    assert poll.details == {"resource_ids": [op["resource_id"] for op in ops]}


def test_operations_report_every_failure_once_all_ended():
    ops = [operation("a"), operation("b"), operation("c")]
    ended = {
        ops[0]["resource_id"]: Poll.failed("a: Azure error X", resource_id=ops[0]["resource_id"]),
        ops[1]["resource_id"]: Poll.done("b gone", resource_id=ops[1]["resource_id"]),
        ops[2]["resource_id"]: Poll.failed("c: Azure error Y", resource_id=ops[2]["resource_id"]),
    }
    poll = operations_poll(ops, ended)
    assert poll.state == FAILED
    assert poll.message == "2 of 3 operations failed: a: Azure error X; c: Azure error Y"
    assert poll.details["failed_ids"] == [ops[0]["resource_id"], ops[2]["resource_id"]]


def test_no_operations_is_success():
    assert operations_poll([], {}).state == SUCCESS


class FakeArmHook:
    """Answers each operation's status from a script per resource id; counts polls."""

    def __init__(self, script: dict[str, list[dict]]):
        self.script = script
        self.polled: list[str] = []

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return None

    async def get_async_conn(self):
        return None

    async def operation_status(self, client, op):
        self.polled.append(op["resource_id"])
        return self.script[op["resource_id"]].pop(0)


@pytest.fixture
def no_sleep(monkeypatch):
    async def fake_sleep(seconds):
        return None

    monkeypatch.setattr(base.asyncio, "sleep", fake_sleep)


async def test_operations_trigger_stops_polling_what_ended(no_sleep):
    a, b = operation("a"), operation("b")
    hook = FakeArmHook(
        {
            a["resource_id"]: [{"status": "Failed", "error": {"code": "Conflict", "message": "m"}}],
            b["resource_id"]: [{"status": "InProgress"}, {"status": "InProgress"}, {"status": "Succeeded"}],
        }
    )
    trigger = ArmOperationsTrigger(operations=[a, b], azure_conn_id="c", deadline=base.time.time() + 60)
    event = await trigger._loop(hook)
    assert event["status"] == "error"
    assert "Conflict" in event["message"]
    assert event["failed_ids"] == [a["resource_id"]]
    assert hook.polled == [a["resource_id"], b["resource_id"], b["resource_id"], b["resource_id"]]


class FakeVmHook(FakeArmHook):
    def __init__(self, states):
        super().__init__({})
        self.states = list(states)

    async def vm_state(self, resource_group, vm_name):
        return self.states.pop(0)


async def test_power_state_trigger_polls_until_stopped(no_sleep):
    hook = FakeVmHook(
        [None, VmState("creating", "starting"), VmState("succeeded", "running"), VmState("succeeded", "stopped")]
    )
    trigger = VmPowerStateTrigger(resource_group="g", vm_name="bvm", azure_conn_id="c", deadline=base.time.time() + 60)
    event = await trigger._loop(hook)
    assert event == {
        "status": "success",
        "message": "build VM bvm: stopped; the build script has finished",
        "power_state": "stopped",
    }


# --- serialization -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "trigger",
    [
        VmPowerStateTrigger(
            resource_group="g",
            vm_name="bvm",
            azure_conn_id="c",
            deadline=1e9,
            poll_interval=5,
            max_poll_interval=60,
            timeout_hint=BUILD_TIMEOUT_HINT,
        ),
        ArmOperationsTrigger(
            operations=[operation("a"), operation("b", done=True, status_url=None)],
            action="fix",
            azure_conn_id="c",
            deadline=1e9,
        ),
        ArmOperationTrigger(operation=operation("a"), action="retry", azure_conn_id="c", deadline=1e9),
    ],
    ids=["power-state", "operations", "operation"],
)
def test_serialization_round_trip(trigger):
    classpath, kwargs = trigger.serialize()
    assert classpath == f"{type(trigger).__module__}.{type(trigger).__qualname__}"
    assert json.loads(json.dumps(kwargs)) == kwargs
    rebuilt = rebuild_trigger(trigger)
    assert type(rebuilt) is type(trigger)
    assert rebuilt.serialize() == (classpath, kwargs)
