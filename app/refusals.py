"""Refusals: one exception with a stable code, and one table of what each code says.

A rule that says no raises `Refused(code, **params)`. The page shows `refused.message` (the words
the person who acted reads, exactly as they always were); a staff console that relays a refusal
about a candidate asks `refused.for_staff(name=..., action=...)`. Callers and tests compare
`refused.code`, never the words, so rewording a message is a change to this table alone.
"""

from dataclasses import dataclass
from string import Formatter


@dataclass(frozen=True)
class Wording:
    message: str  # to whoever acted (the candidate on their pages, staff on their consoles)
    staff: str  # to staff relaying it: may use {name} and {action} besides the code's params


STAFF_PARAMS = frozenset({"name", "action"})

# A final state is worded for the candidate ("您已离场…"); staff read it in the third person, with
# the state, so that nobody takes it as being about themselves.
_FINAL_STATE_FOR_STAFF = "{name} 当前状态为“{label}”，不能{action}。 Not possible in this state."


def _same(text: str) -> Wording:
    return Wording(text, text)


def _final_state(text: str) -> Wording:
    return Wording(text, _FINAL_STATE_FOR_STAFF)


MESSAGES: dict[str, Wording] = {
    # --- the journey: the candidate's moves (app/journey.py) ---
    "not_allowed": _same("您无权进行此操作。 You may not do this for this candidate."),
    "no_candidate": _same("考生不存在。 No such candidate."),
    "changed_meanwhile": _same("操作未生效：该考生的状态刚被其他人更改，请刷新后重试。"),
    "declined": _final_state("您已放弃参加本场面试。"),
    "absent": _final_state("您未在入场截止前进入设备调试，已按缺考处理。"),
    "disqualified": _final_state("您的面试资格已被取消，如有疑问请联系考务工作人员。"),
    "already_released": _final_state("您已离场，本场面试已全部结束。"),
    "wrong_state": _same("当前状态（{label}）不能进行此操作，请刷新页面。"),
    "confirm_closed": _same("确认截止时间已过，无法再确认或放弃。"),
    "notices_unread": _same("请先阅读全部考试附件并点击“已阅”。"),
    "id_photo_missing": _same("请先上传身份证人像面照片。"),
    "no_panel": _same("您尚未分配考场，请点击求助联系工作人员。"),
    "mock_missing": _same(
        "本场正式面试要求先参加模拟面试；系统中没有您完成模拟面试设备调试的记录，"
        "按规定不能参加正式面试。如有疑问请点击求助联系工作人员。"
    ),
    "reinstated": _same("该考生已由考务恢复资格，入场截止不再记为缺考。"),
    "debug_absent_before_cutoff": _same(
        "入场截止后才能将调试队列中的考生记为缺考（截止前考生仍可随时进入）。 "
        "Only after the entry cut-off can a candidate in the debug queue be marked absent."
    ),
    # Signed in during the 确认期: the debug room opens with the exam-day login (dated).
    "debug_room_not_open": _same(
        "调试等候间尚未开放：考试当天登录时间开始后（北京时间 {opens}）方可进入，"
        "届时请再次输入邀请码登录。"
    ),
    "debug_room_closed": _same("本场面试的登录时间已结束，不能再进入调试等候间。"),
    # 开考前N分钟【进入考试】按钮将自动激活 (SEED 001).
    "waiting_room_not_open": _same(
        "面试等待室将于北京时间 {opens} 开放，届时请再次输入邀请码进入面试等待室。"
    ),
    "call_lapsed": _same("呼叫已超时，请等待工作人员再次呼叫。"),
    "identity_unchecked": _same("请先核验考生身份。 Check the candidate's identity first."),
    "already_drawn": _same("您已抽签，签号为 {lot}。"),
    "before_cutoff": _same(
        "入场截止后方可呼叫考生（抽签顺序尚未确定）。 Wait for the entry cut-off."
    ),
    "room_busy": _same("面试间内还有考生，请先结束当前面试。 Another candidate is in the room."),
    "no_lot": _same("该考生尚无签号。 The candidate has no lot number yet."),
    "not_your_turn": _same(
        "请按抽签顺序呼叫：下一位是 {lot} 号。 Call in lot order: next is {lot}."
    ),
    "timer_running": _same("计时已开始。 The timer is already running."),
    # --- the ID photo (app/day/id_photo.py) ---
    "id_photo_not_needed": _same("本场面试无需上传身份证照片。"),
    "id_photo_too_late": _same("当前阶段不能再上传或更换照片。"),
    "id_photo_no_file": _same("请选择要上传的照片。"),
    "id_photo_too_large": _same("照片不能超过5MB，请压缩后重新上传。"),
    "id_photo_wrong_type": _same("请上传JPG或PNG格式的照片。"),
    "changed_for_you": _same("操作未生效：您的状态刚刚发生变化，请刷新后重试。"),
    "timer_not_started": _same("计时尚未开始，请等待主考官宣布开始。"),
    # 看题时间: the candidate may end early only once answering; the chief may end at any time.
    "reading_time_no_finish": _same("看题时间内不能结束面试，请在作答计时开始后再操作。"),
    # 允许提前结束面试 off (SEED 004 不允许提前交卷): the countdown ends the interview.
    "early_finish_off": Wording(
        "本场考试不允许提前结束面试，请在倒计时结束后由系统自动结束。",
        "本场考试不允许提前结束面试，倒计时结束后系统自动结束。"
        " Ending early is off for this exam: the interview ends when the countdown reaches zero.",
    ),
    # One debug call at a time per assistant (a second ringing candidate would wait unwatched).
    "debug_call_busy": _same(
        "请先结束当前调试通话，再呼叫下一位。 End your current debug call first."
    ),
    "reason_required": _same("请填写原因。 A reason is required."),
    "no_missed_call": _same(
        "该考生尚未错过面试呼叫，不能记为缺考。 "
        "Only a candidate who missed an interview call can be marked absent."
    ),
    "panel_not_done": _same(
        "本考场仍有 {left} 名考生未完成面试，休息室暂不能放行（防止泄题）。 "
        "{left} candidates of this panel are still to be interviewed: nobody leaves before them."
    ),
    "sharing_panel_not_done": _same(
        "{panel}仍有 {left} 位考生待面试（与本考场同一题本），暂不能离开休息室。 "
        "{panel} still has {left} candidates to interview with the same question set: "
        "nobody leaves before them."
    ),
    # --- exam-day overrides (app/journey.py; who may: app/day/overrides.py) ---
    "reinstate_questions_out": _same(
        "{panel}已有 {released} 名考生离开休息室，可能已得知题目：不能恢复该考生参加面试（防止泄题）。"
        "如需补考，请另行安排题本和场次。 {released} candidates of {panel} have left the rest room"
        " and may have told the questions: she cannot be brought back; arrange a separate sitting."
    ),
    "reinterview_released": _same(
        "该考生已离开休息室，可能已得知题目，不能重新面试（防止泄题）；如需补考，请另行安排。"
        " She has left the rest room and may have told the questions: no re-interview;"
        " arrange a separate sitting."
    ),
    "reinterview_published": _same(
        "该考生成绩已公布，不能重新面试；如成绩有误，请在成绩页更正。"
        " Her score is published: correct it on the results page instead."
    ),
    "extend_minutes_invalid": _same(
        "请填写延长的分钟数（{low}–{high} 之间的整数）。 Enter whole minutes from {low} to {high}."
    ),
    "extend_not_started": _same(
        "计时尚未开始，无需延长；请先开始计时。 The timer has not started: nothing to extend."
    ),
    "extend_time_up": _same(
        "面试时间已到，面试已结束，不能再延长；如因平台故障需要补时，请使用“平台故障重新面试”。"
        " Time is up and the interview has ended: use re-interview after a platform fault."
    ),
    "extend_seen_changed": _same(
        "倒计时刚被他人延长，现结束于北京时间 {deadline}；本次未再延长，如仍需延长请再次提交。"
        " Someone else has just extended it (now ends {deadline}): yours was not added;"
        " submit again if more time is still needed."
    ),
    "move_other_exam": _same("请选择本场考试的另一个考场。 Choose another panel of this exam."),
    "move_same_panel": _same(
        "考生已在{panel}，请选择另一个考场。 She is already in {panel}: choose another panel."
    ),
    "move_panel_changed": _same(
        "考生刚被他人调至{panel}，本次未调整；请刷新后确认。"
        " Someone has just moved her to {panel}: yours was not applied; reload and check."
    ),
    "move_questions_out": _same(
        "{panel}已有 {released} 名考生离开休息室，可能已得知该考场题目：不能调入（防止泄题），"
        "请选择其他考场。 {released} candidates of {panel} have left the rest room: choose"
        " another panel."
    ),
    "move_target_unstaffed": _same(
        "{panel}尚未设置{missing}，调入后无人呼叫或放行：请先在考场设置中指定。"
        " {panel} has no {missing}: assign one on the panel page first."
    ),
    "undo_no_disqualification": _same(
        "没有该考生被取消资格的记录，无法撤销。 No disqualification of her is on record."
    ),
    # --- scores (app/scoring/service.py, paper_entry.py) ---
    "invalid_scores": _same("{problems}"),
    "not_your_panel": _same("您不是该考场的考官。 You are not an examiner of this panel."),
    "you_recused": _same(
        "您已对该考生回避，不参与评分。 You recused yourself from this candidate."
    ),
    "not_interviewed": _same(
        "该考生尚未开始面试，不能评分。 The candidate has not been interviewed."
    ),
    "paper_not_on_panel": _same(
        "该考官不属于此考生的考场。 Not an examiner of this candidate's panel."
    ),
    "paper_recused": _same("该考官已对此考生回避，不参与评分。 This examiner recused themself."),
    "paper_not_interviewed": _same(
        "该考生尚未面试，不能录入评分。 The candidate has not been interviewed."
    ),
    "save_conflict": _same("保存冲突，请重试。 Saved elsewhere at the same moment: please retry."),
    "already_submitted": _same(
        "评分已提交；如需修改请填写修改原因。 Already submitted: a change needs a reason."
    ),
    "confirmed_no_submit": _same("成绩已确认，不能再提交。 The score is already confirmed."),
    "no_score_sheet": _same("本场考试尚未设置评分要素。 The exam has no score sheet."),
    "change_reason_required": _same(
        "修改已提交的评分需要填写原因。 A change after submission needs a reason."
    ),
    "change_not_on_panel": _same("该考官不属于此考场。 Not an examiner of this panel."),
    "change_recused": _same("该考官已回避。 This examiner recused themself."),
    "recusal_reason_required": _same(
        "请填写回避原因（如亲属关系、同一单位）。 A reason is required."
    ),
    "confirmed_no_recusal": _same("成绩已确认，不能再回避。 The score is already confirmed."),
    "already_recused": _same("已申请回避。 Already recused."),
    "chief_only": _same("只有本考场主考官可以确认成绩。 Only the panel's chief examiner confirms."),
    "already_confirmed": _same("成绩已确认。 Already confirmed."),
    "sheets_missing": _same("尚有考官未提交评分：{names}"),
    "no_scores": _same("没有可用的评分。"),
    "not_published": _same("成绩尚未公布。"),
    "confirmed_change_only": _same(
        "成绩已确认；只能修改已提交的评分。 The score is confirmed: only submitted sheets change."
    ),
    "paper_conflict": _same(
        "保存冲突（考官可能同时提交），请刷新后重试。 Saved elsewhere meanwhile: reload and retry."
    ),
    # --- the score sheet HR sets up (app/scoring/sheets.py) ---
    "maximum_not_number": _same("满分“{text}”不是数字。 The maximum must be a number."),
    "maximum_out_of_range": _same(
        "满分应大于 0 且不超过 100。 The maximum must be above 0 and at most 100."
    ),
    "maximum_decimals": _same("满分最多保留一位小数。 At most one decimal."),
    "dimension_unnamed": _same("请填写评分要素名称。 The dimension needs a name."),
    "dimension_name_too_long": _same("名称最多 100 字。 At most 100 characters."),
    "sheet_frozen": _same(
        "已有考官评分（含草稿），评分表不能再修改：改动会改变已录入分数的含义。"
        " Scores already exist for this exam (drafts included): the sheet is frozen, because"
        " changing it would change the meaning of scores already given."
    ),
    "dimension_name_taken": _same(
        "已有同名评分要素“{dimension}”。 A dimension of this sheet has this name."
    ),
    "sheet_not_empty": _same(
        "评分表已有评分要素；常用评分表只能用于空表。 The sheet is not empty."
    ),
    # --- the exam day (app/day/broadcasts.py, controls.py) ---
    "broadcast_empty": _same("请填写通知内容。 Write the notice first."),
    "broadcast_too_long": _same(
        "通知最多 {limit} 字（现 {length} 字）。 At most {limit} characters."
    ),
    "no_exam": _same("No such exam. 考试不存在。"),
    "login_not_open": _same("登录尚未开始，不能截止入场。 The login window has not opened yet."),
    "entry_already_closed": _same("入场已截止，无需重复操作。 Entry is already closed."),
    # --- staff sign-in (app/security/sign_in.py) ---
    "sign_in_too_many": _same(
        "登录失败次数过多，请稍后再试。 Too many failed sign-ins: wait a minute."
    ),
    "sign_in_account_locked": _same(
        "该账号近期密码错误次数过多，密码登录已暂时锁定（约 {minutes} 分钟后自动解除，"
        "或请管理员解锁）。曾在本浏览器登录过该账号的不受影响。"
        " Too many wrong passwords for this account: password sign-in is locked for about "
        "{minutes} minutes, or until an administrator unlocks it. Browsers that signed in to "
        "this account before are not affected."
    ),
    "sign_in_busy": _same(
        "系统检测到大量登录失败，暂时只允许曾在本浏览器登录过的账号登录，请稍后再试。"
        " Many failed sign-ins across the site: for now only browsers that signed in before "
        "may sign in. Try again shortly."
    ),
    # --- issue 16: the second camera (辅机位) seen in the call and checked by the assistant ---
    "second_camera_unverified": _same(
        "本场面试要求开启佐证（辅机位）摄像头：辅机位尚未经面试助理核验。"
        "请在调试通话中用手机连接辅机位，由面试助理核验拍摄角度后，方可进入面试等待室。"
    ),
    "second_camera_check_first": Wording(
        "请先核验辅机位（本场面试要求辅机位）。 Check the second camera first.",
        "{name} 的辅机位尚未核验，不能{action}。 Check the second camera first.",
    ),
    "second_camera_already_verified": _same("辅机位已核验，无需重复操作。 Already checked."),
    "second_camera_not_in_call": _same(
        "辅机位不在本通话中（或摄像头未开启），不能核验。请考生用手机扫码连接辅机位。 "
        "The phone is not in this call with its camera on."
    ),
    # --- spot checks and call-backs (随机检查, 视频回呼; app/journey.py) ---
    "assistant_call_busy": Wording(
        "您正在另一通话中，请先结束当前通话。 You are in another call: end it first.",
        "您正在另一通话中，请先结束当前通话，再{action}{name}。 End your current call first.",
    ),
    "spot_check_live": _same(
        "该考生正在与面试助理视频连线，请稍后再试。 A spot check with this candidate is on."
    ),
    "no_spot_check": _same("面试助理的呼叫已超时或已结束，请留在本页面等待。"),
    "candidate_offline": _same(
        "该考生尚未登录（没有打开考生页面），无法视频回呼。 The candidate has no page open."
    ),
}


