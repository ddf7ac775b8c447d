"""How texts, revisions and audit events look in JSON. Output only: input is checked by the
workflow service, so that its rules hold for the API, the pages and the commands alike."""

from rest_framework import serializers

from submissions.models import AMOUNT_MAX_DIGITS, AMOUNT_PLACES, Department, ProjectText, Revision
from submissions.sections import READING_ORDER
from submissions.templatetags.budget import text_state
from workflow.models import Decision

SECTION_OUTPUT = READING_ORDER


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
            *SECTION_OUTPUT,
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


class TextDetailSerializer(TextSerializer):
    available_actions = serializers.SerializerMethodField()
    stage_progress = serializers.SerializerMethodField()

    class Meta(TextSerializer.Meta):
        fields = [*TextSerializer.Meta.fields, "available_actions", "stage_progress"]
        read_only_fields = fields

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
        fields = ["number", *SECTION_OUTPUT, "submitted_by", "submitted_at", "decisions"]
