"""The one script of the portal's own that runs in the browser, and its CSP hash.

The login cookie is carried in a ``data-portal-cookie`` attribute beside this constant script
(components/browser_cookie.py), so the script's text never changes and the proxy's
Content-Security-Policy can allow exactly it by hash (portal/proxy.py) instead of allowing every
inline script."""

import base64
import hashlib

COOKIE_WRITER = (
    'document.querySelectorAll("[data-portal-cookie]").forEach(function (e) {'
    ' document.cookie = e.getAttribute("data-portal-cookie")'
    ' + (location.protocol === "https:" ? "; Secure" : "");'
    ' e.removeAttribute("data-portal-cookie"); });'
)


def csp_hash(script: str) -> str:
    """The CSP source expression that allows exactly this inline script."""
    digest = hashlib.sha256(script.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"
