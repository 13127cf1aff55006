"""Check the audit trail: ``python -m portal.audit_verify`` (exit 1 if anything is wrong).

It checks the keyed hash chain, every signed checkpoint outside the database (so cutting off the
newest entries, re-hashing after an edit, and wiping the trail are all found) and that the
database's append-only guard is in place; when all holds it appends a new checkpoint.
``--reinstall-guard`` puts the guard back after an investigation.
"""

import argparse
import sys
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from db import audit_guard
from db.engine import get_engine, session_scope
from portal.services import audit_checkpoints


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reinstall-guard",
        action="store_true",
        help="install the append-only triggers again (after finding out who removed them)",
    )
    args = parser.parse_args([] if argv is None else argv)
    if args.reinstall_guard:
        with get_engine().begin() as connection:
            audit_guard.install(connection)
        print("Append-only guard on the audit trail installed.")
    try:
        with session_scope() as session:
            report = audit_checkpoints.verify_trail(session, now=datetime.now(UTC))
            session.commit()
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error  # the driver's words, when there are some
        print(
            f"Could not read the audit trail: {str(cause).splitlines()[0]}. Check "
            "DATABASE_URL, and that the database is migrated (python -m portal.cli prepare).",
            file=sys.stderr,
        )
        return 2
    if report.ok:
        print(
            f"Audit trail intact: {report.checked} entries verified against "
            f"{report.checkpoints} signed checkpoint(s); new checkpoint written."
        )
        return 0
    print(
        f"AUDIT TRAIL BROKEN ({report.checked} entries of the chain checked):",
        file=sys.stderr,
    )
    for problem in report.problems:
        print(f"  - {problem}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
