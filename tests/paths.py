"""Where the shared reference data lives: `../shared` beside the checkout (as CI lays it out).

Override with BEACON_SHARED_DIR. Tests that need it skip cleanly when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = Path(os.environ.get("BEACON_SHARED_DIR") or ROOT.parent / "shared")
CFS_DIR = SHARED_DIR / "data" / "cfs"
CAP_DIR = SHARED_DIR / "data" / "cap"
EIDO_DIR = SHARED_DIR / "data" / "eido"
