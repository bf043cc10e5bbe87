"""``hygie login``: sign in with the hospital's identity provider, get a personal API key.

Two ways to sign in, both public-client OAuth flows with no secret on the workstation:

- the device authorization grant (RFC 8628, the default): the command shows a link and a code,
  the user approves in any browser (a phone will do), the command polls for the token;
- authorization code with PKCE (RFC 7636) on a loopback port (``--browser``), for providers
  that block device codes: a browser opens, the provider redirects to ``http://127.0.0.1:<port>``.

The token is then exchanged at the gateway (``POST /v1/keys/self``) for a personal, expiring
``hyg_sk_`` key, printed once. The token itself is never written to disk.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import webbrowser
from typing import Annotated, Any

import typer

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SCOPE = "openid profile email llm"
_TIMEOUT_S = 15


class LoginError(Exception):
    """The sign-in or the key exchange failed; the message says why."""


def _request(
    url: str,
    *,
    form: dict[str, str] | None = None,
    bearer: str | None = None,
    body: dict[str, Any] | None = None,
) -> tuple[int, dict[str, Any]]:
    data, headers = None, {"accept": "application/json"}
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["content-type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["content-type"] = "application/json"
    if bearer is not None:
        headers["authorization"] = f"Bearer {bearer}"
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
            return response.status, json.loads(response.read(1024 * 1024) or b"{}")
    except urllib.error.HTTPError as error:
        try:
            return error.code, json.loads(error.read(1024 * 1024) or b"{}")
        except json.JSONDecodeError:
            return error.code, {}
    except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as error:
        raise LoginError(f"{url}: {error}") from None


def discover(issuer: str) -> dict[str, Any]:
    """The provider's OpenID configuration (its issuer must be exactly ``issuer``)."""
    status, document = _request(issuer.rstrip("/") + "/.well-known/openid-configuration")
    if status != 200 or document.get("issuer") != issuer:
        raise LoginError(f"{issuer} is not an OpenID provider with that exact issuer")
    return document


def device_login(
    issuer: str, client_id: str, *, show: Any = typer.echo, timeout_s: float = 600
) -> str:
    """An access token through the device authorization grant."""
    provider = discover(issuer)
    endpoint = provider.get("device_authorization_endpoint")
    if not endpoint:
        raise LoginError("this provider offers no device login; use --browser")
    status, grant = _request(endpoint, form={"client_id": client_id, "scope": SCOPE})
    if status != 200:
        raise LoginError(f"device login refused: {grant.get('error', status)}")
    link = grant.get("verification_uri_complete") or grant["verification_uri"]
    show(f"Open {link} and confirm the code {grant['user_code']}.")
    interval = float(grant.get("interval", 5))
    deadline = time.monotonic() + min(timeout_s, float(grant.get("expires_in", timeout_s)))
    form = {"grant_type": DEVICE_GRANT, "device_code": grant["device_code"], "client_id": client_id}
    while time.monotonic() < deadline:
        status, answer = _request(provider["token_endpoint"], form=form)
        if status == 200 and "access_token" in answer:
            return str(answer["access_token"])
        error = answer.get("error")
        if error == "slow_down":
            interval += 5
        elif error != "authorization_pending":
            raise LoginError(f"device login failed: {error or status}")
        time.sleep(interval)
    raise LoginError("the sign-in was not approved in time")


class _Callback(http.server.BaseHTTPRequestHandler):
    """Receives the provider's redirect on the loopback port, once."""

    result: dict[str, str]

    def do_GET(self) -> None:
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        type(self).result.update(query)
        self.send_response(200)
        self.send_header("content-type", "text/plain; charset=utf-8")
        self.end_headers()
        self.wfile.write(b"Signed in: you may close this window.\n")

    def log_message(self, format: str, *args: Any) -> None:  # the terminal stays quiet
        return


def browser_login(
    issuer: str, client_id: str, *, open_url: Any = webbrowser.open, timeout_s: float = 300
) -> str:
    """An access token through authorization code + PKCE on a loopback redirect."""
    provider = discover(issuer)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    state = secrets.token_urlsafe(16)
    received: dict[str, str] = {}

    class Callback(_Callback):
        result = received

    server = http.server.HTTPServer(("127.0.0.1", 0), Callback)
    server.timeout = 1
    redirect_uri = f"http://127.0.0.1:{server.server_port}/callback"
    query = {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": SCOPE,
        "state": state,
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    thread = threading.Thread(
        target=open_url,
        args=(f"{provider['authorization_endpoint']}?{urllib.parse.urlencode(query)}",),
        daemon=True,
    )
    thread.start()
    deadline = time.monotonic() + timeout_s
    try:
        while not received and time.monotonic() < deadline:
            server.handle_request()
    finally:
        server.server_close()
    result = received
    if result.get("state") != state or "code" not in result:
        raise LoginError(f"sign-in failed: {result.get('error', 'no answer from the browser')}")
    form = {
        "grant_type": "authorization_code",
        "code": result["code"],
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
        "client_id": client_id,
    }
    status, answer = _request(provider["token_endpoint"], form=form)
    if status != 200 or "access_token" not in answer:
        raise LoginError(f"code exchange failed: {answer.get('error', status)}")
    return str(answer["access_token"])


def mint_key(gateway: str, token: str, *, name: str, days: int | None) -> dict[str, Any]:
    """A personal key from the gateway for the signed-in user."""
    body: dict[str, Any] = {"name": name}
    if days is not None:
        body["lifetime_days"] = days
    status, answer = _request(f"{gateway.rstrip('/')}/v1/keys/self", bearer=token, body=body)
    if status != 201:
        message = answer.get("error", {}).get("message") if isinstance(answer, dict) else None
        raise LoginError(f"the gateway refused the key: {message or status}")
    return answer


def login(
    gateway: Annotated[str, typer.Option(help="The gateway's URL, e.g. https://ia.chu.fr.")],
    issuer: Annotated[str, typer.Option(help="The identity provider's exact issuer URL.")],
    client_id: Annotated[str, typer.Option(help="Public client registered for the CLI.")] = (
        "hygie-cli"
    ),
    browser: Annotated[
        bool, typer.Option("--browser", help="Sign in with a browser (code + PKCE), not a code.")
    ] = False,
    name: Annotated[str, typer.Option(help="A label for the key.")] = "hygie login",
    days: Annotated[int | None, typer.Option(help="Key lifetime (admin-set maximum).")] = None,
) -> None:
    """Sign in with the hospital's single sign-on and print a personal API key, once."""
    try:
        token = browser_login(issuer, client_id) if browser else device_login(issuer, client_id)
        key = mint_key(gateway, token, name=name, days=days)
    except LoginError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"key {key['id']} (expires {key['expires_at']}). It will not be shown again:")
    typer.echo(key["key"])
