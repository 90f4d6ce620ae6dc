"""HR's forms: exams, panels and their staff, the candidate list upload, notices, question sets.

Times are typed in Beijing time and kept as aware UTC (BeijingDateTimeField).
"""

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
                raise ValueError("请按 年-月-日 时:分 填写。 Expected YYYY-MM-DD HH:MM.") from None


KIND_CHOICES = [
    SelectChoice(ExamKind.FORMAL.value, "正式面试 formal"),
    SelectChoice(ExamKind.MOCK.value, "模拟面试 mock"),
]
SCORING_RULE_CHOICES = [
    SelectChoice("trimmed", "去掉一个最高分和一个最低分后平均 trimmed mean"),
    SelectChoice("plain", "直接平均 plain mean"),
]
DECIMALS_CHOICES = [SelectChoice("2", "2 位 2 decimals"), SelectChoice("1", "1 位 1 decimal")]
PUBLISH_CHOICES = [
    SelectChoice("instant", "主考官确认后当场公布 instant"),
    SelectChoice("hold", "由考务统一公布 HR publishes later"),
]
TRIM_BASIS_CHOICES = [
    SelectChoice("0", "按总分去高去低 on the totals"),
    SelectChoice("1", "各评分要素分别去高去低 per dimension"),
]
TIE_RULE_CHOICES = [
    SelectChoice("tied", "同分同名次 equal scores share a rank"),
    SelectChoice(
        "first_dimension", "同分按第一个评分要素平均分排序 ties broken by the first dimension"
    ),
]
NO_CHOICE = SelectChoice("0", "— 无 none —")


def _trim_basis(value) -> bool:
    """Exam.trim_per_dimension from the form's "0"/"1" (or the stored bool); anything else is
    refused rather than read as "on the totals"."""
    if value in (True, "1", "True"):
        return True
    if value in (False, "0", "False"):
        return False
    raise ValueError(value)


def _required(message: str = "必填 Required."):
    return InputRequired(message=message)


class ExamForm(FlaskForm):
    name = StringField("名称 Name", validators=[DataRequired(), Length(max=200)])
    kind = SelectField("类型 Kind", choices=KIND_CHOICES, default=ExamKind.FORMAL.value)
    formal_exam_id = SelectField(
        "对应的正式面试 Formal exam (mock only)", coerce=int, choices=[NO_CHOICE], default=0
    )
    # The schedule (SPEC "The exam's schedule"): times given as minutes are kept as minutes, so
    # that moving the start moves them (app/setup/exams.derive_schedule).
    starts_at = BeijingDateTimeField(
        "开考时间 Exam starts (北京时间)", validators=[_required("必填：开考时间。 Required.")]
    )
    login_lead_minutes = IntegerField(
        "提前登录（分钟） Login opens N min before the start",
        validators=[Optional(), NumberRange(min=0, max=1440)],
    )
    login_opens_at = BeijingDateTimeField(
        "或：登录开始 Or: login opens at (北京时间)", validators=[Optional()]
    )
    login_closes_at = BeijingDateTimeField(
        "登录结束 Login closes (北京时间)", validators=[_required()]
    )
    # Every seed has one (e.g. 8:10, or start + 3 min): without it nobody would become absent,
    # no lot would be assigned and the chief could call before everyone had drawn.
    entry_cutoff_minutes = IntegerField(
        "入场截止：开考后（分钟） Entry cut-off, minutes after the start",
        validators=[Optional(), NumberRange(min=0, max=600)],
    )
    entry_cutoff_at = BeijingDateTimeField(
        "或：入场截止时间 Or: entry cut-off at (北京时间)", validators=[Optional()]
    )
    waiting_opens_minutes = IntegerField(
        "等待室提前开放（分钟） Waiting room opens N min before the start",
        validators=[Optional(), NumberRange(min=0, max=1440)],
        default=10,
    )
    confirm_opens_at = BeijingDateTimeField(
        "确认期开始 Confirmation opens (北京时间)", validators=[Optional()]
    )
    confirm_deadline_at = BeijingDateTimeField(
        "确认截止 Confirm deadline (北京时间)", validators=[Optional()]
    )
    minutes_per_candidate = IntegerField(
        "每人面试时长（分钟） Minutes per candidate",
        validators=[_required(), NumberRange(min=1, max=120)],
        default=10,
    )
    reading_minutes = IntegerField(
        "看题时间（分钟，0 = 无） Reading minutes",
        validators=[_required(), NumberRange(min=0, max=30)],
        default=0,
    )
    call_accept_seconds = IntegerField(
        "呼叫接受时限（秒） Call accept seconds",
        validators=[_required(), NumberRange(min=10, max=600)],
        default=60,
    )
    scoring_rule = SelectField(
        "计分规则 Scoring rule", choices=SCORING_RULE_CHOICES, default="trimmed"
    )
    trim_min_examiners = IntegerField(
        "考官不少于几人时去高去低 Trim from this many examiners",
        validators=[_required(), NumberRange(min=3, max=15)],
        default=5,
    )
    trim_per_dimension = SelectField(
        "去高去低的对象 Trim on",
        coerce=_trim_basis,
        choices=TRIM_BASIS_CHOICES,
        default="0",
    )
    score_decimals = SelectField(
        "保留小数 Decimals", coerce=int, choices=DECIMALS_CHOICES, default=2
    )
    tie_rule = SelectField("同分排名 Ties in ranking", choices=TIE_RULE_CHOICES, default="tied")
    publish_mode = SelectField("成绩公布 Publishing", choices=PUBLISH_CHOICES, default="instant")
    requires_second_camera = BooleanField("需要辅机位 Second camera required")
    requires_id_photo = BooleanField("需要上传身份证照片 ID photo required")
    requires_mock = BooleanField("须参加模拟面试 Mock interview required (formal exams)")
    # Off: 本次考试不允许迟到和提前交卷 (SEED 004), the countdown alone ends the interview.
    allow_early_finish = BooleanField("允许提前结束面试 Candidates may end early", default=True)
    # 候考随机检查 (SEED 003): the waiting room's supervision call, recorded from the console.
    record_waiting_room = BooleanField("录制面试等待室 Record the waiting room")
    submit = SubmitField("保存 Save")

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
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
    name = StringField("名称 Name（如 第一考场）", validators=[DataRequired(), Length(max=100)])
    submit = SubmitField("保存 Save")


