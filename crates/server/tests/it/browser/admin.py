"""Drives the admin console in headless Chromium through the real flows (tests/it/admin.rs):

the focal administrator signs in -> organisation tree -> a unit's people -> files a new hire ->
approves it in the queue -> the one-time password is shown once and signs in over IMAP; a
password reset; the notices (download) and the inactivity outlook; the import: upload ->
dry-run table -> confirm -> the new unit in the tree. Then a unit IT officer of CB25-002 sees
only their subtree and is refused another unit's people by URL, and the import. Screenshots go
to $HOPTHU_SCREENSHOTS/admin-*.png.

Arguments: <focal address> <focal password> <officer address> <officer password>
<plain user address> <plain user password>.
"""

import imaplib
import os
import ssl
import sys
import tempfile

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from common import Browser

HOST = os.environ["HOPTHU_HOST"]
BASE = f"https://{HOST}:{os.environ['HOPTHU_HTTPS_PORT']}"
IMAP_PORT = int(os.environ["HOPTHU_IMAPS_PORT"])
SHOTS = os.environ["HOPTHU_SCREENSHOTS"]
FOCAL, FOCAL_PW, OFFICER, OFFICER_PW, USER, USER_PW = sys.argv[1:7]
NEW_PASSWORD = "Quan-tri-Cao-Bang-2026"


def sign_in(address, password):
    driver.delete_all_cookies()
    driver.get(BASE + "/login")
    fill("login", address)
    fill("password", password)
    submit_button("Đăng nhập").click()
    wait().until(lambda d: "/login" not in d.current_url)
    if "/password" in driver.current_url:
        # The forced change of a first or reset password (Đ13.4).
        fill("current", password)
        fill("new", NEW_PASSWORD)
        fill("confirm", NEW_PASSWORD)
        submit_button("Đổi mật khẩu").click()
        wait().until(EC.url_contains("/mail"))


def imap_login(address, password):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with imaplib.IMAP4_SSL(HOST, IMAP_PORT, ssl_context=ctx, timeout=30) as imap:
        try:
            typ, _ = imap.login(address, password)
        except imaplib.IMAP4.error as e:
            # A one-time password is checked, then refused until it is changed (Đ13.4): the
            # notice proves the password right; any other refusal is raised.
            if "must be changed" in str(e):
                return "MUST-CHANGE"
            raise
        return typ



def imap_refused(address, password, message):
    """Fails with `message` unless IMAP refuses the sign-in."""
    try:
        imap_login(address, password)
        check(False, message)
    except imaplib.IMAP4.error:
        pass


browser = Browser(SHOTS, shot_prefix="admin-", wait_seconds=30, source_chars=6000, show_url=True)
driver = browser.driver
check, shot, wait = browser.check, browser.shot, browser.wait
fill, submit_button, fetch = browser.fill, browser.submit_button, browser.fetch

