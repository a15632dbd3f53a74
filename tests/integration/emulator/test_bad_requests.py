"""Bad requests get the status and code Azure gives, in the calling service's wire format, and never a 500:
the emulator logs no traceback for any of them.
"""

from __future__ import annotations

import json

import pytest
import requests

from tests.integration.emulator.wire import assert_arm_error, assert_batch_error, assert_oauth_error

COMPUTE_API = {
    "virtualMachines": "2026-04-01",
    "images": "2026-04-01",
    "disks": "2026-03-02",
    "snapshots": "2026-03-02",
    "galleries": "2026-03-03",
}
OTHER_SUBSCRIPTION = "0badc0de-0000-4000-8000-000000000000"


@pytest.fixture
def rg_path(info):
    return f"/subscriptions/{info['subscription_id']}/resourcegroups"


@pytest.fixture
def compute_path(info):
    group = f"/subscriptions/{info['subscription_id']}/resourceGroups/{info['resource_group']}"
    return f"{group}/providers/Microsoft.Compute"


# --- ARM -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("{", "Expecting property name"),
        ("", "the request body is empty"),
        ("[]", "expected a JSON object, got list"),
        ('"westeurope"', "expected a JSON object, got str"),
        ('{"location": 3}', "'location' must be a string"),
        ('{"location": "westeurope", "tags": ["a"]}', "Tags must be an object"),
    ],
)
def test_arm_put_with_bad_body(call, rg_path, emulator_log, body, problem):
    error = assert_arm_error(call("PUT", f"{rg_path}/rg-badbody", body), 400, "InvalidRequestContent")
    assert problem in error["message"]
    emulator_log.assert_clean()


@pytest.mark.parametrize("body", ["{", "[]", "7", '{"location": ["westeurope"]}'])
@pytest.mark.parametrize("resource", sorted(COMPUTE_API))
def test_every_compute_put_refuses_a_body_that_is_not_a_resource(call, compute_path, emulator_log, resource, body):
    response = call("PUT", f"{compute_path}/{resource}/badbody", body, api_version=COMPUTE_API[resource])
    assert_arm_error(response, 400, "InvalidRequestContent")
    emulator_log.assert_clean()


@pytest.mark.parametrize(
    ("resource", "body", "path", "problem"),
    [
        ("disks", {"properties": {"creationData": 1}}, "properties.creationData", "Error converting value 1"),
        (
            "snapshots",
            {"properties": {"creationData": {"sourceResourceId": ["a"]}}},
            "properties.creationData.sourceResourceId",
            "Unexpected character encountered while parsing value: [.",
        ),
        ("images", {"properties": {"storageProfile": 5}}, "properties.storageProfile", "Error converting value 5"),
        (
            "virtualMachines",
            {"properties": {"storageProfile": {"dataDisks": {"lun": 0}}}},
            "properties.storageProfile.dataDisks",
            "Cannot deserialize the current JSON object",
        ),
        ("galleries", {"properties": {"description": True}}, "properties.description", "Error converting value True"),
    ],
)
def test_a_property_of_the_wrong_type_is_named(call, compute_path, info, emulator_log, resource, body, path, problem):
    body = {"location": info["location"], **body}
    error = assert_arm_error(
        call("PUT", f"{compute_path}/{resource}/wrongtype", json.dumps(body), api_version=COMPUTE_API[resource]),
        400,
        "InvalidRequestContent",
    )
    assert error["message"].startswith("The request content was invalid and could not be deserialized: ")
    assert problem in error["message"]
    assert f"Path '{path}'" in error["message"]
    emulator_log.assert_clean()


@pytest.mark.parametrize(
    ("api_version", "code"),
    [
        (None, "MissingApiVersionParameter"),
        ("yesterday", "InvalidApiVersionParameter"),
        ("2024-13", "InvalidApiVersionParameter"),
    ],
)
def test_arm_api_version_is_required_and_checked(call, rg_path, info, emulator_log, api_version, code):
    error = assert_arm_error(call("GET", f"{rg_path}/{info['resource_group']}", api_version=api_version), 400, code)
    assert "api-version" in error["message"]
    emulator_log.assert_clean()


@pytest.mark.parametrize(
    "path",
    [
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/spaceships/x",
        "/subscriptions/{sub}/nothingHere",
        "/providers/Microsoft.Compute/operations",
    ],
)
def test_unknown_arm_path_is_a_404_with_an_arm_error(call, info, emulator_log, path):
    response = call("GET", path.format(sub=info["subscription_id"], rg=info["resource_group"]))
    assert_arm_error(response, 404, "InvalidResourceType")
    emulator_log.assert_clean()


def test_wrong_method_is_a_405(call, rg_path, info, emulator_log):
    error = assert_arm_error(call("POST", f"{rg_path}/{info['resource_group']}", "{}"), 405, "HttpMethodNotAllowed")
    assert "'POST'" in error["message"]
    emulator_log.assert_clean()


