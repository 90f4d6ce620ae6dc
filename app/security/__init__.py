"""Security: response headers, limits on guessing, alerts on code guessing."""
