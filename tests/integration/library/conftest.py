"""Library fixtures: an Airflow connection to the emulator, made the way a user would (custom cloud)."""

from __future__ import annotations

import json
import os

import pytest


def emulator_connection(info: dict) -> dict:
    return {
        "conn_type": "azure",
        "login": info["client_id"],
        "password": info["client_secret"],
        "extra": {
            "tenantId": info["tenant_id"], "subscriptionId": info["subscription_id"],
            "resource_group": info["resource_group"], "cloud_environment": "Custom",
            "arm_endpoint": info["arm_endpoint"], "arm_scope": info["arm_scope"],
            "authority_host": info["authority_host"], "batch_account_url": info["batch_endpoint"],
            "batch_scope": info["batch_scope"], "ca_bundle": info["ca_bundle"],
        },
    }


@pytest.fixture(scope="session", autouse=True)
def azure_default_connection(info):
    os.environ["AIRFLOW_CONN_AZURE_DEFAULT"] = json.dumps(emulator_connection(info))
    yield
    os.environ.pop("AIRFLOW_CONN_AZURE_DEFAULT", None)


@pytest.fixture
def fast():
    """Operator arguments for quick polling against the sped-up emulator."""
    return {"poll_interval": 0.05, "max_poll_interval": 0.5}