class PanelStaffForm(FlaskForm):
    name = StringField("名称 Name", validators=[DataRequired(), Length(max=100)])
    examiners = SelectMultipleField(
        "考官 Examiners",
        coerce=int,
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    chief = SelectField("主考官 Chief examiner", coerce=int, choices=[NO_CHOICE], default=0)
    assistants = SelectMultipleField(
        "面试助理 Assistants",
        coerce=int,
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    submit = SubmitField("保存 Save")

    def validate_chief(self, field):
        if field.data and field.data not in (self.examiners.data or []):
            raise ValidationError(
                "主考官必须是本组考官之一。 The chief must be one of the panel's examiners."
            )

    def validate_assistants(self, field):
        if set(field.data or []) & set(self.examiners.data or []):
            raise ValidationError(
                "同一人不能在本组既任考官又任助理。 Nobody can be examiner and assistant."
            )


class ImportForm(FlaskForm):
    file = FileField(
        "考生名单 Candidate list (CSV / XLSX)",
        validators=[
            # The type is judged by the import itself, from the bytes: Excel files get renamed.
            FileRequired(message="请选择文件。 Choose a file."),
        ],
    )
    submit = SubmitField("导入 Import")


class NoticeForm(FlaskForm):
    title = StringField("标题 Title", validators=[DataRequired(), Length(max=200)])
    body = TextAreaField("内容 Text", validators=[DataRequired(), Length(max=20000)])
    position = IntegerField(
        "顺序 Order", validators=[_required(), NumberRange(min=0, max=999)], default=0
    )
    submit = SubmitField("保存 Save")


class QuestionSetForm(FlaskForm):
    title = StringField("标题 Title", validators=[DataRequired(), Length(max=200)])
    panel_id = SelectField("适用考场 Panel", coerce=int, choices=[], default=0)
    body = TextAreaField("题目 Questions", validators=[DataRequired(), Length(max=20000)])
    scoring_guide = TextAreaField("评分参考 Scoring guide", validators=[Length(max=20000)])
    position = IntegerField(
        "顺序 Order", validators=[_required(), NumberRange(min=0, max=999)], default=0
    )
    submit = SubmitField("保存 Save")


def plain_text(value: str | None) -> str:
    # Browsers send textarea line breaks as CRLF; store them as the candidate page shows them.
    return (value or "").replace("\r\n", "\n").strip()
