"""An emulator restarted on the same data dir and port carries on: state, in-flight operations, identities, keys,
CA, faults, duration overrides and the emulated clock all survive, so clients keep working across the restart.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.mgmt.compute.models import Gallery

from tests.emulator_process import RunningEmulator, start_emulator
from tests.integration import clients
from tests.integration.clients import StaticToken

SPEED = 600
# Emulated seconds: 12 s of real time, well past a stop and a start, so the operation is still running after both.
GALLERY_CREATE = 7200
GALLERY = "restart_gallery"
PROBE_PATH = "/never-called-by-anything$"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Before:
    info: dict
    ca_copy: str
    ca_bytes: bytes
    arm_token: str
    continuation_token: str
    fault: dict
    clock: dict
    clock_read_at: float


@dataclass
class Restarted:
    before: Before
    emulator: RunningEmulator

    @property
    def info(self) -> dict:
        return self.emulator.info


async def begin_gallery_create(info) -> str:
    """Start the operation and keep only its continuation token: an aio poller polls only when awaited, so
    nothing polls while the emulator is down.
    """
    async with clients.async_credential(info) as credential, clients.async_compute(info, credential) as compute:
        poller = await compute.galleries.begin_create_or_update(
            info["resource_group"], GALLERY, Gallery(location=info["location"])
        )
        return poller.continuation_token()


@pytest.fixture(scope="module")
def restarted(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("restart")
    first = start_emulator(data_dir, speed=SPEED, port=free_port())
    info = first.info
    # Clients close their connections before the stop: the server waits for open ones (up to 2 s) when stopping.
    try:
        with clients.control_session(info) as control, clients.credential(info) as credential:
            ca_copy = str(tmp_path_factory.mktemp("ca") / "ca.pem")
            shutil.copy(info["ca_bundle"], ca_copy)
            assert control.patch("/durations", json={"gallery_create": GALLERY_CREATE}).status_code == 200
            fault = control.post(
                "/faults",
                json={
                    "kind": "throttle",
                    "match": {"service": "arm", "path": PROBE_PATH},
                    "count": 3,
                    "retry_after": 1,
                },
            ).json()
            arm_token = credential.get_token(info["arm_scope"]).token
            continuation_token = asyncio.run(begin_gallery_create(info))
            with clients.compute(info, credential) as compute:
                assert compute.galleries.get(info["resource_group"], GALLERY).provisioning_state == "Creating"
            clock = control.get("/clock").json()
            before = Before(
                info,
                ca_copy,
                Path(info["ca_bundle"]).read_bytes(),
                arm_token,
                continuation_token,
                fault,
                clock,
                time.time(),
            )
    finally:
        first.stop()
    second = start_emulator(data_dir, speed=SPEED, port=info["port"])
    yield Restarted(before, second)
    second.stop()


@pytest.fixture(scope="module")
def compute_with_old_token(restarted):
    """A client built after the restart, trusting the CA copied before it, holding a token issued before it."""
    info = dict(restarted.info, ca_bundle=restarted.before.ca_copy)
    with clients.compute(info, StaticToken(restarted.before.arm_token)) as compute:
        yield compute


def test_same_endpoint_identities_and_keys(restarted):
    before, after = restarted.before.info, restarted.info
    assert after["pid"] != before["pid"]
    for field in (
        "port",
        "arm_endpoint",
        "batch_endpoint",
        "tenant_id",
        "client_id",
        "client_secret",
        "subscription_id",
        "batch_account_key",
        "ca_bundle",
    ):
        assert after[field] == before[field], field


def test_same_certificate_authority(restarted):
    assert Path(restarted.info["ca_bundle"]).read_bytes() == restarted.before.ca_bytes


def test_in_flight_operation_continues_and_its_poller_completes(restarted, compute_with_old_token):
    rg = restarted.info["resource_group"]
    assert compute_with_old_token.galleries.get(rg, GALLERY).provisioning_state == "Creating"
    poller = compute_with_old_token.galleries.begin_create_or_update(
        rg,
        GALLERY,
        Gallery(location=restarted.info["location"]),
        continuation_token=restarted.before.continuation_token,
    )
    gallery = poller.result(timeout=60)
    assert gallery.provisioning_state == "Succeeded"
    assert gallery.id.endswith(f"/galleries/{GALLERY}")
    listed = clients.control_session(restarted.info).get("/resources", params={"kind": "arm/galleries"}).json()
    assert [(r["id"], r["state"]) for r in listed["value"]] == [(gallery.id, "Succeeded")]


def test_tokens_issued_before_the_restart_are_still_accepted(restarted, compute_with_old_token):
    assert compute_with_old_token.galleries.get(restarted.info["resource_group"], GALLERY).name == GALLERY


def test_the_client_secret_still_gets_tokens(restarted):
    credential = clients.credential(dict(restarted.before.info, ca_bundle=restarted.before.ca_copy))
    assert credential.get_token(restarted.info["arm_scope"]).token
    wrong = clients.credential(restarted.info, secret="not-the-secret")
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        wrong.get_token(restarted.info["arm_scope"])


def test_faults_and_duration_overrides_persist(restarted):
    control = clients.control_session(restarted.info)
    assert control.get("/faults").json()["value"] == [restarted.before.fault]
    assert control.get("/durations").json()["gallery_create"] == GALLERY_CREATE
    # The persisted rule is live, not just listed: it still throttles what it matches.
    response = requests.get(
        f"{restarted.info['arm_endpoint']}subscriptions/{restarted.info['subscription_id']}/never-called-by-anything",
        verify=restarted.info["ca_bundle"],
        timeout=10,
    )
    assert response.status_code == 429
    assert control.get("/faults").json()["value"] == [dict(restarted.before.fault, count=2, fired=1)]


def test_emulated_clock_continued_through_the_downtime(restarted):
    clock = clients.control_session(restarted.info).get("/clock").json()
    real_elapsed = time.time() - restarted.before.clock_read_at
    emulated_elapsed = clock["now"] - restarted.before.clock["now"]
    # A reset clock would restart from real time, far behind the old emulated time at speed 600.
    assert emulated_elapsed > 0
    assert emulated_elapsed == pytest.approx(real_elapsed * SPEED, rel=0.1)
