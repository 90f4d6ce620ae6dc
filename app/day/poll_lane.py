"""The unchanged 2-second poll, answered in front of Flask's request machinery.

Most requests of an exam day are `/me/state` polls that change nothing (`make bench`: nine in
ten of the held load). The quick path (app/day/poll.py) answers them from one SELECT and one
Redis round trip, about 0.5 ms of the app's CPU; Flask's request context, the session and the
dozen hooks around every request (rate limiter, CSRF, input guard, metrics, compression,
security headers, request log) cost twice that again, for a body-less 304.

This WSGI layer answers exactly those requests: GET `/me/state` from htmx, with If-None-Match,
a valid session cookie (read by Flask's own session interface) and a quick answer. It gives the
same 304 the route gives, header for header (tests/test_poll_lane.py compares them), counts it
in the same metrics and logs it the same way. Everything else, and every poll the quick path
steps aside from, goes to Flask untouched.
"""

import time
import uuid

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from app.day.poll import poll_headers, quick_answer
from app.metrics import count_request
from app.request_log import REQUEST_ID_HEADER, log_answer, sane_request_id
from app.security.headers import security_headers
from app.timeutil import utcnow

PATH = "/me/state"
ENDPOINT = "candidate.state"


class PollLane:
    def __init__(self, app: Flask, wsgi_app) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if (
            environ.get("PATH_INFO") == PATH
            and environ.get("REQUEST_METHOD") == "GET"
            and environ.get("HTTP_HX_REQUEST") == "true"
            and environ.get("HTTP_IF_NONE_MATCH")
        ):
            response = self._answer(environ)
            if response is not None:
                return response(environ, start_response)
        return self.wsgi_app(environ, start_response)

    def _answer(self, environ) -> Response | None:
        started = time.perf_counter()
        app = self.app
        with app.app_context():
            request = app.request_class(environ)
            session = app.session_interface.open_session(app, request)
            if session is None:
                return None
            now = utcnow()
            try:
                answer = quick_answer(
                    session.get("candidate_id"),
                    session.get("candidate_nonce"),
                    request.args.get("stage"),
                    request.if_none_match,
                    now,
                )
            except SQLAlchemyError:
                # The database away (a restart, a failover): Flask's way answers with the 503
                # page and its retry, as for every other request (app/routes/health.py).
                return None
            if answer is None:
                return None
            response = app.response_class(status=304)
            response.set_etag(answer.etag)
            poll_headers(response, now, answer.seconds, answer.ahead)
            # What the hooks add to the route's 304: the session was read (Flask's Vary), the
            # answer differs for htmx and the BREACH rule's (app/templating.py,
            # app/compression.py), and the security headers of every answer.
            response.vary.update(("Accept-Encoding", "Sec-Fetch-Site", "HX-Request", "Cookie"))
            security_headers(response, request.is_secure, app.extensions["security_policies"])
            request_id = (
                sane_request_id(request.headers.get(REQUEST_ID_HEADER, "")) or uuid.uuid4().hex
            )
            response.headers[REQUEST_ID_HEADER] = request_id
            took = time.perf_counter() - started
            count_request(ENDPOINT, "GET", 304, took, poll_kind="candidate")
            log_answer(
                "GET",
                PATH,
                ENDPOINT,
                304,
                took * 1000,
                request_id=request_id,
                candidate_id=session.get("candidate_id"),
            )
            return response


def install_poll_lane(app: Flask) -> None:
    """In front of the app, inside ProxyFix (installed after this): `request.is_secure` and the
    address are the client's."""
    app.wsgi_app = PollLane(app, app.wsgi_app)  # type: ignore[method-assign]
