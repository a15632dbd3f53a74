"""The pipeline spec: examples validate and derived values follow the rules (broken specs: the bad-input
corpus, tests/corpus).
"""

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


def test_not_a_mapping():
    with pytest.raises(SpecError, match="YAML mapping"):
        parse_spec(["a", "b"])
