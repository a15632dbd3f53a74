"""Transport faults (throttling, 5xx, dropped connections) as the unmodified SDKs' retry policies see them.

azure-core's RetryPolicy (1.41): a response >= 400 with Retry-After is retried whatever the method; without it
408/429/500/502/503/504 are retried for idempotent methods, and 500/503/504 also for POST and PATCH. A connection
that closes without an answer is retried for idempotent methods only. The status budget is 3 retries (4 attempts).
"""

from __future__ import annotations

import re
import socket
import ssl

import pytest
import requests
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

from tests.integration import clients
from tests.integration.emulator.batch_support import marketplace_pool
from tests.integration.emulator.wire import assert_arm_error, assert_batch_error

GALLERIES = r"/providers/Microsoft\.Compute/galleries$"
SUPPORTED_IMAGES = r"/supportedimages$"
GENERALIZE = r"/virtualMachines/faultvm/generalize$"


def add_fault(control, **rule) -> dict:
    response = control.post("/faults", json=rule)
    assert response.status_code == 201, response.text
    return response.json()


def log_mark(control) -> int:
    return control.get("/requests").json()["summary"]["last_id"]


def attempts(control, since: int, service: str, method: str, path_pattern: str) -> list[dict]:
    """The logged requests since ``since`` to one operation, in order."""
    entries = control.get("/requests", params={"since": since}).json()["value"]
    return [
        e
        for e in entries
        if e["service"] == service and e["method"] == method and re.search(path_pattern, e["path"], re.IGNORECASE)
    ]


def outcomes(tries: list[dict]) -> list[tuple[int, str | None]]:
    return [(t["status"], t["fault"]) for t in tries]


def assert_waited_retry_after(tries: list[dict], seconds: float) -> None:
    gaps = [later["real_time"] - earlier["real_time"] for earlier, later in zip(tries, tries[1:])]
    assert gaps, gaps
    assert all(gap >= seconds * 0.9 for gap in gaps), gaps


def list_galleries(compute, info) -> list:
    return list(compute.galleries.list_by_resource_group(info["resource_group"]))


def generalize(compute, info) -> None:
    compute.virtual_machines.generalize(info["resource_group"], "faultvm")


# --- what a faulted response looks like on the wire --------------------------------------------------


@pytest.fixture
def arm_get(info, credential):
    token = credential.get_token(info["arm_scope"]).token
    url = (
        f"{info['arm_endpoint']}subscriptions/{info['subscription_id']}/resourceGroups/{info['resource_group']}"
        "/providers/Microsoft.Compute/galleries"
    )
    return lambda: requests.get(
        url,
        params={"api-version": "2026-03-03"},
        headers={"Authorization": f"Bearer {token}"},
        verify=info["ca_bundle"],
        timeout=10,
    )


@pytest.fixture
def batch_get(info, credential):
    token = credential.get_token(info["batch_scope"]).token
    return lambda: requests.get(
        f"{info['batch_endpoint']}/supportedimages",
        params={"api-version": "2025-06-01"},
        headers={"Authorization": f"Bearer {token}"},
        verify=info["ca_bundle"],
        timeout=10,
    )


def test_throttled_arm_response_is_a_429_with_retry_after(control, arm_get):
    add_fault(control, kind="throttle", match={"service": "arm", "path": GALLERIES}, count=1, retry_after=7)
    response = arm_get()
    assert_arm_error(response, 429, "TooManyRequests")
    assert response.headers["Retry-After"] == "7"
    assert arm_get().status_code == 200


def test_throttled_batch_response_is_a_429_with_retry_after_in_batch_format(control, batch_get):
    add_fault(control, kind="throttle", match={"service": "batch", "path": SUPPORTED_IMAGES}, count=1, retry_after=3)
    response = batch_get()
    assert_batch_error(response, 429, "TooManyRequests")
    assert response.headers["Retry-After"] == "3"
    assert batch_get().status_code == 200


@pytest.mark.parametrize(
    ("status", "arm_code", "batch_code"),
    [(500, "InternalServerError", "InternalError"), (503, "ServiceUnavailable", "ServerBusy")],
)
def test_server_error_responses_carry_no_retry_after(control, arm_get, batch_get, status, arm_code, batch_code):
    add_fault(control, kind="server_error", status=status, match={"service": "arm|batch"}, count=2)
    arm = arm_get()
    assert_arm_error(arm, status, arm_code)
    batch = batch_get()
    assert_batch_error(batch, status, batch_code)
    assert "Retry-After" not in arm.headers
    assert "Retry-After" not in batch.headers


# --- sync clients ------------------------------------------------------------------------------------


