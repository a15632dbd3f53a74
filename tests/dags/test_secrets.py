"""Secrets stay secret through a whole pipeline run, and the build VM is closed to the outside.

After a run, every place it leaves text (the task logs, XComs, rendered templates, asset events, the
emulator's log and request log) is searched for the connection's client secret, the Batch account keys,
access tokens and private keys. The build VM, as Azure holds it when the clean-up starts, has no public
IP and takes no password.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from imagepool.operators.cleanup import AzureBuildResourcesCleanupOperator
from tests.integration import clients

# A JSON Web Token (header.claims.signature, base64url): what every Entra access token looks like.
ACCESS_TOKEN = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+")
# The armour of any PEM private key (SSH, TLS, token signing).
PRIVATE_KEY = "PRIVATE KEY"


def known_secrets(info: dict) -> dict[str, str]:
    """The secrets a run holds, by name: the connection's, the Batch accounts' and the token signer's."""
    secrets = {"the connection's client secret": info["client_secret"]}
    for account in info["batch_accounts"]:
        secrets[f"Batch account {account['name']}'s key"] = account["key"]
    # A line from the middle of the key: the first lines of PEM keys of one type look alike.
    signing_key = (Path(info["data_dir"]) / "token-signing-key.pem").read_text().splitlines()
    secrets["the emulator's token signing key"] = signing_key[len(signing_key) // 2]
    return secrets


def leaks(text: str, secrets: dict[str, str]) -> list[str]:
    """What ``text`` gives away: the names of the ``secrets`` in it, and any token or private key."""
    found = [name for name, value in secrets.items() if value in text]
    if ACCESS_TOKEN.search(text):
        found.append("an access token")
    if PRIVATE_KEY in text:
        found.append("private key material")
    return found


def run_records(run_id: str) -> dict[str, str]:
    """What Airflow's database keeps of a run, as text by place: XComs and rendered templates."""
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    records = {}
    with create_session() as session:
        for xcom in session.scalars(select(XComModel).where(XComModel.run_id == run_id)):
            place = f"XCom {xcom.key} of {xcom.task_id}[{xcom.map_index}]"
            records[place] = json.dumps(XComModel.deserialize_value(xcom), default=str)
        for rendered in session.scalars(
            select(RenderedTaskInstanceFields).where(RenderedTaskInstanceFields.run_id == run_id)
        ):
            place = f"rendered templates of {rendered.task_id}[{rendered.map_index}]"
            records[place] = json.dumps(rendered.rendered_fields, default=str)
    return records


@pytest.fixture
def build_vm_at_cleanup(monkeypatch, cloud) -> list[dict]:
    """The build VM and its NIC as Azure holds them when the clean-up task starts (it then deletes them)."""
    seen = []
    clean_up = AzureBuildResourcesCleanupOperator.execute

    def look_then_clean_up(operator, context):
        group = cloud.info["resource_group"]
        with clients.compute(cloud.info, cloud.credential) as compute:
            vm = compute.virtual_machines.get(group, operator.vm_name)
        nic_id = vm.network_profile.network_interfaces[0].id
        with clients.network_session(cloud.info, cloud.credential) as network:
            nic = network.get(nic_id).json()
        seen.append({"vm": vm, "nic": nic, "public_ips": cloud.names("arm/publicIPAddresses")})
        return clean_up(operator, context)

    monkeypatch.setattr(AzureBuildResourcesCleanupOperator, "execute", look_then_clean_up)
    return seen


def test_the_scan_finds_each_secret_and_any_token_or_private_key(cloud):
    secrets = known_secrets(cloud.info)
    for name, value in secrets.items():
        assert leaks(f"connecting with {value}!", secrets) == [name]
    token = cloud.credential.get_token(cloud.info["batch_scope"]).token
    assert leaks(f"Authorization: Bearer {token}", secrets) == ["an access token"]
    assert leaks("-----BEGIN OPENSSH PRIVATE KEY-----", secrets) == ["private key material"]
    assert leaks("nothing to see", secrets) == []


def test_a_run_shows_no_secret_and_builds_a_vm_closed_to_the_outside(pipeline, emulator, build_vm_at_cleanup, caplog):
    caplog.set_level(logging.DEBUG)
    cloud = pipeline.cloud
    run = pipeline.run()
    assert run.state == "success", run.failed_tasks()

    # dag.test() runs the tasks in this process: their loggers write to its output (run.output) and, for the
    # library's module loggers, to Python logging (caplog), rather than to log files.
    assert "Smoke task smoke on pool render-we-1-0-0 exited with 0" in run.output
    assert "Promoted pool render-we-1-0-0" in caplog.text
    places = {
        "the run's output (task logs)": run.output,
        "what the run logged": caplog.text,
        **run_records(run.run_id),
        "asset events": json.dumps(run.asset_events),
        "the emulator's request log": json.dumps(run.requests),
        "the emulator's log": emulator.log_path.read_text(),
    }
    assert any(key.startswith("XCom") for key in places)
    assert any(key.startswith("rendered") for key in places)
    secrets = known_secrets(cloud.info)
    assert {place: leaks(text, secrets) for place, text in places.items() if leaks(text, secrets)} == {}

    [seen] = build_vm_at_cleanup
    vm = seen["vm"]
    assert vm.os_profile.linux_configuration.disable_password_authentication is True
    assert vm.os_profile.admin_password is None
    assert [key.key_data for key in vm.os_profile.linux_configuration.ssh.public_keys] == [
        pipeline.spec()["build"]["ssh_public_key"]
    ]
    [nic_config] = vm.network_profile.network_interface_configurations
    assert [ip.public_ip_address_configuration for ip in nic_config.ip_configurations] == [None]
    assert [ip["properties"].get("publicIPAddress") for ip in seen["nic"]["properties"]["ipConfigurations"]] == [None]
    assert seen["public_ips"] == []


def test_a_spec_that_asks_for_a_public_ip_passes_it_to_the_build_vm(pipeline):
    """What the create step does with it (a public IP next to the NIC) is tested at operator level
    (test_trusted_launch_and_public_ip_when_asked).
    """
    from imagepool.pipeline import pipeline_dag

    assert pipeline_dag(pipeline.spec_path).get_task("image.create_build_vm").public_ip is False
    pipeline.edit_spec(lambda spec: spec["build"].update(public_ip=True))
    assert pipeline_dag(pipeline.spec_path).get_task("image.create_build_vm").public_ip is True
