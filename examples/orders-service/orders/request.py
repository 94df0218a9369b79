"""The parts of a WSGI request the handlers need."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs

MAX_BODY_BYTES = 64 * 1024


class BadRequest(Exception):
    """The request is malformed; the message goes back to the client with a 400."""


@dataclass(frozen=True)
class Request:
    """Method, path, query and body of one HTTP request, plus its request id."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes
    request_id: str

    @classmethod
    def from_environ(cls, environ: dict) -> "Request":
        """Read the request out of a WSGI environ (the body is capped at MAX_BODY_BYTES)."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > MAX_BODY_BYTES:
            raise BadRequest(f"body larger than {MAX_BODY_BYTES} bytes")
        body = environ["wsgi.input"].read(length) if length else b""
        request_id = environ.get("HTTP_X_REQUEST_ID") or uuid.uuid4().hex[:8]
        query = parse_qs(environ.get("QUERY_STRING", ""))
        return cls(environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/"), query, body, request_id)

    @property
    def target(self) -> str:
        """The path with its query string, as written in logs."""
        pairs = "&".join(f"{name}={value}" for name, values in self.query.items() for value in values)
        return f"{self.path}?{pairs}" if pairs else self.path

    def query_int(self, name: str) -> int | None:
        """The query parameter `name` as an int, None when absent."""
        values = self.query.get(name)
        if not values:
            return None
        try:
            return int(values[0])
        except ValueError:
            raise BadRequest(f"{name} must be an integer") from None

    def json(self) -> object:
        """The body parsed as JSON."""
        try:
            return json.loads(self.body or b"null")
        except ValueError as exc:
            raise BadRequest(f"body is not valid JSON: {exc}") from None
