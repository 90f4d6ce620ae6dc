"""HR (人事/考务): exams, panels, candidates, codes, notices, questions, scores, exports.

Every change is one transaction together with its audit event; an edit records what it was
before and what it is after.
"""

from datetime import datetime

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError
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

from app import audit, db, htmx
from app.setup.codes import allocate_codes, conflicting_codes, lock_code_allocation
from app.decorators import guard_blueprint
from app.exports import download
from app.day.controls import ExamDayError, close_entry_now
from app.day.overview import candidate_list_version
from app.models import (
    Candidate,
    Exam,
    ExamKind,
    Notice,
    NoticeAck,
    Panel,
    PanelMember,
    PanelRole,
    QuestionSet,
    Role,
    User,
)
from app.models.candidate import MOVABLE, STATE_LABELS
from app.setup.panels import create_panel, set_panel_staff
from app.setup.roster import import_candidates
from app.scoring.sheets import is_frozen
from app.setup import slips
from app.day.consoles import fragment, not_modified
from app.timeutil import format_beijing, parse_beijing, utcnow

bp = Blueprint("hr", __name__, url_prefix="/hr")
guard_blueprint(bp, Role.HR, Role.ADMIN)

STALE_MESSAGE = (
    "考生状态刚刚发生变化，未保存任何更改，请刷新后重试。 "
    "A candidate changed meanwhile: nothing was saved, reload and try again."
)


# --- forms ------------------------------------------------------------------------------------


