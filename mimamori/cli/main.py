"""The `mimamori` command line (README.md and docs/architecture.md); errors end in a one-line reason.

Exit status: 0 done; 1 a data, input, settings or run failure; 2 a usage error (unknown command, missing
or bad option); 3 tampering found (the audit log or a backup archive was altered).
"""

from __future__ import annotations

import importlib
import sys
from enum import StrEnum
from pathlib import Path
from types import ModuleType
from typing import Annotated

import typer
from rich.console import Console

from mimamori.cli import consent as consent_commands
from mimamori.cli import logs
from mimamori.cli import pipeline as commands
from mimamori.cli import steward as steward_commands
from mimamori.cli import users as user_commands
from warehouse.errors import InputError, MimamoriError, TamperingError

EXIT_FAILED, EXIT_USAGE, EXIT_TAMPERED = 1, 2, 3
EXIT_CODES = (
    "終了コード / exit status: 0 完了 / done, 1 データ・入力・設定・実行の失敗 / data, input, settings "
    "or run failure, 2 使い方の誤り / usage error, 3 改ざんを検出 / tampering found"
)
app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="見守り: consented signals → daily watchlist",
    epilog=EXIT_CODES,
)
outcome_app = typer.Typer(no_args_is_help=True, help="訪問結果 / outreach outcomes")
audit_app = typer.Typer(no_args_is_help=True, help="監査 / audit log and lineage")
quarantine_app = typer.Typer(no_args_is_help=True, help="隔離 / quarantined deliveries")
consent_app = typer.Typer(no_args_is_help=True, help="同意 / consent records")
link_app = typer.Typer(no_args_is_help=True, help="名寄せ確認 / link review queue")
keys_app = typer.Typer(no_args_is_help=True, help="鍵管理 / key rotation")
rules_app = typer.Typer(no_args_is_help=True, help="ルール / watchlist rules")
app.add_typer(outcome_app, name="outcome")
app.add_typer(audit_app, name="audit")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(consent_app, name="consent")
app.add_typer(link_app, name="link")
app.add_typer(keys_app, name="keys")
app.add_typer(rules_app, name="rules")
users_app = typer.Typer(no_args_is_help=True, help="ポータル利用者 / portal accounts")
app.add_typer(users_app, name="users")
err = Console(stderr=True, soft_wrap=True)
# Results go to stdout; wide enough for the summary table when piped to a file or a CI log.
out = Console(width=None if sys.stdout.isatty() else 140, soft_wrap=True)


class LogFormat(StrEnum):
    text = "text"
    json = "json"


def _show_version(wanted: bool) -> None:
    if wanted:
        from mimamori.daily import code_version

        typer.echo(f"mimamori {code_version()}")
        raise typer.Exit(0)


@app.callback()
def root(
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="-v: progress (INFO), -vv: details (DEBUG)")
    ] = 0,
    log_format: Annotated[
        LogFormat,
        typer.Option("--log-format", envvar="MIMAMORI_LOG_FORMAT", help="text (timestamped) or json lines"),
    ] = LogFormat.text,
    version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=_show_version, help="print the version and exit"),
    ] = False,
) -> None:
    """見守り: consented signals → daily watchlist."""
    logs.configure(verbose, log_format.value)


@app.command()
def init() -> None:
    """Start a data home: commented templates of municipality.yaml, partners.yaml and rules.yaml."""
    from mimamori.cli.init import init_home
    from mimamori.settings import data_home

    typer.echo(init_home(data_home()))


class Format(StrEnum):
    json = "json"
    csv = "csv"
    html = "html"


@app.command()
def run(date: Annotated[str, typer.Option("--date", help="run date YYYY-MM-DD")]) -> None:
    """Run the whole day in process: ingest, validate, load, build and publish the lists."""
    commands.run(date, err, out)


@app.command()
def watchlist(
    date: Annotated[str, typer.Option("--date", help="list date YYYY-MM-DD")],
    format: Annotated[Format, typer.Option("--format", help="json, csv or html")] = Format.json,
    district: Annotated[
        list[str] | None, typer.Option("--district", help="district code (repeatable)")
    ] = None,
    all_districts: Annotated[
        bool, typer.Option("--all-districts", help="every district (audited as such)")
    ] = False,
) -> None:
    """Print a published list for --district X (repeatable) or --all-districts (re-identified, audited)."""
    sys.stdout.write(commands.watchlist(date, format.value, district or [], all_districts))