try:
    # ---- the focal administrator: tree -> unit -> new hire -> approval -------------------
    sign_in(FOCAL, FOCAL_PW)
    links = driver.find_elements(By.ID, "admin-link")
    check(len(links) == 1, "the webmail links administrators to the console")
    links[0].click()
    wait().until(EC.url_contains("/admin"))
    check("Cây tổ chức" in driver.page_source, "the console opens in Vietnamese")
    check("Sở Nội vụ" in driver.page_source and "Sở Tư pháp" in driver.page_source,
          "the focal unit sees the whole tree")
    check(driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "vi", "lang=vi")
    shot("tree")
    driver.find_element(By.LINK_TEXT, "Sở Nội vụ").click()
    wait().until(EC.presence_of_element_located((By.ID, "people")))
    check("/admin/units/CB25-002" in driver.current_url, "the unit's page by its code")
    people_rows = driver.find_elements(By.CSS_SELECTOR, "#people tbody tr")
    check(len(people_rows) >= 1, "the unit's people are listed")
    check("Hộp thư đơn vị" in driver.page_source, "the unit mailbox is shown")
    shot("unit")

    fill("full_name", "Hoàng Thị Thu Trang")
    fill("position", "Chuyên viên")
    fill("reason", "Quyết định tuyển dụng số 12/QĐ-SNV")
    driver.find_element(By.ID, "file-hire").click()
    wait().until(EC.url_contains("/admin/changes?filed="))
    change_id = driver.current_url.rsplit("=", 1)[1]
    check(f"change-{change_id}" in driver.page_source, "the filed request is in the queue")
    check("Chờ duyệt" in driver.page_source, "awaiting approval")
    shot("changes")
    driver.find_element(By.ID, f"approve-{change_id}").click()
    wait().until(EC.presence_of_element_located((By.ID, "otp")))
    otp = driver.find_element(By.ID, "otp").text.strip()
    new_address = driver.find_element(By.ID, "otp-address").text.strip()
    check(len(otp) == 14, f"a one-time password is shown: {otp!r}")
    check(new_address.endswith("@" + os.environ["HOPTHU_DOMAIN"]), f"address {new_address!r}")
    shot("approved")
    check(imap_login(new_address, otp) == "MUST-CHANGE",
          "the one-time password is right, and IMAP asks for it to be changed first")
    # Shown once: the queue no longer offers the decision, the password is not on it.
    driver.get(BASE + "/admin/changes")
    check(otp not in driver.page_source, "the password is not shown again")
    check(not driver.find_elements(By.ID, f"approve-{change_id}"), "decided once")

    # ---- password reset ------------------------------------------------------------------
    driver.get(BASE + "/admin/units/CB25-002")
    row = [r for r in driver.find_elements(By.CSS_SELECTOR, "#people tbody tr")
           if new_address in r.text]
    check(len(row) == 1, "the new hire is listed in their unit")
    row[0].find_element(By.XPATH, ".//button[normalize-space()='Cấp lại mật khẩu']").click()
    wait().until(EC.presence_of_element_located((By.ID, "otp")))
    reset_pw = driver.find_element(By.ID, "otp").text.strip()
    check(len(reset_pw) == 14 and reset_pw != otp, "a fresh one-time password")
    check(imap_login(new_address, reset_pw) == "MUST-CHANGE", "the reset password is right")
    imap_refused(new_address, otp, "the old one-time password still works after the reset")
    shot("reset")

    # ---- revoke, re-issue, reject --------------------------------------------------------
    def person_row():
        driver.get(BASE + "/admin/units/CB25-002")
        wait().until(EC.presence_of_element_located((By.CSS_SELECTOR, "#people tbody tr")))
        rows = [r for r in driver.find_elements(By.CSS_SELECTOR, "#people tbody tr")
                if new_address in r.text]
        check(len(rows) == 1, "the new hire's row")
        return rows[0]

    def file_and_decide(link_text, reason, decision):
        person_row().find_element(By.PARTIAL_LINK_TEXT, link_text).click()
        wait().until(EC.presence_of_element_located((By.ID, "kind")))
        check(driver.find_element(By.ID, "person").get_attribute("value") == new_address,
              "the form names the person")
        fill("reason", reason)
        submit_button("Gửi đề nghị").click()
        wait().until(EC.url_contains("/admin/changes?filed="))
        cid = driver.current_url.rsplit("=", 1)[1]
        button = driver.find_element(By.ID, f"{decision}-{cid}")
        button.click()
        # The decision's page replaces this one before anything else is asked of the browser.
        wait().until(EC.staleness_of(button))

    file_and_decide("Thu hồi", "Nghỉ việc theo nguyện vọng", "reject")
    wait().until(EC.url_contains("/admin/changes"))
    check("Từ chối" in driver.page_source, "a rejected request is listed as rejected")
    check("Đang hoạt động" in person_row().text, "a rejection changes nothing")
    file_and_decide("Thu hồi", "Quyết định thôi việc số 3/QĐ-SNV", "approve")
    wait().until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.ok")))
    check("Đã thu hồi" in person_row().text, "revoked")
    imap_refused(new_address, reset_pw, "a revoked mailbox still signs in")
    shot("revoked")
    file_and_decide("Cấp lại hộp thư", "Tuyển dụng lại", "approve")
    wait().until(EC.presence_of_element_located((By.ID, "otp")))
    reissued_pw = driver.find_element(By.ID, "otp").text.strip()
    check(imap_login(new_address, reissued_pw) == "MUST-CHANGE",
          "the re-issued mailbox takes its new one-time password")
    check("Đang hoạt động" in person_row().text, "active again")

    # ---- notices and the outlook ---------------------------------------------------------
    driver.get(BASE + "/admin/notices")
    links = driver.find_elements(By.CSS_SELECTOR, "#notices a[href^='/admin/notices/']")
    check(len(links) >= 1, "the new hire's notice is listed")
    shot("notices")
    status, headers, text, _ = fetch(links[0].get_attribute("href").replace(BASE, ""))
    check(status == 200 and "attachment" in headers.get("content-disposition", ""),
          f"the notice downloads: {status} {headers}")
    check("Hoàng Thị Thu Trang" in text, "the notice names the new hire")
    driver.get(BASE + "/admin/outlook")
    check(new_address in driver.page_source, "the outlook lists the new mailbox")
    first_date = driver.find_element(By.CSS_SELECTOR, "#outlook tbody tr td").text
    check(len(first_date) == 10 and first_date[2] == "/" and first_date[5] == "/",
          f"dates as dd/mm/yyyy: {first_date!r}")
    shot("outlook")

    # ---- an update: a corrected name keeps the address -----------------------------------
    person_row().find_element(By.PARTIAL_LINK_TEXT, "Cập nhật thông tin").click()
    wait().until(EC.presence_of_element_located((By.ID, "kind")))
    check(driver.find_element(By.ID, "kind").get_attribute("value") == "update",
          "the form files an update")
    fill("full_name", "Hoàng Thị Thu Trâm")
    fill("position", "Chuyên viên chính")
    submit_button("Gửi đề nghị").click()
    wait().until(EC.url_contains("/admin/changes?filed="))
    cid = driver.current_url.rsplit("=", 1)[1]
    driver.find_element(By.ID, f"approve-{cid}").click()
    wait().until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.ok")))
    row_text = person_row().text
    check("Hoàng Thị Thu Trâm" in row_text and "Chuyên viên chính" in row_text,
          "the corrected details are shown, at the same address")

    # ---- import: upload -> dry-run table -> confirm --------------------------------------
    tmp = tempfile.mkdtemp()
    units_file = os.path.join(tmp, "don-vi.csv")
    people_file = os.path.join(tmp, "can-bo.csv")
    with open(units_file, "w", encoding="utf-8") as f:
        f.write("kind,code,name,parent\ncommune,CB25-901,Xã Thử Nghiệm,CB25-002\n")
    with open(people_file, "w", encoding="utf-8") as f:
        f.write("full_name,unit,position\nLê Văn Khải,CB25-901,Chủ tịch\n")
    driver.get(BASE + "/admin/import")
    driver.find_element(By.ID, "units").send_keys(units_file)
    driver.find_element(By.ID, "people").send_keys(people_file)
    driver.find_element(By.ID, "preview").click()
    wait().until(EC.presence_of_element_located((By.ID, "plan")))
    plan_rows = driver.find_elements(By.CSS_SELECTOR, "#plan tbody tr")
    check(len(plan_rows) == 2, f"one row per input row: {len(plan_rows)}")
    check("Xã Thử Nghiệm" in plan_rows[0].text and "Lê Văn Khải" in plan_rows[1].text,
          "the table shows the rows")
    shot("import-preview")
    # Nothing is written by the preview.
    check("CB25-901" not in fetch("/admin")[2], "the preview wrote nothing")
    driver.find_element(By.ID, "confirm").click()
    wait().until(EC.presence_of_element_located((By.ID, "applied")))
    creds = driver.find_elements(By.CSS_SELECTOR, "#credentials tbody tr")
    check(len(creds) == 2, "a unit mailbox and a personal one with their passwords")
    shot("import-applied")
    driver.get(BASE + "/admin")
    check("Xã Thử Nghiệm" in driver.page_source, "the imported unit is in the tree")

    # ---- a unit IT officer: confined to their subtree ------------------------------------
    sign_in(OFFICER, OFFICER_PW)
    driver.get(BASE + "/admin")
    page = driver.page_source
    check("Sở Nội vụ" in page and "Xã Thử Nghiệm" in page, "the officer sees their subtree")
    check("Sở Tư pháp" not in page, "and nothing else")
    check("/admin/import" not in page, "no import for an officer")
    shot("officer-tree")
    driver.get(BASE + "/admin/units/CB25-003")
    status = fetch("/admin/units/CB25-003")[0]
    check(status in (403, 404), f"another unit's people by URL are refused: {status}")
    check(driver.find_elements(By.ID, "people") == [], "no people table for another unit")
    check("Sở Tư pháp" not in driver.page_source, "nothing of the other unit is shown")
    shot("officer-refused")
    check(fetch("/admin/import")[0] == 403, "the import is refused to an officer")
    driver.get(BASE + "/admin/units/CB25-901")
    check(driver.find_elements(By.ID, "people") != [], "a unit below the officer's opens")

    # A phone-sized screen: nothing wider than the screen but the tables' own scroll.
    driver.set_window_size(390, 844)
    driver.get(BASE + "/admin/units/CB25-002")
    fits = driver.execute_script(
        "const m = document.getElementById('main'); return m.scrollWidth <= m.clientWidth + 1;")
    check(fits, "the console fits a phone-sized screen")
    shot("phone-unit")
    driver.set_window_size(1280, 900)

    # English by choice (the webmail's setting).
    driver.get(BASE + "/settings")
    driver.find_element(By.CSS_SELECTOR, "#language option[value='en']").click()
    submit_button("Lưu").click()
    wait().until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.ok")))
    driver.get(BASE + "/admin")
    check("Organisation tree" in driver.page_source, "the console in English")
    check(driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en", "lang=en")
    shot("officer-tree-en")

    # ---- not an administrator ------------------------------------------------------------
    sign_in(USER, USER_PW)
    check("Soạn thư" in driver.page_source, "the plain user is in the webmail")
    check(not driver.find_elements(By.ID, "admin-link"), "no console link for a plain user")
    status = fetch("/admin")[0]
    check(status == 403, f"a non-administrator gets 403: {status}")
    status = fetch("/admin/units/CB25-002")[0]
    check(status == 403, f"nor any console page: {status}")

    print("OK", flush=True)
finally:
    driver.quit()
