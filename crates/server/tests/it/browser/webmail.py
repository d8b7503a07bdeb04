"""Drives the webmail in headless Chromium through the real flows (tests/it/web.rs):

first sign-in with a one-time password -> forced change (strength rule in Vietnamese) -> inbox;
compose with a Vietnamese attachment name to a colleague -> Sent; the colleague signs in, sees
the message arrive, reads it and downloads the attachment with its name intact; a hostile HTML
message (browser/xss-payloads.txt) runs no script and fetches no remote image until asked; CSRF;
address autocomplete and the public directory, both diacritic-insensitive; language switch.
Screenshots of the main screens go to $HOPTHU_SCREENSHOTS.

Arguments: <first address> <one-time password> <colleague address> <colleague password>.
"""

import http.server
import os
import smtplib
import ssl
import sys
import tempfile
import threading
from email.message import EmailMessage

from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from common import Browser

HOST = os.environ["HOPTHU_HOST"]
BASE = f"https://{HOST}:{os.environ['HOPTHU_HTTPS_PORT']}"
SMTP_PORT = int(os.environ["HOPTHU_SMTP_PORT"])
SHOTS = os.environ["HOPTHU_SCREENSHOTS"]
HERE = os.path.dirname(os.path.abspath(__file__))
FIRST, OTP, COLLEAGUE, COLLEAGUE_PW = sys.argv[1:5]
NEW_PASSWORD = "Mua-thu-Cao-Bang-2026"
ATTACHMENT_NAME = "Báo cáo tháng 3 — Hòa An.pdf"
ATTACHMENT_BYTES = b"%PDF-1.4\n% hopthu test attachment\n" + bytes(range(256))


def sign_in(address, password):
    driver.get(BASE + "/login")
    fill("login", address)
    fill("password", password)
    submit_button("Đăng nhập").click()


def sign_out():
    submit_button("Đăng xuất").click()
    wait().until(EC.url_contains("/login"))


def no_alert():
    try:
        text = driver.switch_to.alert.text
        check(False, f"a script ran: alert {text!r}")
    except NoAlertPresentException:
        pass


# ---- a tracker that records every request (remote images must not reach it) --------------
hits = []


class Tracker(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write(b"\x89PNG\r\n\x1a\n")

    def log_message(self, *args):
        pass


tracker = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Tracker)
# HTTPS, as the mail body frame is: Chromium upgrades plain-HTTP images on an HTTPS page.
_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
_tls.load_cert_chain(os.environ["HOPTHU_CERT"], os.environ["HOPTHU_KEY"])
tracker.socket = _tls.wrap_socket(tracker.socket, server_side=True)
threading.Thread(target=tracker.serve_forever, daemon=True).start()
TRACKER = f"127.0.0.1:{tracker.server_address[1]}"


def smtp_send(to, subject, html=None, text="Xin chào"):
    msg = EmailMessage()
    msg["From"] = "Văn phòng UBND <vanphong@ubnd.example.vn>"
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    with smtplib.SMTP(HOST, SMTP_PORT, timeout=30) as s:
        s.send_message(msg)


browser = Browser(SHOTS)
driver = browser.driver
check, shot, wait = browser.check, browser.shot, browser.wait
fill, submit_button, fetch = browser.fill, browser.submit_button, browser.fetch

