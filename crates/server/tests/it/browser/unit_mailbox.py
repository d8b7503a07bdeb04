"""A delegate switches mailboxes in the webmail, in headless Chromium (tests/it/unit_mailbox.rs):

signs in -> own INBOX, where the switcher offers the unit mailbox and no unit message shows ->
chooses the unit mailbox -> its INBOX, first among its folders, with its messages -> opens one
and comes back to the unit's list -> chooses "Hộp thư của tôi" -> own INBOX again, no unit
message. Screenshots go to $HOPTHU_SCREENSHOTS as unit-mailbox-*.png.

Arguments: <delegate address> <password> <unit address>. The unit's INBOX holds "Unit message
1" and "Unit message 2".
"""

import os
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from common import Browser

BASE = f"https://{os.environ['HOPTHU_HOST']}:{os.environ['HOPTHU_HTTPS_PORT']}"
ADDRESS, PASSWORD, UNIT = sys.argv[1:4]

b = Browser(os.environ["HOPTHU_SCREENSHOTS"], shot_prefix="unit-mailbox-", show_url=True)
driver, check, wait = b.driver, b.check, b.wait


def subjects():
    return [a.text for a in driver.find_elements(By.CSS_SELECTOR, "table.messages td.subject a")]


def folders():
    return [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#folders a")]


try:
    driver.get(BASE + "/login")
    b.fill("login", ADDRESS)
    b.fill("password", PASSWORD)
    b.submit_button("Đăng nhập").click()
    wait().until(EC.presence_of_element_located((By.ID, "mailbox-switcher")))

    own = driver.current_url
    check(driver.find_element(By.ID, "switch-own").get_attribute("aria-current") == "page",
          "one's own mailbox is the one shown after sign-in")
    check(not any(s.startswith("Unit message") for s in subjects()), "no unit message at home")
    own_folders = folders()
    check(own_folders and own_folders[0].startswith("Hộp thư đến"), f"own INBOX first: {own_folders}")

    unit_link = driver.find_element(By.CSS_SELECTOR, f'a.switch-unit[data-unit="{UNIT}"]')
    check(UNIT in unit_link.text and "Sở Nội vụ" in unit_link.text,
          f"the unit by name and address: {unit_link.text!r}")
    unit_link.click()
    wait().until(EC.presence_of_element_located((By.ID, "unit-shown")))
    unit_inbox = driver.current_url
    check(unit_inbox != own, "the unit's INBOX is another page")
    shown = subjects()
    check(sorted(shown) == ["Unit message 1", "Unit message 2"], f"the unit's messages: {shown}")
    unit_folders = folders()
    check(unit_folders and unit_folders[0].startswith("Hộp thư đến"),
          f"the unit's INBOX first: {unit_folders}")
    check(not any("Shared/" in f for f in unit_folders), f"no prefix in names: {unit_folders}")
    current = driver.find_element(By.CSS_SELECTOR, "#mailbox-switcher a[aria-current]")
    check(current.get_attribute("data-unit") == UNIT, "the switcher marks the unit mailbox")
    b.shot("switched")

    # Reading a unit message keeps the unit mailbox chosen, and leads back to its list.
    driver.find_element(By.LINK_TEXT, "Unit message 1").click()
    wait().until(EC.presence_of_element_located((By.ID, "subject")))
    check(driver.find_element(By.ID, "subject").text == "Unit message 1", "the message opens")
    current = driver.find_element(By.CSS_SELECTOR, "#mailbox-switcher a[aria-current]")
    check(current.get_attribute("data-unit") == UNIT, "still in the unit mailbox while reading")
    driver.find_element(By.PARTIAL_LINK_TEXT, "Về danh sách thư").click()
    wait().until(EC.url_to_be(unit_inbox))

    # And back to one's own.
    driver.find_element(By.ID, "switch-own").click()
    wait().until(EC.url_to_be(own))
    check(driver.find_element(By.ID, "switch-own").get_attribute("aria-current") == "page",
          "back in one's own mailbox")
    check(not any(s.startswith("Unit message") for s in subjects()), "no unit message at home")
    check(folders() == own_folders, "one's own folders again")
    b.shot("back")
    print("done")
finally:
    driver.quit()
