"""The login cookie is Secure behind HTTPS: the proxy's X-Forwarded-Proto decides unless
COOKIE_SECURE says otherwise."""

import pytest

from portal.services.sessions import cookie_secure


@pytest.mark.parametrize(
    ("forwarded", "url", "expected"),
    [
        ("https", "http://127.0.0.1:8501/", True),  # Caddy terminated TLS in front of us
        ("HTTPS, http", None, True),  # a chain of proxies: the browser's scheme comes first
        ("http", "https://portal.example/", False),  # the proxy's word beats our own view
        (None, "https://portal.example/", True),
        (None, "http://127.0.0.1:8501/", False),  # scripts/start on loopback, plain HTTP
        (None, None, False),
    ],
)
def test_cookie_is_secure_when_the_browser_used_https(forwarded, url, expected):
    assert cookie_secure(None, forwarded_proto=forwarded, url=url) is expected


def test_the_setting_wins_over_what_the_request_says():
    assert cookie_secure(True, forwarded_proto="http", url="http://x/") is True
    assert cookie_secure(False, forwarded_proto="https", url="https://x/") is False
