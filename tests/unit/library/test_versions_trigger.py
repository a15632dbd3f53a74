"""The replication trigger: its state -> Poll decision entry by entry, its messages and its serialization."""

from __future__ import annotations

import json

import pytest

from imagepool.triggers.base import FAILED, SUCCESS, WAITING
from imagepool.triggers.versions import SETTLING_STATES, ReplicationTrigger, replication_poll

WHAT = "image version g/img/1.0.0"
VERSION_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/img/versions/1.0.0"
# Every state Azure reports (azure-mgmt-compute enums).
PROVISIONING_STATES = ("Creating", "Updating", "Failed", "Succeeded", "Deleting", "Migrating")
REGION_STATES = ("Unknown", "Replicating", "Completed", "Failed")


def region(name: str, state: str, progress: int = 0, details: str = "") -> dict:
    return {"region": name, "state": state, "progress": 100 if state == "Completed" else progress, "details": details}


def version(state: str, *regions: dict, aggregated: str = "InProgress") -> dict:
    return {
        "id": VERSION_ID,
        "provisioning_state": state,
        "replication": {"aggregated_state": aggregated, "regions": list(regions)},
    }


def test_progress_message_lists_each_region():
    found = version(
        "Creating",
        region("West Europe", "Completed"),
        region("North Europe", "Replicating", 40),
        region("East US", "Replicating", 45),
    )
    poll = replication_poll(found, None, WHAT)
    assert poll.state == WAITING
    assert poll.message == (
        f"{WHAT}: replication 62%, 1/3 regions complete (West Europe 100%, North Europe 40%, East US 45%)"
    )


def test_not_found_is_not_yet():
    assert replication_poll(None, None, WHAT).state == WAITING


def test_deleting_version_fails():
    poll = replication_poll(version("Deleting", region("West Europe", "Completed")), None, WHAT)
    assert poll.state == FAILED
    assert "new version number" in poll.message


@pytest.mark.parametrize("state", ["Creating", "Updating", "Succeeded"])
def test_no_replication_status_yet_is_waiting(state):
    found = {"id": VERSION_ID, "provisioning_state": state, "replication": None}
    assert replication_poll(found, None, WHAT).state == WAITING
    assert replication_poll(version(state), None, WHAT).state == WAITING


@pytest.mark.parametrize("state", ["Creating", "Updating", "Succeeded", "Failed", "Migrating"])
@pytest.mark.parametrize("region_state", ["Unknown", "Replicating"])
def test_wanted_region_not_done_is_waiting(state, region_state):
    found = version(state, region("West Europe", region_state, 30), region("North Europe", "Completed"))
    assert replication_poll(found, ["westeurope"], WHAT).state == WAITING
    assert replication_poll(found, None, WHAT).state == WAITING


@pytest.mark.parametrize("state", ["Creating", "Updating", "Succeeded", "Failed", "Migrating"])
def test_wanted_regions_completed_succeed_whatever_the_others_do(state):
    found = version(
        state,
        region("West Europe", "Completed"),
        region("North Europe", "Replicating", 10),
        region("East US", "Failed", 50, "boom"),
    )
    poll = replication_poll(found, ["West Europe"], WHAT)
    assert poll.state == SUCCESS
    assert poll.details == {"image_version_id": VERSION_ID, "regions": ["westeurope"]}
    assert poll.message == f"{WHAT}: replication 100%, 1/1 regions complete (West Europe 100%)"


@pytest.mark.parametrize("aggregated", ["Completed", "Unknown"])
def test_all_target_regions_completed_succeed(aggregated):
    found = version(
        "Succeeded", region("West Europe", "Completed"), region("North Europe", "Completed"), aggregated=aggregated
    )
    poll = replication_poll(found, [], WHAT)
    assert poll.state == SUCCESS
    assert poll.details["regions"] == ["westeurope", "northeurope"]


@pytest.mark.parametrize("state", SETTLING_STATES)
def test_failed_region_waits_while_the_version_settles(state):
    found = version(
        state,
        region("West Europe", "Replicating", 70),
        region("North Europe", "Failed", 40, "boom"),
        aggregated="Failed",
    )
    poll = replication_poll(found, None, WHAT)
    assert poll.state == WAITING
    assert poll.message.endswith(
        "North Europe failed at 40%); waiting for the other regions to settle before retrying North Europe"
    )


@pytest.mark.parametrize("state", ["Failed", "Succeeded", "Migrating"])
def test_failed_region_is_reported_once_settled_with_every_failed_region(state):
    found = version(
        state,
        region("West Europe", "Completed"),
        region("North Europe", "Failed", 40, "no storage"),
        region("East US", "Failed", 10, ""),
        aggregated="Failed",
    )
    poll = replication_poll(found, ["northeurope"], WHAT)
    assert poll.state == FAILED
    assert poll.details == {
        "image_version_id": VERSION_ID,
        "failed_regions": ["northeurope", "eastus"],
        "failure_details": {"northeurope": "no storage", "eastus": "replication failed in East US"},
        "display_names": {"northeurope": "North Europe", "eastus": "East US"},
    }
    assert "no storage" in poll.message


@pytest.mark.parametrize("state", ["Creating", "Succeeded", "Failed", "Migrating"])
def test_wanted_region_outside_the_targets_fails(state):
    found = version(state, region("West Europe", "Completed"))
    poll = replication_poll(found, ["westeurope", "East US"], WHAT)
    assert poll.state == FAILED
    assert "eastus not among the version's target regions (westeurope)" in poll.message


def test_wanted_region_missing_during_an_update_is_not_yet():
    found = version("Updating", region("West Europe", "Completed"))
    poll = replication_poll(found, ["eastus"], WHAT)
    assert poll.state == WAITING
    assert "eastus not among the target regions yet" in poll.message


def test_every_state_is_covered():
    """A state added to Azure's enums (or to the trigger's tables) needs a decision and a test above."""
    assert set(SETTLING_STATES) < set(PROVISIONING_STATES)
    for state in PROVISIONING_STATES:
        for region_state in REGION_STATES:
            found = version(state, region("West Europe", region_state, 10, "x"))
            assert replication_poll(found, None, WHAT).state in (SUCCESS, WAITING, FAILED)


def make_trigger(**overrides) -> ReplicationTrigger:
    args = dict(
        azure_conn_id="azure_default",
        deadline=1_900_000_000.0,
        resource_group_name="rg",
        gallery_name="g",
        image_name="img",
        version="1.0.0",
        regions=["westeurope"],
    )
    args.update(overrides)
    return ReplicationTrigger(**args)


def test_serialization_round_trips_through_json():
    trigger = make_trigger()
    classpath, kwargs = trigger.serialize()
    assert classpath == "imagepool.triggers.versions.ReplicationTrigger"
    rebuilt = ReplicationTrigger(**json.loads(json.dumps(kwargs)))
    assert rebuilt.serialize() == (classpath, kwargs)
    assert kwargs["regions"] == ["westeurope"]
    assert kwargs["version"] == "1.0.0"


class FakeHook:
    def __init__(self, found):
        self.found = found
        self.asked = None

    async def aget_replication(self, *args):
        self.asked = args
        return self.found


async def test_poll_reads_the_version_and_decides():
    hook = FakeHook(version("Creating", region("West Europe", "Completed")))
    poll = await make_trigger().poll(hook)
    assert hook.asked == ("rg", "g", "img", "1.0.0")
    assert poll.state == SUCCESS
    assert poll.message.startswith("image version g/img/1.0.0: replication 100%")
