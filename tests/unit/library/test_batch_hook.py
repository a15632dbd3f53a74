"""BatchHook without Azure: credentials and endpoint, the SharedKey refusal, the pool body on the wire,
plain-data conversions and error messages.
"""

from __future__ import annotations

import json
from datetime import timedelta
from unittest import mock

import pytest
from azure.batch import models as bm
from azure.batch._patch import BatchErrorFormat  # how BatchClient's exception policy reads Batch error bodies
from azure.core.credentials import AzureNamedKeyCredential
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.core.rest import HttpResponse

from imagepool.errors import AzureOperationFailed
from imagepool.hooks.batch import BatchHook, PoolSpec, StartTask
from imagepool.hooks.connection import AzureConnection, InvalidConnection

URL = "https://acct.westeurope.batch.azure.com"
IMAGE = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0"
SHARED_KEY = AzureConnection(conn_id="batch_key", batch_account_name="acct", batch_account_key="a2V5", account_url=URL)
ENTRA = AzureConnection(
    conn_id="entra",
    client_id="app",
    client_secret="s",
    tenantId="t",
    subscriptionId="sub",
    account_url=URL,
    cloud_environment="AzureUSGovernment",
    ca_bundle="/ca.pem",
)


def hook(settings: AzureConnection, **kwargs) -> BatchHook:
    made = BatchHook(settings.conn_id, settings=settings, **kwargs)
    made.__dict__["connection"] = mock.Mock(name="BatchClient")
    return made


def spec(**overrides) -> PoolSpec:
    args = dict(
        pool_id="p1",
        vm_size="standard_d2s_v3",
        image_id=IMAGE,
        node_agent_sku_id="batch.node.ubuntu 22.04",
        target_dedicated_nodes=2,
        target_low_priority_nodes=1,
        resize_timeout=timedelta(minutes=15),
        start_task=StartTask("/bin/bash -c 'echo hi'", elevated=True),
    )
    args.update(overrides)
    return PoolSpec(**args)


def batch_error(status: int, code: str, message: str = "m", values=()) -> HttpResponseError:
    response = mock.Mock(spec=HttpResponse, status_code=status, reason="r", headers={})
    body = {
        "code": code,
        "message": {"lang": "en-US", "value": f"{message}\nRequestId:x"},
        "values": [{"key": k, "value": v} for k, v in values],
    }
    response.text.return_value = json.dumps(body)
    response.json.return_value = body
    cls = {404: ResourceNotFoundError, 409: ResourceExistsError}.get(status, HttpResponseError)
    return cls(response=response, error_format=BatchErrorFormat)


class TestSharedKey:
    def test_gallery_pool_is_refused_before_any_call(self):
        made = hook(SHARED_KEY)
        with pytest.raises(InvalidConnection) as err:
            made.create_pool(spec())
        message = str(err.value)
        assert "Connection 'batch_key'" in message
        assert "create pool p1 from a Compute Gallery image" in message
        assert (
            "'The specified type of authentication SharedKey is not allowed when external resources of type "
            "Compute are linked.'"
        ) in message
        assert "Use an Entra ID credential (service principal, managed identity, workload identity)" in message
        assert made.connection.mock_calls == []

    def test_key_credential_for_read_only_use(self):
        credential = BatchHook("batch_key", settings=SHARED_KEY).credential
        assert isinstance(credential, AzureNamedKeyCredential)
        assert (credential.named_key.name, credential.named_key.key) == ("acct", "a2V5")

    async def test_async_client_with_a_key_has_nothing_else_to_close(self):
        async with BatchHook("batch_key", settings=SHARED_KEY) as made:
            await made.get_async_conn()
            assert len(made._async_closers) == 1

    def test_entra_id_is_accepted(self):
        hook(ENTRA).require_entra_id("create pool p1")


class TestClient:
    def test_entra_client_uses_the_cloud_batch_scope_and_ca(self):
        kwargs = BatchHook("entra", settings=ENTRA)._client_kwargs("cred")
        assert kwargs == {
            "endpoint": URL,
            "credential": "cred",
            "credential_scopes": ["https://batch.core.usgovcloudapi.net//.default"],
            "connection_verify": "/ca.pem",
        }

    def test_endpoint_parameter_wins_over_the_connection(self):
        assert (
            BatchHook("entra", "https://other.eastus.batch.azure.com/", settings=ENTRA).endpoint
            == "https://other.eastus.batch.azure.com"
        )

    def test_missing_endpoint_names_the_extra(self):
        settings = AzureConnection(conn_id="bare", client_id="a", client_secret="s", tenantId="t")
        with pytest.raises(InvalidConnection) as err:
            BatchHook("bare", settings=settings).endpoint
        assert "extra 'batch_account_url'" in str(err.value)

    def test_account_name(self):
        assert BatchHook("entra", settings=ENTRA).account_name() == "acct"
        assert BatchHook("entra", settings=ENTRA).account_name("explicit") == "explicit"
        assert BatchHook("batch_key", "https://127.0.0.1:1/batch/x", settings=SHARED_KEY).account_name() == "acct"

    def test_probe_reads_one_supported_image(self):
        made = hook(ENTRA)
        made.connection.list_supported_images.return_value = iter([])
        assert made.test_connection() == (True, f"Connected to Azure Batch account {URL} (client_secret).")
        made.connection.list_supported_images.assert_called_once_with(max_results=1)


