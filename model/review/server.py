"""The review page's web server: the standard library's threaded HTTP server, one review session.

Safe by construction: the page asks for items by number, never for a path, so nothing but the page,
an item's spectrogram and audio, and the summary can be fetched (no path traversal). Requests that
change something must be JSON from the page's own origin (a foreign page cannot post a form or a
cross-origin JSON request without the browser sending its Origin), and a Host header naming
another machine is refused (DNS rebinding).
"""

from __future__ import annotations

import json
import re
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from model.review.session import ReviewSession
from model.review.store import Conflict

PAGE = Path(__file__).with_name("page.html")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class ReviewServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, session: ReviewSession, host: str = "127.0.0.1", port: int = 0):
        self.session = session
        self.lock = threading.Lock()  # exports rewrite shared files: one at a time
        try:
            super().__init__((host, port), _Handler)
        except OSError as err:
            raise ValueError(f"cannot listen on {host}:{port} ({err.strerror}); try another --port") from None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"

    def allowed_hosts(self) -> set[str] | None:
        """Host headers this server answers to; None when it listens on every interface (--host 0.0.0.0)."""
        host, port = self.server_address[:2]
        if host in ("0.0.0.0", "::"):
            return None
        names = {host, *LOOPBACK} if host in LOOPBACK else {host}
        return {f"{name}:{port}" for name in names} | {f"[{name}]:{port}" for name in names}


class _Handler(BaseHTTPRequestHandler):
    server: ReviewServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass  # one line per image request would bury the URL and the warnings

    # -- answers
    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload) -> None:
        self._send(status, json.dumps(payload, default=_plain, allow_nan=False).encode(), "application/json")

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": message})

    def _host_ok(self) -> bool:
        allowed = self.server.allowed_hosts()
        return allowed is None or self.headers.get("Host", "") in allowed

    # -- routes
    def do_GET(self):  # noqa: N802 - http.server's name
        if not self._host_ok():
            return self._error(HTTPStatus.FORBIDDEN, "unexpected Host header")
        session = self.server.session
        path = self.path.split("?", 1)[0]
        try:
            if path == "/":
                return self._send(HTTPStatus.OK, PAGE.read_bytes(), "text/html; charset=utf-8")
            if path == "/api/queue":
                queue = session.queue()
                return self._json(HTTPStatus.OK, {"threshold": session.threshold, "order": session.order,
                                                  "band_hz": session.detector.frontend.band_hz, "items": records(queue)})
            if path == "/api/summary":
                with self.server.lock:
                    session.export(figure=True)
                return self._json(HTTPStatus.OK, session.summary())
            if path == "/api/precision.png":
                return self._send(HTTPStatus.OK, session.precision_png(), "image/png")
            media = re.fullmatch(r"/api/items/(\d+)/(spectrogram\.png|audio\.wav)", path)
            if media:
                item_id = int(media.group(1))
                if media.group(2) == "audio.wav":
                    return self._send(HTTPStatus.OK, session.wav(item_id), "audio/wav")
                return self._send(HTTPStatus.OK, session.spectrogram_png(item_id), "image/png")
        except KeyError as err:
            return self._error(HTTPStatus.NOT_FOUND, str(err.args[0]))
        except (ValueError, OSError) as err:  # a recording moved, changed or unreadable since it was counted
            return self._error(HTTPStatus.INTERNAL_SERVER_ERROR, str(err))
        return self._error(HTTPStatus.NOT_FOUND, f"no such page: {path}")

    def do_POST(self):  # noqa: N802
        refusal = self._refusal()
        if refusal:
            return self._error(HTTPStatus.FORBIDDEN, refusal)
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        except (ValueError, UnicodeDecodeError):
            return self._error(HTTPStatus.BAD_REQUEST, "the request body is not JSON")
        session = self.server.session
        path = self.path.split("?", 1)[0]
        try:
            decision = re.fullmatch(r"/api/items/(\d+)/decision", path)
            if decision:
                item = session.store.decide(int(decision.group(1)), body.get("decision"), int(body.get("version", -1)),
                                            body.get("start"), body.get("end"))
                self._exported()
                return self._json(HTTPStatus.OK, plain_item(item))
            if path == "/api/calls":
                name = str(body.get("recording"))
                if name not in session.recordings:
                    return self._error(HTTPStatus.BAD_REQUEST, f"no recording {name!r} in this review")
                item = session.store.add_call(name, float(body["start"]), min(float(body["end"]), session.durations[name]))
                self._exported()
                return self._json(HTTPStatus.OK, plain_item(item))
            if path == "/api/random":
                added = session.add_random(int(body.get("n", 10)))
                return self._json(HTTPStatus.OK, {"added": added})
        except Conflict as conflict:
            return self._json(HTTPStatus.CONFLICT, {"error": str(conflict), "item": plain_item(conflict.item)})
        except KeyError as err:
            return self._error(HTTPStatus.NOT_FOUND, str(err.args[0]))
        except (TypeError, ValueError) as err:
            return self._error(HTTPStatus.BAD_REQUEST, str(err))
        return self._error(HTTPStatus.NOT_FOUND, f"no such action: {path}")

    def _refusal(self) -> str | None:
        """Why a state-changing request is refused, or None."""
        if not self._host_ok():
            return "unexpected Host header"
        if self.headers.get_content_type() != "application/json":
            return "changes are accepted as JSON only"
        origin = self.headers.get("Origin")
        if origin is not None and origin.rstrip("/") != f"http://{self.headers.get('Host', '')}":
            return f"changes are accepted from this review's own page only, not from {origin}"
        return None

    def _exported(self) -> None:
        with self.server.lock:
            self.server.session.export()


def records(table) -> list[dict]:
    """A table's rows as JSON-ready dicts: missing values (NaN) as null."""
    return [plain_item(row) for row in table.to_dict("records")]


def plain_item(item: dict) -> dict:
    return {key: _plain(value) for key, value in item.items()}


def _plain(value):
    """numpy scalars as Python ones, NaN as None."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value
