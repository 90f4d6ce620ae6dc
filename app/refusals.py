"""Refusals: one exception with a stable code, and one table of what each code says.

A rule that says no raises `Refused(code, **params)`. The page shows `refused.message` (the words
the person who acted reads, exactly as they always were); a staff console that relays a refusal
about a candidate asks `refused.for_staff(name=..., action=...)`. Callers and tests compare
`refused.code`, never the words, so rewording a message is a change to this table alone.

Words staff can read are English msgids (lazy_gettext) whose zh_CN translation is the Chinese;
candidate requests are always zh_CN, so a candidate reads the same Chinese as ever. Words only a
candidate reads stay plain Chinese. Either kind is filled into a plain str, in the language of
the request that raised the refusal, so what reaches JSON, Redis or the audit is never lazy.
"""

from dataclasses import dataclass
from string import Formatter
from typing import TypeAlias

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

Text: TypeAlias = str | LazyString


@dataclass(frozen=True)
class Wording:
    message: Text  # to whoever acted (the candidate on their pages, staff on their consoles)
    staff: Text  # to staff relaying it: may use {name} and {action} besides the code's params


STAFF_PARAMS = frozenset({"name", "action"})

# A final state is worded for the candidate ("您已离场…"); staff read it in the third person, with
# the state, so that nobody takes it as being about themselves.
_FINAL_STATE_FOR_STAFF = _l("{name} is “{label}”: cannot {action} in this state.")
# What staff could not do when the console does not say (refused.for_staff's default action).
DEFAULT_ACTION = _l("do this")


def _same(text: Text) -> Wording:
    return Wording(text, text)


def _final_state(text: str) -> Wording:
    return Wording(text, _FINAL_STATE_FOR_STAFF)


