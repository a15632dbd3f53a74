"""The imagepool view: a FastAPI app that Airflow's API server mounts under ``/imagepool`` (see
``plugins/imagepool_plugin.py``), linked in the UI's navigation.

Airflow does not authenticate a plugin's app: every route here asks for the signed-in user the way the
API server's own routes do (the session cookie, or a bearer token) and shows only the families whose DAG
that user may read. A page request without a session is sent to the sign-in page; any other is refused.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from imagepool.fleet import pictures
from imagepool.fleet.airflow_state import read_dags, schedules_run
from imagepool.fleet.azure_state import FamilyCache
from imagepool.fleet.view import family_view, spec_files

URL_PREFIX = "/imagepool"
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"])
)
# While a run is going, the page reloads itself this often (seconds) to follow it.
REFRESH_WHILE_RUNNING = 30


def specs_dir() -> Path:
    """Where the spec files are: the DAG files' own (``IMAGEPOOL_SPECS_DIR``, default include/specs)."""
    from imagepool.pipeline import SPECS_DIR

    return Path(os.environ.get("IMAGEPOOL_SPECS_DIR", SPECS_DIR))


def fleet(user: Any, cache: FamilyCache) -> dict[str, Any]:
    """The families the user may read (a spec that cannot be read is shown to everyone signed in)."""
    from airflow.api_fastapi.app import get_auth_manager

    readable = get_auth_manager().get_authorized_dag_ids(user=user, method="GET")
    files = spec_files(specs_dir())
    specs = [f.spec for f in files if f.spec is not None and f.spec.dag_id in readable]
    dags = read_dags([s.dag_id for s in specs])
    schedules_on = schedules_run()
    families = []
    for spec_file in files:
        if spec_file.spec is None:
            families.append(family_view(spec_file, None, None))
        elif spec_file.spec.dag_id in readable:
            spec = spec_file.spec
            families.append(family_view(spec_file, dags.get(spec.dag_id), cache.get(spec), schedules_on=schedules_on))
    return {"generated": datetime.now(UTC).isoformat(), "families": families}


async def signed_in(request: Request) -> Any:
    """The signed-in user, as the API server's own routes find it (401 without a session or token)."""
    from airflow.api_fastapi.core_api.security import bearer_scheme, get_user

    return await get_user(request, None, await bearer_scheme(request))


SignedIn = Annotated[Any, Depends(signed_in)]


def create_app(cache: FamilyCache | None = None) -> FastAPI:
    cache = cache or FamilyCache()
    app = FastAPI(title="imagepool", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(HTTPException)
    async def sign_in_first(request: Request, exc: HTTPException):
        # A person opening the page without a session goes to the sign-in page and comes back here.
        if exc.status_code in (401, 403) and request.method == "GET" and request.url.path.rstrip("/") == URL_PREFIX:
            from airflow.api_fastapi.app import get_auth_manager

            return RedirectResponse(get_auth_manager().get_url_login(next_url=f"{URL_PREFIX}/"), status_code=307)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    @app.get("/api/fleet")
    def fleet_json(user: SignedIn) -> dict[str, Any]:
        """Every family the user may read, as the page shows it."""
        return fleet(user, cache)

    @app.get("/", response_class=HTMLResponse)
    def page(user: SignedIn) -> HTMLResponse:
        return HTMLResponse(render(fleet(user, cache)))

    return app


def render(data: dict[str, Any]) -> str:
    """The page for :func:`fleet`'s data, its pictures drawn in."""
    families = data["families"]
    running = any(r["state"] in ("running", "queued") for f in families for r in f.get("runs", []))
    for family in families:
        for version in family.get("versions", []):
            version["bars"] = Markup(pictures.replication_bars(version["regions"]))
        family["timeline"] = Markup(pictures.run_timeline(family.get("runs", [])))
    return TEMPLATES.get_template("fleet.html").render(
        families=families,
        generated=data["generated"],
        refresh=REFRESH_WHILE_RUNNING if running else None,
    )
