"""Headless Chromium for the report tests, driven over the DevTools protocol through a pipe.

Why a pipe: ``--remote-debugging-pipe`` makes Chromium read DevTools commands from fd 3 and write
replies and events to fd 4, as NUL-terminated JSON. That needs only the standard library (no
websocket client, no Playwright/Selenium download), opens no port, and gives everything the tests
assert: console messages and uncaught exceptions (``Runtime``/``Log``), every request and every
failed load (``Network``), JavaScript evaluation in the page, and screenshots (``Page``).
``--dump-dom``/``--screenshot`` alone cannot report console errors or failed requests reliably.

Networking is cut twice: Chromium starts with the background-networking flags off and every host
name resolving to nothing, and each page emulates being offline; the tests then assert that every
request the page made was a ``file:`` or ``data:`` URL and that none failed.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--hide-scrollbars",
    # Any host name resolves to nothing: a request to the network cannot succeed silently.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--remote-debugging-pipe",
)
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


class BrowserUnavailable(RuntimeError):
    """Chromium is not installed and cannot be installed here."""


def ensure_chromium() -> str:
    """Path of Debian's Chromium; installs ``chromium chromium-driver`` with apt-get if missing.

    Raises ``BrowserUnavailable`` only when apt-get itself is unavailable (or not root)."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        raise BrowserUnavailable(
            f"{CHROMIUM} is missing and apt-get is "
            + ("not available" if apt is None else "not usable without root")
            + ": install Debian's chromium and chromium-driver to run the browser tests"
        )
    print(
        "\n*** installing Debian chromium + chromium-driver for the browser tests ***",
        file=sys.stderr,
    )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([apt, "update"], [apt, "install", "-y", "chromium", "chromium-driver"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1200)
        if done.returncode != 0:
            raise BrowserUnavailable(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    if not Path(CHROMIUM).exists():
        raise BrowserUnavailable(f"apt-get installed chromium but {CHROMIUM} is still missing")
    return CHROMIUM


@dataclass
class PageLog:
    """What happened while a page loaded."""

    console: list[dict[str, Any]] = field(default_factory=list)  # type, text
    exceptions: list[str] = field(default_factory=list)
    log_entries: list[dict[str, Any]] = field(default_factory=list)  # level, text, url
    requests: list[str] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)  # url, error

    @property
    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and error-level browser log entries."""
        out = [
            f"console.{m['type']}: {m['text']}"
            for m in self.console
            if m["type"] in ("error", "assert")
        ]
        out += [f"exception: {e}" for e in self.exceptions]
        out += [
            f"log {e['level']}: {e['text']} ({e.get('url', '')})"
            for e in self.log_entries
            if e["level"] == "error"
        ]
        return out

    @property
    def remote_requests(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(LOCAL_SCHEMES)]


class Chromium:
    """One headless Chromium process; ``page()`` opens a tab."""

    def __init__(self, executable: str, profile: Path, timeout: float = 60.0):
        self.timeout = timeout
        to_chrome_r, to_chrome_w = os.pipe()
        from_chrome_r, from_chrome_w = os.pipe()
        # Chromium wants the pipe on fds 3 (commands in) and 4 (replies out): move our ends
        # above 10 (close-on-exec), and dup them onto 3 and 4 in the child only, just before
        # exec (dup2 leaves the copies inheritable; every other descriptor of ours is
        # close-on-exec, PEP 446, so close_fds=False passes nothing else on).
        high_r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD_CLOEXEC, 10)
        high_w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        profile.mkdir(parents=True, exist_ok=True)

        def onto_3_and_4() -> None:
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self.process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            preexec_fn=onto_3_and_4,
            close_fds=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        os.close(high_r)
        os.close(high_w)
        self._out = os.fdopen(to_chrome_w, "wb", buffering=0)
        self._in = from_chrome_r
        self._next_id = 0
        self._lock = threading.Lock()
        self._replies: dict[int, queue.Queue] = {}
        self._events: dict[str | None, queue.Queue] = {}
        self._stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        self.version = self.call("Browser.getVersion")["product"]

    # -- protocol ----------------------------------------------------------------------------
    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._in, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                for waiting in list(self._replies.values()):
                    waiting.put({"error": {"message": "Chromium closed the pipe"}})
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "id" in message:
                    box = self._replies.get(message["id"])
                    if box is not None:
                        box.put(message)
                else:
                    self._events.setdefault(message.get("sessionId"), queue.Queue()).put(message)

    def _drain_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._stderr.append(line.decode("utf-8", "replace"))

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        with self._lock:
            self._next_id += 1
            ident = self._next_id
            box: queue.Queue = queue.Queue()
            self._replies[ident] = box
        message: dict[str, Any] = {"id": ident, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self._out.write(json.dumps(message).encode() + b"\0")
        try:
            reply = box.get(timeout=self.timeout)
        except queue.Empty as exc:
            raise TimeoutError(f"{method}: no reply in {self.timeout}s") from exc
        finally:
            self._replies.pop(ident, None)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def events(self, session: str) -> queue.Queue:
        return self._events.setdefault(session, queue.Queue())

    # -- pages -------------------------------------------------------------------------------
    def page(self, width: int = 1280, height: int = 900) -> Page:
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        page = Page(self, session, target)
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.call(f"{domain}.enable")
        page.call(
            "Network.emulateNetworkConditions",
            offline=True,
            latency=0,
            downloadThroughput=-1,
            uploadThroughput=-1,
        )
        page.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        return page

    def close(self) -> None:
        with contextlib.suppress(Exception):  # it may already be gone
            self.call("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self._out.close()

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)


class Page:
    def __init__(self, browser: Chromium, session: str, target: str):
        self.browser, self.session, self.target = browser, session, target
        self.log = PageLog()

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        return self.browser.call(method, session=self.session, **params)

    def _pump(self, until: str | None = None, timeout: float = 30.0) -> bool:
        """Record events; stop when an event named ``until`` arrives (or the queue is idle)."""
        events = self.browser.events(self.session)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                event = events.get(timeout=0.1 if until is None else 0.25)
            except queue.Empty:
                if until is None:
                    return True
                continue
            self._record(event)
            if until is not None and event.get("method") == until:
                return True
        return until is None

    def _record(self, event: dict[str, Any]) -> None:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            self.log.console.append({"type": params["type"], "text": text})
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.log.exceptions.append(
                details.get("exception", {}).get("description") or details.get("text", "")
            )
        elif method == "Log.entryAdded":
            entry = params["entry"]
            self.log.log_entries.append(
                {"level": entry["level"], "text": entry["text"], "url": entry.get("url", "")}
            )
        elif method == "Network.requestWillBeSent":
            self.log.requests.append(params["request"]["url"])
        elif method == "Network.loadingFailed":
            self.log.failed.append(
                {
                    "id": params["requestId"],
                    "error": params.get("errorText", ""),
                    "canceled": params.get("canceled", False),
                }
            )

    def goto(self, url: str, timeout: float = 60.0) -> PageLog:
        self.log = PageLog()
        reply = self.call("Page.navigate", url=url)
        if reply.get("errorText"):
            raise RuntimeError(f"navigation to {url} failed: {reply['errorText']}")
        if not self._pump("Page.loadEventFired", timeout):
            raise TimeoutError(f"{url} did not finish loading in {timeout}s")
        return self.log

    def evaluate(self, expression: str) -> Any:
        reply = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression[:60]}…: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 60.0) -> Any:
        """Poll ``expression`` until it is truthy, recording events meanwhile."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                self._pump(None)
                return value
            self._pump(None, timeout=0.2)
        raise TimeoutError(f"timed out waiting for {expression}")

    def settle(self) -> PageLog:
        self._pump(None, timeout=2.0)
        return self.log

    def screenshot(self, path: Path, width: int = 1280, max_height: int = 16000) -> Path:
        """The whole page as PNG. The viewport is first made as tall as the page (capturing
        beyond the viewport would resize it mid-capture and make responsive charts re-layout)."""
        metrics = self.call("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        height = int(min(size["height"], max_height))
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        self._pump(None, timeout=1.0)
        time.sleep(0.5)  # let charts finish re-laying out after the resize
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path