def test_unknown_subscription(call, info, emulator_log):
    response = call("GET", f"/subscriptions/{OTHER_SUBSCRIPTION}/resourcegroups/{info['resource_group']}")
    error = assert_arm_error(response, 404, "SubscriptionNotFound")
    assert OTHER_SUBSCRIPTION in error["message"]
    emulator_log.assert_clean()


# --- Batch -----------------------------------------------------------------------------------------


def test_unknown_batch_account(call, emulator_log):
    response = call("GET", "/batch/nosuchaccount/pools", api_version="2025-06-01", token="batch")
    body = assert_batch_error(response, 404, "ResourceNotFound")
    assert "nosuchaccount" in body["message"]["value"]
    emulator_log.assert_clean()


@pytest.mark.parametrize("body", ["{", "", "[]", '"pool"'])
def test_malformed_batch_body(call, info, emulator_log, body):
    response = call("POST", f"/batch/{info['batch_account']}/pools", body, api_version="2025-06-01", token="batch")
    assert_batch_error(response, 400, "InvalidRequestBody")
    emulator_log.assert_clean()


def test_unknown_batch_path(call, info, emulator_log):
    response = call("GET", f"/batch/{info['batch_account']}/spaceships", api_version="2025-06-01", token="batch")
    assert_batch_error(response, 400, "InvalidUri")
    emulator_log.assert_clean()


def batch_values(body: dict) -> dict[str, str]:
    return {entry["key"]: entry["value"] for entry in body.get("values", [])}


def test_wrong_method_on_a_batch_path_is_a_405(call, info, emulator_log):
    response = call(
        "DELETE", f"/batch/{info['batch_account']}/supportedimages", api_version="2025-06-01", token="batch"
    )
    body = assert_batch_error(response, 405, "UnsupportedHttpVerb")
    assert body["message"]["value"].startswith("The resource doesn't support the specified HTTP verb.")
    emulator_log.assert_clean()


@pytest.mark.parametrize(
    ("api_version", "code", "values"),
    [
        (None, "MissingRequiredQueryParameter", {"QueryParameterName": "api-version"}),
        (
            "2019-01-01.99.0",
            "InvalidQueryParameterValue",
            {"QueryParameterName": "api-version", "QueryParameterValue": "2019-01-01.99.0"},
        ),
    ],
)
def test_batch_api_version_is_required_and_checked(call, info, emulator_log, api_version, code, values):
    response = call("GET", f"/batch/{info['batch_account']}/pools", api_version=api_version, token="batch")
    found = batch_values(assert_batch_error(response, 400, code))
    assert values.items() <= found.items()
    emulator_log.assert_clean()


@pytest.mark.parametrize(
    ("body", "prop", "reason"),
    [
        (
            {"id": "wrongtype", "vmSize": 3},
            "vmSize",
            "Cannot convert a primitive value to the expected type 'Edm.String'",
        ),
        (
            {"id": "wrongtype", "startTask": "echo"},
            "startTask",
            "An unexpected 'PrimitiveValue' node was found when reading from the JSON reader. A 'StartObject' node was "
            "expected.",
        ),
        (
            {"id": "wrongtype", "metadata": [{"name": "a", "value": {}}]},
            "metadata[0].value",
            "An unexpected 'StartObject' node was found",
        ),
    ],
)
def test_a_batch_property_of_the_wrong_type_is_named(call, info, emulator_log, body, prop, reason):
    response = call(
        "POST", f"/batch/{info['batch_account']}/pools", json.dumps(body), api_version="2025-06-01", token="batch"
    )
    found = assert_batch_error(response, 400, "InvalidRequestBody")
    assert found["message"]["value"].startswith("The specified Request Body is not syntactically valid.")
    assert batch_values(found)["PropertyName"] == prop
    assert reason in batch_values(found)["Reason"]
    emulator_log.assert_clean()


# --- control and Entra ------------------------------------------------------------------------------


def test_unknown_control_path(call, emulator_log):
    assert_arm_error(call("GET", "/_emulator/spaceships", api_version=None), 404, "NotFound")
    emulator_log.assert_clean()


@pytest.mark.parametrize(
    ("body", "status", "error", "aadsts"),
    [
        (b"\xff\xfe\x00garbage", 400, "invalid_request", 900144),
        (b"grant_type=", 400, "invalid_request", 900144),
        (b"grant_type=authorization_code", 400, "unsupported_grant_type", 70003),
    ],
)
def test_token_endpoint_with_unusable_form(info, emulator_log, body, status, error, aadsts):
    response = requests.post(
        f"{info['authority_host']}/{info['tenant_id']}/oauth2/v2.0/token",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        verify=info["ca_bundle"],
        timeout=10,
    )
    assert_oauth_error(response, status, error, aadsts)
    emulator_log.assert_clean()