class BeijingDateTimeField(Field):
    """A moment typed in Beijing time into <input type=datetime-local>, kept as aware UTC."""

    widget = DateTimeLocalInput()

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        return format_beijing(self.data, "%Y-%m-%dT%H:%M") if self.data else ""

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0].strip():
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
    SelectChoice("first_dimension", "同分按第一个评分要素平均分排序 ties broken by the first dimension"),
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
    login_opens_at = BeijingDateTimeField("登录开始 Login opens (北京时间)", validators=[_required()])
    login_closes_at = BeijingDateTimeField("登录结束 Login closes (北京时间)", validators=[_required()])
    # Every seed has one (e.g. 8:10, or start + 3 min): without it nobody would become absent,
    # no lot would be assigned and the chief could call before everyone had drawn.
    entry_cutoff_at = BeijingDateTimeField(
        "入场截止 Entry cut-off (北京时间)",
        validators=[_required("必填：入场截止后未进入等待室者按缺考处理。 Required.")],
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
    scoring_rule = SelectField("计分规则 Scoring rule", choices=SCORING_RULE_CHOICES, default="trimmed")
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
    score_decimals = SelectField("保留小数 Decimals", coerce=int, choices=DECIMALS_CHOICES, default=2)
    tie_rule = SelectField("同分排名 Ties in ranking", choices=TIE_RULE_CHOICES, default="tied")
    publish_mode = SelectField("成绩公布 Publishing", choices=PUBLISH_CHOICES, default="instant")
    requires_second_camera = BooleanField("需要辅机位 Second camera required")
    requires_id_photo = BooleanField("需要上传身份证照片 ID photo required")
    requires_mock = BooleanField("须参加模拟面试 Mock interview required (formal exams)")
    submit = SubmitField("保存 Save")

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        opens, closes = self.login_opens_at.data, self.login_closes_at.data
        cutoff, confirm_by = self.entry_cutoff_at.data, self.confirm_deadline_at.data
        if opens >= closes:
            self.login_closes_at.errors.append("须晚于登录开始。 Must be after the login opens.")
        if cutoff is not None and not opens < cutoff <= closes:
            self.entry_cutoff_at.errors.append(
                "须在登录开始之后、登录结束之前（含）。 Must be after opening and not after closing."
            )
        if confirm_by is not None and confirm_by >= closes:
            self.confirm_deadline_at.errors.append(
                "须早于登录结束。 Must be before the login closes."
            )
        return not any(field.errors for field in self)


# Exam attributes the form edits, in the order the audit log lists them.
EXAM_FIELDS = [
    "name",
    "kind",
    "formal_exam_id",
    "login_opens_at",
    "login_closes_at",
    "entry_cutoff_at",
    "confirm_deadline_at",
    "minutes_per_candidate",
    "reading_minutes",
    "call_accept_seconds",
    "scoring_rule",
    "trim_min_examiners",
    "trim_per_dimension",
    "score_decimals",
    "tie_rule",
    "publish_mode",
    "requires_second_camera",
    "requires_id_photo",
    "requires_mock",
]


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
            raise ValidationError("主考官必须是本组考官之一。 The chief must be one of the panel's examiners.")

    def validate_assistants(self, field):
        if set(field.data or []) & set(self.examiners.data or []):
            raise ValidationError("同一人不能在本组既任考官又任助理。 Nobody can be examiner and assistant.")


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


def _plain_text(value: str | None) -> str:
    # Browsers send textarea line breaks as CRLF; store them as the candidate page shows them.
    return (value or "").replace("\r\n", "\n").strip()


# --- lookups ----------------------------------------------------------------------------------


def _exam_or_404(exam_id: int) -> Exam:
    return db.session.get(Exam, exam_id) or abort(404)


def _child_or_404(model, child_id: int, exam: Exam):
    child = db.session.get(model, child_id)
    if child is None or child.exam_id != exam.id:
        abort(404)
    return child


def _panels_with_staff(exam: Exam) -> list[Panel]:
    return list(
        db.session.scalars(
            select(Panel)
            .where(Panel.exam_id == exam.id)
            .options(
                selectinload(Panel.members).joinedload(PanelMember.user),
                joinedload(Panel.chief_examiner),
            )
            .order_by(Panel.id)
        )
    )


def _panel_list(exam: Exam) -> list[Panel]:
    query = select(Panel).where(Panel.exam_id == exam.id).order_by(Panel.id)
    return list(db.session.scalars(query))


def _jsonable(value):
    return value.isoformat() if isinstance(value, datetime) else value


# --- exams ------------------------------------------------------------------------------------


@bp.get("/exams")
def exams():
    rows = db.session.scalars(db.select(Exam).order_by(Exam.login_opens_at.desc())).all()
    return render_template("hr/exams.html", exams=rows)


def _exam_form(exam: Exam | None) -> ExamForm:
    form = ExamForm(obj=exam)
    formal = db.session.scalars(
        select(Exam).where(Exam.kind == ExamKind.FORMAL).order_by(Exam.login_opens_at.desc())
    ).all()
    form.formal_exam_id.choices = [NO_CHOICE] + [
        SelectChoice(str(e.id), f"{e.name}（{format_beijing(e.login_opens_at, '%Y-%m-%d')}）")
        for e in formal
        if exam is None or e.id != exam.id
    ]
    return form


def _apply_exam_form(form: ExamForm, exam: Exam) -> None:
    for name in EXAM_FIELDS:
        setattr(exam, name, getattr(form, name).data)
    if exam.kind != ExamKind.MOCK or not exam.formal_exam_id:
        exam.formal_exam_id = None
    if exam.kind == ExamKind.MOCK:
        exam.requires_mock = False  # a mock needs no mock of its own


def _exam_snapshot(exam: Exam) -> dict:
    return {name: _jsonable(getattr(exam, name)) for name in EXAM_FIELDS}


@bp.route("/exams/new", methods=["GET", "POST"])
def new_exam():
    form = _exam_form(None)
    if form.validate_on_submit():
        exam = Exam()
        _apply_exam_form(form, exam)
        db.session.add(exam)
        db.session.flush()
        audit.record("exam.created", exam_id=exam.id, after=_exam_snapshot(exam))
        db.session.commit()
        flash(f"已创建考试 {exam.name}。 Exam created.", "success")
        return redirect(url_for("hr.exam_detail", exam_id=exam.id))
    status = 400 if form.is_submitted() else 200
    return render_template("hr/exam_form.html", form=form, exam=None), status


@bp.route("/exams/<int:exam_id>/edit", methods=["GET", "POST"])
def edit_exam(exam_id: int):
    exam = _exam_or_404(exam_id)
    form = _exam_form(exam)
    if form.validate_on_submit():
        if form.kind.data == ExamKind.MOCK and db.session.scalar(
            select(Exam.id).where(Exam.formal_exam_id == exam.id).limit(1)
        ):
            form.kind.errors.append(
                "已有模拟面试关联本考试，不能改为模拟。 Mock exams link to this one: it stays formal."
            )
            return render_template("hr/exam_form.html", form=form, exam=exam), 400
        fixed = _scoring_changes_refused(form, exam)
        if fixed:
            return render_template("hr/exam_form.html", form=form, exam=exam,
                                   scoring_fixed=True), 400
        before = _exam_snapshot(exam)
        # Serialise with code allocation: an import into an overlapping exam must not hand out a
        # code between our check and our commit.
        lock_code_allocation()
        _apply_exam_form(form, exam)
        clashes = conflicting_codes(exam)
        if clashes:
            db.session.rollback()
            form.login_opens_at.errors.append(
                f"新的登录时间与其他考试重叠，且两场考试有 {len(clashes)} 个邀请码相同，未保存；"
                f"请选择不与其他考试重叠的时间。 The new window overlaps another exam that uses"
                f" {len(clashes)} of the same codes: nothing was saved."
            )
            return render_template("hr/exam_form.html", form=form, exam=exam), 400
        after = _exam_snapshot(exam)
        changed = [name for name in EXAM_FIELDS if before[name] != after[name]]
        if changed:
            audit.record(
                "exam.updated",
                exam_id=exam.id,
                before={name: before[name] for name in changed},
                after={name: after[name] for name in changed},
            )
        db.session.commit()
        flash("已保存。 Saved.", "success")
        return redirect(url_for("hr.exam_detail", exam_id=exam.id))
    status = 400 if form.is_submitted() else 200
    return render_template("hr/exam_form.html", form=form, exam=exam,
                           scoring_fixed=is_frozen(exam.id)), status


# How a final score is computed. Once any examiner has scored, changing these would score the
# candidates of one exam by two rules (the confirmed results keep the old one): they are fixed,
# as the score sheet is (app/scoring/sheets.py).
SCORING_FIELDS = ("scoring_rule", "trim_min_examiners", "trim_per_dimension", "score_decimals")
SCORING_FIXED = (
    "已有考官评分，计分规则不能再改，以保证本场考生按同一规则计分。 "
    "Scoring has begun: the rule is fixed so that every candidate is scored by the same rule."
)


def _scoring_changes_refused(form: "ExamForm", exam: Exam) -> list[str]:
    changed = [name for name in SCORING_FIELDS if getattr(form, name).data != getattr(exam, name)]
    if not changed or not is_frozen(exam.id):
        return []
    for name in changed:
        getattr(form, name).errors.append(SCORING_FIXED)
    return changed


@bp.get("/exams/<int:exam_id>")
def exam_detail(exam_id: int):
    exam = _exam_or_404(exam_id)
    panels = _panels_with_staff(exam)
    by_state = dict(
        db.session.execute(
            select(Candidate.state, func.count())
            .where(Candidate.exam_id == exam.id)
            .group_by(Candidate.state)
        ).all()
    )
    by_panel = dict(
        db.session.execute(
            select(Candidate.panel_id, func.count())
            .where(Candidate.exam_id == exam.id)
            .group_by(Candidate.panel_id)
        ).all()
    )
    formal_exam = db.session.get(Exam, exam.formal_exam_id) if exam.formal_exam_id else None
    return render_template(
        "hr/exam_detail.html",
        exam=exam,
        formal_exam=formal_exam,
        panels=panels,
        by_state=by_state,
        by_panel=by_panel,
        total=sum(by_state.values()),
        notice_count=len(exam.notices),
        question_count=len(exam.question_sets),
        entry_closable=_entry_closable(exam, utcnow()),
    )


def _entry_closable(exam: Exam, now: datetime) -> bool:
    return exam.login_opens_at <= now and (
        exam.entry_cutoff_at is None or exam.entry_cutoff_at > now
    )


@bp.post("/exams/<int:exam_id>/close-entry")
def close_entry(exam_id: int):
    exam = _exam_or_404(exam_id)
    try:
        changed = close_entry_now(exam.id, current_user._get_current_object())
    except ExamDayError as problem:
        flash(problem.message, "error")
    else:
        flash(
            f"已截止入场，{changed} 位考生的状态随之更新（未入场者记为缺考，未抽签者已分配签号）。"
            f" Entry closed; {changed} candidates updated.",
            "success",
        )
    return redirect(url_for("hr.exam_detail", exam_id=exam.id), 303)


# --- panels -----------------------------------------------------------------------------------


def _panel_name_taken(exam: Exam, name: str, panel: Panel | None = None) -> bool:
    query = select(Panel.id).where(Panel.exam_id == exam.id, Panel.name == name)
    if panel is not None:
        query = query.where(Panel.id != panel.id)
    return db.session.scalar(query) is not None


@bp.route("/exams/<int:exam_id>/panels/new", methods=["GET", "POST"])
def new_panel(exam_id: int):
    exam = _exam_or_404(exam_id)
    form = PanelForm()
    if form.validate_on_submit():
        name = form.name.data.strip()
        if _panel_name_taken(exam, name):
            form.name.errors.append("本考试已有同名考场。 A panel of this exam has this name.")
        else:
            panel = create_panel(exam, name)
            db.session.commit()
            flash(f"已创建 {name}，请安排考官和助理。 Panel created: now assign its staff.", "success")
            return redirect(url_for("hr.edit_panel", exam_id=exam.id, panel_id=panel.id))
    status = 400 if form.is_submitted() else 200
    return render_template("hr/panel_new.html", form=form, exam=exam), status


def _active_staff(role: str) -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.role == role, User.active.is_(True)).order_by(User.display_name)
        )
    )


