"""The audit gate reads pip-audit's report strictly: a finding fails unless documented, and a
package that could not be looked up is reported, never counted as clean."""

from __future__ import annotations

from tests.security import audit


def _report() -> dict[str, object]:
    return {
        "dependencies": [
            {"name": "fine", "version": "1.0", "vulns": []},
            {
                "name": "leaky",
                "version": "2.0",
                "vulns": [{"id": "PYSEC-1", "aliases": ["CVE-1"], "fix_versions": ["2.1"]}],
            },
            {"name": "unknown", "skip_reason": "Dependency not found on PyPI"},
        ]
    }


def test_undocumented_finding_fails_and_skips_are_listed(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(audit, "DOCUMENTED", {})
    findings, documented, unaudited = audit.evaluate(_report())
    assert findings == ["leaky 2.0: PYSEC-1 / CVE-1 (fixed in 2.1)"]
    assert documented == []
    assert unaudited == ["unknown: Dependency not found on PyPI"]


def test_documented_finding_by_alias_passes(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(audit, "DOCUMENTED", {"CVE-1": "the vulnerable path is never used"})
    findings, documented, _ = audit.evaluate(_report())
    assert findings == []
    assert documented == ["leaky 2.0: PYSEC-1 / CVE-1 (fixed in 2.1)"]


def test_gate_exit_codes(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(audit, "DOCUMENTED", {})
    monkeypatch.setattr(audit, "run_pip_audit", _report)
    assert audit.main() == 1
    clean = {"dependencies": [{"name": "unknown", "skip_reason": "not found"}]}
    monkeypatch.setattr(audit, "run_pip_audit", lambda: clean)
    monkeypatch.delenv("SINERGI_AUDIT_STRICT", raising=False)
    assert audit.main() == 0
    monkeypatch.setenv("SINERGI_AUDIT_STRICT", "1")
    assert audit.main() == 1
