"""A small FHIR R4 server on loopback, the test double of an EHR's FHIR API for the CDS Hooks
tests. It follows the FHIR RESTful API for what the service uses: ``GET [type]/[id]`` (read)
and ``GET [type]?patient=[id]`` (search, answered as a ``searchset`` Bundle), JSON only, and
answers 401 without the expected Bearer token. Resources come from a Bundle file."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


def as_patients(resource: dict[str, Any], patient_id: str) -> dict[str, Any]:
    """``resource`` as patient ``patient_id``'s: the Patient's id, or each ``subject`` and
    ``patient`` reference as ``Patient/<id>``."""
    if resource.get("resourceType") == "Patient":
        return {**resource, "id": patient_id}
    out = dict(resource)
    for key in ("subject", "patient"):
        if isinstance(out.get(key), dict):
            out[key] = {**out[key], "reference": f"Patient/{patient_id}"}
    return out


@contextmanager
def fhir_server(bundle: Path, patient_id: str, token: str) -> Iterator[tuple[str, list[str]]]:
    """Serve the Bundle's resources as patient ``patient_id``; yields (base URL, request log)."""
    resources: list[dict[str, Any]] = [
        e["resource"] for e in json.loads(bundle.read_text(encoding="utf-8"))["entry"]
    ]
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            seen.append(self.path)
            if self.headers.get("Authorization") != f"Bearer {token}":
                self._send(
                    401,
                    {
                        "resourceType": "OperationOutcome",
                        "issue": [{"severity": "error", "code": "login"}],
                    },
                )
                return
            parts = urlsplit(self.path)
            path = parts.path.strip("/").split("/")
            if len(path) == 2 and path[0] == "Patient":
                if path[1] != patient_id:
                    self._send(
                        404,
                        {
                            "resourceType": "OperationOutcome",
                            "issue": [{"severity": "error", "code": "not-found"}],
                        },
                    )
                    return
                patient = next(r for r in resources if r["resourceType"] == "Patient")
                self._send(200, {**patient, "id": patient_id})
                return
            query = parse_qs(parts.query)
            # as a FHIR server answers a search: each resource refers to its patient by
            # Patient/<id> (the example Bundles use bundle-internal urn:uuid references)
            hits = [as_patients(r, patient_id) for r in resources if r["resourceType"] == path[0]]
            if query.get("patient") != [patient_id]:
                hits = []
            self._send(
                200,
                {
                    "resourceType": "Bundle",
                    "type": "searchset",
                    "total": len(hits),
                    "entry": [{"resource": r, "search": {"mode": "match"}} for r in hits],
                },
            )

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()
