"""The sovereign clouds the emulator can play (``--cloud``): their regions, token audiences and endpoints,
through the real SDKs, and a data dir that stays with the cloud it was made for.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from azure.core.exceptions import ClientAuthenticationError

from tests.emulator_process import start_emulator
from tests.integration import clients

INCLUDE = str(Path(__file__).resolve().parents[3] / "include")


@pytest.fixture(scope="module")
def us_government(tmp_path_factory):
    running = start_emulator(tmp_path_factory.mktemp("usgov"), speed=600, cloud="AzureUSGovernment")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def china(tmp_path_factory):
    # The Azure CLI's spelling of the cloud's name works too.
    running = start_emulator(tmp_path_factory.mktemp("china"), speed=600, cloud="azurechinacloud")
    yield running
    running.stop()


def test_us_government_regions_scopes_and_accounts(us_government):
    info = us_government.info
    assert info["cloud"] == "AzureUSGovernment"
    assert info["arm_scope"] == "https://management.usgovcloudapi.net/.default"
    assert info["batch_scope"] == "https://batch.core.usgovcloudapi.net//.default"
    assert (info["location"], info["other_location"]) == ("usgovvirginia", "usgovarizona")
    credential = clients.credential(info)
    with clients.subscriptions(info, credential) as subscriptions:
        found = {loc.name: loc for loc in subscriptions.subscriptions.list_locations(info["subscription_id"])}
    assert {"usgovvirginia", "usgovarizona", "usgovtexas"} <= set(found)
    assert "westeurope" not in found
    assert found["usgovvirginia"].display_name == "US Gov Virginia"
    assert len(found["usgovvirginia"].availability_zone_mappings) == 3
    assert found["usgovarizona"].availability_zone_mappings is None
    with clients.compute(info, credential) as compute:
        skus = {s.name for s in compute.resource_skus.list(filter="location eq 'usgovarizona'")}
        assert "Standard_D4s_v5" in skus
    with clients.batch(info, credential) as batch:
        assert any(image.node_agent_sku_id for image in batch.list_supported_images())


def test_a_cloud_issues_no_token_for_another_clouds_services(us_government):
    """Azure Government's authority knows its own Resource Manager, not the public cloud's."""
    with pytest.raises(ClientAuthenticationError) as err:
        clients.credential(us_government.info).get_token("https://management.azure.com/.default")
    assert "AADSTS500011" in str(err.value)


def test_china_regions_and_metadata(china):
    import requests

    info = china.info
    credential = clients.credential(info)
    with clients.subscriptions(info, credential) as subscriptions:
        found = {loc.name: loc for loc in subscriptions.subscriptions.list_locations(info["subscription_id"])}
    assert {"chinanorth3", "chinaeast3", "chinanorth2"} <= set(found)
    assert len(found["chinanorth3"].availability_zone_mappings) == 3
    assert found["chinaeast3"].availability_zone_mappings is None
    metadata = requests.get(info["metadata_endpoint"], verify=info["ca_bundle"], timeout=10).json()
    assert metadata["name"] == "AzureChinaCloud"
    assert metadata["batch"] == "https://batch.chinacloudapi.cn/"
    assert metadata["resourceManager"] == info["arm_endpoint"]


def test_a_data_dir_keeps_its_cloud(china, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "azure_emulator", "--data-dir", str(china.data_dir), "--cloud", "AzurePublicCloud"],
        env={"PYTHONPATH": INCLUDE, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "the data dir was made for AzureChinaCloud, not AzurePublicCloud" in result.stderr


def test_an_unknown_cloud_is_refused(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "azure_emulator", "--data-dir", str(tmp_path), "--cloud", "AzureGermanCloud"],
        env={"PYTHONPATH": INCLUDE, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "--cloud must be one of AzurePublicCloud, AzureUSGovernment, AzureChinaCloud" in result.stderr
