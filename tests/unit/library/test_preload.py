"""The imagepool plugin, loaded when an Airflow process starts (``lazy_load_plugins`` off, as the stack
and the compose file set it), imports every Azure SDK module a task needs: a task process forked from
that process parses its DAG file and builds its hooks' sync and aio clients without importing any.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

TASK = """
import asyncio, json, sys

import airflow  # loads the plugins, as every Airflow process does at start

loaded = set(sys.modules)

from airflow.dag_processing.dagbag import DagBag

from imagepool.hooks.arm import ArmHook
from imagepool.hooks.batch import BatchHook

bag = DagBag(dag_folder=sys.argv[1])
assert not bag.import_errors, bag.import_errors


async def clients():
    for hook in (ArmHook(), BatchHook(batch_account_url="https://acct.westeurope.batch.azure.com")):
        hook.connection
        await hook.get_async_conn()
        await hook.close()


asyncio.run(clients())
print(json.dumps(sorted(name for name in set(sys.modules) - loaded if name.split(".")[0] in ("azure", "aiohttp"))))
"""


def task_imports(tmp_path: Path, lazy_load_plugins: str) -> list[str]:
    """The Azure SDK (and aiohttp) modules a task's work imports in a process started with these settings."""
    connection = {
        "conn_type": "azure",
        "login": "app",
        "password": "secret",
        "extra": {"tenantId": "t", "subscriptionId": "00000000-0000-0000-0000-000000000000"},
    }
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LAZY_LOAD_PLUGINS": lazy_load_plugins,
        "AIRFLOW_CONN_AZURE_DEFAULT": json.dumps(connection),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "plugins"), str(ROOT / "include")]),
    }
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
    done = subprocess.run(
        [sys.executable, "-c", TASK, str(ROOT / "dags")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_process_that_loads_the_plugin_at_start_leaves_no_sdk_module_to_import(tmp_path):
    assert task_imports(tmp_path, "False") == []


def test_without_the_plugin_at_start_a_task_imports_the_sdks_itself(tmp_path):
    # The measure above would pass vacuously if a task imported nothing anyway.
    imported = task_imports(tmp_path, "True")
    assert {
        "azure.mgmt.compute",
        "azure.mgmt.compute.aio",
        "azure.batch",
        "azure.batch.aio",
        "azure.identity.aio",
        "aiohttp",
    } <= set(imported), imported
