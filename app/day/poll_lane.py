"""The unchanged 2-second poll, answered in front of Flask's request machinery.

Most requests of an exam day are `/me/state` polls that change nothing (`make bench`: nine in
ten of the held load). The quick path (app/day/poll.py) answers them from one SELECT and one
Redis round trip, about 0.5 ms of the app's CPU; Flask's request context, the session and the
dozen hooks around every request (rate limiter, CSRF, input guard, metrics, compression,
security headers, request log) cost twice that again, for a body-less 304.

This WSGI layer answers exactly those requests: GET `/me/state` from htmx, with If-None-Match,
a valid session cookie (verified by Flask's own serializer, once per cookie and worker; its age
checked on every poll) and a quick answer. It gives the same 304 the route gives, header for
header (tests/test_poll_lane.py compares them), counts it in the same metrics and logs it the
same way. Everything else, and every poll the quick path steps aside from, goes to Flask
untouched.
"""

import time
import uuid
from functools import lru_cache

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.http import quote_etag

from app.day.poll import poll_header_list, quick_answer
from app.metrics import count_request
from app.request_log import REQUEST_ID_HEADER, log_answer, sane_request_id
from app.security.headers import security_header_list
from app.timeutil import utcnow

PATH = "/me/state"
ENDPOINT = "candidate.state"
STATUS = "304 NOT MODIFIED"
# What the hooks add to the route's 304: the session was read (Flask's Vary), the answer
# differs for htmx and the BREACH rule's (app/templating.py, app/compression.py).
VARY = ("Vary", "Accept-Encoding, Sec-Fetch-Site, HX-Request, Cookie")
# Signed cookies verified once per worker: each page sends the same cookie on every poll, and
# checking its HMAC again was a sixth of the lane's cost. Only cookies that verified are kept.
VERIFIED_COOKIES = 16384


class PollLane:
    def __init__(self, app: Flask, wsgi_app) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self._verified = lru_cache(maxsize=VERIFIED_COOKIES)(self._verify)

    def __call__(self, environ, start_response):
        if (
            environ.get("PATH_INFO") == PATH
            and environ.get("REQUEST_METHOD") == "GET"
            and environ.get("HTTP_HX_REQUEST") == "true"
            and environ.get("HTTP_IF_NONE_MATCH")
        ):
            headers = self._answer(environ)
            if headers is not None:
                start_response(STATUS, headers)
                return []
        return self.wsgi_app(environ, start_response)

    def _answer(self, environ) -> list | None:
        """The 304's headers, or None for Flask to answer."""
        started = time.perf_counter()
        app = self.app
        with app.app_context():
            request = app.request_class(environ)
            signed = self._session(request)
            if signed is None:
                return None
            candidate_id, nonce = signed
            now = utcnow()
            try:
                answer = quick_answer(
                    candidate_id, nonce, request.args.get("stage"), request.if_none_match, now
                )
            except SQLAlchemyError:
                # The database away (a restart, a failover): Flask's way answers with the 503
                # page and its retry, as for every other request (app/routes/health.py).
                return None
            if answer is None:
                return None
            headers = [("ETag", quote_etag(answer.etag))]
            headers += poll_header_list(now, answer.seconds, answer.ahead)
            headers.append(VARY)
            headers += security_header_list(request.is_secure, app.extensions["security_policies"])
            request_id = (
                sane_request_id(request.headers.get(REQUEST_ID_HEADER, "")) or uuid.uuid4().hex
            )
            headers.append((REQUEST_ID_HEADER, request_id))
            took = time.perf_counter() - started
            count_request(ENDPOINT, "GET", 304, took, poll_kind="candidate")
            log_answer(
                "GET",
                PATH,
                ENDPOINT,
                304,
                took * 1000,
                request_id=request_id,
                candidate_id=candidate_id,
            )
            return headers

    def _session(self, request) -> tuple | None:
        """(candidate_id, nonce) from the signed session cookie, as Flask's session reads it."""
        interface = self.app.session_interface
        if type(interface) is not SecureCookieSessionInterface:
            session = interface.open_session(self.app, request)
            return None if session is None else _candidate_of(session)
        cookie = request.cookies.get(self.app.config["SESSION_COOKIE_NAME"])
        if not cookie:
            return None
        try:
            values, signed_at = self._verified(cookie)
        except BadSignature:
            return None
        # Flask's max age, from sign-in (SESSION_REFRESH_EACH_REQUEST is off), checked on
        # every poll as itsdangerous checks it: whole seconds, never from the future.
        age = int(time.time()) - signed_at
        max_age = self.app.permanent_session_lifetime.total_seconds()
        if age < 0 or age > max_age:
            return None
        return values

    def _verify(self, cookie: str) -> tuple[tuple, int]:
        interface = self.app.session_interface
        assert isinstance(interface, SecureCookieSessionInterface)  # `_session` asked
        serializer = interface.get_signing_serializer(self.app)
        if serializer is None:  # no SECRET_KEY: Flask has no session either
            raise BadSignature("no secret key")
        data, signed_at = serializer.loads(cookie, return_timestamp=True)
        return _candidate_of(data), int(signed_at.timestamp())


def _candidate_of(session) -> tuple:
    return session.get("candidate_id"), session.get("candidate_nonce")


def install_poll_lane(app: Flask) -> None:
    """In front of the app, inside ProxyFix (installed after this): `request.is_secure` and the
    address are the client's."""
    app.wsgi_app = PollLane(app, app.wsgi_app)  # type: ignore[method-assign]
