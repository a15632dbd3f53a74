"""Library fixtures: an Airflow connection to the emulator, made the way a user would (custom cloud)."""

from __future__ import annotations

import json
import os

import pytest

from imagepool_local.emulator import airflow_connection


@pytest.fixture(scope="session", autouse=True)
def azure_default_connection(info):
    os.environ["AIRFLOW_CONN_AZURE_DEFAULT"] = json.dumps(airflow_connection(info))
    yield
    os.environ.pop("AIRFLOW_CONN_AZURE_DEFAULT", None)


@pytest.fixture
def fast():
    """Operator arguments for quick polling against the sped-up emulator."""
    return {"poll_interval": 0.05, "max_poll_interval": 0.5}
