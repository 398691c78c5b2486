"""The API suite's record fixtures (``make_call``, ``call``, ``unit``), shared with the corpus."""

from tests.api.conftest import call, make_call, unit

__all__ = ["call", "make_call", "unit"]
