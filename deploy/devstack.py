"""Helpers for ``make run``: ``python -m deploy.devstack banner`` prints the admin credentials
the gateway bootstraps (the same variables and development defaults it reads) and the URLs.

It reads environment variables only, so it imports no service and starts nothing.
"""

from __future__ import annotations

import os
import sys

DEV_ADMIN_CLIENT_ID = "sinergi-admin"
DEV_ADMIN_CLIENT_SECRET = "dev-admin-secret"  # noqa: S105 - the published development default
GATEWAY = "http://127.0.0.1:8000"


def admin_credentials() -> tuple[str, str, bool]:
    """(client id, secret, whether they are the development defaults)."""
    client_id = os.environ.get("SINERGI_ADMIN_CLIENT_ID", "")
    secret = os.environ.get("SINERGI_ADMIN_CLIENT_SECRET", "")
    if client_id and secret:
        return client_id, secret, False
    return client_id or DEV_ADMIN_CLIENT_ID, secret or DEV_ADMIN_CLIENT_SECRET, True


def banner() -> str:
    client_id, secret, default = admin_credentials()
    origin = "development defaults" if default else "from SINERGI_ADMIN_CLIENT_ID/_SECRET"
    shown = secret if default else secret[:2] + "*" * max(0, len(secret) - 2)
    return "\n".join(
        [
            "",
            "Sinergi is starting: gateway :8000, registry :8001, opportunities :8002,",
            "matching :8003, reporting :8004 (Ctrl-C stops them all).",
            "",
            f"  API (gateway)   {GATEWAY}",
            f"  API docs        {GATEWAY}/docs",
            f"  Readiness       {GATEWAY}/readyz",
            "",
            f"  Admin client ({origin}):",
            f"    client_id      {client_id}",
            f"    client_secret  {shown}",
            "",
            "  Get a token:",
            f"    curl -s -u {client_id}:<secret> -d grant_type=client_credentials \\",
            f"      {GATEWAY}/v1/auth/token",
            "",
        ]
    )


def main(argv: list[str]) -> int:
    if argv[1:] == ["banner"]:
        print(banner())
        return 0
    print("usage: python -m deploy.devstack banner", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
