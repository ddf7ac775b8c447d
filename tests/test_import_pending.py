"""The import page's two steps: the uploaded file waits in a PendingImport of its uploader,
the session holds only its id (the session is saved on every request: a 5 MB file in it
cost every later request 0.5-1.2 s, issue 7 point 9), and confirming uses it up."""

from datetime import timedelta
from pathlib import Path

from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from submissions.models import PendingImport, ProjectText
from submissions.views import IMPORT_SESSION_KEY
from tests.factories import make_user
from workflow.states import Role

SAMPLE = Path(__file__).resolve().parents[2] / "shared/data/xinping-2025-org-dept-project-texts.txt"


def preview(client, data: bytes | None = None):
    upload = SimpleUploadedFile(SAMPLE.name, SAMPLE.read_bytes() if data is None else data)
    response = client.post("/texts/import/", {"step": "preview", "file": upload})
    assert response.status_code == 200, response.content.decode()
    return response


def confirm(client):
    return client.post("/texts/import/", {"step": "confirm"})


def stored_session(client) -> str:
    return Session.objects.get(session_key=client.session.session_key).session_data


def test_a_pending_import_keeps_only_its_id_in_the_session(cast, client):
    client.force_login(cast.org_drafter)
    before = len(stored_session(client))

    preview(client)  # 25 KB, which the session used to carry as 33 KB of base64

    (pending,) = PendingImport.objects.all()
    assert client.session[IMPORT_SESSION_KEY] == pending.pk
    assert len(stored_session(client)) < before + 100
    assert (pending.owner, pending.filename) == (cast.org_drafter, SAMPLE.name)
    assert bytes(pending.data) == SAMPLE.read_bytes()


def test_confirming_uses_up_the_pending_import(cast, client):
    client.force_login(cast.org_drafter)
    preview(client)

    assert confirm(client).status_code == 303

    assert ProjectText.objects.count() == 2
    assert not PendingImport.objects.exists()
    assert IMPORT_SESSION_KEY not in client.session


def test_confirming_takes_only_the_uploaders_own_pending_import(cast, client):
    client.force_login(cast.org_drafter)
    preview(client)
    (theirs,) = PendingImport.objects.all()
    other = make_user("org_drafter_2", Role.DRAFTER, cast.org)
    other_client = Client()
    other_client.force_login(other)
    session = other_client.session
    session[IMPORT_SESSION_KEY] = theirs.pk  # as if another's id had got into the session
    session.save()

    response = confirm(other_client)

    assert response.status_code == 400
    assert "没有待导入的文件" in response.content.decode()
    assert not ProjectText.objects.exists()
    assert PendingImport.objects.filter(pk=theirs.pk).exists()
    assert confirm(client).status_code == 303  # the uploader's own still works


def test_a_new_upload_replaces_the_uploaders_earlier_pending_import(cast, client):
    client.force_login(cast.org_drafter)
    preview(client)
    first = PendingImport.objects.get()

    preview(client)

    (second,) = PendingImport.objects.all()
    assert second.pk != first.pk
    assert client.session[IMPORT_SESSION_KEY] == second.pk


def test_pending_imports_older_than_a_session_go_with_the_next_upload(cast, client, settings):
    age = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    stale = PendingImport.objects.create(
        owner=cast.edu_drafter, filename="old.txt", data=b"x", created_at=timezone.now() - age
    )
    recent = PendingImport.objects.create(
        owner=cast.edu_drafter,
        filename="new.txt",
        data=b"x",
        created_at=timezone.now() - age + timedelta(minutes=5),
    )
    client.force_login(cast.org_drafter)

    preview(client)

    assert not PendingImport.objects.filter(pk=stale.pk).exists()
    assert PendingImport.objects.filter(pk=recent.pk).exists()


def test_a_refused_confirmation_uses_up_the_pending_import_too(cast, client):
    # The preview does not check the department; the confirmation does, and shows the
    # upload form again: the file is not kept for another try.
    client.force_login(cast.edu_drafter)
    preview(client)

    refused = confirm(client)

    assert refused.status_code == 400
    assert "编制人" in refused.content.decode()
    assert not PendingImport.objects.exists()
    assert confirm(client).status_code == 400
    assert not ProjectText.objects.exists()


def test_a_session_from_before_holding_the_file_itself_is_asked_to_upload_again(cast, client):
    client.force_login(cast.org_drafter)
    session = client.session
    session[IMPORT_SESSION_KEY] = {"name": "texts.txt", "data": "5LiA"}
    session.save()

    response = confirm(client)

    assert response.status_code == 400
    assert "请重新上传" in response.content.decode()
    assert IMPORT_SESSION_KEY not in client.session
