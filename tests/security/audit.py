"""``pip-audit`` over the installed environment, read strictly: any known vulnerability fails,
unless tests/security/README.md documents why it cannot reach us (``DOCUMENTED`` below).

pip-audit reports a package it could not look up as skipped, and still says "no known
vulnerabilities". We print every such package, so a run that could not reach the vulnerability
service is never mistaken for a clean one; ``SINERGI_AUDIT_STRICT=1`` makes it a failure.

Run: ``.venv/bin/python -m tests.security.audit`` (``make check-security``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

# Vulnerability id (or alias) -> why it cannot reach us; each one explained in README.md.
DOCUMENTED: dict[str, str] = {}


def run_pip_audit() -> dict[str, Any]:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip_audit",
            "--local",
            "--skip-editable",  # sinergi itself: our code, not a published distribution
            "--format",
            "json",
            "--progress-spinner",
            "off",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    try:
        report: dict[str, Any] = json.loads(completed.stdout)
    except json.JSONDecodeError:
        sys.stderr.write(completed.stderr)
        raise SystemExit("pip-audit did not produce a report") from None
    return report


def evaluate(report: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """(findings, documented, unaudited), one line each."""
    findings: list[str] = []
    documented: list[str] = []
    unaudited: list[str] = []
    for dependency in report.get("dependencies", []):
        name = f"{dependency['name']} {dependency.get('version', '?')}"
        if dependency.get("skip_reason"):
            unaudited.append(f"{dependency['name']}: {dependency['skip_reason']}")
            continue
        for vuln in dependency.get("vulns", []):
            ids = [vuln["id"], *vuln.get("aliases", [])]
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fix released"
            line = f"{name}: {' / '.join(ids)} (fixed in {fixed})"
            if any(i in DOCUMENTED for i in ids):
                documented.append(line)
            else:
                findings.append(line)
    return findings, documented, unaudited


def main() -> int:
    report = run_pip_audit()
    findings, documented, unaudited = evaluate(report)
    audited = len(report.get("dependencies", [])) - len(unaudited)
    print(f"pip-audit: {audited} packages audited, {len(unaudited)} could not be looked up")
    for line in documented:
        print(f"  documented, cannot reach us: {line}")
    if unaudited:
        print("  NOT AUDITED (vulnerability service unreachable or package unknown to it):")
        for line in unaudited:
            print(f"    {line}")
    if findings:
        print("VULNERABLE: raise the lower bound in pyproject.toml or document it in README.md")
        for line in findings:
            print(f"  {line}")
        return 1
    if unaudited and os.environ.get("SINERGI_AUDIT_STRICT") == "1":
        print("SINERGI_AUDIT_STRICT=1: an incomplete audit fails")
        return 1
    print("pip-audit: no undocumented known vulnerability")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