MESSAGES: dict[str, Wording] = {
    # --- the journey: the candidate's moves (app/journey.py) ---
    "not_allowed": _same(_l("You may not do this for this candidate.")),
    "no_candidate": _same(_l("No such candidate.")),
    "changed_meanwhile": _same(
        _l("Not done: someone else has just changed this candidate's state; reload and retry.")
    ),
    "declined": _final_state("您已放弃参加本场面试。"),
    "absent": _final_state("您未在入场截止前进入设备调试，已按缺考处理。"),
    "disqualified": _final_state("您的面试资格已被取消，如有疑问请联系考务工作人员。"),
    "already_released": _final_state("您已离场，本场面试已全部结束。"),
    "wrong_state": _same(
        _l("Not possible in the current state ({label}): please reload the page.")
    ),
    "confirm_closed": _same(
        _l("The confirmation deadline has passed: it is too late to confirm or decline.")
    ),
    "notices_unread": _same(_l("First read every exam attachment and click “Read”.")),
    "id_photo_missing": _same(_l("First upload the photo side of the ID card.")),
    "no_panel": _same(_l("No panel assigned yet: click Help to contact the staff.")),
    "mock_missing": _same(
        _l(
            "This formal interview requires the mock interview first, and there is no record of"
            " this candidate finishing the mock interview's device check: by the rules the formal"
            " interview is not open to her. Questions: click Help to contact the staff."
        )
    ),
    "reinstated": _same(
        _l(
            "The exam office has reinstated this candidate: the entry cut-off no longer marks her absent."
        )
    ),
    "debug_absent_before_cutoff": _same(
        _l("Only after the entry cut-off can a candidate in the debug queue be marked absent.")
    ),
    # Signed in during the 确认期: the debug room opens with the exam-day login (dated).
    "debug_room_not_open": _same(
        _l(
            "The debug waiting room is not open yet: it opens when the exam-day login starts"
            " (Beijing time {opens}); sign in again with the invitation code then."
        )
    ),
    "debug_room_closed": _same(
        _l("The login time of this interview is over: the debug waiting room is closed.")
    ),
    # 开考前N分钟【进入考试】按钮将自动激活 (SEED 001).
    "waiting_room_not_open": _same(
        _l(
            "The interview waiting room opens at {opens} Beijing time; sign in again with the"
            " invitation code then."
        )
    ),
    "call_lapsed": _same(_l("The call has timed out: wait for the staff to call again.")),
    "identity_unchecked": _same(_l("Check the candidate's identity first.")),
    "already_drawn": _same(_l("The lot is already drawn: number {lot}.")),
    "before_cutoff": _same(_l("Wait for the entry cut-off.")),
    "room_busy": _same(_l("Another candidate is in the room.")),
    "no_lot": _same(_l("The candidate has no lot number yet.")),
    "not_your_turn": _same(_l("Call in lot order: next is {lot}.")),
    "timer_running": _same(_l("The timer is already running.")),
    # --- the ID photo (app/day/id_photo.py) ---
    "id_photo_not_needed": _same(_l("This interview needs no ID card photo.")),
    "id_photo_too_late": _same(
        _l("At this stage the photo can no longer be uploaded or replaced.")
    ),
    "id_photo_no_file": _same(_l("Choose the photo to upload.")),
    "id_photo_too_large": _same(_l("The photo must be at most 5MB: compress it and upload again.")),
    "id_photo_wrong_type": _same(_l("Upload a JPG or PNG photo.")),
    # --- 人脸核验 (app/faces/): the page's stills; only its script reads these ---
    "face_consent_missing": _same("请先阅读并同意人脸核验告知。"),
    "face_still_not_now": _same("当前环节无需上传人脸照片。"),
    "face_still_empty": _same("未收到照片。"),
    "face_still_too_large": _same("照片过大。"),
    "face_still_not_jpeg": _same("照片格式不正确。"),
    "face_still_too_soon": _same("照片上传过于频繁，请稍后。"),
    "face_mismatch_note_required": _same(
        _l("The face comparison says “no match”: write a note on what you checked to confirm.")
    ),
    "face_consent_needed": _same("本场面试需进行人脸核验：请先阅读告知并点击“同意”。"),
    "changed_for_you": _same(
        _l("Not done: the candidate's state has just changed; reload and retry.")
    ),
    "timer_not_started": _same(
        _l("The timer has not started: wait for the chief examiner to announce the start.")
    ),
    # 看题时间: the candidate may end early only once answering; the chief may end at any time.
    "reading_time_no_finish": _same(
        _l("The interview cannot end during reading time: wait until the answering time starts.")
    ),
    # 允许提前结束面试 off (SEED 004 不允许提前交卷): the countdown ends the interview.
    "early_finish_off": Wording(
        "本场考试不允许提前结束面试，请在倒计时结束后由系统自动结束。",
        _l(
            "Ending early is off for this exam: the interview ends when the countdown reaches zero."
        ),
    ),
    # One debug call at a time per assistant (a second ringing candidate would wait unwatched).
    "debug_call_busy": _same(_l("End your current debug call first.")),
    "reason_required": _same(_l("A reason is required.")),
    "no_missed_call": _same(
        _l("Only a candidate who missed an interview call can be marked absent.")
    ),
    "panel_not_done": _same(
        _l(
            "{left} candidates of this panel are still to be interviewed: nobody leaves before them."
        )
    ),
    "sharing_panel_not_done": _same(
        _l(
            "{panel} still has {left} candidates to interview with the same question set:"
            " nobody leaves before them."
        )
    ),
    # --- exam-day overrides (app/journey.py; who may: app/day/overrides.py) ---
    "reinstate_questions_out": _same(
        _l(
            "{released} candidates of {panel} have left the rest room and may have told the"
            " questions: she cannot be brought back; arrange a separate sitting."
        )
    ),
    "reinterview_released": _same(
        _l(
            "She has left the rest room and may have told the questions: no re-interview;"
            " arrange a separate sitting."
        )
    ),
    "reinterview_published": _same(
        _l("Her score is published: correct it on the results page instead.")
    ),
    "extend_minutes_invalid": _same(_l("Enter whole minutes from {low} to {high}.")),
    "extend_not_started": _same(_l("The timer has not started: nothing to extend.")),
    "extend_time_up": _same(
        _l("Time is up and the interview has ended: use re-interview after a platform fault.")
    ),
    "extend_seen_changed": _same(
        _l(
            "Someone else has just extended it (now ends {deadline}): yours was not added;"
            " submit again if more time is still needed."
        )
    ),
    "move_other_exam": _same(_l("Choose another panel of this exam.")),
    "move_same_panel": _same(_l("She is already in {panel}: choose another panel.")),
    "move_panel_changed": _same(
        _l("Someone has just moved her to {panel}: yours was not applied; reload and check.")
    ),
    "move_questions_out": _same(
        _l("{released} candidates of {panel} have left the rest room: choose another panel.")
    ),
    "move_target_unstaffed": _same(
        _l("{panel} has no {missing}: assign one on the panel page first.")
    ),
    "undo_no_disqualification": _same(_l("No disqualification of her is on record.")),
    # --- scores (app/scoring/service.py, paper_entry.py) ---
    "invalid_scores": _same("{problems}"),
    "not_your_panel": _same(_l("You are not an examiner of this panel.")),
    "you_recused": _same(_l("You recused yourself from this candidate.")),
    "not_interviewed": _same(_l("The candidate has not been interviewed.")),
    "paper_not_on_panel": _same(_l("Not an examiner of this candidate's panel.")),
    "paper_recused": _same(_l("This examiner recused themself.")),
    "paper_not_interviewed": _same(
        _l("The candidate has not been interviewed: no sheets to enter.")
    ),
    "save_conflict": _same(_l("Saved elsewhere at the same moment: please retry.")),
    "already_submitted": _same(_l("Already submitted: a change needs a reason.")),
    "confirmed_no_submit": _same(_l("The score is already confirmed.")),
    "no_score_sheet": _same(_l("The exam has no score sheet.")),
    "change_reason_required": _same(_l("A change after submission needs a reason.")),
    "change_not_on_panel": _same(_l("Not an examiner of this panel.")),
    "change_recused": _same(_l("This examiner has recused themself.")),
    "recusal_reason_required": _same(
        _l("A reason is required (a relative, the same employer, for instance).")
    ),
    "confirmed_no_recusal": _same(_l("The score is confirmed: too late to recuse.")),
    "already_recused": _same(_l("Already recused.")),
    # --- under review (app/retention/review.py) ---
    "review_already_held": _same(
        _l("Already held for review since {since}: close that review first.")
    ),
    "review_nothing_open": _same(_l("Nothing is under review for this candidate.")),
    "chief_only": _same(_l("Only the panel's chief examiner confirms.")),
    "already_confirmed": _same(_l("Already confirmed.")),
    "sheets_missing": _same(_l("Examiners who have not submitted their scores yet: {names}")),
    "no_scores": _same(_l("No usable scores.")),
    "not_published": _same(_l("The scores are not published yet.")),
    "confirmed_change_only": _same(_l("The score is confirmed: only submitted sheets change.")),
    "paper_conflict": _same(_l("Saved elsewhere meanwhile: reload and retry.")),
    # --- the score sheet HR sets up (app/scoring/sheets.py) ---
    "maximum_not_number": _same(_l("The maximum “{text}” must be a number.")),
    "maximum_out_of_range": _same(_l("The maximum must be above 0 and at most 100.")),
    "maximum_decimals": _same(_l("At most one decimal.")),
    "dimension_unnamed": _same(_l("The dimension needs a name.")),
    "dimension_name_too_long": _same(_l("At most 100 characters.")),
    "sheet_frozen": _same(
        _l(
            "Scores already exist for this exam (drafts included): the sheet is frozen, because"
            " changing it would change the meaning of scores already given."
        )
    ),
    "dimension_name_taken": _same(_l("A dimension of this sheet is already named “{dimension}”.")),
    "sheet_not_empty": _same(
        _l("The sheet is not empty: the usual sheet is only for an empty one.")
    ),
    # --- the exam day (app/day/broadcasts.py, controls.py) ---
    "broadcast_empty": _same(_l("Write the notice first.")),
    "broadcast_too_long": _same(_l("At most {limit} characters (now {length}).")),
    "no_exam": _same(_l("No such exam.")),
    "login_not_open": _same(_l("The login window has not opened yet.")),
    "entry_already_closed": _same(_l("Entry is already closed.")),
    # --- staff sign-in (app/security/sign_in.py) ---
    "sign_in_too_many": _same(_l("Too many failed sign-ins: wait a minute.")),
    "sign_in_account_locked": _same(
        _l(
            "Too many wrong passwords for this account: password sign-in is locked for about"
            " {minutes} minutes, or until an administrator unlocks it. Browsers that signed in"
            " to this account before are not affected."
        )
    ),
    "sign_in_busy": _same(
        _l(
            "Many failed sign-ins across the site: for now only browsers that signed in before"
            " may sign in. Try again shortly."
        )
    ),
    # --- issue 16: the second camera (辅机位) seen in the call and checked by the assistant ---
    "second_camera_unverified": _same(
        _l(
            "This interview requires the second (evidence) camera, and the assistant has not"
            " checked it yet: connect the phone as the second camera during the debug call; once"
            " the assistant has checked its angle, the interview waiting room opens."
        )
    ),
    "second_camera_check_first": Wording(
        _l("Check the second camera first (this interview requires one)."),
        _l("{name}'s second camera is not checked yet: cannot {action}."),
    ),
    "second_camera_already_verified": _same(_l("The second camera is already checked.")),
    "second_camera_not_in_call": _same(
        _l(
            "The phone is not in this call with its camera on: it cannot be checked. Ask the"
            " candidate to scan the code with the phone to connect the second camera."
        )
    ),
    # --- spot checks and call-backs (随机检查, 视频回呼; app/journey.py) ---
    "assistant_call_busy": Wording(
        _l("You are in another call: end it first."),
        _l("You are in another call: end it first, then {action} {name}."),
    ),
    "spot_check_live": _same(_l("A spot check with this candidate is on: try again shortly.")),
    "no_spot_check": _same(
        _l("The assistant's call has timed out or ended: stay on this page and wait.")
    ),
    "candidate_offline": _same(
        _l("The candidate has no page open (not signed in): no video call-back is possible.")
    ),
}


