"""Headless Debian Chromium for the report tests, driven by Selenium through Debian's
``chromedriver`` (packages ``chromium`` and ``chromium-driver``, installed by ``make system-deps``).

What a page did while it loaded comes from Chromium's own logs, which chromedriver collects:
the ``browser`` log (console messages, uncaught exceptions, resources that failed to load) and the
``performance`` log (the DevTools ``Network`` events: every request and every failed load).

Networking is cut twice: Chromium starts with the background-networking flags off and every host
name resolving to nothing, and the page emulates being offline; the tests then assert that every
request the page made was a ``file:`` or ``data:`` URL and that none failed.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
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
)
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


def unavailable() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        return (
            f"{' and '.join(missing)} missing: install Debian's chromium and chromium-driver "
            "(`make system-deps` as root) to run the browser tests"
        )
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: run `make setup` (it is in the dev dependency group)"
    return None


@dataclass
class PageLog:
    """What happened while a page loaded."""

    messages: list[dict[str, Any]] = field(default_factory=list)  # level, source, message
    requests: list[str] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)  # id, error, canceled

    @property
    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and failed loads, as the browser logged them."""
        return [
            f"{m['source']} {m['level']}: {m['message']}"
            for m in self.messages
            if m["level"] == "SEVERE"
        ]

    @property
    def remote_requests(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(LOCAL_SCHEMES)]


class Browser:
    """One headless Chromium with one page, driven through chromedriver."""

    def __init__(self, profile: Path, width: int = 1280, height: int = 900):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        profile.mkdir(parents=True, exist_ok=True)
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        options.add_experimental_option("perfLoggingPrefs", {"enableNetwork": True})
        # an explicit driver path: Selenium Manager (which would download a driver) never runs
        service = Service(executable_path=str(CHROMEDRIVER), log_output=str(profile / "driver.log"))
        self.driver = webdriver.Chrome(options=options, service=service)
        self.width, self.height = width, height
        self.version = self.driver.capabilities.get("browserVersion", "")
        self.cdp("Network.enable")
        self.cdp(
            "Network.emulateNetworkConditions",
            offline=True,
            latency=0,
            downloadThroughput=-1,
            uploadThroughput=-1,
        )

    def cdp(self, method: str, **params: Any) -> dict[str, Any]:
        """A DevTools command on the page."""
        return self.driver.execute_cdp_cmd(method, params)

    def _collect(self, log: PageLog) -> PageLog:
        for entry in self.driver.get_log("browser"):
            log.messages.append(
                {
                    "level": entry["level"],
                    "source": entry.get("source", ""),
                    "message": entry["message"],
                }
            )
        for entry in self.driver.get_log("performance"):
            event = json.loads(entry["message"])["message"]
            method, params = event.get("method"), event.get("params", {})
            if method == "Network.requestWillBeSent":
                log.requests.append(params["request"]["url"])
            elif method == "Network.loadingFailed":
                log.failed.append(
                    {
                        "id": params["requestId"],
                        "error": params.get("errorText", ""),
                        "canceled": params.get("canceled", False),
                    }
                )
        return log

    def open(self, url: str, ready: str | None = None, timeout: float = 60.0) -> PageLog:
        """Load ``url``; wait until the JavaScript expression ``ready`` is truthy (when given)
        and the page has settled; return what it logged and requested meanwhile."""
        from selenium.webdriver.support.ui import WebDriverWait

        self._collect(PageLog())  # forget what the previous page logged
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            width=self.width,
            height=self.height,
            deviceScaleFactor=1,
            mobile=False,
        )
        self.driver.set_page_load_timeout(timeout)
        self.driver.get(url)
        if ready is not None:
            WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(
                lambda _: self.evaluate(ready)
            )
        time.sleep(0.5)  # late console messages and requests
        return self._collect(PageLog())

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        return self.driver.execute_script(f"return ({expression.strip()});")

    def screenshot(self, path: Path, max_height: int = 16000) -> Path:
        """The whole page as PNG. The viewport is first made as tall as the page (capturing
        beyond the viewport would resize it mid-capture and make responsive charts re-layout)."""
        metrics = self.cdp("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            width=self.width,
            height=int(min(size["height"], max_height)),
            deviceScaleFactor=1,
            mobile=False,
        )
        time.sleep(0.5)  # let charts finish re-laying out after the resize
        data = self.cdp("Page.captureScreenshot", format="png")["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        self.driver.quit()