def test_throttled_arm_get_is_retried_after_retry_after(control, compute, info):
    since = log_mark(control)
    add_fault(
        control, kind="throttle", match={"service": "arm", "method": "GET", "path": GALLERIES}, count=2, retry_after=1
    )
    list_galleries(compute, info)
    tries = attempts(control, since, "arm", "GET", GALLERIES)
    assert outcomes(tries) == [(429, "throttle"), (429, "throttle"), (200, None)]
    assert_waited_retry_after(tries, 1)


def test_throttled_batch_get_is_retried_after_retry_after(control, batch):
    since = log_mark(control)
    add_fault(
        control,
        kind="throttle",
        match={"service": "batch", "method": "GET", "path": SUPPORTED_IMAGES},
        count=2,
        retry_after=1,
    )
    assert list(batch.list_supported_images())
    tries = attempts(control, since, "batch", "GET", SUPPORTED_IMAGES)
    assert outcomes(tries) == [(429, "throttle"), (429, "throttle"), (200, None)]
    assert_waited_retry_after(tries, 1)


@pytest.mark.parametrize("service", ["arm", "batch"])
def test_throttling_longer_than_the_retry_budget_surfaces_as_429(control, compute, batch, info, service):
    since = log_mark(control)
    path = GALLERIES if service == "arm" else SUPPORTED_IMAGES
    add_fault(control, kind="throttle", match={"service": service, "path": path}, retry_after=1)
    with pytest.raises(HttpResponseError) as err:
        list_galleries(compute, info) if service == "arm" else list(batch.list_supported_images())
    assert err.value.status_code == 429
    assert err.value.error.code == "TooManyRequests"
    assert outcomes(attempts(control, since, service, "GET", path)) == [(429, "throttle")] * 4


def test_503_on_get_is_retried(control, compute, info):
    since = log_mark(control)
    add_fault(
        control, kind="server_error", status=503, match={"service": "arm", "method": "GET", "path": GALLERIES}, count=1
    )
    list_galleries(compute, info)
    assert outcomes(attempts(control, since, "arm", "GET", GALLERIES)) == [(503, "server_error"), (200, None)]


def test_502_on_post_without_retry_after_is_not_retried(control, compute, info):
    since = log_mark(control)
    add_fault(
        control,
        kind="server_error",
        status=502,
        match={"service": "arm", "method": "POST", "path": GENERALIZE},
        count=1,
    )
    with pytest.raises(HttpResponseError) as err:
        generalize(compute, info)
    assert err.value.status_code == 502
    assert err.value.error.code == "BadGateway"
    assert outcomes(attempts(control, since, "arm", "POST", GENERALIZE)) == [(502, "server_error")]


def test_500_on_post_is_retried_then_surfaces_with_its_code(control, compute, info):
    """azure-core retries a POST that got 500 (see the module docstring); a lasting 500 surfaces with its code."""
    since = log_mark(control)
    add_fault(control, kind="server_error", status=500, match={"service": "arm", "method": "POST", "path": GENERALIZE})
    with pytest.raises(HttpResponseError) as err:
        generalize(compute, info)
    assert err.value.status_code == 500
    assert err.value.error.code == "InternalServerError"
    assert outcomes(attempts(control, since, "arm", "POST", GENERALIZE)) == [(500, "server_error")] * 4


def test_dropped_connection_on_get_is_retried(control, compute, batch, info, emulator_log):
    since = log_mark(control)
    for service, path in (("arm", GALLERIES), ("batch", SUPPORTED_IMAGES)):
        add_fault(control, kind="drop", match={"service": service, "method": "GET", "path": path}, count=1)
    list_galleries(compute, info)
    assert list(batch.list_supported_images())
    assert outcomes(attempts(control, since, "arm", "GET", GALLERIES)) == [(0, "drop"), (200, None)]
    assert outcomes(attempts(control, since, "batch", "GET", SUPPORTED_IMAGES)) == [(0, "drop"), (200, None)]
    assert emulator_log.assert_clean().count("fault: dropped the connection") == 2


def test_dropped_connection_on_post_surfaces_as_service_response_error(control, compute, info, emulator_log):
    since = log_mark(control)
    add_fault(control, kind="drop", match={"service": "arm", "method": "POST", "path": GENERALIZE}, count=1)
    with pytest.raises(ServiceResponseError):
        generalize(compute, info)
    assert outcomes(attempts(control, since, "arm", "POST", GENERALIZE)) == [(0, "drop")]
    assert emulator_log.assert_clean().count("fault: dropped the connection") == 1