def _staff_label(user: User) -> str:
    return f"{user.display_name} ({user.username})"


@bp.route("/exams/<int:exam_id>/panels/<int:panel_id>", methods=["GET", "POST"])
def edit_panel(exam_id: int, panel_id: int):
    exam = _exam_or_404(exam_id)
    panel = _child_or_404(Panel, panel_id, exam)
    examiners, assistants = _active_staff(Role.EXAMINER), _active_staff(Role.ASSISTANT)
    current = {
        "name": panel.name,
        "examiners": [m.user_id for m in panel.members if m.role == PanelRole.EXAMINER],
        "assistants": [m.user_id for m in panel.members if m.role == PanelRole.ASSISTANT],
        "chief": panel.chief_examiner_id or 0,
    }
    form = PanelStaffForm(data=current)
    form.examiners.choices = [SelectChoice(str(u.id), _staff_label(u)) for u in examiners]
    form.assistants.choices = [SelectChoice(str(u.id), _staff_label(u)) for u in assistants]
    form.chief.choices = [NO_CHOICE] + list(form.examiners.choices)
    if form.validate_on_submit():
        name = form.name.data.strip()
        busy_elsewhere = _examiners_on_other_panels(panel, form.examiners.data)
        if _panel_name_taken(exam, name, panel):
            form.name.errors.append("本考试已有同名考场。 A panel of this exam has this name.")
        elif busy_elsewhere:
            form.examiners.errors.append(
                "以下考官已在本考试的其他考场： " + "、".join(busy_elsewhere)
                + " These examiners already sit on another panel of this exam."
            )
        else:
            users = {u.id: u for u in examiners + assistants}
            try:
                set_panel_staff(
                    panel,
                    [users[i] for i in form.examiners.data],
                    [users[i] for i in form.assistants.data],
                    users.get(form.chief.data),
                )
            except ValueError as error:
                db.session.rollback()
                form.examiners.errors.append(str(error))
            else:
                if name != panel.name:
                    audit.record(
                        "panel.renamed",
                        exam_id=exam.id,
                        panel=panel.id,
                        before={"name": panel.name},
                        after={"name": name},
                    )
                    panel.name = name
                db.session.commit()
                flash(f"已保存 {panel.name}。 Saved.", "success")
                return redirect(url_for("hr.exam_detail", exam_id=exam.id))
    status = 400 if form.is_submitted() else 200
    return render_template("hr/panel_form.html", form=form, exam=exam, panel=panel), status


