"""The portal in a real headless Chromium (Debian's, through chromedriver), served by ``dti
portal`` (uvicorn) in a process of its own, on a phone-width window: a unit logs in, fills a
pillar online and gets its receipt, uploads its template and gets its receipt; the officer sees
the board; the public looks a unit up."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
from conftest import subprocess_env
from support.browser import CHROMEDRIVER, CHROMIUM, FLAGS
from support.browser import unavailable as browser_unavailable
from support.portal import TINY, YEAR

pytestmark = pytest.mark.system
PHONE = (390, 844)
DTI = str(Path(sys.executable).parent / "dti")  # the installed console script


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    """``dti portal accounts`` then ``dti portal`` on a free port: (base URL, passwords, home)."""
    home = tmp_path_factory.mktemp("portal-home")
    env = subprocess_env(home)
    sheet = home / "tai-khoan.xlsx"
    issued = subprocess.run(
        [DTI, "portal", "accounts", "--preset", TINY, "--year", str(YEAR),
         "--out", str(sheet)],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert issued.returncode == 0, issued.stderr
    assert sheet.stat().st_mode & 0o077 == 0
    rows = openpyxl.load_workbook(sheet).active.iter_rows(min_row=4, values_only=True)
    passwords = {row[0]: row[5] for row in rows}
    port = free_port()
    server = subprocess.Popen(
        [DTI, "portal", "--preset", TINY, "--year", str(YEAR), "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert server.poll() is None, server.stdout.read()
            time.sleep(0.3)
    else:
        server.kill()
        pytest.fail("the portal did not start")
    yield f"http://127.0.0.1:{port}", passwords, home
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory):
    reason = browser_unavailable()
    if reason is not None:
        pytest.skip(f"BROWSER TESTS SKIPPED – {reason}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tmp_path_factory.mktemp("chromium-portal")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    # every host name still resolves to nothing, except the portal's own address
    flags = [f for f in FLAGS if not f.startswith("--host-resolver-rules")]
    flags += ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
    for flag in (*flags, f"--user-data-dir={profile}", f"--window-size={PHONE[0]},{PHONE[1]}"):
        options.add_argument(flag)
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(profile / "driver.log"))
    chromium = webdriver.Chrome(options=options, service=service)
    chromium.set_page_load_timeout(120)
    yield chromium
    chromium.quit()


def shown(driver, element_id: str, timeout: float = 60.0):
    """The element once the page that follows a click has loaded it: a click that submits a
    form may return before the browser has navigated, so the old page is still there."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(
        expected_conditions.presence_of_element_located((By.ID, element_id))
    )


def log_in(driver, base: str, login: str, password: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.delete_all_cookies()
    driver.get(base + "/login")
    driver.find_element(By.ID, "login").send_keys(login)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()
    WebDriverWait(driver, 60, poll_frequency=0.1).until(
        lambda d: not d.current_url.endswith("/login")
    )


def fits_the_phone(driver) -> bool:
    return driver.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth + 1"
    )


def test_a_unit_fills_a_pillar_online_and_sees_its_receipt(served, driver) -> None:
    from selenium.webdriver.common.by import By

    base, passwords, home = served
    log_in(driver, base, "X-1", passwords["X-1"])
    assert driver.current_url == f"{base}/unit/X-1"
    assert "Xã Một" in driver.find_element(By.TAG_NAME, "h1").text
    assert fits_the_phone(driver)
    driver.find_element(By.LINK_TEXT, "P1. Nhận thức số (2)").click()
    driver.find_element(By.ID, "value-P1.1").send_keys("85,5")
    driver.find_element(By.ID, "evidence-P1.1").send_keys("<b>QĐ 12</b>")
    driver.find_element(By.CSS_SELECTOR, "#value-P1\\.2 option[value='Có']").click()
    driver.find_element(By.ID, "save-pillar").click()
    assert shown(driver, "fill-status").text == "Đã lưu trang này."
    assert fits_the_phone(driver)
    driver.get(f"{base}/unit/X-1")
    driver.find_element(By.ID, "submit-online").click()
    receipt = shown(driver, "receipt").text
    assert "Tiếp nhận toàn bộ" in receipt and "<b>QĐ 12</b>" in receipt
    assert "Đã nhận" in driver.find_element(By.ID, "outcome").text
    # Other tests of this module share the portal and may submit first.
    landed = list((home / "inbox" / str(YEAR)).rglob("DTI_*_X-1_*.xlsx"))
    assert len(landed) == 1


def test_a_unit_uploads_its_template_and_sees_its_receipt(served, driver, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    from dti_portal.pipeline import load_preset, template_bytes, units_of_year

    base, passwords, _ = served
    preset = load_preset(TINY)
    unit = next(u for u in units_of_year(preset, YEAR) if u["unit_id"] == "S-A")
    filled = tmp_path / "so-a.xlsx"
    filled.write_bytes(template_bytes(preset, unit, YEAR, values={"P2.1": 3}))
    log_in(driver, base, "S-A", passwords["S-A"])
    driver.find_element(By.ID, "file").send_keys(str(filled))
    driver.find_element(By.CSS_SELECTOR, "form[action$='/upload'] button").click()
    assert "Tiếp nhận toàn bộ" in shown(driver, "receipt").text


def test_the_officer_sees_the_board_and_the_public_looks_a_unit_up(served, driver) -> None:
    from selenium.webdriver.common.by import By

    base, passwords, _ = served
    log_in(driver, base, "canbo", passwords["canbo"])
    assert driver.current_url == f"{base}/officer"
    board = driver.find_element(By.ID, "board").text
    assert "X-1" in board and "Chưa nộp" in board
    driver.delete_all_cookies()
    driver.get(f"{base}/public/lookup?q=X-1")
    assert driver.find_element(By.ID, "lookup-none").text.startswith("Không tìm thấy")
    assert fits_the_phone(driver)
