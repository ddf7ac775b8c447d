"""How texts, revisions and audit events look in JSON. Output only: input is checked by the
workflow service, so that its rules hold for the API, the pages and the commands alike."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from submissions.checks import CODES, content_of, warnings_for
from submissions.models import (
    AMOUNT_MAX_DIGITS,
    AMOUNT_PLACES,
    Category,
    Department,
    Novelty,
    ProjectText,
    Revision,
)
from submissions.sections import READING_ORDER, STRUCTURED_FIELDS
from submissions.templatetags.budget import text_state
from workflow.models import Decision

SECTION_OUTPUT = READING_ORDER
# The prose, then the project data, targets and tables (DESIGN.md additions in README).
CONTENT_OUTPUT = (*READING_ORDER, *STRUCTURED_FIELDS)


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["code", "name"]


class TextSerializer(serializers.ModelSerializer):
    department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    state_display = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    amount = serializers.DecimalField(
        max_digits=AMOUNT_MAX_DIGITS, decimal_places=AMOUNT_PLACES, read_only=True
    )

    def get_state_display(self, text: ProjectText) -> str:
        return text_state(text)

    class Meta:
        model = ProjectText
        fields = [
            "id",
            "department",
            "department_name",
            *CONTENT_OUTPUT,
            "state",
            "state_display",
            "version",
            "revision",
            "created_by",
            "created_at",
            "updated_at",
            "entered_state_at",
        ]
        read_only_fields = fields


class CheckSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=[(code, code) for code in CODES])
    message = serializers.CharField()
    places = serializers.ListField(child=serializers.CharField())


class TextDetailSerializer(TextSerializer):
    available_actions = serializers.SerializerMethodField()
    stage_progress = serializers.SerializerMethodField()
    checks = serializers.SerializerMethodField()

    class Meta(TextSerializer.Meta):
        fields = [*TextSerializer.Meta.fields, "available_actions", "stage_progress", "checks"]
        read_only_fields = fields

    @extend_schema_field(CheckSerializer(many=True))
    def get_checks(self, text: ProjectText) -> list[dict]:
        """The consistency warnings (submissions.checks) for the text as it stands."""
        return [warning.as_json() for warning in warnings_for(content_of(text))]

    def get_available_actions(self, text: ProjectText) -> list[str]:
        return self.context["available_actions"]

    def get_stage_progress(self, text: ProjectText) -> dict | None:
        return self.context.get("stage_progress")


def _label(model: type, name: str) -> str:
    return model._meta.get_field(name).verbose_name


# Its fields are declared, not read off the model: a ModelSerializer inspects the model each
# time it is made, which cost an action's answer three times what writing it costs.
class ActionResultSerializer(serializers.Serializer):
    """What an action answers (issue 12): what a client needs to go on (the new state and
    version, what it may do next, the stage's progress), not the whole text (GET it)."""

    id = serializers.IntegerField(read_only=True)
    department = serializers.CharField(
        source="department.code", read_only=True, label=_label(Department, "code")
    )
    title = serializers.CharField(read_only=True, label=_label(ProjectText, "title"))
    amount = serializers.DecimalField(
        max_digits=AMOUNT_MAX_DIGITS, decimal_places=AMOUNT_PLACES, read_only=True
    )
    state = serializers.CharField(read_only=True, label=_label(ProjectText, "state"))
    state_display = serializers.SerializerMethodField()
    version = serializers.IntegerField(read_only=True, label=_label(ProjectText, "version"))
    revision = serializers.IntegerField(read_only=True, label=_label(ProjectText, "revision"))
    available_actions = serializers.SerializerMethodField()
    stage_progress = serializers.SerializerMethodField()

    def get_state_display(self, text: ProjectText) -> str:
        return text_state(text)

    def get_available_actions(self, text: ProjectText) -> list[str]:
        return self.context["available_actions"]

    def get_stage_progress(self, text: ProjectText) -> dict | None:
        return self.context.get("stage_progress")


class TextWriteSerializer(serializers.Serializer):
    """Documents the body of create and edit for the schema; the service validates it."""

    department = serializers.CharField(required=False, help_text="department code, e.g. org")
    version = serializers.IntegerField(required=False, help_text="edit only: the version seen")
    title = serializers.CharField(required=False)
    basis = serializers.CharField(required=False)
    implementer = serializers.CharField(required=False)
    overview = serializers.CharField(required=False)
    content = serializers.CharField(required=False)
    funding = serializers.CharField(required=False)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, required=False)
    plan = serializers.CharField(required=False)
    outcomes = serializers.CharField(required=False)
    fiscal_year = serializers.IntegerField(required=False)
    project_code = serializers.CharField(required=False, allow_blank=True)
    category = serializers.ChoiceField(choices=Category.choices, required=False, allow_blank=True)
    novelty = serializers.ChoiceField(choices=Novelty.choices, required=False, allow_blank=True)
    start_date = serializers.DateField(required=False, allow_null=True)
    end_date = serializers.DateField(required=False, allow_null=True)
    contact_person = serializers.CharField(required=False, allow_blank=True)
    contact_phone = serializers.CharField(required=False, allow_blank=True)
    for_publication = serializers.BooleanField(required=False)
    target_overall = serializers.CharField(required=False, allow_blank=True)
    target_annual = serializers.CharField(required=False, allow_blank=True)
    basis_documents = serializers.ListField(child=serializers.DictField(), required=False)
    breakdown = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="rows of item, amount, basis, source; the amount becomes their total "
        "when the body carries no amount",
    )
    yearly_amounts = serializers.ListField(child=serializers.DictField(), required=False)
    indicators = serializers.ListField(child=serializers.DictField(), required=False)
    milestones = serializers.ListField(child=serializers.DictField(), required=False)


class ActionSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    comment = serializers.CharField(required=False, allow_blank=True)
    section = serializers.CharField(required=False, allow_blank=True)
    on_behalf_of = serializers.CharField(
        required=False, help_text="a delegate acting for several people: whom this is for"
    )
    user = serializers.CharField(required=False, help_text="add_signer: whom to add")


class DecisionSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username")
    on_behalf_of = serializers.CharField(
        source="on_behalf_of.username", default=None, allow_null=True
    )

    class Meta:
        model = Decision
        fields = [
            "stage",
            "action",
            "actor",
            "on_behalf_of",
            "lane",
            "comment",
            "section",
            "decided_at",
        ]


class RevisionSerializer(serializers.ModelSerializer):
    submitted_by = serializers.CharField(source="submitted_by.username")
    decisions = DecisionSerializer(many=True)
    amount = serializers.DecimalField(max_digits=AMOUNT_MAX_DIGITS, decimal_places=AMOUNT_PLACES)

    class Meta:
        model = Revision
        fields = ["number", *CONTENT_OUTPUT, "submitted_by", "submitted_at", "decisions"]