def _examiners_on_other_panels(panel: Panel, user_ids: list[int]) -> list[str]:
    """An examiner sits in one interview room at a time: at most one panel per exam."""
    if not user_ids:
        return []
    rows = db.session.execute(
        select(User.display_name, Panel.name)
        .join(PanelMember, PanelMember.user_id == User.id)
        .join(Panel, Panel.id == PanelMember.panel_id)
        .where(
            Panel.exam_id == panel.exam_id,
            Panel.id != panel.id,
            PanelMember.role == PanelRole.EXAMINER,
            User.id.in_(user_ids),
        )
        .order_by(User.display_name)
    ).all()
    return [f"{user}（{panel_name}）" for user, panel_name in rows]


# --- candidates: import, panels, live list --------------------------------------------------


@bp.route("/exams/<int:exam_id>/import", methods=["GET", "POST"])
def import_roster(exam_id: int):
    exam = _exam_or_404(exam_id)
    form = ImportForm()
    errors: list[str] = []
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read()
        if not data:
            form.file.errors.append("文件是空的。 The file is empty.")
        else:
            try:
                report = import_candidates(exam, upload.filename, data)
            except ValueError as error:
                # Too many live codes in overlapping exams (see app.setup.codes): nothing was written.
                errors = [f"无法分配邀请码：{error}"]
            else:
                if report.ok:
                    flash(
                        f"已导入 {len(report.rows)} 名考生并生成邀请码。 "
                        f"{len(report.rows)} candidates imported.",
                        "success",
                    )
                    return redirect(url_for("hr.candidates", exam_id=exam.id))
                errors = list(report.errors)
    status = 400 if form.is_submitted() else 200
    return render_template("hr/import.html", form=form, exam=exam, errors=errors), status


