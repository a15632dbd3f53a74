"""Image version operators and sensor: constructor, template fields, checks of rendered values, prune rules.

Checks run before any hook is made: the hook class is replaced by one that fails if touched.
"""

from __future__ import annotations

import re

import pytest

from imagepool.operators import versions as operators
from imagepool.operators.versions import (
    AzureImageVersionPruneOperator,
    AzureImageVersionPublishOperator,
    AzureImageVersionReplicasScaleOperator,
    prune_plan,
)
from imagepool.sensors import versions as sensors
from imagepool.sensors.versions import AzureImageVersionReplicationSensor

DEFINITION = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/img"


@pytest.fixture(autouse=True)
def no_azure(monkeypatch):
    class Untouchable:
        def __init__(self, *args, **kwargs):
            raise AssertionError("a hook was made before the arguments were checked")

    monkeypatch.setattr(operators, "ImageVersionHook", Untouchable)
    monkeypatch.setattr(sensors, "ImageVersionHook", Untouchable)


def publish(**overrides) -> AzureImageVersionPublishOperator:
    args = dict(
        task_id="publish",
        gallery_name="g",
        image_name="img",
        version="1.2.3",
        target_regions=["westeurope"],
        source_image_id="/images/x",
    )
    args.update(overrides)
    return AzureImageVersionPublishOperator(**args)


class TestAzureImageVersionPublishOperator:
    def test_init_stores_only(self):
        op = publish(tags={"a": "b"})
        assert (op.gallery_name, op.image_name, op.version, op.tags) == ("g", "img", "1.2.3", {"a": "b"})
        assert op.deferrable is True
        assert op.storage_account_type == "Standard_LRS"

    def test_template_fields(self):
        assert set(publish().template_fields) >= {
            "azure_conn_id",
            "gallery_name",
            "image_name",
            "version",
            "target_regions",
            "source_image_id",
            "os_snapshot_id",
            "data_snapshot_ids",
            "end_of_life_date",
            "tags",
        }

    @pytest.mark.parametrize(
        ("overrides", "expected"),
        [
            ({"version": "1.2"}, "'1.2' is not MAJOR.MINOR.PATCH"),
            ({"source_image_id": None}, "exactly one source"),
            ({"os_snapshot_id": "/snapshots/s"}, "exactly one source"),
            ({"data_snapshot_ids": {"0": "/snapshots/d"}}, "data_snapshot_ids go with os_snapshot_id"),
            ({"source_image_id": None, "os_snapshot_id": "/s", "data_snapshot_ids": {"a": "/d"}}, "LUN 'a'"),
            ({"target_regions": ["westeurope", "West Europe"]}, "westeurope is listed twice"),
            ({"target_regions": [{"name": "eastus", "regional_replica_count": "3"}]}, "regional_replica_count '3'"),
            ({"target_regions": [{"regional_replica_count": 3}]}, "has no name"),
            ({"target_regions": [{"name": "eastus", "storage_account_type": "Fast"}]}, "'Fast' is not one of"),
            ({"end_of_life_date": "soon"}, "'soon' is not an ISO 8601"),
            ({"end_of_life_date": "2001-01-01"}, "is in the past"),
        ],
    )
    def test_execute_rejects_bad_values_before_any_call(self, overrides, expected):
        with pytest.raises(ValueError, match=re.escape(expected)) as err:
            publish(**overrides).execute({})
        assert "cannot publish image version" in str(err.value)


class TestAzureImageVersionReplicasScaleOperator:
    def test_template_fields(self):
        op = AzureImageVersionReplicasScaleOperator(task_id="s", gallery_name="g", image_name="i", version="1.0.0")
        assert {"pools", "replica_counts", "version"} <= set(op.template_fields)
        assert (op.vms_per_replica, op.minimum_replicas, op.allow_lowering) == (300, 1, False)

    @pytest.mark.parametrize(
        ("overrides", "expected"),
        [
            ({"version": "x"}, "'x' is not MAJOR.MINOR.PATCH"),
            ({"pools": [{"target_dedicated_nodes": 3}]}, "pools[0]"),
            ({"pools": [{"region": "westeurope", "target_dedicated_nodes": "many"}]}, "pools[0]"),
            ({"vms_per_replica": 0}, "vms_per_replica=0"),
            ({"minimum_replicas": 101}, "minimum_replicas=101"),
            ({"replica_counts": {"westeurope": 0}}, "replica_counts {'westeurope': 0}"),
        ],
    )
    def test_execute_rejects_bad_values_before_any_call(self, overrides, expected):
        op = AzureImageVersionReplicasScaleOperator(
            task_id="s", gallery_name="g", image_name="i", **{"version": "1.0.0", **overrides}
        )
        with pytest.raises(ValueError, match=re.escape(expected)):
            op.execute({})


