"""Check the audit trail's hash chain: ``python -m portal.audit_verify`` (exit 1 if broken)."""

import sys

from db.engine import session_scope
from portal.services.audit_chain import verify


def main() -> int:
    with session_scope() as session:
        result = verify(session)
    if result.ok:
        print(f"Audit trail intact: {result.checked} entries verified.")
        return 0
    print(
        f"AUDIT TRAIL BROKEN at entry {result.first_bad_id}: {result.problem} "
        f"({result.checked} entries verified before it).",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
