"""The backup file: one gzip'd tar holding ``manifest.json`` and the files it lists with their
SHA-256, so a restore can tell a whole, untouched backup from a damaged or altered one.

The archive is written under a temporary name and renamed into place when complete, so a crash
or a full disk never leaves something that looks like a backup. It holds secrets (the cookie key),
so it is readable by its owner only (0600).
"""

import hashlib
import io
import json
import os
import tarfile
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

from portal.errors import PortalError

FORMAT = "clinic-portal-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_CHUNK = 1024 * 1024


class BackupRefused(PortalError):
    """The backup cannot be made or used; the message says why in plain words."""


class BackupCorrupt(BackupRefused):
    """The file is not a whole, unaltered backup."""


@dataclass(frozen=True)
class ArchivedFile:
    name: str  # path inside the archive, e.g. database.sqlite or secrets/cookie_key
    sha256: str
    bytes: int


@dataclass
class Manifest:
    created_at: str
    database: str  # sqlite or postgresql
    schema_revision: str  # Alembic revision of the copied database
    tables: dict[str, int]  # rows per table in the copy
    files: list[ArchivedFile] = field(default_factory=list)
    tool_versions: dict[str, str] = field(default_factory=dict)  # pg_dump, server
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> "Manifest":
        try:
            data = json.loads(raw)
            if data.get("format") != FORMAT:
                raise BackupCorrupt("This file is not a Clinic Portal backup.")
            if data.get("format_version") != FORMAT_VERSION:
                raise BackupRefused(
                    f"This backup has format version {data.get('format_version')}; this version "
                    f"of the portal reads version {FORMAT_VERSION}."
                )
            data["files"] = [ArchivedFile(**f) for f in data["files"]]
            return cls(**data)
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise BackupCorrupt(f"The backup's manifest cannot be read ({error}).") from None

    def file(self, name: str) -> ArchivedFile | None:
        return next((f for f in self.files if f.name == name), None)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_archive(target: Path, manifest: Manifest, files: dict[str, Path]) -> None:
    """Write ``files`` (archive name -> local path) and their checksums to ``target``."""
    manifest.files = [
        ArchivedFile(name=name, sha256=sha256_of(path), bytes=path.stat().st_size)
        for name, path in files.items()
    ]
    partial = target.with_name(f".{target.name}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        # Level 6: nearly the size of 9 at about half the CPU time (a 191 MB SQLite file).
        with (
            os.fdopen(descriptor, "wb") as raw,
            tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar,
        ):
            data = manifest.to_json()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
            tar.addfile(info, io.BytesIO(data))
            for name, path in files.items():
                info = tar.gettarinfo(str(path), arcname=name)
                info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
                with path.open("rb") as handle:
                    tar.addfile(info, handle)
            tar.close()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def read_manifest(source: Path) -> Manifest:
    """Only the manifest (the first member), for a quick look before any work."""
    with _open(source) as tar:
        try:
            member = tar.next()
            if member is None or member.name != MANIFEST or not member.isfile():
                raise BackupCorrupt("This file is not a Clinic Portal backup (no manifest first).")
            return Manifest.from_json(_member_file(tar, member).read())
        except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
            raise BackupCorrupt(f"The backup file is damaged ({error}).") from None


def extract_verified(source: Path, into: Path) -> Manifest:
    """Unpack every file the manifest lists into ``into``, checking size and SHA-256 of each.

    Anything the manifest does not list, a path that escapes ``into``, or a checksum that does
    not match refuses the whole backup.
    """
    manifest = read_manifest(source)
    expected = {f.name: f for f in manifest.files}
    seen: set[str] = set()
    with _open(source) as tar:
        try:
            for member in tar:
                if member.name == MANIFEST:
                    continue
                listed = expected.get(member.name)
                if listed is None or not member.isfile() or not _safe_name(member.name):
                    raise BackupCorrupt(f"The backup holds a file it does not list: {member.name}")
                _copy_checked(_member_file(tar, member), into / member.name, listed)
                seen.add(member.name)
        except (tarfile.TarError, EOFError, zlib.error) as error:
            raise BackupCorrupt(f"The backup file is damaged ({error}).") from None
    missing = sorted(set(expected) - seen)
    if missing:
        raise BackupCorrupt(f"The backup is incomplete: {', '.join(missing)} missing.")
    return manifest


def _open(source: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(source, mode="r:gz")
    except FileNotFoundError:
        raise BackupRefused(f"There is no file at {source}.") from None
    except (tarfile.TarError, EOFError, zlib.error) as error:
        raise BackupCorrupt(f"{source} is not a readable backup file ({error}).") from None


def _safe_name(name: str) -> bool:
    parts = Path(name).parts
    return bool(parts) and not Path(name).is_absolute() and ".." not in parts


def _member_file(tar: tarfile.TarFile, member: tarfile.TarInfo) -> IO[bytes]:
    # extractfile gives None only for members that are not regular files; callers checked isfile().
    handle = tar.extractfile(member)
    if handle is None:
        raise BackupCorrupt(f"The backup holds something that is not a file: {member.name}")
    return handle


def _copy_checked(handle: IO[bytes], target: Path, listed: ArchivedFile) -> None:
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    digest = hashlib.sha256()
    size = 0
    with target.open("wb") as out:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    target.chmod(0o600)
    if size != listed.bytes or digest.hexdigest() != listed.sha256:
        raise BackupCorrupt(
            f"The backup is damaged or was altered: {listed.name} does not match its checksum."
        )
