"""Serve the built web app at ``/`` with a deep-link fallback to ``index.html``.

Any path outside ``/api/`` that is not a file of the build gets ``index.html`` (the Angular router
handles it); paths under ``/api/`` are never shadowed and stay JSON 404s. The web app's responses carry
their own Content-Security-Policy (scripts, styles, images and connections to the same origin, and the
WebSocket), which the API's EdgeMiddleware keeps instead of its own ``default-src 'none'``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send

from promethium.api.errors import NotFoundError

__all__ = ["WEB_CSP", "default_web_dir", "install_web_app"]

WEB_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self' ws: wss:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def default_web_dir() -> Path | None:
    """``frontend/dist/frontend/browser`` of a source checkout, when it has been built."""
    root = Path(__file__).resolve().parents[3]
    candidate = root / "frontend" / "dist" / "frontend" / "browser"
    return candidate if (candidate / "index.html").is_file() else None


def install_web_app(app: FastAPI, web_dir: Path | None, api_prefix: str) -> None:
    """Serve unmatched paths (the router's default handler), so that every route, even one added later,
    matches first."""
    api_root = api_prefix.strip("/").split("/")[0]  # "api"
    root = web_dir.resolve() if web_dir is not None else None
    index = root / "index.html" if root is not None else None
    headers = {"Content-Security-Policy": WEB_CSP}

    async def web(request: Request) -> Response:
        path = request.url.path.lstrip("/")
        if request.method not in ("GET", "HEAD") or path == api_root or path.startswith(api_root + "/"):
            raise NotFoundError(f"no route {request.url.path}")
        if root is None or index is None or not index.is_file():
            return JSONResponse(
                {
                    "message": "the web app is not built here (run `make frontend`, or set "
                    "PROMETHIUM_WEB_DIR); the API is at " + api_prefix,
                    "api": api_prefix,
                    "docs": api_prefix + "/docs",
                },
                status_code=404 if path else 200,
            )
        if path:
            candidate = (root / path).resolve()
            if candidate.is_relative_to(root) and candidate.is_file():
                cache = "no-cache" if candidate.suffix == ".html" else "public, max-age=31536000, immutable"
                return FileResponse(candidate, headers={**headers, "Cache-Control": cache})
            if "." in path.rsplit("/", 1)[-1]:  # a missing asset: not the app
                raise NotFoundError(f"no file {request.url.path}")
        return FileResponse(index, headers={**headers, "Cache-Control": "no-cache"})

    async def fallback(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app.router.not_found(scope, receive, send)
            return
        response = await web(Request(scope, receive))
        await response(scope, receive, send)

    app.router.default = fallback
