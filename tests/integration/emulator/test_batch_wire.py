"""Batch's side of the wire contract: the headers its spec declares on every change, its own words for a
body it cannot read, properties its contracts lack, and the per VM family core quota an account enforces.
"""

from __future__ import annotations

import json as json_module
from typing import TYPE_CHECKING

import pytest
from azure.batch import models as bm

from tests.integration.emulator.batch_support import marketplace_pool, steady
from tests.integration.emulator.wire import assert_batch_error

if TYPE_CHECKING:
    import requests

API = "2025-06-01"


@pytest.fixture
def raw(call, info):
    """Plain requests to the first account with a Batch token: bodies no SDK would send."""

    def send(method: str, path: str, *, json: dict | None = None, data: bytes | None = None) -> requests.Response:
        body = json_module.dumps(json) if json is not None else data
        return call(method, f"/batch/{info['batch_account']}{path}", body, api_version=API, token="batch")

    return send


def assert_change_headers(response: requests.Response, url_suffix: str) -> None:
    assert response.headers["ETag"].startswith("0x"), response.headers
    assert response.headers["Last-Modified"].endswith("GMT"), response.headers
    assert response.headers["DataServiceId"].endswith(url_suffix), response.headers
    assert response.headers["request-id"]


def test_every_change_answers_with_etag_last_modified_and_dataserviceid(raw, pools, batch):
    pools.add(batch, marketplace_pool("wired", 1))
    steady(batch, "wired")
    resize = raw("POST", "/pools/wired/resize", json={"targetDedicatedNodes": 2})
    assert resize.status_code == 202
    assert_change_headers(resize, "/pools/wired")
    stop = raw("POST", "/pools/wired/stopresize")
    assert stop.status_code == 202
    assert_change_headers(stop, "/pools/wired")
    steady(batch, "wired")
    patched = raw("PATCH", "/pools/wired", json={"metadata": [{"name": "k", "value": "v"}]})
    assert patched.status_code == 200
    assert_change_headers(patched, "/pools/wired")
    replaced = raw("POST", "/pools/wired/updateproperties", json={"metadata": [], "applicationPackageReferences": []})
    assert replaced.status_code == 204
    assert_change_headers(replaced, "/pools/wired")
    # The ETag moves with each change, as the pool's own eTag does.
    assert batch.get_pool("wired").etag == replaced.headers["ETag"]


def test_a_body_that_is_not_json_gets_batchs_own_words(raw):
    response = raw("POST", "/pools", data=b'{"id": "broken",')
    body = assert_batch_error(response, 400, "InvalidRequestBody")
    assert body["message"]["value"].startswith("The specified Request Body is not syntactically valid.")
    values = {v["key"]: v["value"] for v in body["values"]}
    assert values["Reason"]
    assert "could not be deserialized" not in body["message"]["value"]


@pytest.mark.parametrize(
    ("path", "body", "contract"),
    [
        ("/pools", {"id": "p", "vmSize": "Standard_D2s_v3", "certificateReferences": []}, "PoolAddParameter"),
        ("/pools/any/resize", {"targetDedicatedNodes": 1, "targetNodes": 3}, "PoolResizeParameter"),
        ("/jobs", {"id": "j", "poolInfo": {"poolId": "p"}, "schedule": {}}, "JobAddParameter"),
    ],
)
def test_properties_a_contract_lacks_are_refused(raw, path, body, contract):
    unknown = next(k for k in body if k not in ("id", "vmSize", "targetDedicatedNodes", "poolInfo"))
    response = raw("POST", path, json=body)
    error = assert_batch_error(response, 400, "InvalidRequestBody")
    values = {v["key"]: v["value"] for v in error["values"]}
    assert values["PropertyName"] == unknown
    assert values["Reason"] == (
        f"The property '{unknown}' does not exist on type 'Microsoft.Azure.Batch.Protocol.Entities.{contract}'. "
        "Make sure to only use property names that are defined by the type."
    )


def test_an_account_enforces_its_vm_family_quota(batch, pools, control, info):
    account = info["batch_account"]
    response = control.put(
        f"/batch-accounts/{account}", json={"dedicated_core_quota_per_vm_family": {"standardDSv3Family": 4}}
    )
    assert response.status_code == 200
    try:
        pools.add(batch, marketplace_pool("family", 3))  # Standard_D2s_v3: 2 cores a node, 4 allowed
        pool = steady(batch, "family")
        assert pool.current_dedicated_nodes == 2
        assert [e.code for e in pool.resize_errors] == ["AccountVMSeriesCoreQuotaReached"]
        # Another family is not held back by it.
        pools.add(batch, marketplace_pool("other", 3, vm_size="Standard_D2s_v5"))
        assert steady(batch, "other").current_dedicated_nodes == 3
    finally:
        assert control.delete("/variants").status_code == 204


def test_an_account_that_does_not_enforce_family_quotas(batch, pools, control, info):
    control.put(
        f"/batch-accounts/{info['batch_account']}",
        json={
            "dedicated_core_quota_per_vm_family": {"standardDSv3Family": 2},
            "dedicated_core_quota_per_vm_family_enforced": False,
        },
    )
    try:
        pools.add(batch, marketplace_pool("unenforced", 2))
        pool = steady(batch, "unenforced")
        assert (pool.current_dedicated_nodes, pool.resize_errors) == (2, None)
    finally:
        control.delete("/variants")


def test_the_sdk_still_resizes_with_the_headers(batch, pools):
    pools.add(batch, marketplace_pool("sdk", 1))
    steady(batch, "sdk")
    batch.begin_resize_pool("sdk", bm.BatchPoolResizeOptions(target_dedicated_nodes=2), polling_interval=0.05).result()
    assert batch.get_pool("sdk").target_dedicated_nodes == 2


def test_a_count_sent_as_a_string_is_read_as_batch_reads_it(raw, pools, batch):
    """The Azure CLI sends its numeric options as strings; Batch's reader converts a numeric literal."""
    body = {
        "id": "literal",
        "vmSize": "Standard_D2s_v3",
        "virtualMachineConfiguration": {
            "imageReference": {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts"},
            "nodeAgentSKUId": "batch.node.ubuntu 22.04",
        },
        "targetDedicatedNodes": "1",
    }
    assert raw("POST", "/pools", json=dict(body, targetDedicatedNodes="one")).status_code == 400
    assert raw("POST", "/pools", json=body).status_code == 201
    pools.made.append((batch, "literal"))
    assert steady(batch, "literal").target_dedicated_nodes == 1
