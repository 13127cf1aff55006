"""A small client of Streamlit's browser protocol: real script runs without a browser.

It speaks what Streamlit's own frontend speaks on ``/_stcore/stream``: protobuf ``BackMsg``
(rerun the script with these widget values, on this page) up, ``ForwardMsg`` (elements, the page
list, "script finished") down. Only Streamlit's message classes are used, never its UI API, so
the server does exactly the work a browser's click costs it, including what Streamlit does after
a run. Used to warm up a replica after start (its first run starts the scheduler and imports
every page) and by the load bench (bench/load.py).

What it does not do is run JavaScript: custom components (the login cookie writer) never report
back, so a session stays signed in through its websocket only, as a browser tab does.
"""

import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

FINISHED = ForwardMsg.ScriptFinishedStatus
# Fields of Element that are widgets with an id and a label we can fill in.
_WIDGETS = ("text_input", "text_area", "button", "selectbox", "radio", "checkbox")


class RunFailed(Exception):
    """The script run ended with an exception on the page, or did not end in time."""


@dataclass
class Widget:
    kind: str
    id: str
    label: str
    form_id: str = ""
    options: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    seconds: float
    widgets: list[Widget]
    texts: list[str]  # headings, markdown and text, for checks such as "signed in"
    exceptions: list[str]
    charts: int


@dataclass
class StreamSession:
    """One browser tab: one websocket, one Streamlit session on one replica."""

    url: str  # http(s)://host:port of the portal or the proxy
    verify_tls: bool = True
    cookies: dict[str, str] = field(default_factory=dict)
    timeout: float = 120.0
    pages: dict[str, str] = field(default_factory=dict)  # title -> page_script_hash
    current_page: str = ""
    _ws: ClientConnection | None = None

    def open(self) -> "StreamSession":
        parts = urlsplit(self.url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        context = None
        if scheme == "wss":
            context = ssl.create_default_context()
            if not self.verify_tls:  # loopback with Caddy's internal CA
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self._ws = connect(
            f"{scheme}://{parts.netloc}/_stcore/stream",
            subprotocols=[Subprotocol("streamlit")],
            additional_headers=headers,
            ssl=context,
            max_size=None,
            open_timeout=self.timeout,
            legacy=True,  # a plain connection object, closed by close()
        )
        return self

    def _socket(self) -> ClientConnection:
        if self._ws is None:
            raise RunFailed("the session is not open (call open() first)")
        return self._ws

    def close(self) -> None:
        if self._ws is not None:
            self._ws.close()
            self._ws = None

    def run(self, values: dict[str, object] | None = None, *, page: str | None = None) -> RunResult:
        """Rerun the script (on ``page``, a title from the page list) with widget ``values``
        keyed by widget id: str for text, True for a button's click. Waits for the run's end."""
        if page is not None:
            self.current_page = self.pages[page]
        message = BackMsg()
        state = message.rerun_script
        state.query_string = ""
        state.page_script_hash = self.current_page
        for widget_id, value in (values or {}).items():
            state.widget_states.widgets.append(_widget_state(widget_id, value))
        started = time.perf_counter()
        self._socket().send(message.SerializeToString())
        return self._read_run(started)

    def _read_run(self, started: float) -> RunResult:
        widgets: dict[str, Widget] = {}
        texts: list[str] = []
        exceptions: list[str] = []
        charts = 0
        deadline = started + self.timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise RunFailed(f"no end of the script run within {self.timeout:.0f} s")
            msg = ForwardMsg()
            msg.ParseFromString(self._socket().recv(timeout=left))
            kind = msg.WhichOneof("type")
            if kind == "navigation":
                self.pages = {p.page_name: p.page_script_hash for p in msg.navigation.app_pages}
                self.current_page = msg.navigation.page_script_hash
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                what = element.WhichOneof("type")
                if what == "exception":
                    exceptions.append(f"{element.exception.type}: {element.exception.message}")
                elif what == "vega_lite_chart":
                    charts += 1
                elif what in ("heading", "markdown", "text"):
                    texts.append(getattr(element, what).body)
                elif what == "alert":
                    texts.append(element.alert.body)
                elif what in _WIDGETS:
                    proto = getattr(element, what)
                    widgets[proto.id] = Widget(
                        kind=what,
                        id=proto.id,
                        label=proto.label,
                        form_id=getattr(proto, "form_id", ""),
                        options=list(getattr(proto, "options", [])),
                    )
            elif kind == "script_finished":
                status = msg.script_finished
                if status == FINISHED.FINISHED_WITH_COMPILE_ERROR:
                    raise RunFailed("the script did not compile")
                if status == FINISHED.FINISHED_SUCCESSFULLY:
                    return RunResult(
                        seconds=time.perf_counter() - started,
                        widgets=list(widgets.values()),
                        texts=texts,
                        exceptions=exceptions,
                        charts=charts,
                    )
                # FINISHED_EARLY_FOR_RERUN: st.rerun() or a newer request; its run follows.


def _widget_state(widget_id: str, value: object) -> WidgetState:
    state = WidgetState(id=widget_id)
    if value is True:
        state.trigger_value = True
    elif isinstance(value, int) and not isinstance(value, bool):
        state.int_value = value
    else:
        state.string_value = str(value)
    return state


def find(result: RunResult, label: str, kind: str | None = None) -> Widget:
    """The widget with this label (and kind) drawn by the run; KeyError names what was there."""
    for widget in result.widgets:
        if widget.label == label and (kind is None or widget.kind == kind):
            return widget
    raise KeyError(f"no {kind or 'widget'} {label!r}; have {[w.label for w in result.widgets]}")


def warm_up(url: str, *, verify_tls: bool = True, timeout: float = 120.0) -> float:
    """One real script run on a freshly started replica; returns its seconds.

    The first run imports the app and starts this process's scheduler (app.py): a replica that
    no browser has reached yet must still be able to take over the periodic jobs.
    """
    session = StreamSession(url, verify_tls=verify_tls, timeout=timeout).open()
    try:
        result = session.run()
    finally:
        session.close()
    if result.exceptions:
        raise RunFailed(f"the first run failed: {result.exceptions[0]}")
    return result.seconds


def main(argv: list[str] | None = None) -> int:
    """``python -m portal.stream_client URL``: warm up a replica (systemd's ExecStartPost)."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m portal.stream_client")
    parser.add_argument("url", help="the replica, e.g. http://127.0.0.1:8501")
    parser.add_argument("--wait", type=float, default=60, help="seconds to wait for it to answer")
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.wait
    while True:
        try:
            seconds = warm_up(args.url)
        except (OSError, RunFailed, WebSocketException) as error:
            if time.monotonic() > deadline:
                print(f"Error: {args.url} did not run the app: {error}", file=sys.stderr)
                return 1
            time.sleep(1)
            continue
        print(f"{args.url}: first run in {seconds:.1f} s")
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
