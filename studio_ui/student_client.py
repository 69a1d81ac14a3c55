"""A simulated student: Streamlit's own websocket protocol, without a browser.

A browser tab talks to a Streamlit server over one websocket (``/_stcore/stream``):
it sends ``BackMsg`` protobufs (``rerun_script`` with the page and the widget values)
and receives ``ForwardMsg`` protobufs (``new_session``, ``delta`` elements, ``script_finished``).
``StudentClient`` does the same with ``streamlit.proto``, so that a benchmark or a test
loads the server and not 30 browsers. It keeps what a student would see: the buttons by
their widget key (with their labels), the metrics by label, error and exception texts.

Widgets the client does not send keep their previous values on the server (as in a
browser, only a pressed button or a changed widget is new in a rerun), so pressing a
button is one ``rerun_script`` with that button's trigger.

>>> with StudentClient("127.0.0.1:8501", page="train") as student:
...     student.wait_for(lambda s: "train_play_pause" in s.buttons, timeout=30)
...     student.press("train_play_pause")
...     student.metric("Episodes")           # '1,234'
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

STREAM_PATH = "/_stcore/stream"
MAX_MESSAGE_BYTES = 64 * 2**20  # a page's biggest ForwardMsg (a chart's JSON) is far smaller


def widget_key(widget_id: str) -> str:
    """The user key in a Streamlit widget id (``$$ID-<hash>-<key>``), else the id itself."""
    parts = widget_id.split("-", 2)
    return parts[2] if len(parts) == 3 and parts[0] == "$$ID" else widget_id


class StudentClient:
    """One browser session, spoken over Streamlit's websocket protocol.

    Args:
        address: ``host:port`` of the server (or of a proxy in front of it).
        page: the page's URL path ("" for the default page).
        query_string: the URL's query string without "?" (what ``st.query_params`` reads).
        cookie: a ``Cookie`` header to send (a reload sends the cookies a proxy set).
        open_timeout: seconds to wait for the websocket to open.
    Attributes (updated by a receiver thread; read them under ``condition``):
        buttons: widget key -> (widget id, label) of every button drawn so far; a button
            without a key is found as ``"label:<its label>"``.
        metrics: label -> shown value of every ``st.metric``.
        errors: texts of ``st.error`` boxes and exceptions drawn.
        notices: texts of the other message boxes drawn (``st.info``, ``st.warning``,
            ``st.success``), in order (a place in line for a trainer is one).
        runs_finished: count of ``script_finished`` messages.
        session_id: the server's id for this session (``new_session``).
        query_string: the URL's query string as the page last set it (a reload sends it).
        cookie: the cookies set on the websocket's handshake (else the ones sent).
        closed: the connection has ended.
    """

    def __init__(
        self,
        address: str,
        page: str = "",
        query_string: str = "",
        cookie: str = "",
        open_timeout: float = 20.0,
    ):
        self.address, self.page, self.query_string = address, page, query_string
        self.condition = threading.Condition()
        self.buttons: dict[str, tuple[str, str]] = {}
        self.metrics: dict[str, str] = {}
        self.errors: list[str] = []
        self.notices: list[str] = []
        self.runs_finished = 0
        self.messages = 0
        self.session_id: str | None = None
        self.closed = False
        socket = connect(
            f"ws://{address}{STREAM_PATH}",
            subprotocols=["streamlit"],
            additional_headers={"Cookie": cookie} if cookie else None,
            open_timeout=open_timeout,
            max_size=MAX_MESSAGE_BYTES,
        )
        self._exit = ExitStack()  # websockets >= 16 wants the connection used as a context
        self._socket = self._exit.enter_context(socket)
        # what a browser would keep: the cookie it came with, or the one a proxy set
        set_cookies = self._socket.response.headers.get_all("Set-Cookie")
        self.cookie = "; ".join(c.split(";", 1)[0] for c in set_cookies) or cookie
        self._receiver = threading.Thread(target=self._receive, daemon=True)
        self._receiver.start()
        self.rerun()  # what a browser sends once the socket is open: run the page

    # ----- sending -------------------------------------------------------------------
    def rerun(self, widget_states: list[dict[str, Any]] | None = None) -> None:
        """Send ``rerun_script`` for the page, with the given widget states (dicts of
        ``WidgetState`` fields, e.g. ``{"id": ..., "trigger_value": True}``)."""
        message = BackMsg()
        state = message.rerun_script
        state.query_string = self.query_string
        state.page_name = self.page
        for values in widget_states or []:
            widget = state.widget_states.widgets.add()
            for name, value in values.items():
                setattr(widget, name, value)
        self._socket.send(message.SerializeToString())

    def press(self, key: str) -> None:
        """Press the button whose widget key is ``key`` (KeyError if it was never drawn)."""
        with self.condition:
            widget_id = self.buttons[key][0]
        self.rerun([{"id": widget_id, "trigger_value": True}])

    def close(self) -> None:
        """Close the websocket, as a closed tab does."""
        try:
            self._exit.close()
        finally:
            self._receiver.join(timeout=10)

    # ----- reading --------------------------------------------------------------------
    def label(self, key: str) -> str | None:
        with self.condition:
            button = self.buttons.get(key)
            return None if button is None else button[1]

    def metric(self, label: str) -> str | None:
        with self.condition:
            return self.metrics.get(label)

    def count(self, label: str) -> int | None:
        """A metric shown as a whole number ("1,234" -> 1234), None when absent."""
        text = self.metric(label)
        try:
            return None if text is None else int(text.replace(",", ""))
        except ValueError:
            return None

    def wait_for(self, predicate: Callable[[StudentClient], bool], timeout: float) -> bool:
        """Wait until ``predicate(self)`` holds (True) or ``timeout`` seconds pass (False)."""
        with self.condition:
            return self.condition.wait_for(lambda: predicate(self) or self.closed, timeout)

    def _receive(self) -> None:
        try:
            for data in self._socket:
                message = ForwardMsg()
                message.ParseFromString(data)
                with self.condition:
                    self._read(message)
                    self.messages += 1
                    self.condition.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self.condition:
                self.closed = True
                self.condition.notify_all()

    def _read(self, message: ForwardMsg) -> None:
        kind = message.WhichOneof("type")
        if kind == "new_session":
            self.session_id = message.new_session.initialize.session_id or self.session_id
        elif kind == "page_info_changed":  # st.query_params changed the URL
            self.query_string = message.page_info_changed.query_string
        elif kind == "script_finished":
            self.runs_finished += 1
        elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            element = message.delta.new_element
            what = element.WhichOneof("type")
            if what == "button":
                button = element.button
                self.buttons[widget_key(button.id)] = (button.id, button.label)
                self.buttons.setdefault(f"label:{button.label}", (button.id, button.label))
            elif what == "metric":
                self.metrics[element.metric.label] = element.metric.body
            elif what == "alert" and element.alert.format == element.alert.ERROR:
                self.errors.append(element.alert.body)
            elif what == "alert":
                self.notices.append(element.alert.body)
            elif what == "exception":
                self.errors.append(f"{element.exception.type}: {element.exception.message}")

    def __enter__(self) -> StudentClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    """Poll ``predicate`` until it holds (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
