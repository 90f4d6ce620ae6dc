"""The examiner (考官) console, in two blueprints on one page under /examiner.

- console.py (`examiner`): the panel queue, the chief's buttons, timer, questions, notices;
- scoring.py (`examiner_scoring`): my sheet, recusal, the chief's confirmation, the result board;
- overrides.py (`examiner`): the chief's 延长 N 分钟 and 平台故障重新面试 (platform faults);
- room_guard.py (`examiner`): the room's roster and removals, the 休息室未录制 fragment;
- access.py: which panel, candidate and buttons an examiner may reach (both use it);
- scoring_view.py: what the scoring part of the page shows (the console page renders it too).
"""

from app.routes.examiner import overrides, phone  # noqa: F401  (register their views on bp)
from app.routes.examiner import room_guard as room_guard  # registers its views on bp
from app.routes.examiner.console import bp
from app.routes.examiner.scoring import bp as scoring_bp

__all__ = ["bp", "scoring_bp"]
