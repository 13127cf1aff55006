"""Fixtures for the security tests: settings a test app needs, and a signed-in gate harness."""

import pytest

from portal.config import get_settings

TEST_COOKIE_KEY = "k" * 16 + "test-cookie-key-0123456789abcdef"


@pytest.fixture
def app_settings(monkeypatch, engine):
    """Env for AppTest runs: a 32+ byte cookie key, no login pause, the test database."""
    monkeypatch.setenv("COOKIE_KEY", TEST_COOKIE_KEY)
    monkeypatch.setenv("LOGIN_SLEEP_SECONDS", "0")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()
