"""``scripts/serve``: the portal as N Streamlit replicas behind Caddy over HTTPS, on one machine.

    python -m portal.serve --replicas 2                      # https://127.0.0.1:8443, Caddy's CA
    python -m portal.serve --replicas 3 --domain portal.example-clinic.org   # real certificate

Order matters: the database is migrated (and the demo shown) once, by one process, before any
replica starts; replicas never migrate. More than one replica needs PostgreSQL (SQLite's single
writer file is for one process). Every replica gets the same Streamlit cookie secret, so the XSRF
cookie one replica set is valid on the others after a fail-over; the portal's own sign-in lives
in the database (AuthSession), so any replica accepts any signed-in browser.

This runs Caddy and the replicas itself (a development or test stack, and the reference for the
systemd units in docs/DEPLOY.md); it never uses a system service. Ctrl-C stops everything.
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import httpx
from sqlalchemy.engine import make_url

from portal.config import PROJECT_ROOT, get_settings
from portal.proxy import HEALTH_PATH, ProxyConfig, caddyfile
from portal.secrets_store import get_or_create_secret
from portal.stream_client import warm_up

STREAMLIT_SECRET_NAME = "streamlit_cookie_secret"  # noqa: S105 - a file name, not a secret
START_TIMEOUT_SECONDS = 90


class ServeError(Exception):
    """A reason the stack cannot start, in one plain sentence."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def check_database_for_replicas(database_url: str, replicas: int) -> None:
    """Several replicas share one database server; SQLite is one file with one writer."""
    if replicas < 1:
        raise ServeError("--replicas must be at least 1.")
    if replicas > 1 and make_url(database_url).get_backend_name() != "postgresql":
        raise ServeError(
            "More than one replica needs PostgreSQL: set DATABASE_URL to "
            "postgresql+psycopg://user@host/db (SQLite serves one process)."
        )


def find_caddy() -> str:
    path = shutil.which("caddy")
    if path is None:
        raise ServeError("Caddy is not installed: apt-get install caddy (Debian's package).")
    return path


@dataclass
class Replica:
    port: int
    process: subprocess.Popen[bytes]
    reported_stopped: bool = False

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.process.poll() is None


@dataclass
class Stack:
    """The running processes; ``stop()`` ends them (also on any failure while starting)."""

    url: str
    caddy: subprocess.Popen[bytes] | None = None
    replicas: list[Replica] = field(default_factory=list)

    def stop(self) -> None:
        procs = [r.process for r in self.replicas] + ([self.caddy] if self.caddy else [])
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@dataclass(frozen=True)
class StackOptions:
    replicas: int = 1
    domain: str | None = None  # None: loopback with Caddy's internal CA
    https_port: int = 8443
    http_port: int | None = None  # None: a free loopback port (internal CA) or 80 (domain)
    first_port: int | None = None  # None: free ports
    state_dir: Path | None = None  # default: the settings' state folder
    log_dir: Path | None = None  # None: replicas and Caddy write to this terminal
    env: dict[str, str] = field(default_factory=dict)  # extra environment for every process
    prepare_args: tuple[str, ...] = ()  # e.g. ("--demo",)


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], *, verify: bool | str = True) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServeError(f"A process stopped while starting ({url}); see its log.")
        try:
            if httpx.get(url, timeout=2, verify=verify).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise ServeError(f"{url} did not answer within {START_TIMEOUT_SECONDS} s.")


def _output(log_dir: Path | None, name: str) -> BinaryIO | None:
    if log_dir is None:
        return None
    log_dir.mkdir(parents=True, exist_ok=True)
    return (log_dir / f"{name}.log").open("ab")


def start_stack(options: StackOptions) -> Stack:
    """Migrate once, start the replicas, then Caddy in front of them; wait until all answer."""
    # Caddy is in front: the client's address is the last X-Forwarded-For entry (sign-in
    # throttling per device), not Caddy's loopback address shared by everyone.
    env = {**os.environ, "TRUST_PROXY_HEADERS": "true", **options.env}
    settings = get_settings()
    database_url = options.env.get("DATABASE_URL") or settings.database_url
    check_database_for_replicas(database_url, options.replicas)
    caddy_bin = find_caddy()
    state_dir = Path(options.state_dir or options.env.get("STATE_DIR") or settings.state_dir)
    # The one migration, by this one process, before any replica exists.
    subprocess.run(  # noqa: S603 - our own interpreter and module, fixed arguments
        [sys.executable, "-m", "portal.cli", "prepare", *options.prepare_args],
        env=env,
        cwd=PROJECT_ROOT,
        check=True,
    )
    env["STREAMLIT_SERVER_COOKIE_SECRET"] = get_or_create_secret(
        STREAMLIT_SECRET_NAME, state_dir=state_dir
    )
    site = options.domain or f"https://127.0.0.1:{options.https_port}"
    if options.domain:
        shown_port = "" if options.https_port == 443 else f":{options.https_port}"
        stack = Stack(url=f"https://{options.domain}{shown_port}")
    else:
        stack = Stack(url=site)
    try:
        for index in range(options.replicas):
            port = options.first_port + index if options.first_port else free_port()
            stack.replicas.append(
                Replica(port=port, process=_start_replica(port, env, options.log_dir, index))
            )
        for replica in stack.replicas:
            _wait_healthy(f"http://{replica.address}{HEALTH_PATH}", replica.process)
            # One real script run: starts the replica's scheduler (so it can take over the
            # periodic jobs before any browser reached it) and makes its first page fast.
            warm_up(f"http://{replica.address}")
        caddy_dir = state_dir / "caddy"
        config = ProxyConfig(
            site=site,
            upstreams=tuple(r.address for r in stack.replicas),
            internal_ca=options.domain is None,
            storage_dir=caddy_dir / "data",
            https_port=options.https_port,
            http_port=options.http_port or (None if options.domain else free_port()),
        )
        stack.caddy = _start_caddy(caddy_bin, config, caddy_dir, options.log_dir)
        if options.domain:
            # The certificate comes from ACME in the background; the name may not resolve
            # here. Caddy refusing its configuration shows as its exit.
            time.sleep(2)
            if stack.caddy.poll() is not None:
                raise ServeError("Caddy stopped at start; see its output.")
        else:
            _wait_healthy(f"{stack.url}{HEALTH_PATH}", stack.caddy, verify=False)
    except BaseException:
        stack.stop()
        raise
    return stack


