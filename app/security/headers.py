"""Security headers on every response.

The Content-Security-Policy allows the app itself and the configured Jitsi domain only (its
`external_api.js` and its iframe); no inline script or style anywhere, no CDN. The
Permissions-Policy lets this page and the Jitsi iframe use the camera and microphone, which a
blanket deny would break.
"""

from flask import Flask, request

from app.jitsi.tokens import JitsiSettings

# Static files that a page loads and that are never a document of their own.
SUBRESOURCE_TYPES = frozenset({"text/css", "text/javascript", "application/javascript"})


def content_security_policy(jitsi_origin: str) -> str:
    directives = {
        "default-src": "'self'",
        "script-src": f"'self' {jitsi_origin}",
        "frame-src": jitsi_origin,
        "connect-src": "'self'",
        "img-src": "'self' data:",
        "media-src": "'self' blob:",
        "style-src": "'self'",
        "font-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def permissions_policy(jitsi_origin: str) -> str:
    allowed = f'(self "{jitsi_origin}")'
    return f"camera={allowed}, microphone={allowed}, display-capture=(), geolocation=(), fullscreen={allowed}"


def security_header_list(secure: bool, policies: tuple[str, str] | None) -> list:
    """The headers every answer carries; the two policies (CSP, Permissions-Policy) only on
    what can be a document."""
    headers = []
    if policies is not None:
        headers += [("Content-Security-Policy", policies[0]), ("Permissions-Policy", policies[1])]
    headers += [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
    ]
    if secure:
        headers.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    return headers


def security_headers(response, secure: bool, policies: tuple[str, str] | None) -> None:
    """`security_header_list` on a response, without overriding what a view set itself."""
    for name, value in security_header_list(secure, policies):
        response.headers.setdefault(name, value)


def init_security(app: Flask) -> None:
    settings = JitsiSettings.from_config(app.config)
    jitsi_origin = f"https://{settings.domain}"
    policies = (content_security_policy(jitsi_origin), permissions_policy(jitsi_origin))
    app.extensions["security_policies"] = policies

    @app.after_request
    def _headers(response):
        # Both policies govern documents; a script or a style sheet loaded by a page is under
        # the page's. Left off those (as nginx serves them): 0.5 kB less on each, which is 3 kB
        # of a candidate's first visit (tests/e2e/test_page_weight.py).
        subresource = request.endpoint == "static" and response.mimetype in SUBRESOURCE_TYPES
        security_headers(response, request.is_secure, None if subresource else policies)
        return response
