"""Scores: the final-score rule, score sheets, paper entry, panel boards, results."""
