"""The audit chain's digest and the checkpoints' signature are settings (issue 11, 密评):
SHA-256 by default, SM3 on request; each event and checkpoint stores the algorithm that made
it, so that a log that switched mid-way, even mid-stream, still verifies."""

import hashlib

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from tests.factories import act
from tests.tampering import CHECKPOINTS, EVENTS, tamper
from workflow import audit, digests
from workflow.models import AuditCheckpoint, AuditEvent


@pytest.fixture
def seal(django_capture_on_commit_callbacks):
    def run() -> AuditCheckpoint | None:
        with django_capture_on_commit_callbacks(execute=True):
            return audit.seal()

    return run


def stream_of(text) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(stream=audit.text_stream(text.pk)).order_by("seq"))


def test_sm3_gives_the_standard_test_vector_for_abc():
    assert digests.hexdigest("sm3", b"abc") == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )


def test_sha256_stays_the_default():
    assert digests.hexdigest("sha256", b"abc") == hashlib.sha256(b"abc").hexdigest()


def test_an_event_stores_the_algorithm_that_made_its_hash(cast, settings):
    settings.AUDIT_DIGEST = "sm3"

    [created] = stream_of(cast.text())

    assert created.digest == "sm3"
    assert created.hash == digests.hexdigest("sm3", audit.canonical_bytes(created))
    assert len(created.hash) == 64


def test_existing_events_keep_their_algorithm_after_a_switch(cast, settings):
    text = cast.text()
    settings.AUDIT_DIGEST = "sm3"

    act(cast.org_drafter, text, "submit")

    assert [e.digest for e in stream_of(text)] == ["sha256", "sm3"]


def test_a_log_that_switched_from_sha256_to_sm3_mid_stream_verifies(cast, settings, seal):
    text = cast.text()
    act(cast.org_drafter, text, "submit")
    seal()  # a SHA-256 checkpoint over SHA-256 events
    settings.AUDIT_DIGEST = "sm3"
    settings.AUDIT_SIGNATURE_DIGEST = "sm3"
    act(cast.org_reviewer, text, "return", comment="请补充")
    seal()  # an SM3 checkpoint chained to the SHA-256 one
    act(cast.org_drafter, text, "submit")

    result = audit.verify()

    assert {e.digest for e in stream_of(text)} == {"sha256", "sm3"}
    assert [(c.digest, c.signature_digest) for c in AuditCheckpoint.objects.all()] == [
        ("sha256", "sha256"),
        ("sm3", "sm3"),
    ]
    assert result.ok is True, result.detail
    call_command("verify_audit")


def test_a_tampered_sm3_event_is_caught(cast, settings):
    settings.AUDIT_DIGEST = "sm3"
    text = cast.text()
    act(cast.org_drafter, text, "submit")
    act(cast.org_reviewer, text, "return", comment="请补充")
    victim = stream_of(text)[-1]

    tamper(f"UPDATE {EVENTS} SET comment = %s WHERE id = %s", ["无意见", victim.pk])

    result = audit.verify()
    assert result.ok is False
    assert result.first_bad == victim.pk


def test_an_sm3_event_relabelled_sha256_is_caught(cast, settings):
    settings.AUDIT_DIGEST = "sm3"
    [victim] = stream_of(cast.text())

    tamper(f"UPDATE {EVENTS} SET digest = 'sha256' WHERE id = %s", [victim.pk])

    assert audit.verify().first_bad == victim.pk


def test_a_checkpoint_signed_with_hmac_sm3_verifies(cast, settings, seal):
    settings.AUDIT_DIGEST = "sm3"
    settings.AUDIT_SIGNATURE_DIGEST = "sm3"
    cast.text()

    checkpoint = seal()

    expected = digests.hmac_hexdigest("sm3", audit._signing_key(), checkpoint.hash.encode())
    assert checkpoint.signature == expected
    assert audit.verify().ok is True


def test_a_checkpoint_signature_checked_with_the_wrong_algorithm_fails(cast, settings, seal):
    settings.AUDIT_SIGNATURE_DIGEST = "sm3"
    cast.text()
    seal()

    tamper(f"UPDATE {CHECKPOINTS} SET signature_digest = 'sha256' WHERE seq = 1")

    result = audit.verify()
    assert result.ok is False
    assert "检查点 1 的签名无效" in result.detail


@pytest.mark.parametrize(
    ("setting", "check_id"),
    [("AUDIT_DIGEST", "workflow.E101"), ("AUDIT_SIGNATURE_DIGEST", "workflow.E102")],
)
def test_an_unknown_algorithm_fails_the_system_check(settings, setting, check_id):
    setattr(settings, setting, "md5")

    with pytest.raises(SystemCheckError, match=check_id):
        call_command("check")


def test_the_system_check_passes_with_sm3(settings):
    settings.AUDIT_DIGEST = "sm3"
    settings.AUDIT_SIGNATURE_DIGEST = "sm3"

    call_command("check")
