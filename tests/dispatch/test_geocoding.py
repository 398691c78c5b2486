"""The optional geocoder: used when configured, harmless when absent or broken."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from dispatch.geocoding import geocode


class _Nominatim(BaseHTTPRequestHandler):
    """A loopback stand-in speaking Nominatim's /search JSON, so geopy's real client is exercised."""

    def do_GET(self) -> None:
        body = []
        if "ELM" in self.path.upper():
            body = [
                {
                    "lat": "29.4301",
                    "lon": "-98.4902",
                    "display_name": "400 Elm Street, Harbor City",
                    "place_id": 1,
                    "boundingbox": ["29.43", "29.431", "-98.491", "-98.49"],
                }
            ]
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def nominatim(settings):
    server = HTTPServer(("127.0.0.1", 0), _Nominatim)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.GEOCODER_URL = f"http://127.0.0.1:{server.server_address[1]}"
    settings.GEOCODER_KIND = "nominatim"
    yield server
    server.shutdown()


def test_geocoder_off_by_default(settings):
    settings.GEOCODER_URL = ""
    assert geocode("400 Elm Street") is None


def test_nominatim_result_becomes_a_point(nominatim):
    found = geocode("400 Elm Street")
    assert found is not None
    assert (found.latitude, found.longitude) == (29.4301, -98.4902)
    assert "Harbor City" in found.label


def test_not_found_is_none(nominatim):
    assert geocode("1 Nowhere Road") is None


def test_unreachable_geocoder_does_not_raise(settings):
    settings.GEOCODER_URL = "http://127.0.0.1:9"  # discard port: connection refused
    assert geocode("400 Elm Street") is None


@pytest.mark.django_db
def test_console_context_uses_the_geocoder_for_unknown_addresses(nominatim, client, cast):
    client.force_login(cast["dispatcher"])
    data = client.get("/console/context.json", {"address": "400 Elm Street"}).json()
    assert data["location"] is None
    assert (data["latitude"], data["longitude"]) == (29.4301, -98.4902)
    assert data["geocoded"]["label"].startswith("400 Elm Street")