@outcome_app.command("record")
def outcome_record(
    entry_id: Annotated[str, typer.Option("--entry-id")],
    outcome: Annotated[str, typer.Option("--outcome", help="safe_no_action, not_home, hospitalised, ...")],
    visited_on: Annotated[str, typer.Option("--visited-on", help="YYYY-MM-DD")],
    follow_up_on: Annotated[str | None, typer.Option("--follow-up-on", help="YYYY-MM-DD")] = None,
    note: Annotated[
        str | None, typer.Option("--note", help="free text, sealed in the vault (may hold health details)")
    ] = None,
) -> None:
    """Record what the outreach team found for a list entry (visited on: not in the future, JST)."""
    typer.echo(commands.record_outcome(entry_id, outcome, visited_on, follow_up_on, note))


@rules_app.command("report")
def rules_report(
    since: Annotated[str | None, typer.Option("--since", help="first list date YYYY-MM-DD")] = None,
) -> None:
    """Per rule: listings citing it and the share that outreach outcomes confirmed."""
    typer.echo(commands.rules_report(since))


def _demo(module: str) -> ModuleType:
    """A module of the synthetic town's package, which a production installation does not carry."""
    try:
        return importlib.import_module(f"mimamori_demo.{module}")
    except ModuleNotFoundError as missing:
        if not (missing.name or "").startswith(("mimamori_demo", "gimei")):
            raise
        raise InputError(
            "合成の町（デモ・評価）は本番用のインストールに含まれません。開発環境では make demo が入れます / "
            "the synthetic town (demo, eval) is not installed: pip install -e ./demo (make demo does this)"
        ) from None


@app.command()
def demo(
    residents: Annotated[int, typer.Option(min=50, max=200_000)] = 2000,
    days: Annotated[int, typer.Option(min=1, max=120)] = 21,
    seed: Annotated[int, typer.Option()] = 7,
    start: Annotated[str, typer.Option(help="first day YYYY-MM-DD")] = "2026-11-01",
    truth: Annotated[Path | None, typer.Option(help="ground-truth file (outside the data home)")] = None,
    force: Annotated[bool, typer.Option("--force", help="replace an existing demo home")] = False,
    through_airflow: Annotated[
        bool, typer.Option("--through-airflow", help="then run every day via the DAG")
    ] = False,
) -> None:
    """Write a synthetic town into the data home (and optionally run it through the real Airflow DAG)."""
    _demo("demo_command").demo(residents, days, seed, start, truth, force, through_airflow, err, out)


@app.command("eval")
def evaluate(
    residents: Annotated[int, typer.Option(min=200, max=200_000)] = 2000,
    days: Annotated[int, typer.Option(min=2, max=120)] = 21,
    seed: Annotated[int, typer.Option()] = 7,
    outcomes: Annotated[bool, typer.Option("--outcomes/--no-outcomes", help="record visits")] = False,
    home: Annotated[Path | None, typer.Option(help="empty data home to keep (default: temporary)")] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="also write the figures here")] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="also write an HTML report with the calibration chart")
    ] = None,
    collapse_per: Annotated[
        int | None, typer.Option(min=10, help="residents per planted collapse (default 400): more cases")
    ] = None,
) -> None:
    """Run a synthetic town day by day against its ground truth: collapses found, false alarms, privacy."""
    _demo("eval_run").main(residents, days, seed, outcomes, home, json_path, err, out, report, collapse_per)


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="port", min=1, max=65535)] = 8080,
) -> None:
    """Run the portal (pages and /api/v1); GET /healthz answers without sign-in."""
    from mimamori.cli.serve import serve as run_portal

    run_portal(host, port)


@app.command()
def migrate() -> None:
    """Bring the warehouse schema up to the newest migration."""
    typer.echo(commands.migrate_warehouse())


@app.command()
def backup(
    target: Annotated[Path, typer.Argument(help="archive to write (never overwritten)", dir_okay=False)],
    with_secret_keys: Annotated[
        bool, typer.Option("--with-secret-keys", help="also seal the secret keys into the archive")
    ] = False,
) -> None:
    """Seal the warehouse, audit checkpoints, settings and key ids into one archive (vault key, AES-GCM)."""
    from mimamori.cli.backup import backup as make

    typer.echo(make(target, with_secret_keys))