try:
    # ---- first sign-in -> forced change -> inbox ------------------------------------------
    driver.get(BASE + "/login")
    check("Đăng nhập hộp thư" in driver.page_source, "Vietnamese sign-in page")
    shot("01-sign-in")
    cookie_free = fetch("/mail")
    check("/login" in cookie_free[2] or "Đăng nhập" in cookie_free[2], "/mail without a session shows sign-in")
    sign_in(FIRST, OTP)
    wait().until(EC.url_contains("/password"))
    page = driver.page_source
    check("ít nhất 10 ký tự" in page, "the strength rule is shown in Vietnamese")
    check("Điều 13" in page, "the change screen says why (Đ13.4)")
    # Everything else waits for the change.
    driver.get(BASE + "/mail")
    check("/password" in driver.current_url, "mail is refused before the change")
    shot("02-forced-change")
    fill("current", OTP)
    fill("new", "khongcochuso")
    fill("confirm", "khongcochuso")
    submit_button("Đổi mật khẩu").click()
    wait().until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.error")))
    check("chữ cái và chữ số" in driver.page_source, "a weak password is refused with the rule")
    fill("current", OTP)
    fill("new", NEW_PASSWORD)
    fill("confirm", NEW_PASSWORD)
    submit_button("Đổi mật khẩu").click()
    wait().until(EC.url_contains("/mail/"))
    check("Hộp thư đến" in driver.page_source, "inbox after the change")
    check("Đã đổi mật khẩu" in driver.page_source, "the change is confirmed")
    shot("03-inbox-empty")

    # CSRF: a form posted without the token changes nothing.
    status = fetch("/logout", "POST", "")[0]
    check(status == 403, f"POST without CSRF token refused (got {status})")

    # Autocomplete over the directory, diacritic-insensitive.
    status, _, text, _ = fetch("/address-book?q=hoa%20an")
    check(status == 200 and "Hòa An" in text, f"autocomplete finds Hòa An: {status} {text[:300]}")

    # ---- compose with a Vietnamese attachment name ----------------------------------------
    driver.find_element(By.LINK_TEXT, "Soạn thư").click()
    wait().until(EC.presence_of_element_located((By.ID, "to")))
    tmp = tempfile.mkdtemp()
    path = os.path.join(tmp, ATTACHMENT_NAME)
    with open(path, "wb") as f:
        f.write(ATTACHMENT_BYTES)
    fill("to", COLLEAGUE)
    fill("subject", "Báo cáo tuần — Hòa An")
    fill("body", "Kính gửi anh,\nEm gửi báo cáo tháng 3.\nTrân trọng.")
    driver.find_element(By.ID, "files").send_keys(path)
    shot("04-compose")
    submit_button("Gửi").click()
    wait().until(EC.url_contains("sent=1"))
    check("Đã gửi thư" in driver.page_source, "sent confirmation")
    driver.find_element(By.PARTIAL_LINK_TEXT, "Đã gửi").click()
    wait().until(EC.presence_of_element_located((By.LINK_TEXT, "Báo cáo tuần — Hòa An")))
    sign_out()

    # ---- the colleague reads it -----------------------------------------------------------
    sign_in(COLLEAGUE, COLLEAGUE_PW)
    wait().until(EC.url_contains("/mail/"))
    row = wait().until(EC.presence_of_element_located((By.LINK_TEXT, "Báo cáo tuần — Hòa An")))
    check("unseen" in row.find_element(By.XPATH, "./ancestor::tr").get_attribute("class"), "new mail is unread")
    shot("05-colleague-inbox")

    # New mail without reloading: the list updates while the page stays.
    marker = driver.execute_script("window.__stay = 'same-page'; return window.__stay;")
    smtp_send(COLLEAGUE, "Thư mới đến — Thông báo họp")
    wait().until(EC.presence_of_element_located((By.LINK_TEXT, "Thư mới đến — Thông báo họp")))
    check(driver.execute_script("return window.__stay;") == marker, "the page was not reloaded")

    driver.find_element(By.LINK_TEXT, "Báo cáo tuần — Hòa An").click()
    wait().until(EC.presence_of_element_located((By.ID, "subject")))
    link = driver.find_element(By.CSS_SELECTOR, ".attachments a")
    check(link.text == ATTACHMENT_NAME, f"attachment name shown intact: {link.text!r}")
    shot("06-reading")
    status, headers, _, hexbody = fetch(link.get_attribute("href"))
    disposition = headers.get("content-disposition", "")
    check(status == 200, f"attachment download {status}")
    check("filename*=UTF-8''B%C3%A1o%20c%C3%A1o%20th%C3%A1ng%203%20%E2%80%94%20H%C3%B2a%20An.pdf" in disposition,
          f"RFC 5987 file name: {disposition}")
    check(bytes.fromhex(hexbody) == ATTACHMENT_BYTES, "attachment bytes intact")

    # ---- reply prefills, forward carries the attachment -----------------------------------
    reading_url = driver.current_url
    driver.find_element(By.LINK_TEXT, "Trả lời").click()
    to = wait().until(EC.presence_of_element_located((By.ID, "to"))).get_attribute("value")
    check(FIRST in to, f"reply goes to the sender: {to!r}")
    check(driver.find_element(By.ID, "subject").get_attribute("value") == "Re: Báo cáo tuần — Hòa An", "Re: subject")
    check("> Em gửi báo cáo tháng 3." in driver.find_element(By.ID, "body").get_attribute("value"), "quoted text")
    driver.get(reading_url)
    driver.find_element(By.LINK_TEXT, "Chuyển tiếp").click()
    wait().until(EC.presence_of_element_located((By.ID, "to")))
    fill("to", FIRST)
    submit_button("Gửi").click()
    wait().until(EC.url_contains("sent=1"))
    driver.find_element(By.PARTIAL_LINK_TEXT, "Đã gửi").click()
    wait().until(EC.presence_of_element_located((By.LINK_TEXT, "Fwd: Báo cáo tuần — Hòa An"))).click()
    link = wait().until(EC.presence_of_element_located((By.CSS_SELECTOR, ".attachments a")))
    check(link.text == ATTACHMENT_NAME, f"forward keeps the attachment: {link.text!r}")

    # ---- drafts: save, edit, save again (the old draft goes) ------------------------------
    driver.find_element(By.LINK_TEXT, "Soạn thư").click()
    wait().until(EC.presence_of_element_located((By.ID, "to")))
    fill("to", FIRST)
    fill("subject", "Nháp kế hoạch quý 2")
    fill("body", "Bản nháp.")
    submit_button("Lưu nháp").click()
    wait().until(EC.url_contains("saved=1"))
    driver.find_element(By.PARTIAL_LINK_TEXT, "Thư nháp").click()
    wait().until(EC.presence_of_element_located((By.LINK_TEXT, "Nháp kế hoạch quý 2"))).click()
    wait().until(EC.presence_of_element_located((By.LINK_TEXT, "Sửa thư nháp"))).click()
    subject = wait().until(EC.presence_of_element_located((By.ID, "subject")))
    check(subject.get_attribute("value") == "Nháp kế hoạch quý 2", "the draft reopens in compose")
    fill("subject", "Nháp kế hoạch quý 2 (sửa)")
    submit_button("Lưu nháp").click()
    wait().until(EC.url_contains("saved=1"))
    driver.find_element(By.PARTIAL_LINK_TEXT, "Thư nháp").click()
    wait().until(EC.presence_of_element_located((By.LINK_TEXT, "Nháp kế hoạch quý 2 (sửa)")))
    check(len(driver.find_elements(By.LINK_TEXT, "Nháp kế hoạch quý 2")) == 0, "the edited draft replaced the old one")

    # ---- a hostile HTML message -----------------------------------------------------------
    with open(os.path.join(HERE, "xss-payloads.txt"), encoding="utf-8") as f:
        payloads = f.read().replace("http://TRACKER", "https://" + TRACKER)
    smtp_send(COLLEAGUE, "Thư độc hại thử nghiệm", html="<html><body>" + payloads + "</body></html>")
    driver.find_element(By.PARTIAL_LINK_TEXT, "Hộp thư đến").click()
    wait().until(EC.presence_of_element_located((By.LINK_TEXT, "Thư độc hại thử nghiệm"))).click()
    frame = wait().until(EC.presence_of_element_located((By.CSS_SELECTOR, "iframe.mail-body")))
    sandbox = frame.get_attribute("sandbox")
    check("allow-scripts" not in sandbox and "allow-same-origin" not in sandbox, f"frame sandbox {sandbox!r}")
    # Let the frame load and anything in it try to run.
    body_url = frame.get_attribute("src")
    status, headers, body_html, _ = fetch(body_url)
    check(status == 200, "body frame loads")
    csp = headers.get("content-security-policy", "")
    check("default-src 'none'" in csp and "script" not in csp.replace("default-src", ""), f"frame CSP {csp}")
    lower = body_html.lower()
    for bad in ["<script", "onerror", "onload", "javascript:", "<iframe", "<object", "<embed",
                "onfocus", "ontoggle", "http-equiv", "<base", "<link", "@import", "url(", TRACKER + "/pixel"]:
        check(bad not in lower, f"{bad!r} survived sanitising")
    check("Phòng Nội vụ huyện Hòa An" in body_html, "the legitimate text is kept")
    driver.switch_to.frame(frame)
    wait().until(EC.presence_of_element_located((By.TAG_NAME, "p")))
    driver.switch_to.default_content()
    no_alert()
    check(driver.find_element(By.TAG_NAME, "body").get_attribute("data-xss") is None, "no script reached the page")
    check("Ảnh từ bên ngoài đã bị chặn" in driver.page_source, "remote images blocked notice")
    check(hits == [], f"nothing fetched from the tracker before consent: {hits}")
    shot("07-hostile-message")
    driver.find_element(By.LINK_TEXT, "Hiện ảnh").click()
    frame = wait().until(EC.presence_of_element_located((By.CSS_SELECTOR, "iframe.mail-body")))
    WebDriverWait(driver, 20).until(lambda d: any("pixel" in h for h in hits))
    no_alert()
    check(all("pixel" in h for h in hits), f"only the image was fetched, never CSS: {hits}")

    # ---- actions: delete goes to Trash ----------------------------------------------------
    submit_button("Xóa").click()
    wait().until(EC.url_matches(r"/mail/\d+$"))
    driver.find_element(By.PARTIAL_LINK_TEXT, "Thùng rác").click()
    wait().until(EC.presence_of_element_located((By.LINK_TEXT, "Thư độc hại thử nghiệm")))

    # ---- search, diacritic-insensitive ----------------------------------------------------
    driver.find_element(By.PARTIAL_LINK_TEXT, "Hộp thư đến").click()
    fill("fq", "bao cao tuan")
    driver.find_element(By.ID, "fq").submit()
    wait().until(EC.presence_of_element_located((By.LINK_TEXT, "Báo cáo tuần — Hòa An")))
    check("Thông báo họp" not in driver.page_source, "search shows only matches")

    # ---- phone-sized screen ---------------------------------------------------------------
    driver.find_element(By.PARTIAL_LINK_TEXT, "Hộp thư đến").click()
    driver.set_window_size(390, 844)
    shot("08-inbox-phone")
    width = driver.execute_script("return document.documentElement.scrollWidth")
    check(width <= 400, f"no horizontal scrolling on a phone ({width}px)")
    driver.set_window_size(1280, 900)

    # ---- English by choice ----------------------------------------------------------------
    driver.find_element(By.LINK_TEXT, "Cài đặt").click()
    driver.find_element(By.CSS_SELECTOR, "#language option[value=en]").click()
    submit_button("Lưu").click()
    wait().until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.ok")))
    check("Settings" in driver.page_source and "Sign out" in driver.page_source, "English interface")
    history = driver.find_element(By.CSS_SELECTOR, "table.history").text
    check("Webmail" in history and "Signed in" in history, f"the sign-in history shows this sign-in: {history}")
    shot("09-settings-en")
    submit_button("Sign out everywhere").click()
    wait().until(EC.url_contains("/login"))
    driver.get(BASE + "/mail")
    check("/login" in driver.current_url, "signed out everywhere")

    # ---- the public directory -------------------------------------------------------------
    driver.get(BASE + "/directory")
    fill("q", "hoa an")
    driver.find_element(By.ID, "q").submit()
    wait().until(EC.url_contains("q=hoa"))
    check("Hòa An" in driver.page_source, "the directory finds Hòa An for 'hoa an'")
    shot("10-directory")
    print("ok", flush=True)
finally:
    driver.quit()
    tracker.shutdown()
