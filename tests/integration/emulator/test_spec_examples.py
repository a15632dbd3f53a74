"""Replays the REST API specs' examples (``spec_examples.CASES``) against the emulator: the status codes,
the headers the specs declare and the shapes of the bodies must be Azure's.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.integration import clients
from tests.integration.emulator import builders
from tests.integration.emulator.batch_support import marketplace_pool, steady, wait_until
from tests.integration.emulator.spec_examples import CASES, Case

GALLERY = "replay_gallery"
POOL = "replay-pool"


def assert_shape(value: Any, shape: Any, path: str = "$") -> None:
    """``value`` has every property of ``shape``, of its JSON type (lists: each item has the item shape)."""
    if isinstance(shape, dict):
        assert isinstance(value, dict), f"{path}: expected an object, got {value!r}"
        for name, inner in shape.items():
            assert name in value, f"{path}: missing '{name}' (has {sorted(value)})"
            assert_shape(value[name], inner, f"{path}.{name}")
    elif isinstance(shape, list):
        assert isinstance(value, list), f"{path}: expected an array, got {value!r}"
        # A list's items may be few (no paired region) but a listing answers with some.
        assert value or path != "$.value", f"{path}: expected at least one item"
        for index, item in enumerate(value):
            assert_shape(item, shape[0], f"{path}[{index}]")
    else:
        assert isinstance(value, shape), f"{path}: expected {shape.__name__}, got {value!r}"
        assert shape is not int or not isinstance(value, bool), f"{path}: expected an integer, got {value!r}"


@pytest.fixture(scope="module")
def world(info, credential, compute, batch, control):
    """The resources the examples name: a gallery image definition and a snapshot to publish, and a pool."""
    group, location = info["resource_group"], info["location"]
    compute.galleries.begin_create_or_update(group, GALLERY, {"location": location}).result()
    compute.gallery_images.begin_create_or_update(
        group,
        GALLERY,
        "replay",
        {
            "location": location,
            "properties": {
                "osType": "Linux",
                "osState": "Generalized",
                "hyperVGeneration": "V2",
                "identifier": {"publisher": "imagepool", "offer": "replay", "sku": "test"},
            },
        },
    ).result()
    disk = builders.disk(compute, info, "replay-disk")
    snapshot = builders.snapshot(compute, info, "replay-snapshot", disk.id)
    control.patch(
        "/durations", json={"pool_allocation_start": 30, "node_boot": 30, "node_agent_start": 12, "start_task": 12}
    )
    batch.create_pool(marketplace_pool(POOL, 1))
    steady(batch, POOL)
    yield {
        "subscription": info["subscription_id"],
        "group": group,
        "location": location,
        "account": info["batch_account"],
        "gallery": GALLERY,
        "pool": POOL,
        "snapshot": snapshot.id,
    }
    batch.begin_delete_pool(POOL, polling_interval=0.05).result()


@pytest.fixture(scope="module")
def control(info):
    session = clients.control_session(info)
    yield session
    session.delete("/durations")


def _fill(template: Any, names: dict) -> Any:
    if isinstance(template, str):
        return template.format(**names)
    if isinstance(template, dict):
        return {k: _fill(v, names) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, names) for v in template]
    return template


def send(case: Case, info: dict, credential, names: dict) -> requests.Response:
    scope = info["arm_scope"] if case.service == "arm" else info["batch_scope"]
    base = info["arm_endpoint"].rstrip("/") if case.service == "arm" else info["batch_endpoint"]
    headers = {"Authorization": f"Bearer {credential.get_token(scope).token}"}
    if case.body is not None:
        headers["Content-Type"] = (
            "application/json" if case.service == "arm" else "application/json; odata=minimalmetadata"
        )
    return requests.request(
        case.method,
        base + _fill(case.path, names),
        params=_fill(case.params, names),
        headers=headers,
        data=json.dumps(_fill(case.body, names)) if case.body is not None else None,
        verify=info["ca_bundle"],
        timeout=10,
    )


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.example.rsplit("/", 1)[-1].removesuffix(".json"))
def test_the_emulator_answers_as_the_example(case, world, info, credential):
    response = send(case, info, credential, world)
    assert response.status_code == case.status, response.text
    for header in case.headers:
        assert response.headers.get(header), f"{header} missing: {dict(response.headers)}"
    if case.shape is not None:
        body = response.json()
        if case.where:
            key, wanted = case.where
            body = dict(body, value=[item for item in body["value"] if _at(item, key) == wanted])
        assert_shape(body, case.shape)


def _at(item: dict, dotted: str) -> Any:
    for part in dotted.split("."):
        item = item.get(part) if isinstance(item, dict) else None
    return item


def test_a_version_keeps_the_safety_profile_it_was_given(world, info, credential, compute):
    """The example's safetyProfile round-trips: what was PUT, then PATCHed, is what GET answers."""
    get = lambda: compute.gallery_image_versions.get(world["group"], GALLERY, "replay", "1.0.0")
    wait_until(lambda: get().properties.provisioning_state == "Succeeded", timeout=30)
    assert get().properties.safety_profile.allow_deletion_of_replicated_locations is False
    patched = requests.patch(
        f"{info['arm_endpoint']}subscriptions/{world['subscription']}/resourceGroups/{world['group']}/providers/"
        f"Microsoft.Compute/galleries/{GALLERY}/images/replay/versions/1.0.0",
        params={"api-version": "2026-03-03"},
        json={"properties": {"safetyProfile": {"allowDeletionOfReplicatedLocations": True}}},
        headers={"Authorization": f"Bearer {credential.get_token(info['arm_scope']).token}"},
        verify=info["ca_bundle"],
        timeout=10,
    )
    assert patched.status_code == 200, patched.text
    safety = get().properties.safety_profile
    assert safety.allow_deletion_of_replicated_locations is True
    assert (safety.reported_for_policy_violation, safety.block_deletion_before_end_of_life) == (False, False)
