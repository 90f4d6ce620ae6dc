"""The final-score rule on examples worked by hand."""

from decimal import Decimal as D

import pytest
from flask_babel import force_locale

from app.scoring.rules import Rule, final_score, rank, round_half_up

TRIMMED = Rule()  # the default: 5+ examiners -> drop one highest and one lowest total


def sheets(*totals):
    return [{"all": D(str(t))} for t in totals]


@pytest.mark.parametrize(
    "totals, expected",
    [
        # 5 examiners: drop 90 and 75 -> (80 + 85 + 88) / 3 = 84.333...
        ((80, 85, 90, 75, 88), D("84.33")),
        # 7 examiners: drop 99 and 70 -> (72 + 74 + 76 + 78 + 80) / 5 = 76
        ((70, 72, 74, 76, 78, 80, 99), D("76.00")),
        # 9 examiners: drop 90 and 81.5 -> 596 / 7 = 85.142857...
        ((81.5, 82, 83, 84.5, 85, 86, 87, 88.5, 90), D("85.14")),
        # the highest twice: only one is dropped -> (80 + 85 + 90) / 3
        ((90, 90, 80, 85, 70), D("85.00")),
        # the lowest twice: only one is dropped -> (70 + 80 + 85) / 3 = 78.333...
        ((70, 70, 80, 85, 90), D("78.33")),
        # everyone agrees
        ((88, 88, 88, 88, 88), D("88.00")),
        # 4 examiners: below the threshold, plain mean (80 + 82 + 84 + 86) / 4
        ((80, 82, 84, 86), D("83.00")),
    ],
)
def test_trimmed_mean_examples(totals, expected):
    assert final_score(sheets(*totals), TRIMMED) == expected


def test_half_up_at_five_thousandths_where_floats_and_bankers_rounding_fail():
    # (80 + 80 + 80 + 80.1) / 4 = 80.025 exactly: half up gives 80.03 (banker's: 80.02)
    assert final_score(sheets(80, 80, 80, 80.1), TRIMMED) == D("80.03")
    # 6 examiners, trimmed: drop 60 and 99 -> (80 + 80 + 80 + 80.1) / 4 = 80.025 -> 80.03
    assert final_score(sheets(60, 80, 80, 80, 80.1, 99), TRIMMED) == D("80.03")
    assert round_half_up(D("84.005"), 2) == D("84.01")
    assert round_half_up(D("84.004999"), 2) == D("84.00")
    assert round(84.005, 2) == 84.0  # what binary floats would have published


def test_one_decimal_place():
    assert final_score(sheets(80, 85, 90, 75, 88), Rule(decimals=1)) == D("84.3")
    assert final_score(sheets(80, 80, 80, 80.1), Rule(decimals=1)) == D("80.0")  # 80.025
    assert final_score(sheets(80, 80, 80.1, 80.1), Rule(decimals=1)) == D("80.1")  # 80.05


def test_plain_rule_never_trims():
    assert final_score(sheets(80, 85, 90, 75, 88), Rule(kind="plain")) == D("83.60")


def test_threshold_is_configurable():
    assert final_score(sheets(70, 80, 90), Rule(trim_min_examiners=3)) == D("80.00")
    assert final_score(sheets(70, 80, 96), Rule(trim_min_examiners=3)) == D("80.00")
    assert final_score(sheets(70, 80, 96), Rule(trim_min_examiners=5)) == D("82.00")


def test_per_dimension_trimming_differs_from_trimming_totals():
    five = [
        {"综合分析": D(10), "言语表达": D(5)},
        {"综合分析": D(12), "言语表达": D(9)},
        {"综合分析": D(14), "言语表达": D(6)},
        {"综合分析": D(16), "言语表达": D(7)},
        {"综合分析": D(18), "言语表达": D(8)},
    ]
    # per dimension: 综合分析 drop 18, 10 -> 14; 言语表达 drop 9, 5 -> 7; sum 21
    assert final_score(five, Rule(per_dimension=True)) == D("21.00")
    # on totals 15, 21, 20, 23, 26: drop 26 and 15 -> 64 / 3 = 21.333...
    assert final_score(five, Rule()) == D("21.33")


def test_recusal_changes_who_counts():
    # five examiners score, one recuses: four remain, below the threshold -> plain mean
    assert final_score(sheets(80, 85, 90, 75), TRIMMED) == D("82.50")


def test_no_sheets_is_an_error_not_a_zero():
    with pytest.raises(ValueError):
        final_score([], TRIMMED)


def test_ranks_share_ties_and_skip():
    scores = [
        ("a", D("85.00"), ()),
        ("b", D("90.10"), ()),
        ("c", D("85.00"), ()),
        ("d", D("70.00"), ()),
        ("absent", None, ()),
    ]
    assert rank(scores) == {"b": 1, "a": 2, "c": 2, "d": 4}


def test_ties_broken_by_the_configured_tie_breakers():
    scores = [
        ("a", D("85.00"), (D("16.2"),)),
        ("c", D("85.00"), (D("17.0"),)),
        ("e", D("85.00"), (D("17.0"),)),
    ]
    assert rank(scores, "first_dimension") == {"c": 1, "e": 1, "a": 3}
    assert rank(scores, "tied") == {"a": 1, "c": 1, "e": 1}


def test_rule_describes_itself_in_chinese(app):
    assert "去掉一个最高分和一个最低分" in Rule().describe()
    assert Rule(kind="plain", decimals=2).describe() == (
        "取全部考官评分的平均分，保留2位小数（四舍五入）"
    )
    with force_locale("en"):
        assert Rule(kind="plain", decimals=2).describe() == (
            "The average of all examiners' scores, kept to 2 decimal places (rounded half up)"
        )
