"""Known vulnerabilities in the pinned dependencies: pip-audit over the lock files, read strictly.

Exit status: 1 when a pinned package has a known vulnerability; otherwise 0, except that a
package pip-audit could not check (no vulnerability data reachable: offline, or a PyPI mirror
without it) is never taken for a pass. Such a run prints a loud warning naming how many were
not audited, and fails too with ``BEACON_AUDIT_STRICT=1`` (set it where PyPI is reachable).
See docs/security.md.

Usage: python scripts/audit_dependencies.py requirements.lock requirements-dev.lock
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PIP_AUDIT = Path(sys.executable).with_name("pip-audit")


def audit(lock_file: str) -> dict:
    """pip-audit's JSON report for one lock file (pins only: the lock files list every package)."""
    command = [
        str(PIP_AUDIT),
        "--requirement",
        lock_file,
        "--no-deps",  # the lock files are complete: nothing to resolve
        "--disable-pip",
        "--progress-spinner",
        "off",
        "--format",
        "json",
    ]
    # A fixed command (our own venv's pip-audit and a path we were given), no shell.
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        return {"error": (done.stderr or done.stdout).strip()[-2000:], "dependencies": []}


def main(lock_files: list[str]) -> int:
    vulnerable: dict[str, str] = {}
    unaudited: dict[str, str] = {}  # by package: the dev lock file includes the runtime one
    audited: set[str] = set()
    for lock_file in lock_files:
        report = audit(lock_file)
        if "error" in report:
            unaudited[lock_file] = f"pip-audit failed: {report['error']}"
        for dep in report.get("dependencies", []):
            if "skip_reason" in dep:
                unaudited[dep["name"]] = dep["skip_reason"]
                continue
            audited.add(dep["name"])
            for vuln in dep.get("vulns", []):
                fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed version yet"
                vulnerable[f"{dep['name']} {vuln['id']}"] = (
                    f"{dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})"
                )
    print(
        f"pip-audit: {len(audited)} pinned packages audited, "
        f"{len(vulnerable)} known vulnerabilities"
    )
    for line in vulnerable.values():
        print(f"  VULNERABLE {line}")
    if unaudited:
        banner = "!" * 78
        print(banner, file=sys.stderr)
        print(
            f"WARNING: {len(unaudited)} pinned packages were NOT audited: no vulnerability data "
            "was reachable (offline, or a PyPI mirror without it). This is not a pass: run "
            "`make audit` where pypi.org is reachable before a release.",
            file=sys.stderr,
        )
        for name, reason in list(unaudited.items())[:5]:
            print(f"  {name}: {reason}", file=sys.stderr)
        if len(unaudited) > 5:
            print(f"  ... and {len(unaudited) - 5} more", file=sys.stderr)
        print(banner, file=sys.stderr)
    if vulnerable:
        return 1
    if unaudited and os.environ.get("BEACON_AUDIT_STRICT") == "1":
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["requirements.lock", "requirements-dev.lock"]))
