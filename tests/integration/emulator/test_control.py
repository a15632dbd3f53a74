"""The control endpoint (``/_emulator``): health, the resource list for leak checks, reset, faults, durations and
the request log.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
import requests
from azure.mgmt.compute.models import Gallery

from tests.emulator_process import start_emulator
from tests.integration import clients
from tests.integration.emulator.wire import assert_arm_error

INTERNAL_KINDS = {"arm/operations", "catalogue/marketplaceVersions"}


def resource_set(control) -> set[tuple[str, str]]:
    return {(r["kind"], r["id"].lower()) for r in control.get("/resources").json()["value"]}


def test_health(control, info):
    health = control.get("/health").json()
    assert health["status"] == "ok"
    assert health["speed"] == info["speed"]
    assert dt.datetime.fromisoformat(health["now"].replace("Z", "+00:00")).tzinfo is not None


def test_resources_lists_live_resources_but_not_bookkeeping(control, compute, info):
    rg = info["resource_group"]
    gallery = compute.galleries.begin_create_or_update(rg, "ctl_listed", Gallery(location=info["location"])).result()
    listed = control.get("/resources").json()["value"]
    assert {"kind": "arm/galleries", "id": gallery.id, "state": "Succeeded"} in listed
    default_group = f"/subscriptions/{info['subscription_id']}/resourceGroups/{rg}"
    assert {"kind": "arm/resourceGroups", "id": default_group, "state": "Succeeded"} in listed
    # The create above went through an async operation document; such bookkeeping is not a resource.
    assert not {r["kind"] for r in listed} & INTERNAL_KINDS
    assert all(r["kind"].startswith(("arm/", "batch/")) and r["id"] and r["state"] for r in listed), listed

    only_galleries = control.get("/resources", params={"kind": "arm/galleries"}).json()["value"]
    assert only_galleries
    assert {r["kind"] for r in only_galleries} == {"arm/galleries"}

    compute.galleries.begin_delete(rg, "ctl_listed").result()
    assert gallery.id not in {r["id"] for r in control.get("/resources").json()["value"]}


@pytest.fixture(scope="module")
def own_emulator(tmp_path_factory):
    """For what must not disturb, or be disturbed by, the tests that share the session's emulator: a reset, and
    exact counts in the request log.
    """
    running = start_emulator(tmp_path_factory.mktemp("own"), speed=600)
    yield running
    running.stop()


@pytest.fixture
def own_info(own_emulator) -> dict:
    return own_emulator.info


@pytest.fixture
def own_control(own_info):
    with clients.control_session(own_info) as session:
        yield session


def test_reset_empties_everything_and_brings_the_default_group_back(own_info, own_control):
    info, control = own_info, own_control
    seeded = resource_set(control)
    credential = clients.credential(info)
    with clients.resources(info, credential) as resources, clients.compute(info, credential) as compute:
        resources.resource_groups.create_or_update("reset-extra", {"location": info["location"]})
        compute.galleries.begin_create_or_update(
            "reset-extra", "reset_gallery", Gallery(location=info["location"])
        ).result()
        resources.resource_groups.begin_delete(info["resource_group"]).result()
        assert not resources.resource_groups.check_existence(info["resource_group"])
    assert control.post("/faults", json={"kind": "drop", "match": {"path": "/nothing$"}}).status_code == 201
    assert control.patch("/durations", json={"gallery_create": 1}).status_code == 200
    assert (
        "arm/galleries",
        f"/subscriptions/{info['subscription_id']}/resourcegroups/reset-extra/providers/"
        "microsoft.compute/galleries/reset_gallery",
    ) in resource_set(control)

    response = control.post("/reset")
    assert response.status_code == 200
    assert response.json() == {"status": "reset"}
    assert resource_set(control) == seeded
    assert (
        "arm/resourceGroups",
        f"/subscriptions/{info['subscription_id']}/resourcegroups/{info['resource_group']}".lower(),
    ) in seeded
    assert control.get("/faults").json()["value"] == []
    assert control.get("/durations").json()["gallery_create"] == 15
    # The request log starts again too: only the reset itself and the three reads after it are in it.
    assert control.get("/requests").json()["summary"]["by_service"] == {"control": 4}


# --- faults ----------------------------------------------------------------------------------------


def test_faults_add_list_remove_clear(control):
    first = control.post("/faults", json={"kind": "throttle", "match": {"service": "arm"}, "count": 2})
    second = control.post("/faults", json={"kind": "drop", "match": {"path": "/nothing$"}})
    assert first.status_code == second.status_code == 201
    first, second = first.json(), second.json()
    assert first["id"] != second["id"]
    assert first == {"kind": "throttle", "match": {"service": "arm"}, "count": 2, "id": first["id"]}
    assert control.get("/faults").json()["value"] == [first, second]

    assert control.delete(f"/faults/{first['id']}").status_code == 204
    assert control.get("/faults").json()["value"] == [second]
    assert_arm_error(control.delete(f"/faults/{first['id']}"), 404, "NotFound")

    control.post("/faults", json={"kind": "server_error", "status": 500})
    assert len(control.get("/faults").json()["value"]) == 2
    assert control.delete("/faults").status_code == 204
    assert control.get("/faults").json()["value"] == []


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ({"kind": "earthquake"}, "unknown fault kind 'earthquake'"),
        ({"match": {"service": "arm"}}, "unknown fault kind None"),
        ({"kind": ["drop"]}, "unknown fault kind ['drop']"),
        ({"kind": "throttle", "match": "arm"}, "'match' must be an object"),
        ({"kind": "throttle", "match": {"path": "("}}, "'match.path' is not a valid regular expression"),
        ({"kind": "drop", "count": 0}, "'count' must be a positive integer"),
        ({"kind": "drop", "count": "2"}, "'count' must be a positive integer"),
        ({"kind": "drop", "count": True}, "'count' must be a positive integer"),
        ({"kind": "throttle", "retry_after": -1}, "'retry_after' must be a whole number"),
        ({"kind": "throttle", "retry_after": 0.5}, "'retry_after' must be a whole number"),
        ({"kind": "server_error", "status": 404}, "'status' must be a 5xx HTTP status, not 404"),
        ({"kind": "server_error", "status": "503"}, "'status' must be a 5xx HTTP status"),
        ({"kind": "drop", "match": {"host": "x"}}, "not ['host']"),
        ({"kind": "drop", "applied": "yes"}, "'applied' (true or false) goes with a drop fault only"),
        ({"kind": "server_error", "applied": True}, "'applied' (true or false) goes with a drop fault only"),
    ],
)
def test_bad_fault_rule_is_refused_naming_the_problem(control, emulator_log, rule, problem):
    error = assert_arm_error(control.post("/faults", json=rule), 400, "InvalidParameter")
    assert problem in error["message"]
    assert control.get("/faults").json()["value"] == []
    emulator_log.assert_clean()


@pytest.mark.parametrize("body", ["{", "[1]", '"drop"'])
def test_fault_body_that_is_not_a_json_object_is_refused(control, body):
    response = control.post("/faults", data=body, headers={"Content-Type": "application/json"})
    assert_arm_error(response, 400, "InvalidRequestContent")


# --- durations -------------------------------------------------------------------------------------


def test_durations_get_patch_delete(control):
    defaults = control.get("/durations").json()
    assert defaults["gallery_create"] == 15
    assert defaults["vm_create"] == 120

    patched = control.patch("/durations", json={"gallery_create": 5, "disk_create": 1.5})
    assert patched.status_code == 200
    assert patched.json() == {**defaults, "gallery_create": 5, "disk_create": 1.5}
    assert control.get("/durations").json() == patched.json()

    restored = control.delete("/durations")
    assert restored.status_code == 200
    assert restored.json() == defaults
    assert control.get("/durations").json() == defaults


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"gallery_create": 5, "warp_drive": 1}, "unknown duration keys ['warp_drive']"),
        ({"disk_create": -1}, "non-negative numbers: ['disk_create']"),
        ({"disk_create": "fast"}, "non-negative numbers: ['disk_create']"),
    ],
)
def test_bad_duration_override_is_refused_and_changes_nothing(control, overrides, problem):
    before = control.get("/durations").json()
    error = assert_arm_error(control.patch("/durations", json=overrides), 400, "InvalidParameter")
    assert problem in error["message"]
    assert control.get("/durations").json() == before


# --- request log -----------------------------------------------------------------------------------


def test_request_log_summary_counts_by_service_since_a_mark(own_control, own_info):
    control, info = own_control, own_info
    credential = clients.credential(info)
    arm_token = credential.get_token(info["arm_scope"]).token
    batch_token = credential.get_token(info["batch_scope"]).token
    since = control.get("/requests").json()["summary"]["last_id"]
    verify = info["ca_bundle"]
    groups = f"{info['arm_endpoint']}subscriptions/{info['subscription_id']}/resourcegroups"
    for _ in range(2):
        requests.get(
            groups,
            params={"api-version": "2024-11-01"},
            headers={"Authorization": f"Bearer {arm_token}"},
            verify=verify,
            timeout=10,
        )
    requests.get(
        f"{info['batch_endpoint']}/supportedimages",
        params={"api-version": "2025-06-01"},
        headers={"Authorization": f"Bearer {batch_token}"},
        verify=verify,
        timeout=10,
    )
    requests.get(
        f"{info['authority_host']}/{info['tenant_id']}/v2.0/.well-known/openid-configuration", verify=verify, timeout=10
    )

    # A request is logged once answered, so the one that read the mark comes first.
    log = control.get("/requests", params={"since": since}).json()
    assert log["summary"] == {
        "by_service": {"control": 1, "arm": 2, "batch": 1, "entra": 1},
        "total": 5,
        "last_id": since + 5,
    }
    assert [(e["service"], e["method"], e["status"]) for e in log["value"]] == [
        ("control", "GET", 200),
        ("arm", "GET", 200),
        ("arm", "GET", 200),
        ("batch", "GET", 200),
        ("entra", "GET", 200),
    ]
    assert log["value"][1]["path"] == f"/subscriptions/{info['subscription_id']}/resourcegroups"
    assert all(e["duration_ms"] >= 0 and e["fault"] is None for e in log["value"])
    # The size of each answer's body, as the client received it.
    groups_body = requests.get(
        groups,
        params={"api-version": "2024-11-01"},
        headers={"Authorization": f"Bearer {arm_token}"},
        verify=verify,
        timeout=10,
    ).content
    assert log["value"][1]["bytes"] == len(groups_body) > 0

    # The log query itself is logged: the next one since the same point sees it.
    later = control.get("/requests", params={"since": log["summary"]["last_id"]}).json()
    assert later["summary"]["by_service"] == {"control": 1, "arm": 1}


@pytest.mark.parametrize("since", ["yesterday", "-1", "1.5"])
def test_request_log_since_must_be_a_request_id(control, emulator_log, since):
    error = assert_arm_error(control.get("/requests", params={"since": since}), 400, "InvalidParameter")
    assert f"not '{since}'" in error["message"]
    emulator_log.assert_clean()


def test_request_log_keeps_no_secrets(own_control, own_info):
    """Credentials travel in bodies, headers and queries; none of them may reach the log or the state files."""
    control, info = own_control, own_info
    marker = f"s3cret-{uuid.uuid4().hex}"
    verify = info["ca_bundle"]
    since = control.get("/requests").json()["summary"]["last_id"]
    token = requests.post(
        f"{info['authority_host']}/{info['tenant_id']}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": info["client_id"],
            "client_secret": marker,
            "scope": info["arm_scope"],
        },
        verify=verify,
        timeout=10,
    )
    assert token.status_code == 401
    arm = requests.get(
        f"{info['arm_endpoint']}subscriptions/{info['subscription_id']}/resourcegroups",
        params={"api-version": "2024-11-01", "sig": marker},
        headers={"Authorization": f"Bearer {marker}"},
        verify=verify,
        timeout=10,
    )
    assert arm.status_code == 401
    batch = requests.get(
        f"{info['batch_endpoint']}/supportedimages",
        params={"api-version": "2025-06-01"},
        headers={"Authorization": f"SharedKey {info['batch_account']}:{marker}", "ocp-date": marker},
        verify=verify,
        timeout=10,
    )
    assert batch.status_code == 403

    log = control.get("/requests", params={"since": since})
    assert [(e["service"], e["status"]) for e in log.json()["value"]] == [
        ("control", 200),
        ("entra", 401),
        ("arm", 401),
        ("batch", 403),
    ]
    assert marker not in log.text
    data_dir = Path(info["data_dir"])
    for path in [*data_dir.glob("state.sqlite*"), data_dir / "emulator.log"]:
        assert marker.encode() not in path.read_bytes(), path
