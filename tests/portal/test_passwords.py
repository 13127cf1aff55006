"""Password hashing (portal/passwords.py): the cost of new hashes, and the 72-byte limit."""

import bcrypt
import pytest

from portal import passwords


def test_new_hashes_use_the_production_cost_outside_the_test_suite():
    assert passwords.PRODUCTION_ROUNDS == 12
    stored = passwords.hash_password("correct horse", rounds=passwords.PRODUCTION_ROUNDS)
    assert stored.startswith("$2b$12$")


def test_the_suite_hashes_at_the_lowest_cost_and_checks_by_the_same_code():
    stored = passwords.hash_password("correct horse")
    assert bcrypt.checkpw(b"correct horse", stored.encode())
    assert stored.startswith("$2b$04$")  # tests/conftest.py lowers the cost
    assert passwords.verify_password("correct horse", stored)
    assert not passwords.verify_password("wrong horse", stored)


def test_a_password_longer_than_bcrypt_reads_is_refused_not_truncated():
    with pytest.raises(ValueError, match="72 bytes"):
        passwords.hash_password("x" * 73)
    assert not passwords.verify_password("x" * 73, passwords.hash_password("x" * 72))