def _exam_candidates(exam: Exam, *, for_update: bool = False) -> list[Candidate]:
    query = (
        select(Candidate)
        .where(Candidate.exam_id == exam.id)
        .options(joinedload(Candidate.panel))
        .order_by(Candidate.position, Candidate.id)
    )
    if for_update:
        # The journey may move a candidate on while HR saves: their state is checked and the
        # panel written under the same row lock (a no-op on SQLite, which has one writer).
        query = query.with_for_update(of=Candidate)
    return list(db.session.scalars(query).unique())


def _move_candidate(candidate: Candidate, panel: Panel | None, how: str) -> None:
    audit.record(
        "candidate.panel_assigned",
        candidate=candidate,
        before={"panel": candidate.panel_id},
        after={"panel": panel.id if panel else None},
        how=how,
    )
    candidate.panel = panel


def _commit_candidate_changes() -> bool:
    """Commit; False when a candidate changed under us (their version moved on) and nothing was
    saved. The mapper's version check is the guard: see Candidate.__mapper_args__."""
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        flash(STALE_MESSAGE, "error")
        return False
    return True


@bp.route("/exams/<int:exam_id>/assign", methods=["GET", "POST"])
def assign(exam_id: int):
    exam = _exam_or_404(exam_id)
    panels = _panel_list(exam)
    form = FlaskForm()
    if form.validate_on_submit():
        by_id = {p.id: p for p in panels}
        moves, refused = [], []
        for candidate in _exam_candidates(exam, for_update=True):
            raw = request.form.get(f"panel-{candidate.id}")
            if raw is None:
                continue
            try:
                target = by_id[int(raw)] if raw else None
            except (KeyError, ValueError):
                abort(400)
            if (target.id if target else None) == candidate.panel_id:
                continue
            if candidate.state not in MOVABLE:
                refused.append(f"{candidate.name}（{candidate.state_label}）")
            else:
                moves.append((candidate, target))
        if refused:
            db.session.rollback()
            flash(
                "以下考生已进入面试流程，不能再调整考场，本次未保存任何更改： "
                + "、".join(refused)
                + " These candidates are already on their way: nothing was saved.",
                "error",
            )
            return redirect(url_for("hr.assign", exam_id=exam.id))
        for candidate, target in moves:
            _move_candidate(candidate, target, "manual")
        if _commit_candidate_changes():
            flash(f"已调整 {len(moves)} 名考生的考场。 {len(moves)} candidates moved.", "success")
        return redirect(url_for("hr.assign", exam_id=exam.id))
    return render_template(
        "hr/assign.html",
        exam=exam,
        panels=panels,
        candidates=_exam_candidates(exam),
        movable=MOVABLE,
        form=form,
    )


