"""Batch operators and the steady sensor without Azure: rendered-value checks, the rules they apply,
and what each does with the event a wait ends with (the hook is a fake; waits are recorded).
"""

from __future__ import annotations

import time
from unittest import mock

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException, TaskDeferred

from imagepool.errors import AzureOperationFailed
from imagepool.hooks.batch import BatchHook
from imagepool.hooks.connection import AzureConnection, InvalidConnection
from imagepool.operators import batch as operators
from imagepool.operators.batch import (
    AzureBatchPoolCreateOperator,
    AzureBatchPoolRetireOperator,
    AzureBatchSmokeJobOperator,
    node_agent_problem,
    pool_resource_id,
    security_problem,
    smoke_job_id,
)
from imagepool.sensors import batch as sensors
from imagepool.sensors.batch import AzureBatchPoolSteadySensor

URL = "https://acct.westeurope.batch.azure.com"
IMAGE = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0"
SUPPORTED = {"batch.node.ubuntu 22.04": "linux", "batch.node.el 9": "linux", "batch.node.windows amd64": "windows"}


class FakeHook:
    """What the operators call on a BatchHook, recorded; pools and tasks are plain dicts."""

    def __init__(self, pool=None, created=True, supported=SUPPORTED):
        self.pool, self.created, self.supported = pool, created, supported
        self.failed = None
        self.calls: list[tuple] = []
        self.endpoint = URL
        self.settings = AzureConnection(
            conn_id="azure_default",
            client_id="a",
            client_secret="s",
            tenantId="t",
            subscriptionId="sub",
            resource_group="rg",
            account_url=URL,
        )

    def __getattr__(self, name):
        def record(*args, **kwargs):
            self.calls.append((name, *args, *sorted(kwargs.items())))
            return {
                "get_pool": self.pool,
                "supported_node_agent_skus": self.supported,
                "create_pool": self.created,
                "create_job": True,
                "create_task": True,
                "delete_job": True,
                "delete_pool": True,
                "failed_node": self.failed,
            }.get(name)

        return record

    def account_name(self, explicit=None):
        return explicit or "acct"

    def require_entra_id(self, purpose):
        self.calls.append(("require_entra_id", purpose))

    def names(self):
        return [call[0] for call in self.calls]


@pytest.fixture
def fake(monkeypatch):
    made = FakeHook()
    monkeypatch.setattr(operators, "BatchHook", lambda *args, **kwargs: made)
    monkeypatch.setattr(sensors, "BatchHook", lambda *args, **kwargs: made)
    return made


@pytest.fixture
def waits(monkeypatch):
    """``wait_for`` calls, recorded instead of run."""
    recorded = []

    def wait_for(self, context, trigger, method_name="execute_complete", kwargs=None):
        recorded.append((trigger, method_name, kwargs))
        return "deferred"

    monkeypatch.setattr(operators.ImagepoolBaseOperator, "wait_for", wait_for)
    return recorded


def pool(allocation="steady", state="active", dedicated=2, spot=0, current=None, image=IMAGE):
    current = (dedicated, spot) if current is None else current
    return {
        "id": "p1",
        "state": state,
        "allocation_state": allocation,
        "image_id": image,
        "target_dedicated_nodes": dedicated,
        "target_low_priority_nodes": spot,
        "current_dedicated_nodes": current[0],
        "current_low_priority_nodes": current[1],
        "resize_errors": [],
    }


def context():
    ti = mock.Mock()
    return {"ti": ti, "task_instance": ti}


# --- pool create -----------------------------------------------------------------------------------


def create(**overrides) -> AzureBatchPoolCreateOperator:
    args = dict(
        task_id="create_pool",
        pool_id="p1",
        image_version_id=IMAGE,
        vm_size="standard_d2s_v3",
        node_agent_sku_id="batch.node.ubuntu 22.04",
        target_dedicated_nodes=2,
        os_type="Linux",
    )
    args.update(overrides)
    return AzureBatchPoolCreateOperator(**args)


