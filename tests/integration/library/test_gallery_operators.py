"""Gallery and image definition operators against the emulator, deferring through the real trigger."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowException

from imagepool.errors import AzureOperationFailed
from imagepool.operators.gallery import AzureGalleryEnsureOperator, AzureGalleryImageDefinitionEnsureOperator
from tests.integration.library.harness import run_task


def definition_operator(fast, gallery, **overrides):
    args = dict(
        task_id="definition",
        gallery_name=gallery,
        image_name="ubuntu-batch",
        location="westeurope",
        os_type="Linux",
        hyper_v_generation="V2",
        security_type="TrustedLaunchSupported",
        publisher="contoso",
        offer="batch",
        sku="ubuntu2204",
        **fast,
    )
    args.update(overrides)
    return AzureGalleryImageDefinitionEnsureOperator(**args)


def test_gallery_is_created_once_then_reused(info, fast, compute, control):
    control.patch("/durations", json={"gallery_create": 1800})  # 3 s here: long enough to defer
    op = AzureGalleryEnsureOperator(task_id="gallery", gallery_name="ops_gallery", location="westeurope", **fast)
    first = run_task(op)
    assert (
        first.result == f"/subscriptions/{info['subscription_id']}/resourceGroups/{info['resource_group']}"
        "/providers/Microsoft.Compute/galleries/ops_gallery"
    )
    assert len(first.deferrals) == 1
    assert first.deferrals[0][0] == "imagepool.triggers.arm.ArmOperationTrigger"
    assert compute.galleries.get(info["resource_group"], "ops_gallery").provisioning_state == "Succeeded"
    assert first.xcom["gallery_portal_url"].endswith("/providers/Microsoft.Compute/galleries/ops_gallery/overview")
    again = run_task(op)
    assert again.result == first.result
    assert again.deferrals == []


def test_definition_created_then_mismatch_refused(fast, compute, info):
    run_task(AzureGalleryEnsureOperator(task_id="gallery", gallery_name="ops_defs", location="westeurope", **fast))
    created = run_task(definition_operator(fast, "ops_defs"))
    assert created.result.endswith("/galleries/ops_defs/images/ubuntu-batch")
    image = compute.gallery_images.get(info["resource_group"], "ops_defs", "ubuntu-batch")
    assert (image.hyper_v_generation, image.features[0].value) == ("V2", "TrustedLaunchSupported")
    assert run_task(definition_operator(fast, "ops_defs")).deferrals == []
    with pytest.raises(AzureOperationFailed) as err:
        run_task(definition_operator(fast, "ops_defs", os_type="Windows"))
    assert "os_type is 'Linux', spec wants 'Windows'" in str(err.value)
    assert "new image definition" in str(err.value)


def test_definition_in_missing_gallery_fails_with_code(fast):
    with pytest.raises((AzureOperationFailed, AirflowException)) as err:
        run_task(definition_operator(fast, "no_such_gallery"))
    assert "ParentResourceNotFound" in str(err.value)
    assert "no_such_gallery" in str(err.value)


def test_not_deferrable_waits_in_worker(fast, compute, info):
    op = AzureGalleryEnsureOperator(
        task_id="gallery", gallery_name="ops_sync", location="westeurope", deferrable=False, **fast
    )
    run = run_task(op)
    assert run.deferrals == []
    assert compute.galleries.get(info["resource_group"], "ops_sync").provisioning_state == "Succeeded"