class TestAzureImageVersionReplicationSensor:
    def test_init_and_template_fields(self):
        op = AzureImageVersionReplicationSensor(task_id="r", gallery_name="g", image_name="i", version="1.0.0")
        assert op.region_retries == 2
        assert op.regions is None
        assert {"version", "regions", "gallery_name"} <= set(op.template_fields)

    @pytest.mark.parametrize(
        ("overrides", "expected"),
        [
            ({"version": "1.0.0.0"}, "'1.0.0.0' is not MAJOR.MINOR.PATCH"),
            ({"region_retries": -1}, "region_retries=-1"),
            ({"regions": ["westeurope", ""]}, "must be a region name"),
        ],
    )
    def test_execute_rejects_bad_values_before_any_call(self, overrides, expected):
        op = AzureImageVersionReplicationSensor(
            task_id="r", gallery_name="g", image_name="i", **{"version": "1.0.0", **overrides}
        )
        with pytest.raises(ValueError, match=re.escape(expected)):
            op.execute({})


class TestAzureImageVersionPruneOperator:
    def test_template_fields(self):
        op = AzureImageVersionPruneOperator(task_id="p", gallery_name="g", image_name="i")
        assert {"in_use_image_ids", "batch_account_urls", "promoted_version"} <= set(op.template_fields)
        assert op.keep == 3

    @pytest.mark.parametrize(
        ("overrides", "expected"),
        [({"keep": 0}, "keep=0"), ({"keep": True}, "keep=True"), ({"promoted_version": "latest"}, "promoted_version")],
    )
    def test_execute_rejects_bad_values_before_any_call(self, overrides, expected):
        op = AzureImageVersionPruneOperator(task_id="p", gallery_name="g", image_name="i", **overrides)
        with pytest.raises(ValueError, match=re.escape(expected)):
            op.execute({})


def version(name: str, exclude: bool = False) -> dict:
    return {"name": name, "id": f"{DEFINITION}/versions/{name}", "exclude_from_latest": exclude}


class TestPrunePlan:
    def test_newest_by_number_not_by_text(self):
        found = [version(v) for v in ("1.0.9", "1.0.10", "1.0.2", "0.9.99")]
        assert prune_plan(found, keep=2, promoted=None, in_use=set()) == {
            "1.0.10": "among the 2 newest",
            "1.0.9": "among the 2 newest",
        }

    def test_promoted_and_in_use_are_kept_with_their_reasons(self):
        found = [version(v) for v in ("1.0.0", "1.0.1", "1.0.2", "1.0.3")]
        kept = prune_plan(
            found,
            keep=1,
            promoted="1.0.1",
            in_use={f"{DEFINITION}/versions/1.0.0".lower(), f"{DEFINITION}/versions/1.0.3".lower()},
        )
        assert kept == {
            "1.0.3": "among the 1 newest, a Batch pool uses it",
            "1.0.1": "the version being promoted",
            "1.0.0": "a Batch pool uses it",
        }

    def test_a_pool_on_the_definition_keeps_its_latest(self):
        found = [version("1.0.0"), version("1.0.1"), version("2.0.0", exclude=True)]
        kept = prune_plan(found, keep=1, promoted=None, in_use={DEFINITION.lower()})
        assert kept == {"2.0.0": "among the 1 newest", "1.0.1": "a Batch pool uses the definition's latest version"}

    def test_unparsable_names_are_kept(self):
        assert prune_plan([version("latest")], keep=1, promoted=None, in_use=set()) == {
            "latest": "not a MAJOR.MINOR.PATCH name"
        }
