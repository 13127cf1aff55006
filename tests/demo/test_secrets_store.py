"""Secrets kept in the state folder: created once, private, the same for racing processes."""

import stat
from concurrent.futures import ProcessPoolExecutor

import pytest

from portal.secrets_store import SecretStoreError, get_or_create_secret, secret_path


def test_secret_is_created_once_and_returned_again(tmp_path):
    first = get_or_create_secret("cookie_key", state_dir=tmp_path)
    assert len(first) >= 40  # 32 random bytes, url-safe base64
    assert get_or_create_secret("cookie_key", state_dir=tmp_path) == first
    assert get_or_create_secret("other", state_dir=tmp_path) != first


def test_secret_file_is_readable_only_by_its_owner(tmp_path):
    get_or_create_secret("cookie_key", state_dir=tmp_path)
    path = secret_path("cookie_key", state_dir=tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_processes_starting_together_agree_on_one_value(tmp_path):
    with ProcessPoolExecutor(max_workers=6) as pool:
        values = list(pool.map(_secret_in, [tmp_path] * 12))
    assert len(set(values)) == 1


def _secret_in(state_dir) -> str:
    return get_or_create_secret("shared", state_dir=state_dir)


def test_secret_names_cannot_leave_the_state_folder(tmp_path):
    with pytest.raises(ValueError):
        get_or_create_secret("../escape", state_dir=tmp_path)


def test_an_emptied_secret_file_is_reported_not_used(tmp_path):
    get_or_create_secret("cookie_key", state_dir=tmp_path)
    secret_path("cookie_key", state_dir=tmp_path).write_text("")
    with pytest.raises(SecretStoreError, match="empty"):
        get_or_create_secret("cookie_key", state_dir=tmp_path)
