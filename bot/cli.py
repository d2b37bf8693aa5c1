"""The `mktbot` command line: run, serve, check, scheduler, db upgrade, export, import, playground, kpi import, api-token."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.imports.presets import PRESET_CHOICES
from bot.settings import ConfigError, Settings

NO_CREDENTIALS = """mktbot needs Slack credentials to talk to a real workspace:
  SLACK_BOT_TOKEN       the bot token (xoxb-…)
  SLACK_SIGNING_SECRET  to verify requests Slack sends over HTTP
  SLACK_APP_TOKEN       optional app-level token (xapp-…) for Socket Mode
Put them in the environment or in a .env file (see README.md, "Create the Slack app").
"""


class JsonFormatter(logging.Formatter):
    """One JSON object per line (MKTBOT_LOG_FORMAT=json): time, level, logger, message, and the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _configure_logging(verbose: bool, log_format: str = "text") -> None:
    handler = logging.StreamHandler()
    if log_format == "json":
        formatter: logging.Formatter = JsonFormatter()
        formatter.converter = time.gmtime
    else:
        formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler.setFormatter(formatter)
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler], force=True)
    if not verbose:
        # Migrations and job bookkeeping say a lot at INFO; a person starting the bot needs none of it.
        for noisy in ("alembic", "apscheduler", "waitress.queue"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


#: /readyz is 503 once the in-process scheduler's heartbeat is older than this (three missed ticks)
HEARTBEAT_MAX_AGE = 70.0


def _exit_after(drained: bool) -> int:
    """After a drain that ran out of time, worker threads still running would hold the interpreter open."""
    if not drained:
        logging.shutdown()
        os._exit(0)
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.has_slack_credentials:
        partial = settings.bot_token or settings.signing_secret or settings.app_token
        if partial or args.no_playground:
            missing = [name for name, value in (("SLACK_BOT_TOKEN", settings.bot_token),
                                               ("SLACK_SIGNING_SECRET", settings.signing_secret or settings.app_token))
                       if not value]
            print(f"Missing {' and '.join(missing)}.\n" + NO_CREDENTIALS, file=sys.stderr)
            return 2
        try:
            from bot.playground import main as playground_main
        except ImportError:
            print(NO_CREDENTIALS, file=sys.stderr)
            return 2
        print("No Slack credentials set: starting the local playground instead.\n" + NO_CREDENTIALS, flush=True)
        return playground_main(playground_settings(settings), port=args.port, demo=False)
    from bot.app import build_app
    from bot.preflight import verify_startup
    from bot.server import serve
    from jobs import tick
    from jobs.scheduler import build_scheduler

    verify_startup(settings)
    app = build_app(settings)
    scheduler = build_scheduler(app.runtime.jobs)  # type: ignore[attr-defined]
    tick.beat(app.runtime.jobs)  # type: ignore[attr-defined]  # ready as soon as it listens
    socket_mode = None
    if settings.app_token:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        logging.getLogger(__name__).info("connecting with Socket Mode")
        socket_mode = SocketModeHandler(app, settings.app_token)
    scheduler.start()
    drained = serve(app, host=args.host, port=args.port, heartbeat_max_age=HEARTBEAT_MAX_AGE, scheduler=scheduler,
                    socket_mode=socket_mode, drain_seconds=args.drain_seconds)
    return _exit_after(drained)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.bot_token or not settings.signing_secret:
        print(NO_CREDENTIALS, file=sys.stderr)
        return 2
    from bot.preflight import verify_startup

    verify_startup(settings)
    if args.workers > 1:
        from bot.server import serve_processes

        serve_processes(settings, host=args.host, port=args.port, workers=args.workers, threads=args.threads)
        return 0
    from bot.app import build_app
    from bot.server import serve

    drained = serve(build_app(settings), host=args.host, port=args.port, threads=args.threads,
                    drain_seconds=args.drain_seconds)
    return _exit_after(drained)


def cmd_scheduler(args: argparse.Namespace, settings: Settings) -> int:
    """The scheduler alone: any number may run against one database; each slot still posts once."""
    if not settings.bot_token:
        print(NO_CREDENTIALS, file=sys.stderr)
        return 2
    from bot.app import make_client
    from bot.runtime import freeze_startup_heap, shut_down_scheduler, wait_for_signal
    from jobs import tick
    from jobs.context import JobContext
    from jobs.scheduler import build_scheduler
    from storage.db import open_database

    ctx = JobContext(db=open_database(settings.database_url), client=make_client(settings, retries=True), zone=settings.zone)
    scheduler = build_scheduler(ctx)
    freeze_startup_heap()
    tick.beat(ctx)
    scheduler.start()
    logging.getLogger(__name__).info("scheduler running as %s", ctx.worker)
    wait_for_signal()
    return _exit_after(shut_down_scheduler(scheduler, timeout=args.drain_seconds))


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    """Every problem at once: the token, its scopes against the manifest's, the database, its migrations."""
    from bot.preflight import run_checks

    checks = run_checks(settings)
    for check in checks:
        print(f"{'ok  ' if check.ok else 'FAIL'}  {check.name}: {check.detail}")
    failed = [c for c in checks if not c.ok]
    print(f"{len(failed)} problem(s) found." if failed else "Everything is ready.")
    return 1 if failed else 0


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    from storage.db import make_engine
    from storage.migrate import current_revision, upgrade

    engine = make_engine(settings.database_url)
    upgrade(engine)
    print(f"database at revision {current_revision(engine)}")
    return 0


def cmd_db_backup(args: argparse.Namespace, settings: Settings) -> int:
    """SQLite: a consistent copy while the bot runs (sqlite3's online backup API). PostgreSQL: pg_dump's
    command line, to run where the client tools are."""
    import sqlite3
    from datetime import UTC, datetime

    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    if url.get_backend_name() == "postgresql":
        out = args.out or f"mktbot-{stamp}.dump"
        target = url.set(drivername="postgresql").render_as_string(hide_password=True)
        print("mktbot does not dump PostgreSQL itself; run (PGPASSWORD or ~/.pgpass supplies the password):\n"
              f"  pg_dump --format=custom --no-owner --file={out} '{target}'\n"
              f"Restore with: pg_restore --clean --no-owner --dbname='{target}' {out}")
        return 0
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        print(f"Cannot back up {url.render_as_string(hide_password=True)}: only SQLite files and PostgreSQL.",
              file=sys.stderr)
        return 1
    source_path = Path(url.database)
    if not source_path.is_file():
        print(f"No database at {source_path}: nothing to back up.", file=sys.stderr)
        return 1
    out_path = Path(args.out) if args.out else Path(f"mktbot-{stamp}.db")
    if out_path.resolve() == source_path.resolve():
        print("--out is the database itself; choose another file.", file=sys.stderr)
        return 1
    out_path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
    target_db = sqlite3.connect(out_path)
    try:
        with target_db:
            source.backup(target_db)
    finally:
        target_db.close()
        source.close()
    print(f"backed up {source_path} to {out_path} ({out_path.stat().st_size} bytes)")
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from storage.db import open_database
    from storage.export import export_workspace

    db = open_database(settings.database_url)
    counts = export_workspace(db, workspace_id=args.workspace, out=Path(args.out))
    print(f"exported {sum(counts.values())} rows from {len(counts)} tables to {args.out}")
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from storage.db import open_database
    from storage.export import import_workspace

    db = open_database(settings.database_url)
    counts = import_workspace(db, source=Path(args.source), workspace_id=args.workspace)
    print(f"imported {sum(counts.values())} rows into {len(counts)} tables")
    return 0


def cmd_kpi_import(args: argparse.Namespace, settings: Settings) -> int:
    """Check the whole file and print what it holds; then (unless --dry-run) write it."""
    from tqdm import tqdm

    from bot.imports.engine import Options, preview, run_import
    from bot.imports.reader import BadFile
    from storage.db import open_database

    db = open_database(settings.database_url)
    options = Options(preset=args.preset, channel=args.channel)
    path = Path(args.file)
    bars: dict[str, Any] = {}

    def bar(label: str) -> Callable[[int, int], None]:
        def update(position: int, total: int) -> None:
            current = bars.get(label)
            if current is None:
                current = bars[label] = tqdm(total=total or None, desc=label, unit="B" if path.suffix.lower() == ".csv"
                                             else " rows", unit_scale=True, file=sys.stderr, leave=False)
            current.update(position - current.n)
            if total and position >= total:
                current.close()
        return update

    try:
        if args.dry_run:
            seen = preview(db, workspace_id=args.workspace, path=path, options=options, progress=bar("checking"))
        else:
            result = run_import(db, workspace_id=args.workspace, path=path, options=options,
                                checked=bar("checking"), written=bar("importing"))
            seen = result.preview
    except BadFile as exc:
        print(f"{path.name}: {exc}\nNothing was imported.", file=sys.stderr)
        return 1
    finally:
        for current in bars.values():
            current.close()
    print(seen.render())
    print("Dry run: nothing was written." if args.dry_run else result.render())
    return 0


def cmd_api_token(args: argparse.Namespace, settings: Settings) -> int:
    from bot.errors import UserError
    from bot.services import api_tokens
    from storage.db import open_database

    db = open_database(settings.database_url)
    try:
        with db.session() as session:
            if args.token_command == "new":
                info, secret = api_tokens.create_token(session, workspace_id=args.workspace, name=args.name, user_id=None)
                print(f"API token {info.id} ({info.name}) for {args.workspace}:\n{secret}\n"
                      "Keep it now: it is shown only once. Send it as `Authorization: Bearer <token>`.")
            elif args.token_command == "list":
                tokens = api_tokens.list_tokens(session, workspace_id=args.workspace)
                if not tokens:
                    print(f"No API tokens in {args.workspace}.")
                for t in tokens:
                    used = t.last_used_at.strftime("%Y-%m-%d %H:%M UTC") if t.last_used_at else "never"
                    state = "active" if t.active else f"revoked {t.revoked_at:%Y-%m-%d}"
                    print(f"{t.id}\t{t.prefix}…\t{t.name}\t{state}\tcreated {t.created_at:%Y-%m-%d}\tlast used {used}")
            else:
                info = api_tokens.revoke_token(session, workspace_id=args.workspace, token_id=args.id)
                print(f"API token {info.id} ({info.name}) is revoked.")
    except UserError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    return 0


def playground_settings(settings: Settings) -> Settings:
    """The playground keeps its own database (playground.db in the data directory) unless DATABASE_URL is set."""
    if settings.uses_default_database:
        return settings.model_copy(update={"database_url": f"sqlite:///{settings.data_dir / 'playground.db'}"})
    return settings


def foreign_workspaces(database_url: str) -> list[str]:
    """The workspaces in a database other than the playground's own team (none for a new database)."""
    from sqlalchemy import inspect, text
    from sqlalchemy.engine import make_url

    from bot.playground import TEAM_ID
    from storage.db import make_engine

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and (not url.database or not Path(url.database).is_file()):
        return []
    engine = make_engine(database_url)
    try:
        if not inspect(engine).has_table("workspaces"):
            return []
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id FROM workspaces WHERE id <> :own ORDER BY id"), {"own": TEAM_ID})
            return [str(row[0]) for row in rows]
    finally:
        engine.dispose()


def cmd_playground(args: argparse.Namespace, settings: Settings) -> int:
    from bot.playground import main as playground_main

    settings = playground_settings(settings)
    if args.demo and not args.force and (others := foreign_workspaces(settings.database_url)):
        from sqlalchemy.engine import make_url

        shown = make_url(settings.database_url).render_as_string(hide_password=True)
        print(f"{shown} holds other workspaces ({', '.join(others[:5])}{'…' if len(others) > 5 else ''}): it is not "
              "the playground's own database, and --demo would seed a demo team into it.\n"
              "Unset DATABASE_URL to use the playground's own, or pass --force to seed it anyway.", file=sys.stderr)
        return 1
    return playground_main(settings, port=args.port, demo=args.demo)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mktbot", description="A Slack bot that runs a marketing team's working loop.")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="the bot and its scheduler (Socket Mode with SLACK_APP_TOKEN, else HTTP)")
    run.add_argument("--host", default="0.0.0.0")
    run.add_argument("--port", type=int, default=3000, help="HTTP: Slack's requests (or, in Socket Mode, health and metrics)")
    run.add_argument("--drain-seconds", type=float, default=10.0, help="at SIGTERM, how long to finish what is in flight")
    run.add_argument("--no-playground", action="store_true", help="fail instead of starting the playground without credentials")
    run.set_defaults(func=cmd_run)

    serve = sub.add_parser("serve", help="HTTP only, for replicas behind a load balancer")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--threads", type=int, default=32, help="threads per process")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (use one per core for more load)")
    serve.add_argument("--drain-seconds", type=float, default=10.0, help="at SIGTERM, how long to finish what is in flight")
    serve.set_defaults(func=cmd_serve)

    check = sub.add_parser("check", help="check the token, scopes, database and migrations; exit 1 on any problem")
    check.set_defaults(func=cmd_check)

    sched = sub.add_parser("scheduler", help="the scheduler only (digests, reports, reminders, retros)")
    sched.add_argument("--drain-seconds", type=float, default=10.0, help="at SIGTERM, how long a running tick may take")
    sched.set_defaults(func=cmd_scheduler)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db)
    backup = db_sub.add_parser("backup", help="copy a SQLite database while the bot runs (PostgreSQL: prints pg_dump's command)")
    backup.add_argument("--out", help="file to write (default: mktbot-YYYYMMDD-HHMMSS.db in this directory)")
    backup.set_defaults(func=cmd_db_backup)

    export = sub.add_parser("export", help="write one workspace's data as JSON files")
    export.add_argument("--workspace", required=True, help="Slack team id, e.g. T0123")
    export.add_argument("--out", default="mktbot-export", help="folder to write (one JSON file per table)")
    export.set_defaults(func=cmd_export)

    imp = sub.add_parser("import", help="load a workspace's data written by export")
    imp.add_argument("source", help="folder written by mktbot export")
    imp.add_argument("--workspace", help="import under another team id")
    imp.set_defaults(func=cmd_import)

    kpi = sub.add_parser("kpi", help="KPI values from files")
    kpi_sub = kpi.add_subparsers(dest="kpi_command", required=True)
    kpi_import = kpi_sub.add_parser(
        "import", help="import a CSV or XLSX export (生意参谋, 京东商智, 巨量引擎, GA4, Google Ads or any dated table)"
    )
    kpi_import.add_argument("file", help=".csv (UTF-8 or GBK) or .xlsx")
    kpi_import.add_argument("--workspace", required=True, help="Slack team id, e.g. T0123")
    kpi_import.add_argument("--preset", default="auto", choices=PRESET_CHOICES, help="how to name the columns")
    kpi_import.add_argument("--channel", help="the channel of every row, for a file without a channel column")
    kpi_import.add_argument("--dry-run", action="store_true", help="only check the file and show what it would do")
    kpi_import.set_defaults(func=cmd_kpi_import)

    token = sub.add_parser("api-token", help="bearer tokens for the HTTP API (POST /api/v1/kpis)")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    token_new = token_sub.add_parser("new", help="make a token (its secret is shown once)")
    token_new.add_argument("--name", default="api", help="what uses it, e.g. nightly-sync")
    token_list = token_sub.add_parser("list", help="the workspace's tokens (never their secrets)")
    token_revoke = token_sub.add_parser("revoke", help="revoke a token by its id")
    token_revoke.add_argument("id", type=int)
    for each in (token_new, token_list, token_revoke):
        each.add_argument("--workspace", required=True, help="Slack team id, e.g. T0123")
    token.set_defaults(func=cmd_api_token)

    pg = sub.add_parser("playground", help="a local Slack-compatible workspace in the browser")
    pg.add_argument("--port", type=int, default=3000)
    pg.add_argument("--demo", action="store_true", help="seed a believable team with three months of data")
    pg.add_argument("--force", action="store_true", help="seed the demo even into a database with other workspaces")
    pg.set_defaults(func=cmd_playground)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from bot.preflight import StartupError

    try:
        settings = Settings.from_env()
        _configure_logging(args.verbose, settings.log_format)
        settings.ensure_data_dir()
        return int(args.func(args, settings) or 0)
    except (ConfigError, StartupError) as exc:
        print(exc.code, file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