def placeholders(text: Text) -> set[str]:
    """The {names} a wording needs filled."""
    return {field for _, field, _, _ in Formatter().parse(str(text)) if field}


def _plain(params: dict) -> dict:
    """Params as they travel (pickled by RQ, logged): a lazy label becomes its text now."""
    return {k: str(v) if isinstance(v, LazyString) else v for k, v in params.items()}


def _fill(code: str, text: Text, params: dict) -> str:
    words = str(text)  # the request's language; Chinese outside a request (app/i18n.py)
    missing = placeholders(words) - params.keys()
    if missing:
        # A programming error, not a refusal: fail where it is made, not with half a sentence.
        raise KeyError(f"refusal {code!r} needs {', '.join(sorted(missing))}")
    return words.format(**_plain(params))


def message_of(code: str, **params) -> str:
    """The words of `code` for whoever acted, filled in."""
    return _fill(code, MESSAGES[code].message, params)


def lazy_message_of(code: str, **params) -> LazyString:
    """message_of when it is read, for words kept at import time (a page's standing notice)."""
    return LazyString(message_of, code, **params)


class Refused(Exception):
    """A rule said no: nothing changed. `code` says which rule; `message` what the person reads."""

    def __init__(self, code: str, **params):
        if code not in MESSAGES:
            raise KeyError(f"unknown refusal code {code!r}")
        self.code = code
        self.params = _plain(params)
        self.message = message_of(code, **self.params)
        super().__init__(self.message)

    def for_staff(self, name: str, action: Text = DEFAULT_ACTION) -> str:
        """The same refusal told to staff about the candidate `name` who could not `action`."""
        return _fill(
            self.code, MESSAGES[self.code].staff, {**self.params, "name": name, "action": action}
        )

    def __reduce__(self):  # RQ and logging may pickle it; the code and params rebuild it
        return (_rebuild, (type(self), self.code, self.params))


def _rebuild(cls, code: str, params: dict) -> "Refused":
    return cls(code, **params)
