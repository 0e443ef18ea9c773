"""Static files served by the console itself (the deployments have no internet, and the CSP
allows only this origin): the console's own CSS and script, and the npm packages' builds that
`make setup` installs into `node_modules` (versions and licences: console/NOTICE.md)."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
# URL name -> file inside node_modules.
VENDOR = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
}
CACHE = {"Cache-Control": "public, max-age=3600"}


def vendor_files(node_modules: Path) -> dict[str, Path]:
    """The vendored files, refusing to start without them (run `make setup`)."""
    files = {name: node_modules / rel for name, rel in VENDOR.items()}
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise RuntimeError(f"console assets missing (run `make setup`): {', '.join(missing)}")
    return files


def static_app(node_modules: Path) -> Starlette:
    files = vendor_files(node_modules)

    async def vendor(request: Request) -> Response:
        path = files.get(request.path_params["name"])
        if path is None:
            return Response(status_code=404)
        return FileResponse(path, media_type="text/javascript", headers=CACHE)

    return Starlette(
        routes=[
            Route("/vendor/{name}", vendor),
            Mount("/", StaticFiles(directory=STATIC_DIR)),
        ]
    )
