"""The workflow and delegation endpoints of DESIGN.md ("Routing as data", "Delegation")."""

from datetime import timedelta

from django.utils import timezone

from tests.factories import make_user
from tests.routing import load
from workflow.models import Delegation, WorkflowVersion
from workflow.services import load_workflow


def test_workflows_are_listed_with_their_versions(cast, api):
    load("county.yaml")

    [workflow] = api(cast.org_drafter).get("/api/v1/workflows/").json()["results"]

    assert (workflow["code"], workflow["current_version"]) == ("budget-text", 2)
    assert [v["number"] for v in workflow["versions"]] == [2, 1]
    assert workflow["versions"][0]["stages"] == [
        "dept_review",
        "finance_review",
        "county_review",
        "approval",
    ]


def test_a_versions_document_is_served_as_stored(cast, api):
    load("county.yaml")

    document = api(cast.org_drafter).get("/api/v1/workflows/budget-text/versions/2/").json()

    assert document == WorkflowVersion.objects.get(number=2).document


def test_a_served_document_loads_again_as_the_same_chain(cast, api):
    load("county.yaml")
    document = api(cast.org_drafter).get("/api/v1/workflows/budget-text/versions/2/").json()

    version = load_workflow(actor=None, source=document)

    assert (version.number, version.document) == (3, document)


def test_an_unknown_workflow_or_version_is_404(cast, api):
    client = api(cast.org_drafter)

    assert client.get("/api/v1/workflows/nothing/versions/1/").status_code == 404
    assert client.get("/api/v1/workflows/budget-text/versions/9/").status_code == 404


def test_the_workflows_need_a_signed_in_user(cast, api):
    assert api().get("/api/v1/workflows/").status_code == 401


def days(n: int) -> str:
    return (timezone.localdate() + timedelta(days=n)).isoformat()


def give(api, user, **body):
    data = {"to": "deputy", "starts": days(0), "ends": days(2), "reason": "出差", **body}
    return api(user).post("/api/v1/delegations/", data, format="json")


def test_a_delegation_is_given_with_201_and_its_shape(cast, api):
    make_user("deputy")

    response = give(api, cast.approver)

    assert response.status_code == 201
    body = response.json()
    assert body == {
        "id": body["id"],
        "from": "approver",
        "to": "deputy",
        "starts": days(0),
        "ends": days(2),
        "roles": ["approver"],
        "reason": "出差",
        "active": True,
    }


def test_delegations_given_and_received_are_listed(cast, api):
    make_user("deputy")
    give(api, cast.approver)

    given = api(cast.approver).get("/api/v1/delegations/").json()["results"]
    received = api(make_user("deputy")).get("/api/v1/delegations/").json()["results"]
    stranger = api(cast.finance).get("/api/v1/delegations/").json()["results"]

    assert len(given) == len(received) == 1
    assert stranger == []


def test_a_delegation_is_revoked_with_204_and_is_no_longer_active(cast, api):
    make_user("deputy")
    delegation_id = give(api, cast.approver).json()["id"]

    response = api(cast.approver).delete(f"/api/v1/delegations/{delegation_id}/")

    assert response.status_code == 204
    [listed] = api(cast.approver).get("/api/v1/delegations/").json()["results"]
    assert listed["active"] is False


def test_revoking_twice_is_409(cast, api):
    make_user("deputy")
    delegation_id = give(api, cast.approver).json()["id"]
    api(cast.approver).delete(f"/api/v1/delegations/{delegation_id}/")

    assert api(cast.approver).delete(f"/api/v1/delegations/{delegation_id}/").status_code == 409


def test_someone_elses_delegation_cannot_be_revoked(cast, api):
    make_user("deputy")
    delegation_id = give(api, cast.approver).json()["id"]

    response = api(cast.finance).delete(f"/api/v1/delegations/{delegation_id}/")

    assert response.status_code == 404
    assert Delegation.objects.get(pk=delegation_id).revoked_at is None


# 三员分立 (issue 11): the security administrator, no longer the superuser "admin".
def test_an_administrator_may_revoke_a_delegation(cast, api, security_admin):
    make_user("deputy")
    delegation_id = give(api, cast.approver).json()["id"]

    assert api(security_admin).delete(f"/api/v1/delegations/{delegation_id}/").status_code == 204


def test_bad_delegations_are_400_naming_the_field(cast, api):
    make_user("deputy")
    cases = {
        "to": {"to": "approver"},
        "ends": {"starts": days(3), "ends": days(1)},
        "starts": {"starts": "tomorrow"},
        "roles": {"roles": ["auditor"]},
    }
    for field, body in cases.items():
        response = give(api, cast.approver, **body)
        assert response.status_code == 400, field
        assert field in response.json(), field
    assert not Delegation.objects.exists()
