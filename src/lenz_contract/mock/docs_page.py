"""The contract as a page: Swagger UI 5 served offline at `/docs`, the spec at `/openapi.*`.

The assets come from the `swagger-ui-py` package (no CDN: the mock must work offline). The
page loads `/openapi.json`, whose server url `/` makes "Try it out" call this mock; nothing is
pre-authorized (the user pastes the token the mock printed at startup).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

if TYPE_CHECKING:
    from .state import MockState


def _swagger_static() -> Path:
    """`swagger_ui`'s static folder, found without importing it (it pulls in jinja2: slow)."""
    found = importlib.util.find_spec("swagger_ui")
    if found is None or not found.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is not installed")
    return Path(next(iter(found.submodule_search_locations))) / "static"


SWAGGER_STATIC = _swagger_static()

INDEX_HTML = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Lenz Workflows API — mock</title>
  <link rel="stylesheet" href="/docs/static/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/static/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/static/swagger-ui-bundle.js"></script>
  <script src="/docs/static/swagger-ui-standalone-preset.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      persistAuthorization: false,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "StandaloneLayout"
    });
  </script>
</body>
</html>
"""


def docs_routes(state: MockState) -> list[BaseRoute]:
    async def index(request: Request) -> Response:
        return HTMLResponse(INDEX_HTML)

    async def openapi_json(request: Request) -> Response:
        return Response(state.runtime.openapi_json, media_type="application/json")

    async def openapi_yaml(request: Request) -> Response:
        return Response(state.runtime.openapi_yaml, media_type="application/yaml")

    return [
        Route("/docs", index, methods=["GET"]),
        Mount("/docs/static", app=StaticFiles(directory=SWAGGER_STATIC), name="swagger-static"),
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Route("/openapi.yaml", openapi_yaml, methods=["GET"]),
    ]
