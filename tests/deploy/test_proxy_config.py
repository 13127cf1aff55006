"""The Caddy configuration: the security headers, sticky sessions and health checks it promises,
checked by Caddy itself (``caddy adapt``) where it is installed."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from portal.config import PROJECT_ROOT
from portal.proxy import CSP_COMPONENT, CSP_PAGE, ProxyConfig, caddyfile, example_config
from portal.serve import ServeError, check_database_for_replicas, replica_database_url


def _adapt(text: str, tmp_path: Path) -> dict:
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip("Caddy is not installed (apt-get install caddy).")
    path = tmp_path / "Caddyfile"
    path.write_text(text)
    done = subprocess.run(
        [caddy, "adapt", "--config", str(path), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        check=False,
        env={"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _route_handlers(config: dict) -> list[dict]:
    server = next(iter(config["apps"]["http"]["servers"].values()))
    found = []

    def walk(node):
        if isinstance(node, dict):
            if "handler" in node:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(server["routes"])
    return found


def test_deploy_caddyfile_is_the_rendered_template():
    committed = (PROJECT_ROOT / "deploy" / "Caddyfile").read_text()
    body = "".join(line for line in committed.splitlines(True) if not line.startswith("#"))
    assert body == caddyfile(example_config())


def test_pages_may_not_be_framed_but_the_portals_own_components_may():
    assert "frame-ancestors 'none'" in CSP_PAGE
    assert "frame-ancestors 'self'" in CSP_COMPONENT
    assert "'self'" in CSP_PAGE.split("connect-src")[1].split(";")[0]
    # Checked in Chromium: charts draw without eval, so it stays out.
    assert "unsafe-eval" not in CSP_PAGE and "unsafe-eval" not in CSP_COMPONENT


def test_caddy_accepts_the_domain_config_with_every_header(tmp_path):
    config = _adapt(caddyfile(example_config()), tmp_path)
    handlers = _route_handlers(config)
    headers = {}
    for handler in handlers:
        if handler["handler"] == "headers":
            headers.update(handler["response"].get("set", {}))
    assert headers["Strict-Transport-Security"] == ["max-age=31536000; includeSubDomains"]
    assert headers["X-Content-Type-Options"] == ["nosniff"]
    assert headers["Referrer-Policy"] == ["no-referrer"]
    assert "Content-Security-Policy" in headers
    proxy = next(h for h in handlers if h["handler"] == "reverse_proxy")
    assert [u["dial"] for u in proxy["upstreams"]] == list(example_config().upstreams)
    assert proxy["load_balancing"]["selection_policy"]["policy"] == "cookie"
    assert proxy["health_checks"]["active"]["uri"] == "/_stcore/health"
    # A real domain: automatic HTTPS, so no internal issuer and no disabled redirects.
    assert "tls" not in config["apps"] or "internal" not in json.dumps(config["apps"]["tls"])


def test_the_test_mode_uses_the_internal_ca_on_loopback_without_touching_the_system(tmp_path):
    config = ProxyConfig(
        site="https://127.0.0.1:18443",
        upstreams=("127.0.0.1:18501", "127.0.0.1:18502"),
        internal_ca=True,
        storage_dir=tmp_path / "caddy",
        https_port=18443,
        http_port=18080,
    )
    adapted = _adapt(caddyfile(config), tmp_path)
    http = adapted["apps"]["http"]
    assert http["https_port"] == 18443 and http["http_port"] == 18080
    assert "admin" in adapted and adapted["admin"]["disabled"] is True
    assert adapted["storage"]["root"] == str(tmp_path / "caddy")
    assert adapted["apps"]["pki"]["certificate_authorities"]["local"]["install_trust"] is False
    assert "internal" in json.dumps(adapted["apps"]["tls"])


def test_more_than_one_replica_needs_postgresql():
    with pytest.raises(ServeError, match="PostgreSQL"):
        check_database_for_replicas("sqlite:///var/portal.db", 2)
    check_database_for_replicas("sqlite:///var/portal.db", 1)
    check_database_for_replicas("postgresql+psycopg://u@h/db", 4)
    with pytest.raises(ServeError):
        check_database_for_replicas("postgresql+psycopg://u@h/db", 0)


def test_each_replica_names_its_postgresql_connections_and_sqlite_is_left_alone():
    url = "postgresql+psycopg://portal@127.0.0.1:5432/portal?options=-csearch_path%3Ds"
    named = make_url(replica_database_url(url, 8502))
    assert named.query["application_name"] == "clinic-portal-8502"
    assert named.query["options"] == "-csearch_path=s"
    assert replica_database_url("sqlite:///var/portal.db", 8501) == "sqlite:///var/portal.db"