@bp.post("/exams/<int:exam_id>/assign/distribute")
def distribute(exam_id: int):
    exam = _exam_or_404(exam_id)
    panels = _panel_list(exam)
    if not panels:
        flash("请先创建考场。 Create a panel first.", "error")
        return redirect(url_for("hr.assign", exam_id=exam.id))
    everyone = _exam_candidates(exam, for_update=True)
    load = {p.id: 0 for p in panels}
    for candidate in everyone:
        if candidate.panel_id in load:
            load[candidate.panel_id] += 1
    waiting = [c for c in everyone if c.panel_id is None and c.state in MOVABLE]
    # Sorted by position, then import order: dealing them out in turn spreads every position
    # over the panels; the least-loaded panel goes first so existing assignments even out.
    last = len(panels) - 1
    for candidate in waiting:
        index = _next_panel(panels, load, last)
        _move_candidate(candidate, panels[index], "distribute")
        load[panels[index].id] += 1
        last = index
    if _commit_candidate_changes():
        flash(
            f"已将 {len(waiting)} 名未分配考生平均分到 {len(panels)} 个考场。 "
            f"{len(waiting)} candidates distributed.",
            "success",
        )
    return redirect(url_for("hr.assign", exam_id=exam.id))


def _next_panel(panels: list[Panel], load: dict[int, int], last: int) -> int:
    """Index of the least-loaded panel; among equals, the first one after `last` in turn."""
    count = len(panels)
    return min(range(count), key=lambda i: (load[panels[i].id], (i - last - 1) % count))


@bp.get("/exams/<int:exam_id>/candidates")
def candidates(exam_id: int):
    exam = _exam_or_404(exam_id)
    panels = _panel_list(exam)
    state = request.args.get("state", "")
    if state not in STATE_LABELS:
        state = ""
    panel_filter = request.args.get("panel", "")
    query = (
        select(Candidate)
        .where(Candidate.exam_id == exam.id)
        .options(joinedload(Candidate.panel))
        .order_by(Candidate.panel_id, Candidate.lot_number, Candidate.position, Candidate.id)
    )
    if state:
        query = query.where(Candidate.state == state)
    if panel_filter == "none":
        query = query.where(Candidate.panel_id.is_(None))
    elif panel_filter.isdigit() and int(panel_filter) in {p.id for p in panels}:
        query = query.where(Candidate.panel_id == int(panel_filter))
    else:
        panel_filter = ""
    # Polled every 5 s by every HR browser: an unchanged list is a 304 after one aggregate.
    etag = candidate_list_version(exam.id, panels)
    if htmx:
        cached = not_modified(etag)
        if cached is not None:
            return cached
    rows = list(db.session.scalars(query).unique())
    context = dict(
        etag=etag,
        exam=exam,
        panels=panels,
        candidates=rows,
        state=state,
        panel_filter=panel_filter,
        poll_url=url_for(
            "hr.candidates", exam_id=exam.id, state=state or None, panel=panel_filter or None
        ),
    )
    if htmx:
        return fragment(render_template("hr/_candidate_table.html", **context), etag)
    return render_template("hr/candidates.html", **context)


# --- codes and slips --------------------------------------------------------------------------


@bp.get("/exams/<int:exam_id>/codes")
def codes(exam_id: int):
    exam = _exam_or_404(exam_id)
    return render_template("hr/codes.html", exam=exam, candidates=_exam_candidates(exam))


@bp.post("/exams/<int:exam_id>/candidates/<int:candidate_id>/code")
def regenerate_code(exam_id: int, candidate_id: int):
    exam = _exam_or_404(exam_id)
    candidate = _child_or_404(Candidate, candidate_id, exam)
    if candidate.session_nonce is not None:
        flash(
            f"{candidate.name} 已用邀请码登录过，不能再更换。 "
            "The candidate has signed in with this code: it cannot change now.",
            "error",
        )
        return redirect(url_for("hr.codes", exam_id=exam.id))
    (code,) = allocate_codes(exam, 1)
    # Codes are secrets: the log keeps enough to tell them apart, not enough to sign in.
    audit.record(
        "candidate.code_regenerated",
        candidate=candidate,
        before={"code_tail": candidate.code[-2:]},
        after={"code_tail": code[-2:]},
    )
    candidate.code = code
    if _commit_candidate_changes():
        flash(
            f"已为 {candidate.name} 生成新邀请码，请重新发送通知单。 New code made: send the slip again.",
            "success",
        )
    return redirect(url_for("hr.codes", exam_id=exam.id))