class TestAzureBatchPoolCreateOperator:
    def test_init_stores_only(self):
        op = create(start_task_command="echo hi")
        assert (op.pool_id, op.target_dedicated_nodes, op.target_low_priority_nodes, op.resize_timeout) == (
            "p1",
            2,
            0,
            None,
        )
        assert op.deferrable is True
        assert op.start_task_wait_for_success is True
        assert op.task_slots_per_node == 1

    def test_template_fields(self):
        assert {
            "azure_conn_id",
            "pool_id",
            "image_version_id",
            "vm_size",
            "node_agent_sku_id",
            "target_dedicated_nodes",
            "target_low_priority_nodes",
            "resize_timeout",
            "start_task_command",
            "batch_account_url",
            "security_type",
            "image_security_type",
        } <= set(create().template_fields)

    @pytest.mark.parametrize(
        ("overrides", "expected"),
        [
            ({"pool_id": "p.1"}, "pool id 'p.1' must be 1-64"),
            ({"image_version_id": IMAGE.rsplit("/versions", 1)[0]}, "is not a gallery image version id"),
            ({"vm_size": ""}, "vm_size is empty"),
            ({"target_dedicated_nodes": -1}, "must be whole numbers >= 0"),
            ({"target_low_priority_nodes": "two"}, "must be whole numbers >= 0"),
            ({"resize_timeout": 60}, "resize_timeout 60 must be at least Batch's minimum of 300 seconds"),
            ({"task_slots_per_node": 0}, "task_slots_per_node 0 must be 1-256"),
            ({"os_type": "BeOS"}, "os_type 'BeOS' must be Linux or Windows"),
            ({"security_type": "secure"}, "security_type 'secure' must be trustedLaunch or confidentialVM"),
            (
                {"image_security_type": "TrustedLaunch"},
                "security_type 'none' cannot boot an image whose definition is "
                "'TrustedLaunch': use security_type 'trustedLaunch'",
            ),
        ],
    )
    def test_execute_rejects_bad_values_before_any_hook(self, monkeypatch, overrides, expected):
        monkeypatch.setattr(operators, "BatchHook", mock.Mock(side_effect=AssertionError("hook made")))
        with pytest.raises(AirflowFailException) as err:
            create(**overrides).execute(context())
        assert expected in str(err.value)
        assert "create_pool: invalid input" in str(err.value)

    def test_every_bad_value_is_named_at_once(self, monkeypatch):
        monkeypatch.setattr(operators, "BatchHook", mock.Mock(side_effect=AssertionError("hook made")))
        with pytest.raises(AirflowFailException) as err:
            create(pool_id="p 1", vm_size="", task_slots_per_node=300).execute(context())
        assert all(text in str(err.value) for text in ("pool id 'p 1'", "vm_size", "task_slots_per_node 300"))

    def test_creates_with_derived_resize_timeout_and_rendered_numbers(self, fake):
        result = create(
            target_dedicated_nodes="2500",
            target_low_priority_nodes="500",
            start_task_command="echo hi",
            security_type="TrustedLaunch",
            image_security_type="TrustedLaunchSupported",
        ).execute(context())
        assert result == {"pool_id": "p1", "batch_account_url": URL}
        assert fake.names()[:3] == ["require_entra_id", "supported_node_agent_skus", "create_pool"]
        spec = fake.calls[2][1]
        assert (spec.target_dedicated_nodes, spec.target_low_priority_nodes) == (2500, 500)
        assert spec.resize_timeout.total_seconds() == 45 * 60
        assert spec.security_type == "trustedLaunch"
        assert spec.start_task.command_line == "echo hi"

    def test_portal_link_is_pushed_after_creation(self, fake):
        ctx = context()
        create(batch_account_name="myacct").execute(ctx)
        key, url = ctx["ti"].xcom_push.call_args.kwargs.values()
        assert key == "batch_pool_portal_url"
        assert url.endswith(
            "/resource/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/"
            "myacct/pools/p1/overview"
        )

    def test_unsupported_sku_is_refused_before_creation(self, fake):
        with pytest.raises(AzureOperationFailed) as err:
            create(node_agent_sku_id="batch.node.windows amd64").execute(context())
        assert "UnsupportedNodeAgentSku" in str(err.value)
        assert "create_pool" not in fake.names()

    def test_shared_key_connection_is_refused_before_any_call(self, monkeypatch):
        settings = AzureConnection(conn_id="key", batch_account_name="acct", batch_account_key="a2V5", account_url=URL)
        hook = BatchHook("key", settings=settings)
        hook.__dict__["connection"] = mock.Mock()
        monkeypatch.setattr(operators, "BatchHook", lambda *args, **kwargs: hook)
        with pytest.raises(InvalidConnection) as err:
            create(azure_conn_id="key").execute(context())
        assert "SharedKey is not allowed when external resources of type Compute are linked" in str(err.value)
        assert hook.connection.mock_calls == []

    def test_existing_pool_with_the_same_image_is_reused(self, fake):
        fake.created, fake.pool = False, pool(image=IMAGE.upper())
        assert create().execute(context())["pool_id"] == "p1"
        assert "resize" not in fake.names()

    @pytest.mark.parametrize(
        "doc",
        [
            pool(dedicated=1),
            {
                **pool(current=(1, 0)),
                "resize_errors": [{"code": "AccountCoreQuotaReached", "message": "m", "values": {}}],
            },
        ],
    )
    def test_reused_pool_is_resized_to_the_spec(self, fake, doc):
        fake.created, fake.pool = False, doc
        create(target_dedicated_nodes=2).execute(context())
        assert fake.calls[-1] == (
            "resize",
            "p1",
            ("dedicated", 2),
            ("low_priority", 0),
            ("resize_timeout", operators.pool_sizing.resize_timeout(2)),
        )

    def test_reused_pool_that_is_resizing_is_left_to_the_sensor(self, fake):
        fake.created, fake.pool = False, pool("resizing", dedicated=1)
        create(target_dedicated_nodes=2).execute(context())
        assert "resize" not in fake.names()

    def test_existing_pool_with_another_image_is_an_error_naming_it(self, fake):
        fake.created, fake.pool = False, pool(image="/other/image")
        with pytest.raises(AzureOperationFailed) as err:
            create().execute(context())
        assert "pool p1: Azure error PoolExists: the pool exists with image /other/image, not " + IMAGE in str(
            err.value
        )

    def test_existing_pool_being_deleted_is_an_error(self, fake):
        fake.created, fake.pool = False, pool(state="deleting")
        with pytest.raises(AzureOperationFailed) as err:
            create().execute(context())
        assert err.value.code == "PoolBeingDeleted"


