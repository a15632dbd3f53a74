"""The run plan: build or not, which version, which names and sizes, decided from the spec, the trigger
form and what Azure holds (here a fake holding plain data, so no Azure and no Airflow).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from imagepool.planning import FINGERPRINT_TAG, RunParams, make_plan
from imagepool.spec import Spec, load_spec, parse_spec

SPECS = Path(__file__).resolve().parents[2] / "include" / "specs"
DEMO = SPECS / "ubuntu-batch.yaml"
BASE = "22.04.202411010"


@dataclass
class FakeAzure:
    """:class:`imagepool.planning.AzureState` over plain data: published versions, the definition's
    high-water tag, and the pool ids in each Batch account.
    """

    base_version: str = BASE
    published: list[dict] = field(default_factory=list)
    high_water: str | None = None
    account_pools: dict[str, list[str]] = field(default_factory=dict)

    def resolve_base_version(self, spec: Spec, override: str | None) -> str:
        return override or self.base_version

    def versions(self, spec: Spec) -> list[dict]:
        return self.published

    def last_version(self, spec: Spec) -> str | None:
        return self.high_water

    def version_id(self, spec: Spec, version: str) -> str:
        return f"/galleries/{spec.gallery.name}/images/{spec.gallery.image_definition}/versions/{version}"

    def account_url(self, spec: Spec, account: str) -> str:
        return f"https://{account}.{spec.account(account).location}.batch.example"

    def pools(self, spec: Spec, account: str) -> list[str]:
        return self.account_pools.get(account, [])


def plan_for(azure: FakeAzure, path: Path = DEMO, spec: Spec | None = None, **params) -> dict:
    return make_plan(spec or load_spec(path), path, RunParams(**params), azure)


def published(name: str, plan: dict, **changes) -> dict:
    """A version as the hook lists it, published with ``plan``'s tags (what publish_version writes)."""
    return {"name": name, "tags": dict(plan["version_tags"]), "provisioning_state": "Succeeded", **changes}


def test_first_run_builds_the_first_version():
    plan = plan_for(FakeAzure())
    assert plan["build"] is True
    assert "no image version" in plan["reason"]
    assert plan["version"] == "1.0.0"
    assert plan["base_image_version"] == BASE
    assert plan["vm_name"] == "ipb-ubuntu-batch-1-0-0"
    assert plan["pool_id:render-we"] == "render-we-1-0-0"
    assert plan["pool_id:render-ne"] == "render-ne-1-0-0"
    assert plan["image_version_id"].endswith("/versions/1.0.0")


def test_nothing_changed_builds_nothing_and_keeps_the_version():
    first = plan_for(FakeAzure())
    again = plan_for(FakeAzure(published=[published("1.0.0", first)]))
    assert again["build"] is False
    assert again["version"] == "1.0.0"
    assert "nothing changed since 1.0.0" in again["reason"]
    assert again["fingerprint"] == first["fingerprint"]


@pytest.fixture
def spec_copy(tmp_path) -> Path:
    """The demo spec and its scripts in a directory the test may change."""
    shutil.copytree(SPECS, tmp_path / "specs")
    return tmp_path / "specs" / DEMO.name


@pytest.mark.parametrize("change", ["build script", "base image", "forced"])
def test_changed_inputs_build_the_next_version(change, spec_copy):
    first = plan_for(FakeAzure(), spec_copy)
    azure = FakeAzure(published=[published("1.0.0", first), published("1.0.3", first)])
    params = {}
    if change == "build script":
        script = spec_copy.parent / "scripts" / "ubuntu-batch.sh"
        script.write_text(script.read_text().replace("render toolchain 1.4", "render toolchain 1.5"))
    elif change == "base image":
        azure.base_version = "22.04.202501010"
    else:
        params["force_rebuild"] = True
    plan = plan_for(azure, spec_copy, **params)
    assert plan["build"] is True
    assert plan["version"] == "1.0.4"
    assert plan["vm_name"] == "ipb-ubuntu-batch-1-0-4"
    if change == "forced":
        assert "forced" in plan["reason"]
    else:
        assert "inputs changed since 1.0.3" in plan["reason"]
        assert plan["fingerprint"] != first["fingerprint"]


def test_a_base_image_version_from_the_form_is_built_from():
    first = plan_for(FakeAzure())
    plan = plan_for(FakeAzure(published=[published("1.0.0", first)]), base_image_version="22.04.202406010")
    assert plan["build"] is True
    assert plan["base_image_version"] == "22.04.202406010"
    assert plan["version_tags"]["imagepool-base-image"] == "22.04.202406010"


