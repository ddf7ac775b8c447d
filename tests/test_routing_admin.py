"""The admin's workflow versions: each drawn as a diagram, and publishing a new version
with the same validation as `load_workflow`."""

from tests.factories import make_user, sign_in_with_code
from tests.routing import DOCUMENTS
from workflow.models import WorkflowVersion

COUNTY = (DOCUMENTS / "county.yaml").read_text(encoding="utf-8")
PUBLISH = "/admin/workflow/workflowversion/publish/"


def test_a_versions_page_shows_its_diagram_and_stages(cast, client):
    client.force_login(cast.admin)
    version = WorkflowVersion.objects.get(workflow__code="budget-text", number=1)

    html = client.get(f"/admin/workflow/workflowversion/{version.pk}/change/").content.decode()

    assert "<svg" in html
    for name in ("部门审核", "财政审核", "待审批"):
        assert name in html


def test_the_versions_list_offers_publishing_to_an_administrator(cast, client):
    client.force_login(cast.admin)

    html = client.get("/admin/workflow/workflowversion/").content.decode()

    assert PUBLISH in html


def test_publishing_a_valid_document_creates_the_next_version(cast, client):
    client.force_login(cast.admin)

    response = client.post(PUBLISH, {"document": COUNTY})

    version = WorkflowVersion.objects.get(workflow__code="budget-text", number=2)
    assert response.status_code == 302
    assert response["Location"].endswith(f"/{version.pk}/change/")
    assert version.created_by == cast.admin


def test_publishing_an_invalid_document_names_the_field_and_creates_nothing(cast, client):
    client.force_login(cast.admin)
    duplicate = COUNTY.replace("code: county_review", "code: finance_review")

    response = client.post(PUBLISH, {"document": duplicate})

    assert response.status_code == 400
    assert "stages[2].code" in response.content.decode()
    assert WorkflowVersion.objects.count() == 1


def test_staff_who_are_not_administrators_cannot_publish(cast, client):
    clerk = make_user("clerk", is_staff=True)
    sign_in_with_code(client, clerk)

    response = client.post(PUBLISH, {"document": COUNTY})

    assert response.status_code == 403
    assert WorkflowVersion.objects.count() == 1