@pytest.mark.parametrize(
    ("image", "pool_security", "ok"),
    [
        (None, "trustedLaunch", True),
        ("Standard", None, True),
        ("Standard", "trustedLaunch", False),
        ("TrustedLaunch", "trustedLaunch", True),
        ("TrustedLaunch", None, False),
        ("TrustedLaunchSupported", None, True),
        ("TrustedLaunchSupported", "trustedLaunch", True),
        ("TrustedLaunchSupported", "confidentialvm", False),
        ("ConfidentialVM", "confidentialvm", True),
        ("ConfidentialVMSupported", None, True),
        ("ConfidentialVMSupported", "trustedLaunch", False),
        ("TrustedLaunchAndConfidentialVmSupported", "confidentialvm", True),
        ("Quantum", None, False),
    ],
)
def test_security_type_against_the_image_definition(image, pool_security, ok):
    assert (security_problem(image, pool_security) is None) is ok


@pytest.mark.parametrize(
    ("sku", "os_type", "expected"),
    [
        ("batch.node.ubuntu 22.04", "Linux", None),
        ("Batch.Node.Ubuntu 22.04", None, None),
        ("batch.node.windows amd64", "Windows", None),
        ("batch.node.windows amd64", "Linux", "is for windows nodes but the image's OS type is Linux"),
        (
            "batch.node.plan9",
            "Linux",
            "supported: linux: batch.node.el 9, batch.node.ubuntu 22.04; windows: batch.node.windows amd64",
        ),
    ],
)
def test_node_agent_sku_against_supported_images(sku, os_type, expected):
    problem = node_agent_problem(sku, SUPPORTED, os_type)
    assert problem is None if expected is None else expected in problem


def test_pool_resource_id_and_smoke_job_id():
    assert (
        pool_resource_id("s", "rg", "acct", "p1")
        == "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/acct/pools/p1"
    )
    assert smoke_job_id("render-1-4-2") == "smoke-render-1-4-2"
    long = smoke_job_id("p" * 64)
    assert len(long) == 64
    assert long == smoke_job_id("P" * 64).lower()
    assert long.startswith("smoke-ppp")


# --- steady sensor ---------------------------------------------------------------------------------