class TestPools:
    def test_pool_body_on_the_wire(self):
        body = BatchHook._pool_body(spec(security_type="trustedLaunch", metadata={"image_version": "1.0.0"}))
        assert body.as_dict() == {
            "id": "p1",
            "vmSize": "standard_d2s_v3",
            "virtualMachineConfiguration": {
                "imageReference": {"virtualMachineImageId": IMAGE},
                "nodeAgentSKUId": "batch.node.ubuntu 22.04",
                "securityProfile": {
                    "securityType": "trustedLaunch",
                    "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True},
                },
            },
            "targetDedicatedNodes": 2,
            "targetLowPriorityNodes": 1,
            "resizeTimeout": "PT15M00S",
            "enableAutoScale": False,
            "taskSlotsPerNode": 1,
            "startTask": {
                "commandLine": "/bin/bash -c 'echo hi'",
                "waitForSuccess": True,
                "maxTaskRetryCount": 0,
                "userIdentity": {"autoUser": {"scope": "pool", "elevationLevel": "admin"}},
            },
            "metadata": [{"name": "image_version", "value": "1.0.0"}],
        }

    def test_plain_pool_body_has_no_security_start_task_or_metadata(self):
        body = BatchHook._pool_body(spec(start_task=None)).as_dict()
        assert "securityProfile" not in body["virtualMachineConfiguration"]
        assert "startTask" not in body
        assert "metadata" not in body

    def test_existing_pool_is_reported_not_raised(self):
        made = hook(ENTRA)
        made.connection.create_pool.side_effect = batch_error(409, "PoolExists")
        assert made.create_pool(spec()) is False

    def test_other_conflicts_raise_with_code_and_next_step(self):
        made = hook(ENTRA)
        made.connection.create_pool.side_effect = batch_error(409, "PoolBeingDeleted", "going")
        with pytest.raises(AzureOperationFailed) as err:
            made.create_pool(spec())
        assert str(err.value) == (
            "pool p1: Azure error PoolBeingDeleted: going -> the pool is being deleted; wait "
            "until it is gone, then re-run the task"
        )

    def test_error_values_are_part_of_the_message(self):
        made = hook(ENTRA)
        made.connection.create_pool.side_effect = batch_error(
            400, "InvalidPropertyValue", "bad", [("PropertyName", "vmSize"), ("Reason", "no Gen2")]
        )
        with pytest.raises(AzureOperationFailed) as err:
            made.create_pool(spec())
        assert "InvalidPropertyValue: bad (PropertyName: vmSize; Reason: no Gen2)" in str(err.value)

    def test_node_counts_add_up_dedicated_and_spot_of_the_pool_only(self):
        made = hook(ENTRA)
        made.connection.list_pool_node_counts.return_value = [
            bm.BatchPoolNodeCounts(
                pool_id="P1",
                dedicated=bm.BatchNodeCounts(idle=2, start_task_failed=1, total=3),
                low_priority=bm.BatchNodeCounts(idle=1, preempted=1, total=2),
            )
        ]
        assert made.pool_node_counts("p1") == {"idle": 3, "startTaskFailed": 1, "preempted": 1, "total": 5}
        made.connection.list_pool_node_counts.assert_called_once_with(filter="poolId eq 'p1'")

    def test_node_counts_of_a_pool_without_nodes(self):
        made = hook(ENTRA)
        made.connection.list_pool_node_counts.return_value = []
        assert made.pool_node_counts("p1") == {}

    def test_pool_image_ids_are_lower_cased(self):
        made = hook(ENTRA)
        config = bm.VirtualMachineConfiguration(
            image_reference=bm.BatchVmImageReference(virtual_machine_image_id=IMAGE.upper()), node_agent_sku_id="a"
        )
        marketplace = bm.VirtualMachineConfiguration(
            image_reference=bm.BatchVmImageReference(publisher="p", offer="o", sku="s"), node_agent_sku_id="a"
        )
        made.connection.list_pools.return_value = [
            bm.BatchPool(id="a", virtual_machine_configuration=config),
            bm.BatchPool(id="b", virtual_machine_configuration=marketplace),
            bm.BatchPool(id="c"),
        ]
        assert made.pool_image_ids() == {IMAGE.lower()}

    def test_resize_sends_only_the_initial_request(self):
        made = hook(ENTRA)
        made.resize("p1", dedicated=0, low_priority=0, node_deallocation_option="taskcompletion")
        request = made.connection.send_request.call_args.args[0]
        assert (request.method, request.url) == ("POST", "/pools/p1/resize?api-version=2025-06-01")
        assert json.loads(request.content) == {
            "targetDedicatedNodes": 0,
            "targetLowPriorityNodes": 0,
            "nodeDeallocationOption": "taskcompletion",
        }
        made.connection.begin_resize_pool.assert_not_called()

    @pytest.mark.parametrize(("code", "result"), [(None, True), ("PoolBeingDeleted", True), ("PoolNotFound", False)])
    def test_delete_pool(self, code, result):
        made = hook(ENTRA)
        if code:
            made.connection.send_request.return_value.raise_for_status.side_effect = batch_error(
                404 if code == "PoolNotFound" else 409, code
            )
        assert made.delete_pool("p1") is result
        assert made.connection.send_request.call_args.args[0].method == "DELETE"

    def test_delete_pool_raises_other_errors(self):
        made = hook(ENTRA)
        made.connection.send_request.return_value.raise_for_status.side_effect = batch_error(403, "Forbidden")
        with pytest.raises(AzureOperationFailed):
            made.delete_pool("p1")


class TestAsyncErrors:
    async def test_request_errors_are_translated_and_service_errors_left_to_the_wait(self):
        made = BatchHook("entra", settings=ENTRA)
        client = mock.AsyncMock()
        made._async_client = client
        client.get_task.side_effect = batch_error(404, "JobNotFound")
        with pytest.raises(AzureOperationFailed) as err:
            await made.aget_task("j", "t")
        assert err.value.code == "JobNotFound"
        client.get_pool.side_effect = batch_error(503, "ServerBusy")
        with pytest.raises(HttpResponseError):
            await made.aget_pool("p1")
