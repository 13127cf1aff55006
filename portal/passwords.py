"""Password hashing with bcrypt (the same scheme streamlit-authenticator checks)."""

import bcrypt

# bcrypt reads at most 72 bytes; longer passwords are refused rather than silently truncated.
MAX_PASSWORD_BYTES = 72
# bcrypt's cost for new hashes. The test suite lowers it (tests/conftest.py): a cost-4 hash is
# made and checked by the same code in a few milliseconds instead of a quarter of a second.
PRODUCTION_ROUNDS = 12
ROUNDS = PRODUCTION_ROUNDS


def hash_password(password: str, *, rounds: int | None = None) -> str:
    raw = password.encode()
    if len(raw) > MAX_PASSWORD_BYTES:
        raise ValueError("Password is too long (72 bytes at most).")
    return bcrypt.hashpw(raw, bcrypt.gensalt(rounds=rounds or ROUNDS)).decode()


def verify_password(password: str, password_hash: str) -> bool:
    raw = password.encode()
    if len(raw) > MAX_PASSWORD_BYTES:
        return False
    try:
        return bcrypt.checkpw(raw, password_hash.encode())
    except ValueError:
        return False