def sensor(**overrides) -> AzureBatchPoolSteadySensor:
    return AzureBatchPoolSteadySensor(**{"task_id": "steady", "pool_id": "p1", **overrides})


class TestAzureBatchPoolSteadySensor:
    def test_init_and_template_fields(self):
        op = sensor()
        assert (op.min_healthy_fraction, op.max_failed_fraction, op.max_resizes) == (0.95, 0.05, 2)
        assert {"pool_id", "batch_account_url", "min_healthy_fraction"} <= set(op.template_fields)

    @pytest.mark.parametrize(
        ("overrides", "expected"),
        [
            ({"min_healthy_fraction": 1.5}, "min_healthy_fraction 1.5 must be a number from 0 to 1"),
            ({"max_failed_fraction": "lots"}, "max_failed_fraction 'lots'"),
            ({"max_resizes": -1}, "max_resizes -1"),
            ({"resize_timeout": 10}, "resize_timeout 10 must be at least 300 seconds"),
            ({"pool_id": ""}, "pool id '' must be 1-64"),
        ],
    )
    def test_execute_rejects_bad_values(self, monkeypatch, overrides, expected):
        monkeypatch.setattr(sensors, "BatchHook", mock.Mock(side_effect=AssertionError("hook made")))
        with pytest.raises(AirflowFailException) as err:
            sensor(**overrides).execute(context())
        assert expected in str(err.value)

    def test_waits_with_a_timeout_from_the_pool_size(self, fake, waits):
        fake.pool = pool(dedicated=2500, spot=500)
        assert sensor(min_healthy_fraction="0.9").execute(context()) == "deferred"
        trigger, method, kwargs = waits[0]
        assert (method, kwargs) == ("execute_complete", {"resizes": 0})
        assert (trigger.pool_id, trigger.min_healthy_fraction, trigger.batch_account_url) == ("p1", 0.9, URL)
        assert trigger.deadline - time.time() == pytest.approx((45 + 30) * 60, abs=5)

    def test_missing_pool_fails(self, fake, waits):
        with pytest.raises(AzureOperationFailed) as err:
            sensor().execute(context())
        assert err.value.code == "PoolNotFound"
        assert waits == []

    def test_success_returns_counts(self, fake):
        event = {"status": "success", "message": "ok", "healthy": 10, "target": 10}
        assert sensor().execute_complete(context(), event, resizes=1) == {
            "pool_id": "p1",
            "batch_account_url": URL,
            "healthy_nodes": 10,
            "target_nodes": 10,
        }
        assert "failed_node" not in fake.names()

    def test_success_with_failed_nodes_names_one_and_why(self, fake):
        fake.failed = {
            "id": "tvm-7",
            "state": "startTaskFailed",
            "start_task_exit_code": 1,
            "errors": [{"code": "FailureExitCode", "message": "exited with 1"}],
        }
        event = {"status": "success", "message": "ok", "healthy": 9, "target": 10, "warning": "1 of 10 ..."}
        assert sensor().execute_complete(context(), event, resizes=1) == {
            "pool_id": "p1",
            "batch_account_url": URL,
            "healthy_nodes": 9,
            "target_nodes": 10,
            "failed_node": " (node tvm-7: start task exited with 1, Azure error FailureExitCode: exited with 1)",
        }

    def test_retryable_error_resizes_to_the_target_and_waits_again(self, fake, waits):
        fake.pool = pool(dedicated=4, spot=1, current=(2, 0))
        event = {"status": "error", "message": "pool p1: Azure error AllocationTimedout", "retryable": True}
        sensor().execute_complete(context(), event, resizes=1)
        resize = next(call for call in fake.calls if call[0] == "resize")
        assert resize[:2] == ("resize", "p1")
        assert dict(resize[2:]) == {
            "dedicated": 4,
            "low_priority": 1,
            "resize_timeout": sensors.pool_sizing.resize_timeout(5),
        }
        assert waits[0][2] == {"resizes": 2}

    def test_retryable_errors_beyond_max_resizes_fail(self, fake, waits):
        event = {"status": "error", "message": "pool p1: Azure error AllocationFailed", "retryable": True}
        with pytest.raises(AirflowException) as err:
            sensor(max_resizes=2).execute_complete(context(), event, resizes=2)
        assert "gave up after 2 resizes" in str(err.value)
        assert "resize" not in fake.names()

    @pytest.mark.parametrize(
        "event",
        [
            {"status": "error", "message": "pool p1: Azure error AccountCoreQuotaReached", "retryable": False},
            {"status": "error", "message": "pool p1: steady, 3 unusable"},
            {"status": "timeout", "message": "Timed out; last seen: pool p1: resizing"},
            None,
        ],
    )
    def test_other_endings_fail_with_the_reason(self, fake, event):
        with pytest.raises(AirflowException) as err:
            sensor().execute_complete(context(), event)
        assert "pool p1" in str(err.value) or "without an event" in str(err.value)
        assert "resize" not in fake.names()

    @pytest.mark.parametrize(
        "event",
        [
            {
                "status": "error",
                "message": "pool p1: Azure error AccountCoreQuotaReached",
                "code": "AccountCoreQuotaReached",
                "retryable": False,
            },
            {"status": "error", "message": "pool p1: steady, 3 unusable", "code": "NodesFailed"},
            {
                "status": "error",
                "message": "pool p1: Azure error AllocationTimedout",
                "code": "AllocationTimedout",
                "retryable": True,
            },
        ],
    )
    def test_verdicts_on_the_pool_fail_without_airflow_retries(self, fake, event):
        with pytest.raises(AirflowFailException):
            sensor(max_resizes=0).execute_complete(context(), event)

    def test_a_broken_wait_is_left_to_airflow_retries(self, fake):
        with pytest.raises(AirflowException) as err:
            sensor().execute_complete(context(), {"status": "error", "message": "ServiceRequestError: refused"})
        assert not isinstance(err.value, AirflowFailException)


