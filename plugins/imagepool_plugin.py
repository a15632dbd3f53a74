"""Registers imagepool's portal links with Airflow so the UI can show them.

With ``[core] lazy_load_plugins = False`` every Airflow process loads this module when it starts, and
it then imports the library and every Azure SDK module its hooks use: once, in the scheduler (whose
LocalExecutor workers are forked from it) or the Celery worker, so that every task process forked
from them starts with those modules loaded instead of importing them again (a second or two of CPU
per task on a small machine, most of it the Azure SDKs).
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

import imagepool.pipeline  # noqa: F401  (the operators and, through them, the sync SDK clients)
from imagepool.hooks.preload import preload_sdks
from imagepool.links.portal import ALL_LINKS

preload_sdks()


class ImagepoolPlugin(AirflowPlugin):
    name = "imagepool"
    operator_extra_links = [link() for link in ALL_LINKS]
