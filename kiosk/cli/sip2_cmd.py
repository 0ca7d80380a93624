"""`kiosk sip2 serve` (our catalog to third-party self-check machines) and `kiosk sip2 probe` (installer check)."""

from __future__ import annotations

import json
from typing import Annotated
from urllib.parse import unquote, urlsplit

import typer

from kiosk.bootstrap import network_secret, open_database
from kiosk.cli.options import ConfigOption, JsonOption, fail, settings_from
from kiosk.errors import ConfigError
from kiosk.lending.policy import network_policy
from kiosk.sip2.client import Sip2Client
from kiosk.sip2.codec import Sip2Error
from kiosk.sip2.local_backend import LocalBackend
from kiosk.sip2.server import Sip2Server, backends_for
from kiosk.sip2.settings import sip2_settings

sip2_app = typer.Typer(help="SIP2: serve the local catalog to self-check machines, or probe a SIP2 server.",
                       no_args_is_help=True)


@sip2_app.command("serve")
def serve(config: ConfigOption = None,
          host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="TCP port (6001 is customary).")] = 6001) -> None:
    """Serve SIP2 2.00 to the accounts of [sip2] until interrupted."""
    try:
        settings = settings_from(config)
        sip2 = sip2_settings(settings.extra)
        policy = network_policy(settings.extra)
    except ConfigError as exc:
        raise fail(f"configuration: {exc}") from None
    if not sip2.accounts:
        raise fail("configuration: sip2.accounts: add at least one [[sip2.accounts]] (user, password, institution)")
    db = open_database(settings)
    secret = network_secret(settings)
    try:
        backends = backends_for(sip2, lambda inst: LocalBackend(db, secret=secret, branch_code=inst,
                                                                kiosk_id=f"sip2:{inst}", network_policy=policy))
        for inst, backend in backends.items():
            try:
                backend.branch_name  # noqa: B018 - fails early when the institution is not a branch
            except LookupError:
                raise fail(f"configuration: sip2.accounts: institution {inst!r} is not a branch code") from None
        try:
            server = Sip2Server((host, port), sip2, backends)
        except OSError as exc:
            raise fail(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        typer.echo(f"SIP2 server on {host}:{server.port} for {', '.join(backends)}")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
    finally:
        db.dispose()


@sip2_app.command("probe")
def probe(url: Annotated[str, typer.Option("--url", help="sip2://user:password@host:port/institution")],
          location: Annotated[str, typer.Option(help="Terminal location (CP).")] = "",
          encoding: Annotated[str, typer.Option(help="utf-8, gbk or gb18030.")] = "utf-8",
          timeout: Annotated[float, typer.Option(help="Seconds per reply.")] = 5.0,
          as_json: JsonOption = False) -> None:
    """Log in and send SC Status: what an installer runs to check credentials and reachability."""
    parts = urlsplit(url)
    if parts.scheme != "sip2" or not parts.hostname or not parts.username:
        raise fail("--url must look like sip2://user:password@host:port/institution")
    client = Sip2Client(parts.hostname, parts.port or 6001, user=unquote(parts.username),
                        password=unquote(parts.password or ""), location=location,
                        institution=parts.path.strip("/"), encoding=encoding, timeout_s=timeout)
    try:
        with client:
            if not client.login():
                raise fail("login refused (check user and password)")
            status = client.sc_status()
    except Sip2Error as exc:
        raise fail(f"SIP2: {exc}") from None
    except OSError as exc:
        raise fail(f"SIP2: {exc}") from None
    result = {"online": status.fixed["online_status"] == "Y", "checkout_ok": status.fixed["checkout_ok"] == "Y",
              "checkin_ok": status.fixed["checkin_ok"] == "Y", "protocol": status.fixed["protocol_version"],
              "institution": status.get("AO"), "library": status.get("AM"), "supported": status.get("BX"),
              "screen_messages": status.get_all("AF")}
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
    else:
        for key, value in result.items():
            typer.echo(f"{key}: {value}")


def register(app: typer.Typer) -> None:
    app.add_typer(sip2_app, name="sip2")