@app.command()
def restore(
    source: Annotated[Path, typer.Argument(help="a backup archive", dir_okay=False)],
    key_file: Annotated[
        Path | None,
        typer.Option("--key-file", help="the vault key ring that sealed it (else MIMAMORI_VAULT_KEYS)"),
    ] = None,
) -> None:
    """Restore a backup into an empty data home and warehouse; refuses an altered archive."""
    from mimamori.cli.backup import restore as bring_back

    typer.echo(bring_back(source, key_file))


@audit_app.command("verify")
def audit_verify(
    head: Annotated[
        Path | None, typer.Option("--head", help="a head saved by `audit export-head`", dir_okay=False)
    ] = None,
) -> None:
    """Check the chain, every signed checkpoint (and an exported head); exits non-zero when it was altered."""
    ok, message = commands.audit_verify(head)
    typer.echo(message)
    if not ok:
        raise typer.Exit(EXIT_TAMPERED)


@audit_app.command("export-head")
def audit_export_head() -> None:
    """Print the signed head (sequence, hash, time, key id, signature) as JSON, to keep outside the system."""
    typer.echo(commands.export_head())


@audit_app.command("lineage")
def audit_lineage(entry_id: Annotated[str, typer.Argument(help="list entry id")]) -> None:
    """Print one list entry's chain of evidence: rules, deliveries, consents, run and code version."""
    typer.echo(commands.lineage(entry_id))


@quarantine_app.command("list")
def quarantine_list() -> None:
    """Quarantined and refused deliveries with their reasons (no identifiers)."""
    typer.echo(steward_commands.quarantine_list())


@quarantine_app.command("show")
def quarantine_show(delivery: Annotated[str, typer.Argument(help="PARTNER/DELIVERY_ID")]) -> None:
    """One delivery's status, reasons and row counts."""
    typer.echo(steward_commands.quarantine_show(delivery))


@quarantine_app.command("release")
def quarantine_release(
    delivery: Annotated[str, typer.Argument(help="PARTNER/DELIVERY_ID")],
    reason: Annotated[str | None, typer.Option("--reason", help="理由（監査に記録） / why")] = None,
) -> None:
    """Release a batch for reprocessing after the partner's fix or a registry change."""
    typer.echo(steward_commands.quarantine_release(delivery, *([reason] if reason else [])))


@quarantine_app.command("discard")
def quarantine_discard(
    delivery: Annotated[str, typer.Argument(help="PARTNER/DELIVERY_ID")],
    reason: Annotated[str | None, typer.Option("--reason", help="理由（監査に記録） / why")] = None,
) -> None:
    """Discard a batch for good; its sealed copy is deleted."""
    typer.echo(steward_commands.quarantine_discard(delivery, *([reason] if reason else [])))


@consent_app.command("list")
def consent_list(
    status: Annotated[str | None, typer.Option(help="given, renewed, withdrawn, revoked, expired")] = None,
    expiring_within: Annotated[int | None, typer.Option(help="days")] = None,
) -> None:
    """Current consents (pseudonymous), filtered by status or upcoming expiry."""
    typer.echo(consent_commands.consent_list(status, expiring_within))


@consent_app.command("show")
def consent_show(consent_id: Annotated[str, typer.Argument()]) -> None:
    """Every version of one consent."""
    typer.echo(consent_commands.consent_show(consent_id))


