"""Drive a running SillyTavern in headless Chromium: KoboldCpp at the fake, Seraphina, four
messages. Usage: ST_URL=... FAKE_URL=... ST_LOG=... [INSTRUCT=ChatML] python drive.py"""

from __future__ import annotations

import json
import os
import time

from playwright.sync_api import Page, sync_playwright

ST_URL = os.environ.get("ST_URL", "http://127.0.0.1:8123/")
FAKE_URL = os.environ.get("FAKE_URL", "http://127.0.0.1:5123")
LOG = os.environ["ST_LOG"]
MESSAGES = ["Hello! Who are you?", "Where am I?", "Can you help me?", "Thank you."]


def completions() -> int:
    """How many completion requests the fake has logged."""
    if not os.path.exists(LOG):
        return 0
    with open(LOG, encoding="utf-8") as log:
        return sum(1 for line in log if json.loads(line)["path"].endswith("completions"))


def connect(page: Page, instruct: str) -> None:
    """Text completion, KoboldCpp at the fake, context 4096, reply 256, the templates."""
    page.evaluate("() => $('#main_api').val('textgenerationwebui').trigger('change')")
    time.sleep(1)
    page.evaluate(
        """(url) => {
        $('#textgen_type').val('koboldcpp').trigger('change');
        $('#koboldcpp_api_url_text').val(url).trigger('input');
        $('#max_context').val(4096).trigger('input');
        $('#amount_gen').val(256).trigger('input');
    }""",
        FAKE_URL,
    )
    if instruct:
        page.evaluate(
            """(name) => {
            $('#instruct_presets').val(name).trigger('change');
            $('#context_presets').val(name).trigger('change');
            $('#instruct_enabled').prop('checked', true).trigger('input').trigger('change');
        }""",
            instruct,
        )
    time.sleep(2)
    page.evaluate("() => $('#api_button_textgenerationwebui').trigger('click')")
    time.sleep(5)


def connect_chat(page: Page) -> None:
    """Chat completion, a custom OpenAI-compatible source at the fake, context 4096, reply 256."""
    page.evaluate("() => $('#main_api').val('openai').trigger('change')")
    time.sleep(1)
    page.evaluate(
        """(url) => {
        $('#chat_completion_source').val('custom').trigger('change');
        $('#custom_api_url_text').val(url).trigger('input');
        $('#openai_max_context').val(4096).trigger('input');
        $('#openai_max_tokens').val(256).trigger('input');
    }""",
        FAKE_URL + "/v1",
    )
    time.sleep(2)
    page.evaluate("() => $('#api_button_openai').trigger('click')")
    time.sleep(5)


def main() -> None:
    """Open SillyTavern, connect, pick Seraphina and send the messages one by one."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page()
        page.goto(ST_URL)
        page.wait_for_function("() => window.jQuery && document.querySelector('#send_textarea')")
        time.sleep(5)
        if os.environ.get("CHAT"):
            connect_chat(page)
        else:
            connect(page, os.environ.get("INSTRUCT", ""))
        page.evaluate(
            "() => $('.character_select').filter((i, e) => $(e).text().includes('Seraphina'))"
            ".first().trigger('click')"
        )
        time.sleep(3)
        for text in MESSAGES:
            before = completions()
            page.fill("#send_textarea", text)
            page.click("#send_but")
            for _ in range(60):
                time.sleep(0.5)
                if completions() > before and page.locator("#send_but").is_visible():
                    break
            time.sleep(2)
        browser.close()


if __name__ == "__main__":
    main()
