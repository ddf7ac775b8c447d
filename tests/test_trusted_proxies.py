"""Client addresses behind the reverse proxy (issue 11, second point): no forwarded-for
header is believed unless REMOTE_ADDR is one of TRUSTED_PROXIES; then the client is the
right-most hop that is not a trusted proxy. The same address reaches the throttle and the
audit log; a malformed header falls back to REMOTE_ADDR, never a 500."""

import subprocess
import sys

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory

from config.addresses import client_address
from tests.factories import PASSWORD
from workflow import audit
from workflow.models import AuditEvent

PROXY = "10.0.0.5"
CLIENT = "203.0.113.7"


def request(remote: str = PROXY, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXIES = [PROXY, "10.1.0.0/16"]


def test_by_default_a_forwarded_for_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []

    assert client_address(request(PROXY, forwarded=CLIENT)) == PROXY


def test_behind_a_trusted_proxy_the_client_is_the_hop_it_appended(behind_proxy):
    assert client_address(request(PROXY, forwarded=CLIENT)) == CLIENT


def test_a_hop_the_client_wrote_itself_is_never_believed(behind_proxy):
    assert client_address(request(PROXY, forwarded=f"198.51.100.1, {CLIENT}")) == CLIENT


def test_trusted_proxies_in_a_chain_are_skipped_from_the_right(behind_proxy):
    forwarded = f"198.51.100.1, {CLIENT}, 10.1.4.4"

    assert client_address(request(PROXY, forwarded=forwarded)) == CLIENT


def test_a_request_not_from_a_trusted_proxy_keeps_its_own_address(behind_proxy):
    assert client_address(request("192.0.2.50", forwarded=CLIENT)) == "192.0.2.50"


def test_a_trusted_proxy_without_a_header_is_the_client(behind_proxy):
    assert client_address(request(PROXY)) == PROXY


@pytest.mark.parametrize(
    "forwarded",
    ["unknown", "not an address, ", "1.2.3.4.5", "[::1", "\x00", "999.1.1.1", "a" * 5000],
)
def test_a_malformed_header_falls_back_to_the_proxys_address(behind_proxy, forwarded):
    assert client_address(request(PROXY, forwarded=forwarded)) == PROXY


@pytest.mark.parametrize(
    ("hop", "expected"),
    [
        ("203.0.113.7:51234", CLIENT),
        ("[2001:db8::7]:443", "2001:db8::7"),
        ("2001:db8::7", "2001:db8::7"),
    ],
)
def test_ports_and_ipv6_hops_are_read(behind_proxy, hop, expected):
    assert client_address(request(PROXY, forwarded=hop)) == expected


def test_a_bad_trusted_proxies_setting_stops_the_start_naming_the_entry():
    run = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        env={"TRUSTED_PROXIES": "10.0.0.1, 10.0.0.300", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )

    assert run.returncode != 0
    assert "10.0.0.300" in run.stderr


# --- the throttle and the audit log use it ---------------------------------------------------


def login(client, password: str, forwarded: str):
    return client.post(
        "/accounts/login/",
        {"username": "finance", "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


def test_behind_the_proxy_the_throttle_counts_the_clients_address(cast, client, behind_proxy):
    login(client, "wrong", CLIENT)

    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [CLIENT]


def test_behind_the_proxy_one_client_is_not_locked_out_by_another(cast, client, behind_proxy):
    for _ in range(5):
        login(client, "wrong", "198.51.100.66")

    assert login(client, PASSWORD, CLIENT).status_code == 302


def test_the_audit_records_the_clients_address_behind_the_proxy(cast, client, behind_proxy):
    login(client, "wrong", f"198.51.100.1, {CLIENT}")

    event = AuditEvent.objects.filter(stream=audit.user_stream(cast.finance.pk)).last()
    assert (event.action, event.detail["address"]) == ("sign_in_failed", CLIENT)


def test_without_trusted_proxies_a_spoofed_header_reaches_neither(cast, client, settings):
    settings.TRUSTED_PROXIES = []

    login(client, "wrong", CLIENT)

    event = AuditEvent.objects.filter(stream=audit.user_stream(cast.finance.pk)).last()
    assert event.detail["address"] == PROXY
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [PROXY]