@consent_app.command("import")
def consent_import(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Import a consent CSV, UTF-8 or CP932 (the same file twice changes nothing); exit 1 if rows refused."""
    report, refused = consent_commands.consent_import(file)
    typer.echo(report)
    if refused:
        raise typer.Exit(1)


@consent_app.command("grant")
def consent_grant(
    resident_id: Annotated[str, typer.Option("--resident-id", help="宛名番号")],
    consent_id: Annotated[str, typer.Option("--consent-id")],
    granted_on: Annotated[str, typer.Option("--granted-on", help="YYYY-MM-DD")],
    partners: Annotated[str, typer.Option(help="partner ids separated by ; or *")] = "*",
    sectors: Annotated[str, typer.Option(help="sectors separated by ; or *")] = "*",
    expires_on: Annotated[str | None, typer.Option("--expires-on", help="YYYY-MM-DD")] = None,
    method: Annotated[str, typer.Option(help="paper, online or proxy")] = "paper",
    evidence_ref: Annotated[str, typer.Option("--evidence-ref")] = "",
    proxy_name: Annotated[str, typer.Option("--proxy-name")] = "",
    proxy_relation: Annotated[str, typer.Option("--proxy-relation")] = "",
) -> None:
    """Record a consent given on a form (audited)."""
    typer.echo(
        consent_commands.consent_grant(
            resident_id,
            consent_id,
            partners,
            sectors,
            granted_on,
            expires_on,
            method,
            evidence_ref,
            proxy_name,
            proxy_relation,
        )
    )


@consent_app.command("withdraw")
def consent_withdraw(
    consent_id: Annotated[str, typer.Argument()],
    on: Annotated[str, typer.Option("--on", help="YYYY-MM-DD, first day without consent")],
    revoke: Annotated[bool, typer.Option("--revoke", help="revoked by the municipality")] = False,
) -> None:
    """Record a withdrawal; the next run purges the person and keeps a tombstone."""
    typer.echo(consent_commands.consent_withdraw(consent_id, on, revoke))


@consent_app.command("renew")
def consent_renew(
    consent_id: Annotated[str, typer.Argument()],
    expires_on: Annotated[str, typer.Option("--expires-on", help="YYYY-MM-DD")],
) -> None:
    """Extend a consent to a later expiry date."""
    typer.echo(consent_commands.consent_renew(consent_id, expires_on))


@consent_app.command("receipt")
def consent_receipt(
    consent_id: Annotated[str, typer.Argument()],
    format: Annotated[str, typer.Option("--format", help="json or html")] = "json",
) -> None:
    """The receipt of a consent: ISO/IEC TS 27560 JSON, or the printable Japanese page for the resident."""
    if format not in ("json", "html"):
        raise typer.BadParameter("--format must be json or html")
    typer.echo(consent_commands.consent_receipt(consent_id, format))


@consent_app.command("disclose")
def consent_disclose(
    resident_id: Annotated[str, typer.Argument(help="宛名番号 / resident id")],
    format: Annotated[str, typer.Option("--format", help="html or json")] = "html",
) -> None:
    """Everything held about one resident (APPI Art. 33), as a printable Japanese page or JSON (audited)."""
    if format not in ("json", "html"):
        raise typer.BadParameter("--format must be html or json")
    typer.echo(consent_commands.consent_disclose(resident_id, format))


@consent_app.command("partners")
def consent_partners(
    start: Annotated[str | None, typer.Option("--from", help="YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option("--to", help="YYYY-MM-DD")] = None,
) -> None:
    """Per-partner report of rows kept and dropped at the door, by reason."""
    typer.echo(consent_commands.partner_report(start, end))


@consent_app.command("provision-log")
def consent_provision_log(
    start: Annotated[str, typer.Option("--from", help="YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--to", help="YYYY-MM-DD")],
    partner: Annotated[str | None, typer.Option("--partner")] = None,
) -> None:
    """Records of provision (APPI Art. 29/30) for a period."""
    typer.echo(consent_commands.provision_log(partner, start, end))


@link_app.command("review")
def link_review(
    at: Annotated[int, typer.Option("--at", min=1, help="何組目か（古い順） / which pending pair")] = 1,
) -> None:
    """One pending link review: the partner's side beside the register's, differences marked (audited)."""
    typer.echo(steward_commands.link_review(at))


@link_app.command("accept")
def link_accept(review_id: Annotated[int, typer.Argument(help="review id")]) -> None:
    """Accept a link: the held rows are loaded at the next run and the customer is remembered."""
    typer.echo(steward_commands.link_decide(review_id, accept=True))


@link_app.command("reject")
def link_reject(review_id: Annotated[int, typer.Argument(help="review id")]) -> None:
    """Reject a link: the held rows are dropped at the next run and the customer is remembered as no match."""
    typer.echo(steward_commands.link_decide(review_id, accept=False))


@keys_app.command("rotate")
def keys_rotate(
    pseudonym: Annotated[bool, typer.Option("--pseudonym", help="re-key every pseudonym")] = False,
    vault: Annotated[bool, typer.Option("--vault", help="re-encrypt the vault and sealed data")] = False,
) -> None:
    """Rotate a key in one transaction; a crash leaves the old state usable and the command can be re-run."""
    typer.echo(steward_commands.rotate_keys(pseudonym, vault))


class Role(StrEnum):
    outreach = "outreach"
    steward = "steward"
    auditor = "auditor"
    admin = "admin"
    integration = "integration"


PASSWORD_STDIN = typer.Option("--password-stdin", help="read the password from standard input")


@users_app.command("add")
def users_add(
    login: Annotated[str, typer.Argument(help="ログイン名 / login")],
    role: Annotated[Role, typer.Option("--role", help="outreach, steward, auditor, admin or integration")],
    district: Annotated[
        list[str] | None, typer.Option("--district", help="district code (repeatable)")
    ] = None,
    password_stdin: Annotated[bool, PASSWORD_STDIN] = False,
    display_name: Annotated[str, typer.Option("--display-name", help="表示名 / name shown")] = "",
    totp: Annotated[
        bool | None, typer.Option("--totp/--no-totp", help="TOTP (required for steward, auditor, admin)")
    ] = None,
) -> None:
    """Create a portal account; a generated password, the otpauth:// URI or a token is printed once."""
    password = user_commands.read_password(sys.stdin) if password_stdin else None
    typer.echo(user_commands.add_user(login, role.value, district or [], password, display_name, totp))


@users_app.command("list")
def users_list() -> None:
    """Every account: role, districts, second factor, disabled, locked."""
    out.print(user_commands.list_users())


@users_app.command("disable")
def users_disable(login: Annotated[str, typer.Argument(help="ログイン名 / login")]) -> None:
    """Disable an account, ending its sessions and revoking its tokens."""
    typer.echo(user_commands.disable_user(login))


@users_app.command("reset-password")
def users_reset_password(
    login: Annotated[str, typer.Argument(help="ログイン名 / login")],
    password_stdin: Annotated[bool, PASSWORD_STDIN] = False,
) -> None:
    """Set a new password (from standard input, or generated and printed once); signs out everywhere."""
    password = user_commands.read_password(sys.stdin) if password_stdin else None
    typer.echo(user_commands.reset_password(login, password))


@users_app.command("reset-totp")
def users_reset_totp(login: Annotated[str, typer.Argument(help="ログイン名 / login")]) -> None:
    """A new TOTP secret (a lost phone): the otpauth:// URI is printed once; signs out everywhere."""
    typer.echo(user_commands.reset_totp(login))


@users_app.command("new-token")
def users_new_token(login: Annotated[str, typer.Argument(help="ログイン名 / login")]) -> None:
    """Revoke an integration account's bearer tokens and print a new one once."""
    typer.echo(user_commands.new_token(login))


@users_app.command("set-districts")
def users_set_districts(
    login: Annotated[str, typer.Argument(help="ログイン名 / login")],
    districts: Annotated[list[str], typer.Argument(help="district codes")],
) -> None:
    """Replace the districts an account may see."""
    typer.echo(user_commands.set_districts(login, districts))


def main() -> None:
    """Entry point: run the app, turning known errors into one line on stderr and a non-zero exit."""
    logs.configure()  # until the options are read (a bad MIMAMORI_LOG_FORMAT is a usage error)
    try:
        # Without standalone mode Click returns the code of `typer.Exit(n)` instead of exiting: keep it.
        code = app(standalone_mode=False, prog_name="mimamori")
        if isinstance(code, int) and code != 0:
            sys.exit(code)
        commands.checkpoint_after_command()
    except MimamoriError as problem:
        err.print(f"[red]エラー / error:[/red] {problem}", highlight=False)
        sys.exit(EXIT_TAMPERED if isinstance(problem, TamperingError) else EXIT_FAILED)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        err.print("中止しました / aborted")
        sys.exit(EXIT_FAILED)
    except typer.TyperException as problem:  # usage errors: unknown command, missing or bad option value
        if type(problem).__name__ == "NoArgsIsHelpError":  # a bare group: its help is the answer
            getattr(problem, "show", lambda: None)()
        else:
            err.print(f"エラー / error: {_one_line(problem)}", highlight=False, markup=False)
        sys.exit(int(getattr(problem, "exit_code", EXIT_USAGE)) or EXIT_USAGE)


def _one_line(problem: typer.TyperException) -> str:
    """A usage error as one line, naming the command's --help."""
    message = " ".join(problem.format_message().split())
    context = getattr(problem, "ctx", None)
    return f"{message} (see `{context.command_path} --help`)" if context else message


if __name__ == "__main__":
    main()