def placeholders(text: str) -> set[str]:
    """The {names} a wording needs filled."""
    return {field for _, field, _, _ in Formatter().parse(text) if field}


def _fill(code: str, text: str, params: dict) -> str:
    missing = placeholders(text) - params.keys()
    if missing:
        # A programming error, not a refusal: fail where it is made, not with half a sentence.
        raise KeyError(f"refusal {code!r} needs {', '.join(sorted(missing))}")
    return text.format(**params)


def message_of(code: str, **params) -> str:
    """The words of `code` for whoever acted, filled in."""
    return _fill(code, MESSAGES[code].message, params)


class Refused(Exception):
    """A rule said no: nothing changed. `code` says which rule; `message` what the person reads."""

    def __init__(self, code: str, **params):
        if code not in MESSAGES:
            raise KeyError(f"unknown refusal code {code!r}")
        self.code = code
        self.params = params
        self.message = message_of(code, **params)
        super().__init__(self.message)

    def for_staff(self, name: str, action: str = "进行此操作") -> str:
        """The same refusal told to staff about the candidate `name` who could not `action`."""
        return _fill(
            self.code, MESSAGES[self.code].staff, {**self.params, "name": name, "action": action}
        )

    def __reduce__(self):  # RQ and logging may pickle it; the code and params rebuild it
        return (_rebuild, (type(self), self.code, self.params))


def _rebuild(cls, code: str, params: dict) -> "Refused":
    return cls(code, **params)