# --- smoke job -------------------------------------------------------------------------------------


def smoke(**overrides) -> AzureBatchSmokeJobOperator:
    return AzureBatchSmokeJobOperator(**{"task_id": "smoke", "pool_id": "p1", "command_line": "check", **overrides})


def task_event(exit_code=0, status="success"):
    return {
        "status": status,
        "message": "m",
        "job_id": "smoke-p1",
        "task_id": "smoke",
        "exit_code": exit_code,
        "result": "success" if exit_code == 0 else "failure",
        "node_id": "n1",
        "failure": {"code": "FailureExitCode", "message": "bad"} if exit_code else None,
    }


class TestAzureBatchSmokeJobOperator:
    def test_template_fields_and_ids(self):
        op = smoke()
        assert {"pool_id", "command_line", "job_id", "batch_account_url"} <= set(op.template_fields)
        assert op._job == "smoke-p1"
        assert smoke(job_id="mine")._job == "mine"

    def test_execute_rejects_bad_values(self, monkeypatch):
        monkeypatch.setattr(operators, "BatchHook", mock.Mock(side_effect=AssertionError("hook made")))
        with pytest.raises(AirflowFailException) as err:
            smoke(command_line=" ", task_id_in_job="a b").execute(context())
        assert "command_line is empty" in str(err.value)
        assert "task_id_in_job 'a b'" in str(err.value)

    def test_starts_the_task_and_defers_without_deleting(self, fake, monkeypatch):
        def defer(self, context, trigger, method_name="execute_complete", kwargs=None):
            raise TaskDeferred(trigger=trigger, method_name=method_name)

        monkeypatch.setattr(operators.ImagepoolBaseOperator, "wait_for", defer)
        with pytest.raises(TaskDeferred) as deferred:
            smoke(timeout=600).execute(context())
        assert (deferred.value.trigger.job_id, deferred.value.trigger.batch_task_id) == ("smoke-p1", "smoke")
        assert fake.names() == ["create_job", "create_task"]
        assert dict(fake.calls[1][4:])["max_wall_clock"].total_seconds() == 600

    def test_exit_zero_succeeds_and_deletes_the_job(self, fake):
        assert smoke().execute_complete(context(), task_event(0)) == {
            "pool_id": "p1",
            "job_id": "smoke-p1",
            "task_id": "smoke",
            "exit_code": 0,
            "node_id": "n1",
        }
        assert fake.names() == ["delete_job"]

    def test_nonzero_exit_fails_and_deletes_the_job(self, fake):
        with pytest.raises(AirflowException) as err:
            smoke().execute_complete(context(), task_event(3))
        assert (
            "Smoke task smoke in job smoke-p1 on pool p1 exited with 3 (FailureExitCode: bad) on node n1; the "
            "pool stays un-promoted"
        ) in str(err.value)
        assert fake.names() == ["delete_job"]

    def test_timeout_fails_and_deletes_the_job(self, fake):
        with pytest.raises(AirflowException):
            smoke().execute_complete(context(), {"status": "timeout", "message": "Timed out"})
        assert fake.names() == ["delete_job"]

    def test_failed_task_creation_deletes_the_job(self, fake, waits):
        fake.create_task = mock.Mock(side_effect=AzureOperationFailed("task", "JobCompleted", "done", "retry"))
        with pytest.raises(AzureOperationFailed):
            smoke().execute(context())
        assert fake.names() == ["create_job", "delete_job"]
        assert waits == []

    def test_a_wait_ending_in_the_worker_deletes_the_job_once(self, fake, monkeypatch):
        monkeypatch.setattr(
            operators.ImagepoolBaseOperator,
            "wait_for",
            lambda self, context, trigger, **kw: self.execute_complete(context, task_event(3)),
        )
        with pytest.raises(AirflowException):
            smoke().execute(context())
        assert fake.names().count("delete_job") == 1

    def test_failed_cleanup_does_not_hide_the_outcome(self, fake):
        fake.delete_job = mock.Mock(side_effect=RuntimeError("network"))
        assert smoke().execute_complete(context(), task_event(0))["exit_code"] == 0

    def test_on_kill_deletes_the_job(self, fake):
        smoke().on_kill()
        assert fake.calls == [("delete_job", "smoke-p1")]


