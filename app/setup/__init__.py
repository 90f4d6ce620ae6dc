"""Setting an exam up: codes, panels, the roster and its import, ID checks, slips, demo."""