def replica_name(port: int) -> str:
    return f"clinic-portal-{port}"


def replica_database_url(database_url: str, port: int) -> str:
    """On PostgreSQL each replica names its connections (application_name in pg_stat_activity),
    so an operator sees which replica holds what, the scheduler's leader lock included."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return database_url
    named = url.update_query_dict({"application_name": replica_name(port)})
    return named.render_as_string(hide_password=False)


def _start_replica(
    port: int, env: dict[str, str], log_dir: Path | None, index: int
) -> subprocess.Popen[bytes]:
    database_url = env.get("DATABASE_URL") or get_settings().database_url
    env = {**env, "DATABASE_URL": replica_database_url(database_url, port)}
    # The launcher: app.py as the only entry, even for the first deep link (components/launcher).
    command = [sys.executable, "-m", "components.launcher"]
    command += ["--server.port", str(port), "--server.address", "127.0.0.1"]
    # A replica serves the code it started with; upgrades restart replicas (docs/DEPLOY.md).
    command += ["--server.fileWatcherType", "none"]
    out = _output(log_dir, f"replica-{index + 1}")
    # Its own session, as a systemd unit of its own would be: the kernel shares CPU between
    # sessions (autogroups), so replicas in one session would split one share. Ctrl-C reaches
    # this supervisor only, which stops them (Stack.stop).
    return subprocess.Popen(  # noqa: S603 - fixed commands: streamlit, caddy
        command,
        env=env,
        cwd=PROJECT_ROOT,
        stdout=out,
        stderr=subprocess.STDOUT if out else None,
        start_new_session=True,
    )


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _start_caddy(
    caddy_bin: str, config: ProxyConfig, caddy_dir: Path, log_dir: Path | None
) -> subprocess.Popen[bytes]:
    # Another server on the port would answer our health check in Caddy's place.
    for port in (config.https_port, config.http_port):
        if port and not port_free(port):
            raise ServeError(f"Port {port} is in use; choose another with --https-port.")
    caddy_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = caddy_dir / "Caddyfile"
    path.write_text(caddyfile(config))
    # Caddy keeps its autosave and any state under XDG folders: ours, never the system's.
    env = {
        **os.environ,
        "XDG_DATA_HOME": str(caddy_dir / "data"),
        "XDG_CONFIG_HOME": str(caddy_dir / "config"),
        "HOME": str(caddy_dir),
    }
    out = _output(log_dir, "caddy")
    return subprocess.Popen(  # noqa: S603 - fixed commands: streamlit, caddy
        [caddy_bin, "run", "--config", str(path), "--adapter", "caddyfile"],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT if out else None,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scripts/serve", description=__doc__.split("\n")[0])
    parser.add_argument("--replicas", type=int, default=1, help="Streamlit processes (default 1)")
    parser.add_argument(
        "--domain", help="the portal's public name: Caddy gets a real certificate for it (ACME)"
    )
    parser.add_argument(
        "--https-port", type=int, help="default 443 with --domain (as root), else 8443"
    )
    parser.add_argument("--first-port", type=int, default=8501, help="replicas listen from here")
    parser.add_argument("--log-dir", type=Path, help="write each process's output to a file here")
    return parser


def _stop_on_sigterm(*_args: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    options = StackOptions(
        replicas=args.replicas,
        domain=args.domain,
        https_port=args.https_port or (443 if args.domain else 8443),
        first_port=args.first_port,
        log_dir=args.log_dir,
    )
    try:
        stack = start_stack(options)
    except ServeError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError:
        print("Error: preparing the database failed (see above).", file=sys.stderr)
        return 1
    print(f"The portal is up at {stack.url} ({len(stack.replicas)} replica(s)). Ctrl-C stops it.")
    if not args.domain:
        print("Its certificate comes from Caddy's own test CA: the browser will warn about it.")
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        while stack.caddy is not None and stack.caddy.poll() is None:
            for replica in stack.replicas:
                if not replica.alive() and not replica.reported_stopped:
                    replica.reported_stopped = True
                    print(f"Warning: the replica on port {replica.port} stopped.", file=sys.stderr)
            time.sleep(1)
        print("Error: Caddy stopped.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    raise SystemExit(main())
