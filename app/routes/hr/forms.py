"""HR's forms: exams, panels and their staff, the candidate list upload, notices, question sets.

Times are typed in Beijing time and kept as aware UTC (BeijingDateTimeField).
"""

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    Field,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, DateTimeLocalInput, ListWidget

from app.faces.stills import INTERVAL_DEFAULT as FACE_INTERVAL_DEFAULT
from app.faces.stills import INTERVAL_MIN as FACE_INTERVAL_MIN
from app.models import ExamKind
from app.setup.exams import SCHEDULE_FIELDS, schedule_problems
from app.timeutil import format_beijing, parse_beijing


class BeijingDateTimeField(Field):
    """A moment typed in Beijing time into <input type=datetime-local>, kept as aware UTC."""

    widget = DateTimeLocalInput()

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        return format_beijing(self.data, "%Y-%m-%dT%H:%M") if self.data else ""

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and not valuelist[0].strip():
            # Blank is missing: InputRequired looks at raw_data, and would let "  " through to
            # validate() as a date of None.
            self.raw_data = []
        elif valuelist:
            try:
                self.data = parse_beijing(valuelist[0])
            except ValueError:
                raise ValueError(_l("Expected YYYY-MM-DD HH:MM.")) from None


KIND_CHOICES = [
    SelectChoice(ExamKind.FORMAL.value, _l("Formal interview")),
    SelectChoice(ExamKind.MOCK.value, _l("Mock interview")),
]
SCORING_RULE_CHOICES = [
    SelectChoice("trimmed", _l("trimmed mean")),
    SelectChoice("plain", _l("plain mean")),
]
DECIMALS_CHOICES = [SelectChoice("2", _l("2 decimals")), SelectChoice("1", _l("1 decimal"))]
PUBLISH_CHOICES = [
    SelectChoice("instant", _l("instant")),
    SelectChoice("hold", _l("HR publishes later")),
]
TRIM_BASIS_CHOICES = [
    SelectChoice("0", _l("on the totals")),
    SelectChoice("1", _l("per dimension")),
]
TIE_RULE_CHOICES = [
    SelectChoice("tied", _l("equal scores share a rank")),
    SelectChoice("first_dimension", _l("ties broken by the first dimension")),
]
NO_CHOICE = SelectChoice("0", _l("— none —"))


def _trim_basis(value) -> bool:
    """Exam.trim_per_dimension from the form's "0"/"1" (or the stored bool); anything else is
    refused rather than read as "on the totals"."""
    if value in (True, "1", "True"):
        return True
    if value in (False, "0", "False"):
        return False
    raise ValueError(value)


REQUIRED = _l("Required.")
# Ten years: longer is not a retention period, and a typo of 36500 would read as "for ever".
RETENTION_MAX_DAYS = 3650


def _required(message=REQUIRED):
    return InputRequired(message=message)


