"""Scheduled changes: views apply what is due copy-on-write, settling applies it to the document itself."""

from __future__ import annotations

import copy

from azure_emulator import timeline


def pool_like() -> dict:
    doc = {
        "id": "p",
        "state": "active",
        "properties": {"provisioningState": "Creating", "tags": {"a": "b"}},
        "_nodes": [{"id": f"n{i}", "gone": None} for i in range(3)],
    }
    timeline.schedule(doc, 10, {"properties.provisioningState": "Succeeded", "executionInfo.endTime": "t10"})
    timeline.schedule(doc, 20, {"state": "deleting"})
    return doc


def test_a_view_applies_what_is_due_and_leaves_the_document_alone():
    doc = pool_like()
    before = copy.deepcopy(doc)
    view = timeline.view(doc, 15)
    assert view["properties"] == {"provisioningState": "Succeeded", "tags": {"a": "b"}}
    assert view["executionInfo"] == {"endTime": "t10"}
    assert view["state"] == "active"
    assert timeline.TIMELINE not in view
    assert doc == before


def test_a_view_copies_only_the_containers_a_due_change_touches():
    doc = pool_like()
    view = timeline.view(doc, 15)
    assert view is not doc
    assert view["properties"] is not doc["properties"]
    # Untouched containers are the stored ones: a view is read-only below its top level.
    assert view["_nodes"] is doc["_nodes"]
    assert view["properties"]["tags"] is doc["properties"]["tags"]
    assert timeline.view(doc, 5)["properties"] is doc["properties"]


def test_a_container_is_copied_once_however_many_changes_touch_it():
    doc = {"a": {"x": 0}}
    timeline.schedule(doc, 1, {"a.x": 1})
    timeline.schedule(doc, 2, {"a.y": 2, "a.z.w": 3})
    view = timeline.view(doc, 2)
    assert view["a"] == {"x": 1, "y": 2, "z": {"w": 3}}
    assert doc["a"] == {"x": 0}


def test_a_change_below_a_scheduled_value_does_not_change_the_schedule():
    doc = {"id": "t"}
    timeline.schedule(doc, 1, {"nodeInfo": {"nodeId": "n1"}})
    timeline.schedule(doc, 2, {"nodeInfo.poolId": "p"})
    assert timeline.view(doc, 2)["nodeInfo"] == {"nodeId": "n1", "poolId": "p"}
    assert doc[timeline.TIMELINE][0][1] == {"nodeInfo": {"nodeId": "n1"}}


def test_settling_applies_due_changes_in_place_with_values_of_their_own():
    failure = {"code": "FailureExitCode"}
    doc = pool_like()
    timeline.schedule(doc, 10, {"executionInfo.failureInfo": failure})
    timeline.settle(doc, 15)
    assert doc["properties"]["provisioningState"] == "Succeeded"
    assert doc["executionInfo"]["failureInfo"] == failure
    assert doc["executionInfo"]["failureInfo"] is not failure
    assert [at for at, _ in doc[timeline.TIMELINE]] == [20]
