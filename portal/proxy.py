"""The reverse proxy in front of the portal: a Caddyfile for Caddy 2 (Debian's package).

One template serves two uses: a clinic's real domain (Caddy gets and renews the certificate by
itself, ACME) and a test/loopback mode that signs with Caddy's own internal CA (``tls internal``)
on ports of our choosing, with no admin endpoint, no port 80 and no change to the system's trust
store. deploy/Caddyfile is this template rendered for an example domain (a test keeps them equal).

Caddy terminates HTTPS, sets the security headers and spreads browser tabs over the Streamlit
replicas. Streamlit keeps one websocket per tab with its session state in that process, so a tab
must stay on one replica: ``lb_policy cookie`` pins a browser to the replica that served it first
(an HMAC of the upstream in a cookie); when that replica fails its health check, the browser is
sent to a live one and gets a new cookie.
"""

from dataclasses import dataclass
from pathlib import Path

from portal.browser_scripts import COOKIE_WRITER, csp_hash

# Everything comes from the portal itself; the websocket goes to the same origin ('self' covers
# wss: since CSP level 3). Styles are injected at run time (Emotion): 'unsafe-inline' for styles.
# Scripts: the portal's pages run Streamlit's bundle, the one inline line of its index.html
# (window.prerenderReady = false, Streamlit 1.67) and the portal's constant login-cookie writer
# (portal/browser_scripts.py), each allowed by its hash; no other inline script runs. A later
# Streamlit with another index.html line only logs a refused script, nothing breaks. No
# 'unsafe-eval': charts (Vega) and every page were checked in Chromium without it.
_CSP_REST = (
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; "
    "font-src 'self' data:; "
    "connect-src 'self'; "
    "worker-src 'self' blob:; "
    "frame-src 'self'; "
    "object-src 'none'; "
    "base-uri 'self'; "
    "form-action 'self'"
)
# No other site may frame the portal (clickjacking).
STREAMLIT_INLINE_SCRIPT_HASH = "'sha256-THxz9J9+wf7rhwR2YkXJoSZ13UCmYyC+3lNDv2+8ugA='"
SCRIPT_SRC = f"'self' {STREAMLIT_INLINE_SCRIPT_HASH} {csp_hash(COOKIE_WRITER)}"
CSP_PAGE = f"default-src 'self'; script-src {SCRIPT_SRC}; {_CSP_REST}; frame-ancestors 'none'"
# Streamlit's custom components (none in use today; streamlit-authenticator's cookie component
# is stood down) are pages of the portal framed by the portal: those, and only those, may be
# framed by the same origin.
CSP_COMPONENT = (
    f"default-src 'self'; script-src 'self' 'unsafe-inline'; {_CSP_REST}; frame-ancestors 'self'"
)
COMPONENT_PATH = "/component/*"
HSTS = "max-age=31536000; includeSubDomains"
STICKY_COOKIE = "portal_replica"
HEALTH_PATH = "/_stcore/health"


@dataclass(frozen=True)
class ProxyConfig:
    """What varies between a clinic's server and a test run."""

    site: str  # "portal.example-clinic.org", or "https://127.0.0.1:8443" for a loopback test
    upstreams: tuple[str, ...]  # "127.0.0.1:8501", ...
    internal_ca: bool = False  # tls internal: Caddy's own CA (tests, a LAN without a domain)
    storage_dir: Path | None = None  # certificates and keys; Caddy's default data dir if None
    https_port: int | None = None  # None: 443
    http_port: int | None = None  # None: 80 (ACME's HTTP challenge and the redirect to HTTPS)
    admin: str | None = None  # Caddy's admin API address; None turns it off
    email: str | None = None  # ACME account e-mail (certificate expiry notices)
    health_interval: str = "2s"
    bind: str = "127.0.0.1"  # listen address in internal-CA mode (a real domain: all)


def _global_options(config: ProxyConfig) -> list[str]:
    lines = ["{"]
    lines.append(f"\tadmin {config.admin}" if config.admin else "\tadmin off")
    if config.email:
        lines.append(f"\temail {config.email}")
    if config.http_port:
        lines.append(f"\thttp_port {config.http_port}")
    if config.https_port:
        lines.append(f"\thttps_port {config.https_port}")
    if config.storage_dir:
        lines.append(f"\tstorage file_system {config.storage_dir}")
    if config.internal_ca:
        # A test or LAN: no redirect listener on port 80, and never touch the system trust store.
        lines.append("\tauto_https disable_redirects")
        lines.append("\tskip_install_trust")
    lines.append("}")
    return lines


def caddyfile(config: ProxyConfig) -> str:
    """The Caddyfile for this set-up (Caddy 2.6 syntax)."""
    upstreams = " ".join(config.upstreams)
    lines = _global_options(config)
    lines += [
        "",
        f"{config.site} {{",
    ]
    if config.internal_ca:
        lines.append("\ttls internal")
        # A test or LAN set-up listens on loopback only, never on every interface.
        lines.append(f"\tbind {config.bind}")
    lines += [
        "\t@page not path " + COMPONENT_PATH,
        f'\theader @page Content-Security-Policy "{CSP_PAGE}"',
        "\theader @page X-Frame-Options DENY",
        "\t@component path " + COMPONENT_PATH,
        f'\theader @component Content-Security-Policy "{CSP_COMPONENT}"',
        "\theader @component X-Frame-Options SAMEORIGIN",
        "\theader {",
        f'\t\tStrict-Transport-Security "{HSTS}"',
        "\t\tX-Content-Type-Options nosniff",
        "\t\tReferrer-Policy no-referrer",
        "\t\t-Server",
        "\t}",
        # Websockets pass through reverse_proxy as they are (Upgrade is handled by Caddy).
        f"\treverse_proxy {upstreams} {{",
        f"\t\tlb_policy cookie {STICKY_COOKIE}",
        # A dead replica: retry the request on another for a few seconds instead of failing it.
        "\t\tlb_try_duration 5s",
        f"\t\thealth_uri {HEALTH_PATH}",
        f"\t\thealth_interval {config.health_interval}",
        "\t\thealth_timeout 2s",
        "\t\tfail_duration 30s",
        "\t}",
        "}",
    ]
    return "\n".join(lines) + "\n"


def example_config() -> ProxyConfig:
    """What deploy/Caddyfile shows: a real domain, three replicas on the same machine."""
    return ProxyConfig(
        site="portal.example-clinic.org",
        upstreams=("127.0.0.1:8501", "127.0.0.1:8502", "127.0.0.1:8503"),
        email="it@example-clinic.org",
    )
