"""Registers imagepool with Airflow: its portal links, and the imagepool view (a FastAPI app in the API
server under /imagepool, listed in the UI's navigation; see imagepool/fleet/app.py).

With ``[core] lazy_load_plugins = False`` every Airflow process loads this module when it starts, and
it then imports the library and every Azure SDK module its hooks use: once, in the scheduler (whose
LocalExecutor workers are forked from it) or the Celery worker, so that every task process forked
from them starts with those modules loaded instead of importing them again (a second or two of CPU
per task on a small machine, most of it the Azure SDKs).
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

import imagepool.pipeline  # noqa: F401  (the operators and, through them, the sync SDK clients)
from imagepool.fleet.app import URL_PREFIX, create_app
from imagepool.hooks.preload import preload_sdks
from imagepool.links.portal import ALL_LINKS

preload_sdks()


class ImagepoolPlugin(AirflowPlugin):
    name = "imagepool"
    operator_extra_links = [link() for link in ALL_LINKS]
    fastapi_apps = [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "imagepool fleet"}]
    # Shown inside the UI (a frame under /plugin/imagepool), in the navigation's Browse menu.
    external_views = [
        {
            "name": "imagepool fleet",
            "href": f"{URL_PREFIX}/",
            "url_route": "imagepool",
            "category": "browse",
            "destination": "nav",
        }
    ]