class ExamForm(FlaskForm):
    name = StringField(
        lazy_pgettext("exam or panel", "Name"), validators=[DataRequired(), Length(max=200)]
    )
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES, default=ExamKind.FORMAL.value)
    formal_exam_id = SelectField(
        _l("Formal exam (mock only)"), coerce=int, choices=[NO_CHOICE], default=0
    )
    # The schedule (SPEC "The exam's schedule"): times given as minutes are kept as minutes, so
    # that moving the start moves them (app/setup/exams.derive_schedule).
    starts_at = BeijingDateTimeField(
        _l("Exam starts (Beijing time)"),
        validators=[_required(_l("Required: the time the exam starts."))],
    )
    login_lead_minutes = IntegerField(
        _l("Login opens N min before the start"),
        validators=[Optional(), NumberRange(min=0, max=1440)],
    )
    login_opens_at = BeijingDateTimeField(
        _l("Or: login opens at (Beijing time)"), validators=[Optional()]
    )
    login_closes_at = BeijingDateTimeField(
        _l("Login closes (Beijing time)"), validators=[_required()]
    )
    # Every seed has one (e.g. 8:10, or start + 3 min): without it nobody would become absent,
    # no lot would be assigned and the chief could call before everyone had drawn.
    entry_cutoff_minutes = IntegerField(
        _l("Entry cut-off, minutes after the start"),
        validators=[Optional(), NumberRange(min=0, max=600)],
    )
    entry_cutoff_at = BeijingDateTimeField(
        _l("Or: entry cut-off at (Beijing time)"), validators=[Optional()]
    )
    waiting_opens_minutes = IntegerField(
        _l("Waiting room opens N min before the start"),
        validators=[Optional(), NumberRange(min=0, max=1440)],
        default=10,
    )
    confirm_opens_at = BeijingDateTimeField(
        _l("Confirmation opens (Beijing time)"), validators=[Optional()]
    )
    confirm_deadline_at = BeijingDateTimeField(
        _l("Confirm deadline (Beijing time)"), validators=[Optional()]
    )
    minutes_per_candidate = IntegerField(
        _l("Minutes per candidate (interview)"),
        validators=[_required(), NumberRange(min=1, max=120)],
        default=10,
    )
    reading_minutes = IntegerField(
        _l("Reading minutes"),
        validators=[_required(), NumberRange(min=0, max=30)],
        default=0,
    )
    call_accept_seconds = IntegerField(
        _l("Call accept seconds"),
        validators=[_required(), NumberRange(min=10, max=600)],
        default=60,
    )
    scoring_rule = SelectField(_l("Scoring rule"), choices=SCORING_RULE_CHOICES, default="trimmed")
    trim_min_examiners = IntegerField(
        _l("Trim from this many examiners"),
        validators=[_required(), NumberRange(min=3, max=15)],
        default=5,
    )
    trim_per_dimension = SelectField(
        _l("Trim on"),
        coerce=_trim_basis,
        choices=TRIM_BASIS_CHOICES,
        default="0",
    )
    score_decimals = SelectField(_l("Decimals"), coerce=int, choices=DECIMALS_CHOICES, default=2)
    tie_rule = SelectField(_l("Ties in ranking"), choices=TIE_RULE_CHOICES, default="tied")
    publish_mode = SelectField(_l("Publishing"), choices=PUBLISH_CHOICES, default="instant")
    requires_second_camera = BooleanField(_l("Second camera required"))
    requires_id_photo = BooleanField(_l("ID photo required"))
    requires_mock = BooleanField(_l("Mock interview required (formal exams)"))
    # Off: 本次考试不允许迟到和提前交卷 (SEED 004), the countdown alone ends the interview.
    allow_early_finish = BooleanField(_l("Candidates may end early"), default=True)
    # 候考随机检查 (SEED 003): the waiting room's supervision call, recorded from the console.
    record_waiting_room = BooleanField(_l("Record the waiting room"))
    # Retention (PIPL): days after the login closes; blank keeps everything.
    retain_recordings_days = IntegerField(
        _l("Keep recordings (days after the login closes)"),
        validators=[Optional(), NumberRange(min=0, max=RETENTION_MAX_DAYS)],
    )
    retain_id_photos_days = IntegerField(
        _l("Keep ID photos (days after the login closes)"),
        validators=[Optional(), NumberRange(min=0, max=RETENTION_MAX_DAYS)],
    )
    retain_evidence_days = IntegerField(
        _l("Keep face-check and evidence images (days after the login closes)"),
        validators=[Optional(), NumberRange(min=0, max=RETENTION_MAX_DAYS)],
    )
    # 人脸核验 (app/faces/): the purpose is what candidates read in the notice they accept.
    face_checks = BooleanField(_l("Face checks (compare the camera with the ID photo)"))
    face_check_purpose = TextAreaField(
        _l("Purpose told to candidates"), validators=[Length(max=500)]
    )
    face_check_interval_seconds = IntegerField(
        _l("A still every N seconds in the interview and the rest room (0 = off)"),
        # Optional: a form from before the setting (or a script) keeps the default.
        validators=[Optional(), NumberRange(min=0, max=600)],
        default=FACE_INTERVAL_DEFAULT,
    )
    submit = SubmitField(_l("Save"))

    def validate_face_check_interval_seconds(self, field):
        if field.data and field.data < FACE_INTERVAL_MIN:
            raise ValidationError(_l("At least %(n)s seconds, or 0 for none.", n=FACE_INTERVAL_MIN))

    def validate_face_check_purpose(self, field):
        field.data = plain_text(field.data)
        if self.face_checks.data and not field.data:
            raise ValidationError(_l("Say what the face checks are for: candidates read it."))

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.face_check_interval_seconds.data is None:
            self.face_check_interval_seconds.data = FACE_INTERVAL_DEFAULT
        values = {name: getattr(self, name).data for name in SCHEDULE_FIELDS}
        kept = getattr(self, "stored_cutoff", None)
        for name, message in schedule_problems(values, stored_cutoff=kept).items():
            getattr(self, name).errors.append(message)
        return not any(field.errors for field in self)

    def show_minutes_not_times(self, exam) -> None:
        """On the edit page, a time derived from minutes is left blank: the minutes are what HR
        gave, and a re-save must not find both filled in."""
        if exam.login_lead_minutes is not None:
            self.login_opens_at.data = None
        if exam.entry_cutoff_minutes is not None:
            self.entry_cutoff_at.data = None


class PanelForm(FlaskForm):
    name = StringField(_l("Name (e.g. Panel 1)"), validators=[DataRequired(), Length(max=100)])
    submit = SubmitField(_l("Save"))


class PanelStaffForm(FlaskForm):
    name = StringField(
        lazy_pgettext("exam or panel", "Name"), validators=[DataRequired(), Length(max=100)]
    )
    examiners = SelectMultipleField(
        _l("Examiners"),
        coerce=int,
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    chief = SelectField(_l("Chief examiner"), coerce=int, choices=[NO_CHOICE], default=0)
    assistants = SelectMultipleField(
        _l("Interview assistants"),
        coerce=int,
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    submit = SubmitField(_l("Save"))

    def validate_chief(self, field):
        if field.data and field.data not in (self.examiners.data or []):
            raise ValidationError(_l("The chief must be one of the panel's examiners."))

    def validate_assistants(self, field):
        if set(field.data or []) & set(self.examiners.data or []):
            raise ValidationError(_l("Nobody can be examiner and assistant."))


class ImportForm(FlaskForm):
    file = FileField(
        _l("Candidate list (CSV / XLSX)"),
        validators=[
            # The type is judged by the import itself, from the bytes: Excel files get renamed.
            FileRequired(message=_l("Choose a file.")),
        ],
    )
    submit = SubmitField(_l("Import the list"))


class NoticeForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=20000)])
    position = IntegerField(
        _l("Order"), validators=[_required(), NumberRange(min=0, max=999)], default=0
    )
    submit = SubmitField(_l("Save"))


class QuestionSetForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    panel_id = SelectField(_l("For panel"), coerce=int, choices=[], default=0)
    body = TextAreaField(_l("Questions"), validators=[DataRequired(), Length(max=20000)])
    scoring_guide = TextAreaField(_l("Scoring guide"), validators=[Length(max=20000)])
    position = IntegerField(
        _l("Order"), validators=[_required(), NumberRange(min=0, max=999)], default=0
    )
    submit = SubmitField(_l("Save"))


def plain_text(value: str | None) -> str:
    # Browsers send textarea line breaks as CRLF; store them as the candidate page shows them.
    return (value or "").replace("\r\n", "\n").strip()
