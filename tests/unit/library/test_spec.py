"""The pipeline spec: examples validate, derived values follow the rules, broken specs name the field."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from imagepool.spec import SpecError, load_spec, next_version, parse_spec

SPECS = Path(__file__).resolve().parents[3] / "include" / "specs"
EXAMPLES = sorted(SPECS.glob("*.yaml"))


def demo() -> dict:
    return yaml.safe_load((SPECS / "ubuntu-batch.yaml").read_text())


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_spec_is_valid(path):
    spec = load_spec(path)
    assert spec.dag_id.startswith("imagepool_")


def test_replicas_follow_pool_sizes():
    spec = parse_spec(demo())
    # 6 nodes in West Europe, 2 in North Europe: one replica each at 300 VMs per replica
    assert spec.replicas_per_region() == {"westeurope": 1, "northeurope": 1}
    assert spec.replicas_per_region({"render-we": 3000}) == {"westeurope": 10, "northeurope": 1}
    data = demo()
    data["vms_per_replica"] = 600
    assert parse_spec(data).replicas_per_region({"render-we": 3000})["westeurope"] == 5


def test_min_replicas_is_a_floor():
    data = demo()
    data["target_regions"][1]["min_replicas"] = 3
    assert parse_spec(data).replicas_per_region()["northeurope"] == 3


def test_resize_timeout_derived_or_given():
    data = demo()
    spec = parse_spec(data)
    assert spec.batch.pools[0].resize_timeout() == timedelta(minutes=15)
    data["batch"]["pools"][0]["dedicated_nodes"] = 3000
    data["batch"]["pools"][0]["spot_nodes"] = 0
    assert parse_spec(data).batch.pools[0].resize_timeout() == timedelta(minutes=45)
    data["batch"]["pools"][0]["resize_timeout_minutes"] = 20
    assert parse_spec(data).batch.pools[0].resize_timeout() == timedelta(minutes=20)


def test_next_version_is_strictly_increasing_and_never_reused():
    spec = parse_spec(demo())
    assert next_version(spec, []) == "1.0.0"
    assert next_version(spec, ["1.0.0", "1.0.4", "0.9.12", "1.1.7"]) == "1.0.5"
    assert next_version(spec, ["1.0.2"], high_water="1.0.9") == "1.0.10"


def test_fingerprint_changes_with_what_shapes_the_image_only():
    spec = parse_spec(demo())
    base = spec.image_fingerprint("22.04.1", "echo hi")
    assert base == spec.image_fingerprint("22.04.1", "echo hi")
    assert base != spec.image_fingerprint("22.04.2", "echo hi")
    assert base != spec.image_fingerprint("22.04.1", "echo bye")
    resized = demo()
    resized["batch"]["pools"][0]["dedicated_nodes"] = 40
    resized["version"]["retention"] = 9
    assert parse_spec(resized).image_fingerprint("22.04.1", "echo hi") == base
    bigger = demo()
    bigger["build"]["os_disk_size_gb"] = 128
    assert parse_spec(bigger).image_fingerprint("22.04.1", "echo hi") != base


def broken(path: str, value) -> dict:
    """The demo spec with the value at a dotted path replaced (``None`` deletes it)."""
    data = demo()
    *parents, leaf = path.split(".")
    target = data
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is None:
        del target[leaf]
    elif isinstance(target, list):
        target[int(leaf)] = value
    else:
        target[leaf] = value
    return data


CASES = [
    ("name", "Bad Name!", "name"),
    ("schedule", "every night", "schedule"),
    ("base_image.version", "newest", "base_image.version"),
    ("base_image.publisher", None, "base_image.publisher: required"),
    ("os_type", "Solaris", "os_type"),
    ("hyper_v_generation", "V3", "hyper_v_generation"),
    ("build.vm_size", "D4s_v5", "build.vm_size"),
    ("build.location", "atlantis", "build.location"),
    ("build.subnet_id", "subnet-1", "build.subnet_id"),
    ("build.ssh_public_key", "-----BEGIN OPENSSH PRIVATE KEY-----", "build.ssh_public_key"),
    ("build.ssh_public_key", None, "build.ssh_public_key"),
    ("build.timeout_minutes", 0, "build.timeout_minutes"),
    ("build.data_disks", [{"lun": 0, "size_gb": 8}, {"lun": 0, "size_gb": 8}], "LUN 0 is used twice"),
    ("gallery.name", "my-gallery", "gallery.name"),
    ("version.major", 2**31, "version.major"),
    ("version.retention", 0, "version.retention"),
    ("target_regions", [{"name": "northeurope"}], "must include the gallery's region"),
    ("target_regions.1", {"name": "westeurope"}, "listed twice"),
    ("target_regions.0.storage_account_type", "Cheap_LRS", "target_regions.0.storage_account_type"),
    ("target_regions.0.min_replicas", 101, "target_regions.0.min_replicas"),
    ("batch.accounts.1.location", "eastus", "batch.accounts[1].location"),
    ("batch.pools.0.account", "nosuchaccount", "batch.pools[0].account"),
    ("batch.pools.0.node_agent_sku_id", "batch.node.windows amd64", "batch.pools[0].node_agent_sku_id"),
    ("batch.pools.0.id_prefix", "render pool", "batch.pools.0.id_prefix"),
    ("batch.pools.0.dedicated_nodes", -1, "batch.pools.0.dedicated_nodes"),
    ("batch.pools.0.dedicated_nodes", 40000, "need 134 replicas"),
    ("batch.pools.0.resize_timeout_minutes", 4, "batch.pools.0.resize_timeout_minutes"),
    ("batch.pools.0.required_healthy_fraction", 1.5, "batch.pools.0.required_healthy_fraction"),
    ("security_type", "TrustedLaunch", "cannot be used with security_type 'TrustedLaunch'"),
    ("surprise", "x", "surprise: unknown key"),
]


@pytest.mark.parametrize("path, value, expected", CASES, ids=[c[0] + ":" + str(c[1])[:20] for c in CASES])
def test_broken_spec_names_the_field(path, value, expected):
    with pytest.raises(SpecError) as err:
        parse_spec(broken(path, value), "demo.yaml")
    assert expected in str(err.value)
    assert str(err.value).startswith("demo.yaml:")


def test_pools_with_zero_nodes_are_refused():
    data = demo()
    data["batch"]["pools"][1]["dedicated_nodes"] = 0
    with pytest.raises(SpecError) as err:
        parse_spec(data)
    assert "batch.pools.1" in str(err.value) and "at least one node" in str(err.value)


def test_empty_and_oversized_build_scripts(tmp_path):
    data = demo()
    (tmp_path / "scripts").mkdir()
    data["build"]["script"] = "scripts/build.sh"
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(data))
    (tmp_path / "scripts" / "build.sh").write_text("  \n")
    with pytest.raises(SpecError, match="build.script: 'scripts/build.sh' is empty"):
        load_spec(spec_path)
    (tmp_path / "scripts" / "build.sh").write_text("#" * 70000)
    with pytest.raises(SpecError, match="customData limit"):
        load_spec(spec_path)
    (tmp_path / "scripts" / "build.sh").unlink()
    with pytest.raises(SpecError, match="cannot read"):
        load_spec(spec_path)


def test_not_a_mapping():
    with pytest.raises(SpecError, match="YAML mapping"):
        parse_spec(["a", "b"])