@bp.get("/exams/<int:exam_id>/slips.csv")
def slips_csv(exam_id: int):
    exam = _exam_or_404(exam_id)
    return download(slips.slips_csv(exam), f"slips-exam-{exam.id}.csv")


@bp.get("/exams/<int:exam_id>/slips.xlsx")
def slips_xlsx(exam_id: int):
    exam = _exam_or_404(exam_id)
    return download(slips.slips_xlsx(exam), f"slips-exam-{exam.id}.xlsx")


@bp.get("/exams/<int:exam_id>/slips")
def slips_print(exam_id: int):
    exam = _exam_or_404(exam_id)
    return render_template(
        "hr/slips.html",
        exam=exam,
        candidates=_exam_candidates(exam),
        login_url=url_for("candidate.index", _external=True),
    )


# --- notices (考试附件) and question sets (题本) ------------------------------------------------


@bp.get("/exams/<int:exam_id>/notices")
def notices(exam_id: int):
    exam = _exam_or_404(exam_id)
    acks = dict(
        db.session.execute(
            select(NoticeAck.notice_id, func.count())
            .join(Notice, Notice.id == NoticeAck.notice_id)
            .where(Notice.exam_id == exam.id)
            .group_by(NoticeAck.notice_id)
        ).all()
    )
    return render_template("hr/notices.html", exam=exam, notices=exam.notices, acks=acks)


def _notice_snapshot(notice: Notice) -> dict:
    return {"title": notice.title, "body": notice.body, "position": notice.position}


@bp.route("/exams/<int:exam_id>/notices/new", methods=["GET", "POST"])
def new_notice(exam_id: int):
    exam = _exam_or_404(exam_id)
    form = NoticeForm()
    if form.validate_on_submit():
        notice = Notice(
            exam_id=exam.id,
            title=form.title.data.strip(),
            body=_plain_text(form.body.data),
            position=form.position.data,
        )
        db.session.add(notice)
        db.session.flush()
        audit.record(
            "notice.created", exam_id=exam.id, notice=notice.id, after=_notice_snapshot(notice)
        )
        db.session.commit()
        flash("已添加考试附件。 Notice added.", "success")
        return redirect(url_for("hr.notices", exam_id=exam.id))
    status = 400 if form.is_submitted() else 200
    return render_template("hr/notice_form.html", form=form, exam=exam, notice=None), status


@bp.route("/exams/<int:exam_id>/notices/<int:notice_id>", methods=["GET", "POST"])
def edit_notice(exam_id: int, notice_id: int):
    exam = _exam_or_404(exam_id)
    notice = _child_or_404(Notice, notice_id, exam)
    form = NoticeForm(obj=notice)
    if form.validate_on_submit():
        before = _notice_snapshot(notice)
        notice.title = form.title.data.strip()
        notice.body = _plain_text(form.body.data)
        notice.position = form.position.data
        audit.record(
            "notice.updated",
            exam_id=exam.id,
            notice=notice.id,
            before=before,
            after=_notice_snapshot(notice),
        )
        db.session.commit()
        flash("已保存。 Saved.", "success")
        return redirect(url_for("hr.notices", exam_id=exam.id))
    status = 400 if form.is_submitted() else 200
    return render_template("hr/notice_form.html", form=form, exam=exam, notice=notice), status


@bp.post("/exams/<int:exam_id>/notices/<int:notice_id>/delete")
def delete_notice(exam_id: int, notice_id: int):
    exam = _exam_or_404(exam_id)
    notice = _child_or_404(Notice, notice_id, exam)
    if db.session.scalar(select(NoticeAck.id).where(NoticeAck.notice_id == notice.id).limit(1)):
        flash(
            "已有考生阅读过此附件，不能删除（可以修改）。 "
            "Candidates have read this notice: it cannot be deleted.",
            "error",
        )
        return redirect(url_for("hr.notices", exam_id=exam.id))
    audit.record(
        "notice.deleted", exam_id=exam.id, notice=notice.id, before=_notice_snapshot(notice)
    )
    db.session.delete(notice)
    db.session.commit()
    flash("已删除。 Deleted.", "success")
    return redirect(url_for("hr.notices", exam_id=exam.id))


