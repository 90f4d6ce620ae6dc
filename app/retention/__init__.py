"""Retention of stored personal data (PIPL): what each exam keeps, for how long, and what is
never purged while it is under review."""
