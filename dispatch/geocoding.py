"""Optional external geocoding (Nominatim or Pelias through geopy) for addresses Beacon has never seen.

Off unless ``GEOCODER_URL`` is set; the console works fully without it (known
locations, map clicks). A slow or failing geocoder never blocks intake: every
error returns None after a short timeout.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlparse

from django.conf import settings

logger = logging.getLogger(__name__)
TIMEOUT_S = 3


@dataclass(frozen=True, slots=True)
class GeocodeResult:
    latitude: float
    longitude: float
    label: str


def geocoder_enabled() -> bool:
    return bool(getattr(settings, "GEOCODER_URL", ""))


def _geocoder():  # type: ignore[no-untyped-def]
    from geopy.geocoders import Nominatim, Pelias

    url = urlparse(settings.GEOCODER_URL)
    kind = getattr(settings, "GEOCODER_KIND", "nominatim").lower()
    domain = url.netloc + url.path.rstrip("/")
    agent = getattr(settings, "GEOCODER_USER_AGENT", "beacon-cad")
    if kind == "pelias":
        return Pelias(
            domain=domain, scheme=url.scheme or "https", timeout=TIMEOUT_S, user_agent=agent
        )
    return Nominatim(
        domain=domain, scheme=url.scheme or "https", timeout=TIMEOUT_S, user_agent=agent
    )


def geocode(address: str) -> GeocodeResult | None:
    """Look an address up in the configured geocoder; None when disabled, not found or unreachable."""
    address = (address or "").strip()
    if not geocoder_enabled() or not address:
        return None
    try:
        found = _geocoder().geocode(address, exactly_one=True)
    except Exception as exc:  # geopy raises many kinds; intake must go on regardless
        logger.warning("geocoder failed for %r: %s", address[:80], exc)
        return None
    if found is None:
        return None
    from dispatch.geo import valid_point

    if not valid_point(found.latitude, found.longitude):
        return None
    return GeocodeResult(
        latitude=float(found.latitude), longitude=float(found.longitude), label=str(found.address)
    )
