"""audited_reads.log_read is the one way a service logs a successful read: no service writes a
"read" audit entry itself (a refused read, logged as denied, is the access check's own)."""

import ast
from pathlib import Path

from portal.config import PROJECT_ROOT

SERVICES = PROJECT_ROOT / "portal" / "services"


def _own_read_entries(path: Path) -> list[int]:
    """Lines where ``audit.record(..., action="read")`` logs a read without a denied outcome."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr != "record" or getattr(node.func.value, "id", None) != "audit":
            continue
        words = {k.arg: k.value for k in node.keywords}
        action = words.get("action")
        if isinstance(action, ast.Constant) and action.value == "read" and "outcome" not in words:
            found.append(node.lineno)
    return found


def test_services_log_reads_only_through_log_read():
    offenders = {
        str(path.relative_to(PROJECT_ROOT)): lines
        for path in sorted(SERVICES.rglob("*.py"))
        if path.name != "audited_reads.py" and (lines := _own_read_entries(path))
    }
    assert offenders == {}, f"use audited_reads.log_read for these reads: {offenders}"


def test_the_scan_sees_a_read_written_by_hand(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        'audit.record(session=s, actor=u, category="c", action="read", now=n)\n'
        'audit.record(session=s, actor=u, category="c", action="read", outcome=DENIED, now=n)\n'
    )
    assert _own_read_entries(sample) == [1]
