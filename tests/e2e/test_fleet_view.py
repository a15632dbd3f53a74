"""The imagepool view's data, as the API server serves it, against what the local Azure cloud holds (its
control endpoint lists every resource), and its refusal of anyone not signed in.
"""

from __future__ import annotations

import time
from datetime import datetime

import pytest
import requests

from imagepool.fleet.azure_state import CACHE_SECONDS
from tests.e2e.conftest import DAG_ID, TEST_TIMEOUT, a_successful_run
from tests.integration import clients

pytestmark = pytest.mark.timeout(TEST_TIMEOUT)

FAMILY = "ubuntu-batch"
DEFINITION = "/galleries/imagepool_gallery/images/ubuntu-batch/versions/"


def test_the_view_refuses_anyone_not_signed_in(stack):
    data = requests.get(f"{stack.url}/imagepool/api/fleet", timeout=60)
    assert data.status_code == 401, data.text
    forged = requests.get(
        f"{stack.url}/imagepool/api/fleet", headers={"Authorization": "Bearer not-a-token"}, timeout=60
    )
    assert forged.status_code in (401, 403), forged.text
    page = requests.get(f"{stack.url}/imagepool/", allow_redirects=False, timeout=60)
    assert page.status_code == 307
    assert page.headers["location"].endswith("/auth/login?next=%2Fimagepool%2F")
    assert FAMILY not in page.text


def test_the_view_shows_what_azure_holds_and_what_the_runs_decided(stack):
    run_id = a_successful_run(stack)
    api = stack.api()
    ended = datetime.fromisoformat(api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}").json()["end_date"])
    # The view reads Azure at most every CACHE_SECONDS: wait for a look taken after the run ended.
    deadline = time.monotonic() + 3 * CACHE_SECONDS
    while True:
        families = requests.get(f"{stack.url}/imagepool/api/fleet", headers=api.headers, timeout=120).json()["families"]
        read_at = next(f["azure_read_at"] for f in families if f["name"] == FAMILY)
        if datetime.fromisoformat(read_at) > ended or time.monotonic() > deadline:
            break
        time.sleep(2)
    # Every spec's family is listed, run or not.
    assert {f["name"] for f in families} == {"ubuntu-batch", "windows-render"}
    family = next(f for f in families if f["name"] == FAMILY)
    assert family["azure_problems"] == []
    assert family["dag"]["dag_id"] == DAG_ID
    assert family["dag"]["exists"]

    info = stack.emulator
    resources = requests.get(f"{info['control_endpoint']}/resources", verify=info["ca_bundle"], timeout=60).json()
    versions = {
        r["id"].rsplit("/", 1)[-1]: r["state"]
        for r in resources["value"]
        if r["kind"] == "arm/galleryImageVersions" and DEFINITION in r["id"]
    }
    pools = {r["id"]: r["state"] for r in resources["value"] if r["kind"] == "batch/pools"}
    assert {v["name"]: v["state"] for v in family["versions"]} == versions
    shown_pools = {p["id"]: p for v in family["versions"] for p in v["pools"]}
    assert {pool_id: p["state"] for pool_id, p in shown_pools.items()} == pools
    assert family["other_pools"] == []

    # Replication and node counts, as Azure's own APIs tell them through the SDKs.
    credential = clients.credential(info)
    with clients.compute(info, credential) as compute:
        for version in family["versions"]:
            found = compute.gallery_image_versions.get(
                info["resource_group"], "imagepool_gallery", FAMILY, version["name"], expand="ReplicationStatus"
            )
            replicas = {
                t.name.replace(" ", "").lower(): t.regional_replica_count
                for t in found.publishing_profile.target_regions
            }
            assert {r["region"]: r["replicas"] for r in version["regions"]} == replicas
            progress = {s.region.replace(" ", "").lower(): s.progress for s in found.replication_status.summary}
            assert {r["region"]: r["progress"] for r in version["regions"]} == progress
    for account in info["batch_accounts"]:
        with clients.batch(info, credential, account["endpoint"]) as batch:
            for pool in batch.list_pools():
                shown = shown_pools[pool.id]
                assert shown["account"] == account["name"]
                assert shown["target"] == pool.target_dedicated_nodes + pool.target_low_priority_nodes
                assert shown["allocation_state"] == pool.allocation_state
                idle = sum(1 for node in batch.list_nodes(pool.id) if node.state in ("idle", "running"))
                assert shown["ready"] == idle

    # The run: its decision, from the plan, and its phases.
    run = next(r for r in family["runs"] if r["run_id"] == run_id)
    assert run["state"] == "success"
    assert run["decision"]["kind"] in ("build", "no_change")
    assert run["version"] in versions
    assert run["url"] == f"/dags/{DAG_ID}/runs/{run_id}"
    assert [p["phase"] for p in run["phases"]][:1] == ["plan"]
    assert {"plan", "replication", "pools", "cleanup"} <= {p["phase"] for p in run["phases"]}
