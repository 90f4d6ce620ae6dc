"""A candidate's browser for the page tests: signs in with the code, posts with the CSRF token,
polls the state fragment the way htmx does."""

from tests.conftest import csrf_token_from

HTMX = {"HX-Request": "true"}


class CandidateBrowser:
    def __init__(self, client, address: str = "192.0.2.10"):
        self.client = client
        self.environ = {"REMOTE_ADDR": address}
        self.etag = None

    def token(self) -> str:
        page = self.client.get("/", environ_base=self.environ)
        return csrf_token_from(page.get_data(as_text=True))

    def enter_code(self, code: str):
        return self.client.post(
            "/", data={"code": code, "csrf_token": self.token()}, environ_base=self.environ
        )

    def page(self):
        return self.client.get("/me", environ_base=self.environ)

    def html(self) -> str:
        response = self.page()
        assert response.status_code == 200, response.status_code
        return response.get_data(as_text=True)

    def post(self, url: str, htmx: bool = True, **data):
        data.setdefault("csrf_token", self.token())
        return self.client.post(
            url, data=data, headers=HTMX if htmx else {}, environ_base=self.environ
        )

    def poll(self, stage: str, etag: str | None = None):
        headers = dict(HTMX)
        if etag:
            headers["If-None-Match"] = f'"{etag}"'
        return self.client.get(
            f"/me/state?stage={stage}", headers=headers, environ_base=self.environ
        )
