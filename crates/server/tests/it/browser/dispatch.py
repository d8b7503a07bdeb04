"""A unit's head issues an official document from the webmail, in headless Chromium
(tests/it/dispatch.rs):

signs in -> the switcher's "văn bản" link of the unit -> "Ban hành văn bản" -> fills the
number, the kind, the summary, the signed file, picks two recipient units with their subtrees
-> issues -> the unit's list shows the document -> its page shows one row per recipient unit.
Screenshots go to $HOPTHU_SCREENSHOTS as dispatch-*.png.

Arguments: <head address> <password> <unit address> <file path> <recipient code> <recipient
code> <expected recipient count>.
"""

import os
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from common import Browser

BASE = f"https://{os.environ['HOPTHU_HOST']}:{os.environ['HOPTHU_HTTPS_PORT']}"
ADDRESS, PASSWORD, UNIT, FILE, FIRST, SECOND, EXPECTED = sys.argv[1:8]

b = Browser(os.environ["HOPTHU_SCREENSHOTS"], shot_prefix="dispatch-", show_url=True)
driver, check, wait = b.driver, b.check, b.wait

try:
    driver.get(BASE + "/login")
    b.fill("login", ADDRESS)
    b.fill("password", PASSWORD)
    b.submit_button("Đăng nhập").click()
    wait().until(EC.presence_of_element_located((By.ID, "mailbox-switcher")))

    driver.find_element(By.CSS_SELECTOR, "a.unit-documents").click()
    wait().until(EC.presence_of_element_located((By.ID, "documents")))
    driver.find_element(By.ID, "new-document").click()
    wait().until(EC.presence_of_element_located((By.ID, "dispatch-form")))

    b.fill("number", "15/SNV")
    Select(driver.find_element(By.ID, "kind")).select_by_value("giay_moi")
    b.fill("summary", "Mời họp triển khai thư điện tử công vụ")
    driver.find_element(By.ID, "file").send_keys(FILE)
    to = Select(driver.find_element(By.ID, "to"))
    to.select_by_value(FIRST)
    to.select_by_value(SECOND)
    driver.find_element(By.ID, "subtree").click()
    b.shot("form")
    driver.find_element(By.ID, "dispatch").click()

    wait().until(EC.presence_of_element_located((By.ID, "dispatched")))
    rows = driver.find_elements(By.CSS_SELECTOR, "#documents tbody tr")
    check(rows and rows[0].text.startswith("15/SNV"), f"the new document first: {[r.text for r in rows]}")
    b.shot("listed")
    driver.find_element(By.LINK_TEXT, "15/SNV").click()
    wait().until(EC.presence_of_element_located((By.ID, "tracking")))
    recipients = driver.find_elements(By.CSS_SELECTOR, "#tracking tbody tr")
    check(len(recipients) == int(EXPECTED), f"{len(recipients)} recipients, want {EXPECTED}")
    b.shot("tracking")
    print("done")
finally:
    driver.quit()