def test_a_new_version_goes_above_the_high_water_mark():
    # 1.0.0 to 1.0.6 were published and 1.0.1-1.0.6 pruned: their numbers are never reused.
    first = plan_for(FakeAzure())
    plan = plan_for(FakeAzure(published=[published("1.0.0", first)], high_water="1.0.6"), force_rebuild=True)
    assert plan["version"] == "1.0.7"
    plan = plan_for(FakeAzure(high_water="1.0.6"))
    assert plan["version"] == "1.0.7"


def test_a_version_from_other_inputs_is_not_reused():
    stale = published("1.0.0", plan_for(FakeAzure()))
    stale["tags"][FINGERPRINT_TAG] = "something else"
    assert plan_for(FakeAzure(published=[stale]))["version"] == "1.0.1"


def test_a_failed_newest_version_is_rebuilt():
    first = plan_for(FakeAzure())
    plan = plan_for(FakeAzure(published=[published("1.0.0", first, provisioning_state="Failed")]))
    assert plan["build"] is True
    assert plan["version"] == "1.0.1"


def test_pool_sizes_from_the_form_set_targets_and_replicas():
    # 600 nodes in West Europe at 300 VMs per replica need 2 replicas there; North Europe keeps its 2 nodes.
    plan = plan_for(FakeAzure(), pool_nodes={"render-we": {"dedicated": 450, "spot": 150}})
    assert (plan["dedicated:render-we"], plan["spot:render-we"]) == (450, 150)
    assert (plan["dedicated:render-ne"], plan["spot:render-ne"]) == (2, 0)
    assert plan["replicas"] == {"westeurope": 2, "northeurope": 1}
    assert {r["name"]: r["regional_replica_count"] for r in plan["target_regions"]} == plan["replicas"]
    assert {"region": "westeurope", "target_dedicated_nodes": 450, "target_low_priority_nodes": 150} in plan[
        "pools_for_replicas"
    ]


def test_a_partial_pool_size_keeps_the_spec_for_the_rest():
    plan = plan_for(FakeAzure(), pool_nodes={"render-we": {"spot": 0}})
    assert (plan["dedicated:render-we"], plan["spot:render-we"]) == (4, 0)


def test_an_unknown_pool_in_the_form_is_refused_by_name():
    with pytest.raises(ValueError, match=r"\['render-eu'\].*\['render-we', 'render-ne'\]"):
        plan_for(FakeAzure(), pool_nodes={"render-eu": {"dedicated": 1}})


def test_previous_pools_are_listed_per_prefix():
    # Two pools of one account whose prefixes start alike: each retires only its own older pools.
    data = yaml.safe_load(DEMO.read_text())
    data["batch"]["pools"][1].update(account="imagepoolbatch", id_prefix="render-we-gpu")
    spec = parse_spec(data)
    azure = FakeAzure(
        high_water="1.0.0",
        account_pools={
            "imagepoolbatch": [
                "render-we-0-9-3",
                "render-we-1-0-0",
                "render-we-gpu-1-0-0",
                "Render-WE-0-9-2",
                "render-west-1-0-0",
                "batch-tools",
                "render-we-manual",
            ]
        },
    )
    plan = plan_for(azure, spec=spec)
    assert plan["version"] == "1.0.1"
    assert plan["previous_pools:render-we"] == ["Render-WE-0-9-2", "render-we-0-9-3", "render-we-1-0-0"]
    assert plan["previous_pools:render-we-gpu"] == ["render-we-gpu-1-0-0"]


def test_the_plan_keeps_the_pool_it_rolls_onto():
    first = plan_for(FakeAzure())
    azure = FakeAzure(
        published=[published("1.0.0", first)],
        account_pools={"imagepoolbatch": ["render-we-1-0-0"], "imagepoolbatchne": ["render-ne-0-9-0"]},
    )
    plan = plan_for(azure)
    assert plan["pool_id:render-we"] == "render-we-1-0-0"
    assert plan["previous_pools:render-we"] == []
    assert plan["previous_pools:render-ne"] == ["render-ne-0-9-0"]
    # The pool in service is never discarded; the one still to be made would be, if it fails.
    assert plan["pool_existed:render-we"] is True
    assert plan["pool_existed:render-ne"] is False
    assert plan["account_url:imagepoolbatchne"] == "https://imagepoolbatchne.northeurope.batch.example"