def test_applied_drop_makes_the_write_and_loses_the_answer(control, batch, emulator_log):
    """A client that dies between sending a write and reading the answer: the pool exists, the caller never heard."""
    since = log_mark(control)
    add_fault(
        control, kind="drop", applied=True, match={"service": "batch", "method": "POST", "path": "/pools$"}, count=1
    )
    with pytest.raises(ServiceResponseError):
        batch.create_pool(marketplace_pool("applied-drop", dedicated=0))
    try:
        assert batch.get_pool("applied-drop").id == "applied-drop"
        assert outcomes(attempts(control, since, "batch", "POST", "/pools$")) == [(0, "drop")]
        [dropped] = [line for line in emulator_log.assert_clean().splitlines() if "fault: dropped" in line]
        assert dropped.endswith("/pools without an answer (the request was applied)")
    finally:
        batch.begin_delete_pool("applied-drop", polling_interval=0.05).result()


def test_drop_closes_the_connection_without_any_http_answer(control, info, emulator_log):
    since = log_mark(control)
    add_fault(control, kind="drop", match={"service": "arm", "path": "/dropme$"}, count=1)
    context = ssl.create_default_context(cafile=info["ca_bundle"])
    received = b""
    with socket.create_connection(("127.0.0.1", info["port"]), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(
                f"GET /subscriptions/{info['subscription_id']}/dropme HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Length: 0\r\n\r\n".encode()
            )
            try:
                while chunk := tls.recv(4096):
                    received += chunk
            except (ConnectionResetError, ssl.SSLError):
                pass  # an abort may reach the client as a reset rather than as end of stream
    assert received == b""
    assert outcomes(attempts(control, since, "arm", "GET", "/dropme$")) == [(0, "drop")]
    text = emulator_log.assert_clean()
    assert text.count("fault: dropped the connection of GET ") == 1


# --- aio clients -------------------------------------------------------------------------------------


@pytest.fixture
async def async_credential(info):
    async with clients.async_credential(info) as credential:
        yield credential


@pytest.fixture
async def async_compute(info, async_credential):
    async with clients.async_compute(info, async_credential) as client:
        yield client


@pytest.fixture
async def async_batch(info, async_credential):
    async with clients.async_batch(info, async_credential) as client:
        yield client


async def test_async_throttled_gets_are_retried(control, async_compute, async_batch, info):
    since = log_mark(control)
    for service, path in (("arm", GALLERIES), ("batch", SUPPORTED_IMAGES)):
        add_fault(
            control, kind="throttle", match={"service": service, "method": "GET", "path": path}, count=1, retry_after=1
        )
    [g async for g in async_compute.galleries.list_by_resource_group(info["resource_group"])]
    assert [image async for image in async_batch.list_supported_images()]
    arm = attempts(control, since, "arm", "GET", GALLERIES)
    batch = attempts(control, since, "batch", "GET", SUPPORTED_IMAGES)
    assert outcomes(arm) == outcomes(batch) == [(429, "throttle"), (200, None)]
    assert_waited_retry_after(arm, 1)
    assert_waited_retry_after(batch, 1)


async def test_async_throttling_longer_than_the_retry_budget_surfaces_as_429(control, async_batch):
    add_fault(control, kind="throttle", match={"service": "batch", "path": SUPPORTED_IMAGES}, retry_after=1)
    with pytest.raises(HttpResponseError) as err:
        [image async for image in async_batch.list_supported_images()]
    assert err.value.status_code == 429
    assert err.value.error.code == "TooManyRequests"


async def test_async_dropped_connection_on_get_is_retried(control, async_compute, async_batch, info):
    since = log_mark(control)
    for service, path in (("arm", GALLERIES), ("batch", SUPPORTED_IMAGES)):
        add_fault(control, kind="drop", match={"service": service, "method": "GET", "path": path}, count=1)
    [g async for g in async_compute.galleries.list_by_resource_group(info["resource_group"])]
    assert [image async for image in async_batch.list_supported_images()]
    assert outcomes(attempts(control, since, "arm", "GET", GALLERIES)) == [(0, "drop"), (200, None)]
    assert outcomes(attempts(control, since, "batch", "GET", SUPPORTED_IMAGES)) == [(0, "drop"), (200, None)]


async def test_async_dropped_connection_on_post_is_not_retried(control, async_compute, info):
    """aiohttp reports a connection closed before any answer as a request error, not a response error."""
    since = log_mark(control)
    add_fault(control, kind="drop", match={"service": "arm", "method": "POST", "path": GENERALIZE}, count=1)
    with pytest.raises(ServiceRequestError, match="Server disconnected"):
        await async_compute.virtual_machines.generalize(info["resource_group"], "faultvm")
    assert outcomes(attempts(control, since, "arm", "POST", GENERALIZE)) == [(0, "drop")]