@bp.get("/exams/<int:exam_id>/questions")
def questions(exam_id: int):
    exam = _exam_or_404(exam_id)
    panel_names = {panel.id: panel.name for panel in _panel_list(exam)}
    return render_template(
        "hr/questions.html", exam=exam, question_sets=exam.question_sets, panel_names=panel_names
    )


def _question_form(exam: Exam, question_set: QuestionSet | None) -> QuestionSetForm:
    form = QuestionSetForm(obj=question_set)
    panels = _panel_list(exam)
    form.panel_id.choices = [SelectChoice("0", "全部考场 every panel")] + [
        SelectChoice(str(p.id), p.name) for p in panels
    ]
    return form


def _question_snapshot(question_set: QuestionSet) -> dict:
    return {
        "title": question_set.title,
        "panel": question_set.panel_id,
        "body": question_set.body,
        "scoring_guide": question_set.scoring_guide,
        "position": question_set.position,
    }


def _apply_question_form(form: QuestionSetForm, question_set: QuestionSet) -> None:
    question_set.title = form.title.data.strip()
    question_set.panel_id = form.panel_id.data or None
    question_set.body = _plain_text(form.body.data)
    question_set.scoring_guide = _plain_text(form.scoring_guide.data)
    question_set.position = form.position.data


@bp.route("/exams/<int:exam_id>/questions/new", methods=["GET", "POST"])
def new_question_set(exam_id: int):
    exam = _exam_or_404(exam_id)
    form = _question_form(exam, None)
    if form.validate_on_submit():
        question_set = QuestionSet(exam_id=exam.id)
        _apply_question_form(form, question_set)
        db.session.add(question_set)
        db.session.flush()
        audit.record(
            "question_set.created",
            exam_id=exam.id,
            question_set=question_set.id,
            after=_question_snapshot(question_set),
        )
        db.session.commit()
        flash("已添加题本。 Question set added.", "success")
        return redirect(url_for("hr.questions", exam_id=exam.id))
    status = 400 if form.is_submitted() else 200
    return render_template("hr/question_form.html", form=form, exam=exam, question_set=None), status


@bp.route("/exams/<int:exam_id>/questions/<int:question_set_id>", methods=["GET", "POST"])
def edit_question_set(exam_id: int, question_set_id: int):
    exam = _exam_or_404(exam_id)
    question_set = _child_or_404(QuestionSet, question_set_id, exam)
    form = _question_form(exam, question_set)
    if form.validate_on_submit():
        before = _question_snapshot(question_set)
        _apply_question_form(form, question_set)
        audit.record(
            "question_set.updated",
            exam_id=exam.id,
            question_set=question_set.id,
            before=before,
            after=_question_snapshot(question_set),
        )
        db.session.commit()
        flash("已保存。 Saved.", "success")
        return redirect(url_for("hr.questions", exam_id=exam.id))
    status = 400 if form.is_submitted() else 200
    return (
        render_template("hr/question_form.html", form=form, exam=exam, question_set=question_set),
        status,
    )


def _questions_shown(question_set: QuestionSet) -> bool:
    """Whether a candidate this set applies to has started the timer (and so seen it)."""
    query = select(Candidate.id).where(
        Candidate.exam_id == question_set.exam_id, Candidate.timer_started_at.is_not(None)
    )
    if question_set.panel_id is not None:
        query = query.where(Candidate.panel_id == question_set.panel_id)
    return db.session.scalar(query.limit(1)) is not None


@bp.post("/exams/<int:exam_id>/questions/<int:question_set_id>/delete")
def delete_question_set(exam_id: int, question_set_id: int):
    exam = _exam_or_404(exam_id)
    question_set = _child_or_404(QuestionSet, question_set_id, exam)
    if _questions_shown(question_set):
        flash(
            "已有考生开始作答此题本，不能删除。 Candidates have been shown these questions: "
            "the set cannot be deleted.",
            "error",
        )
        return redirect(url_for("hr.questions", exam_id=exam.id))
    audit.record(
        "question_set.deleted",
        exam_id=exam.id,
        question_set=question_set.id,
        before=_question_snapshot(question_set),
    )
    db.session.delete(question_set)
    db.session.commit()
    flash("已删除。 Deleted.", "success")
    return redirect(url_for("hr.questions", exam_id=exam.id))
