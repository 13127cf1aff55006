"""Secrets generated on first use and kept in the state folder (var/, never in git).

Each secret is one file, readable only by its owner (0600). It is written to a private temporary
file and then hard-linked into place, which fails if the name already exists: when two processes
start at once, exactly one value wins and both return it.
"""

import contextlib
import os
import re
import secrets
from pathlib import Path

_NAME = re.compile(r"[a-z0-9_]{1,64}")


class SecretStoreError(RuntimeError):
    """A secret file is missing its value or cannot be written; the message says where."""


def secret_path(name: str, *, state_dir: Path) -> Path:
    if not _NAME.fullmatch(name):
        raise ValueError(f"secret names are lower-case letters, digits and _: {name!r}")
    return Path(state_dir) / "secrets" / name


def get_or_create_secret(name: str, *, state_dir: Path, nbytes: int = 32) -> str:
    """The secret called ``name``, generated with ``secrets.token_urlsafe(nbytes)`` if new."""
    path = secret_path(name, state_dir=state_dir)
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _create_once(path, secrets.token_urlsafe(nbytes))
    value = path.read_text(encoding="utf-8").strip()
    if not value:
        raise SecretStoreError(f"The secret file {path} is empty; delete it to make a new one.")
    return value


def _create_once(path: Path, value: str) -> None:
    """Put ``value`` at ``path`` unless another process got there first (then keep theirs)."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(value + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        # The file is complete before its name appears, so a reader never sees half a secret.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    except OSError as error:  # e.g. a file system without hard links
        raise SecretStoreError(f"Could not write the secret file {path}: {error}") from error
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
