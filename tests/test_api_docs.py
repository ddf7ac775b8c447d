"""The API docs (/api/docs/) carry a Content-Security-Policy as strict as the site's, with no
inline script: Swagger UI's start-up script is a file of its own (SpectacularSwaggerSplitView),
and its page's one inline style block is allowed by its hash alone.
tests/browser/test_api_docs_in_chromium.py renders them in Chromium."""

import base64
import hashlib
import re

import pytest

DOCS = "/api/docs/"


@pytest.fixture
def docs(client, db):
    response = client.get(DOCS)
    assert response.status_code == 200
    return response


def directive(policy: str, name: str) -> list[str]:
    for part in policy.split(";"):
        words = part.split()
        if words and words[0] == name:
            return words[1:]
    raise AssertionError(f"no {name} in {policy!r}")


def test_the_docs_carry_a_policy_that_refuses_inline_script(docs):
    policy = docs["Content-Security-Policy"]

    assert directive(policy, "script-src") == ["'self'"]
    assert directive(policy, "object-src") == ["'none'"]
    assert directive(policy, "frame-ancestors") == ["'none'"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_the_docs_page_has_no_inline_script(docs):
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", docs.content.decode(), re.S)

    assert scripts
    assert all('src="' in attributes and not body.strip() for attributes, body in scripts)


def test_the_docs_policy_allows_exactly_the_inline_styles_of_the_page(docs):
    blocks = re.findall(r"<style>(.*?)</style>", docs.content.decode(), re.S)
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(block.encode()).digest()).decode() + "'"
        for block in blocks
    ]

    assert directive(docs["Content-Security-Policy"], "style-src") == ["'self'", *hashes]


def test_the_docs_start_up_script_is_a_file_of_its_own(client, db):
    script = client.get(DOCS, {"script": ""})

    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()
