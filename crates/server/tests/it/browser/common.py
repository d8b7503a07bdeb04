"""Headless Chromium and the page helpers shared by the browser scripts (admin.py, webmail.py).

A script makes one `Browser` and takes its helpers: check (fail with a screenshot and the page
source), shot (a screenshot into $HOPTHU_SCREENSHOTS), wait, fill (a field by id) and
submit_button (a button by its text) and fetch (a request from the page).
"""

import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--ignore-certificate-errors", "--window-size=1280,900", "--lang=vi"]


class Browser:
    def __init__(self, shots, shot_prefix="", wait_seconds=20, source_chars=4000, show_url=False):
        self.shots = shots
        self.shot_prefix = shot_prefix
        self.wait_seconds = wait_seconds
        self.source_chars = source_chars
        self.show_url = show_url
        options = webdriver.ChromeOptions()
        for arg in CHROMIUM_ARGS:
            options.add_argument(arg)
        options.binary_location = "/usr/bin/chromium"
        self.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        self.driver.set_script_timeout(30)

    def check(self, condition, message):
        if not condition:
            print(f"FAILED: {message}", flush=True)
            try:
                self.shot("failure")
                if self.show_url:
                    print("--- url " + self.driver.current_url, flush=True)
                print("--- page source\n" + self.driver.page_source[:self.source_chars], flush=True)
            except Exception:  # noqa: BLE001 - best effort diagnostics
                pass
            sys.exit(1)

    def shot(self, name):
        os.makedirs(self.shots, exist_ok=True)
        self.driver.save_screenshot(os.path.join(self.shots, f"{self.shot_prefix}{name}.png"))

    def wait(self):
        return WebDriverWait(self.driver, self.wait_seconds)

    def fill(self, element_id, text):
        el = self.driver.find_element(By.ID, element_id)
        el.clear()
        el.send_keys(text)

    def submit_button(self, text):
        for b in self.driver.find_elements(By.CSS_SELECTOR, "button"):
            if b.text.strip() == text:
                return b
        self.check(False, f"no button {text!r}")

    def fetch(self, path, method="GET", body=None):
        """fetch() from the page (with its cookies): [status, headers dict, text, body in hex]."""
        return self.driver.execute_async_script(
            """
            const [path, method, body, done] = arguments;
            const opts = {method, credentials: 'same-origin'};
            if (body !== null) { opts.body = body;
              opts.headers = {'Content-Type': 'application/x-www-form-urlencoded'}; }
            fetch(path, opts).then(async r => {
              const h = {}; r.headers.forEach((v, k) => h[k] = v);
              const buf = new Uint8Array(await r.arrayBuffer());
              let hex = ''; for (const b of buf) hex += b.toString(16).padStart(2, '0');
              done([r.status, h, new TextDecoder().decode(buf), hex]);
            }).catch(e => done([0, {}, String(e), '']));
            """,
            path,
            method,
            body,
        )