# --- retire ----------------------------------------------------------------------------------------


def retire() -> AzureBatchPoolRetireOperator:
    return AzureBatchPoolRetireOperator(task_id="retire", pool_id="p1")


class TestAzureBatchPoolRetireOperator:
    def test_missing_pool_is_already_retired(self, fake, waits):
        assert retire().execute(context()) == {"pool_id": "p1", "deleted": False}
        assert waits == []

    def test_gone_after_our_deletion_reports_deleted(self, fake):
        assert retire().execute_complete(context(), {"status": "success", "message": "m"}, existed=True) == {
            "pool_id": "p1",
            "deleted": True,
        }

    def test_pool_with_nodes_is_drained_with_taskcompletion(self, fake, waits):
        fake.pool = pool(dedicated=3, current=(3, 0))
        retire().execute(context())
        assert fake.calls[-1] == (
            "resize",
            "p1",
            ("dedicated", 0),
            ("low_priority", 0),
            ("node_deallocation_option", "taskcompletion"),
        )
        assert type(waits[0][0]).__name__ == "PoolResizeTrigger"
        assert waits[0][2] == {"existed": True}

    def test_growing_pool_is_stopped_first(self, fake, waits):
        fake.pool = pool("resizing", dedicated=3, current=(1, 0))
        retire().execute(context())
        assert fake.names()[-1] == "stop_resize"
        assert type(waits[0][0]).__name__ == "PoolResizeTrigger"

    def test_draining_pool_is_waited_for(self, fake, waits):
        fake.pool = pool("resizing", dedicated=0, current=(2, 0))
        retire().execute(context())
        assert fake.names() == ["get_pool"]
        assert type(waits[0][0]).__name__ == "PoolResizeTrigger"

    @pytest.mark.parametrize("doc", [pool(dedicated=0, current=(0, 0)), pool(dedicated=2, current=(0, 0))])
    def test_empty_steady_pool_is_deleted(self, fake, waits, doc):
        fake.pool = doc
        retire().execute(context())
        assert fake.names()[-1] == "delete_pool"
        assert type(waits[0][0]).__name__ == "PoolDeletedTrigger"

    def test_pool_being_deleted_is_waited_for(self, fake, waits):
        fake.pool = pool(state="deleting")
        retire().execute(context())
        assert fake.names() == ["get_pool"]
        assert type(waits[0][0]).__name__ == "PoolDeletedTrigger"

    def test_failed_wait_stops_the_retirement(self, fake, waits):
        with pytest.raises(AirflowException):
            retire().execute_complete(context(), {"status": "timeout", "message": "Timed out; 3 running"})
        assert fake.calls == []
