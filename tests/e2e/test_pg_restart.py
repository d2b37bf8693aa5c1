"""A PostgreSQL restart under steady slash commands: retried units of work, never a doubled write.

The tests start their own PostgreSQL server (initdb into a temporary directory, on a free port) so they can
restart and stop it; they are skipped when the server binaries are missing, unless MKTBOT_REQUIRE_POSTGRES=1.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import RETRY_BUDGET_S, Database, open_database
from tests.conftest import REQUIRE_POSTGRES, Clock
from tests.support.harness import ANA, NOW, Said, new_team_id, running_bot

BIN = Path(os.environ.get("MKTBOT_PG_BIN", "/usr/local/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Postgres:
    """A PostgreSQL server of our own, run as the `postgres` OS user when we are root."""

    def __init__(self, root: Path) -> None:
        self.data = root / "data"
        self.log = root / "server.log"
        self.port = _free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
        self._run(str(BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self._as, *args], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{args[0]} failed: {done.stderr or done.stdout}"

    def ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", *args)


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[Postgres]:
    if not (BIN / "initdb").exists() or not (BIN / "pg_ctl").exists():
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL binaries are required (MKTBOT_REQUIRE_POSTGRES=1) but not in {BIN}")
        pytest.skip(f"no PostgreSQL binaries in {BIN}")
    # not under pytest's tmp_path: the server's user must be able to reach its directory
    root = Path(tempfile.mkdtemp(prefix="mktbot-pg-"))
    try:
        server = Postgres(root)
        server.ctl("start")
        try:
            yield server
        finally:
            server.ctl("stop", "-m", "immediate")
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def own_db(own_postgres: Postgres) -> Iterator[Database]:
    db = open_database(own_postgres.url)
    yield db
    db.dispose()


@dataclass
class Sent:
    title: str
    at: float
    said: Said


def test_restart_and_outage_under_steady_commands(own_postgres: Postgres, own_db: Database) -> None:
    """Four people type `/task add` back to back while the server restarts (fast) and then is down for 3 s.
    Through the restart every command is answered and recorded once. In the outage, a command is only
    refused when the database stayed away for its whole retry budget: then it says nothing was saved, and
    nothing was; every other command is recorded exactly once."""
    run = uuid.uuid4().hex[:6]
    sent: list[Sent] = []
    stop = threading.Event()
    with running_bot(own_db, clock=Clock(NOW), team_id=new_team_id()) as bot:

        def sender(who: int) -> None:
            n = 0
            while not stop.is_set():
                title = f"restart-{run}-{who}-{n}"
                at = time.monotonic()
                sent.append(Sent(title, at, bot.say(ANA, f"/task add {title}")))
                n += 1
                time.sleep(0.1)

        threads = [threading.Thread(target=sender, args=(i,), daemon=True) for i in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        restart_from = time.monotonic()
        own_postgres.ctl("restart", "-m", "fast")
        restart_to = time.monotonic()
        time.sleep(1.5)
        down_from = time.monotonic()
        own_postgres.ctl("stop", "-m", "fast")
        time.sleep(3.0)
        own_postgres.ctl("start")
        up_at = time.monotonic()
        time.sleep(1.5)
        stop.set()
        for thread in threads:
            thread.join(timeout=10)

        assert len(sent) > 40
        stored = {
            title: count
            for title, count in bot.rows(
                "SELECT title, count(*) FROM tasks WHERE workspace_id = :ws GROUP BY title", ws=bot.team_id
            )
        }
        failed = [s for s in sent if "Added" not in s.said and "T-" not in s.said]
        around_restart = [s for s in sent if restart_from - 0.5 <= s.at <= restart_to + 0.5]
        assert around_restart, "no command was sent while the server restarted"
        # one typed just before the stop is still in flight when the server goes: it belongs to the outage
        assert not [s for s in failed if s.at < down_from - 0.5], [str(s.said) for s in failed]
        for s in sent:
            assert s.said.status == 200 and not s.said.late, (s.title, s.said.status, s.said.elapsed)
        for s in failed:
            # refused only when the database stayed away for the whole budget, and said so
            assert s.at + RETRY_BUDGET_S < up_at + 0.2, (s.title, up_at - s.at)
            assert "Nothing was saved" in s.said, str(s.said)
            assert s.title not in stored, s.title
        assert len(failed) <= len(threads), [str(s.said) for s in failed]
        for s in sent:
            if s not in failed:
                assert stored.get(s.title) == 1, (s.title, stored.get(s.title), str(s.said))
        assert sum(stored.values()) == len(sent) - len(failed)


def test_buttons_and_forms_through_a_restart(own_postgres: Postgres, own_db: Database) -> None:
    """Done buttons clicked and task forms submitted while the server restarts: each is acked in time and
    recorded once (a form's task is never written twice, a clicked task is done)."""
    from bot.ids import ActionId
    from tests.support.harness import fill, wait_until

    run = uuid.uuid4().hex[:6]
    with running_bot(own_db, clock=Clock(NOW), team_id=new_team_id()) as bot:
        cards = [bot.say(ANA, f"/task add card-{run}-{i}").message for i in range(8)]
        assert all(cards), "every /task add answered with its card"
        views = []
        for i in range(8):
            bot.say(ANA, "/task")
            def opened_from(n: int = i) -> list[dict[str, object]]:
                return [v for v in bot.slack.views if v["method"] == "views.open"][n:]

            opened = wait_until(opened_from, what=f"modal {i}")
            views.append(bot.slack.get_view(str(opened[0]["id"])))
        results: list[tuple[float, str, int, bool]] = []

        def act() -> None:
            for i in range(8):
                at = time.monotonic()
                clicked = bot.slack.click_button(cards[i], ActionId.TASK_DONE, user_id=ANA)  # type: ignore[arg-type]
                results.append((at, "click", clicked.status, clicked.late))
                at = time.monotonic()
                view = views[i]
                assert view is not None
                submitted = bot.slack.submit_view(view["id"], user_id=ANA, values=fill(title=f"form-{run}-{i}"))
                results.append((at, "form", submitted.status, submitted.late))
                time.sleep(0.08)

        worker = threading.Thread(target=act, daemon=True)
        worker.start()
        time.sleep(0.2)
        restart_from = time.monotonic()
        own_postgres.ctl("restart", "-m", "fast")
        restart_to = time.monotonic()
        worker.join(timeout=60)

        assert [r for r in results if restart_from - 0.2 <= r[0] <= restart_to + 0.2], "nothing sent in the restart"
        assert all(status == 200 and not late for _, _, status, late in results), results
        statuses = dict(bot.rows(
            "SELECT title, status FROM tasks WHERE workspace_id = :ws AND title LIKE :p", ws=bot.team_id, p=f"card-{run}-%"
        ))
        assert statuses == {f"card-{run}-{i}": "done" for i in range(8)}, statuses
        forms = bot.rows(
            "SELECT title, count(*) FROM tasks WHERE workspace_id = :ws AND title LIKE :p GROUP BY title",
            ws=bot.team_id, p=f"form-{run}-%",
        )
        assert dict(forms) == {f"form-{run}-{i}": 1 for i in range(8)}, forms


# ---- a commit whose answer is lost ------------------------------------------------------------------------


class CommitCutter:
    """A TCP relay to the server that cuts the first connection sending COMMIT: after passing it on (the
    server commits, the client never hears so) or instead of passing it on (the server aborts)."""

    def __init__(self, port: int, *, forward_commit: bool) -> None:
        self.target = port
        self.forward_commit = forward_commit
        self.cut = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target))
            muted = threading.Event()  # the server's answers stop reaching the client
            threading.Thread(target=self._pipe, args=(client, server, True, muted), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, False, muted), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, upstream: bool, muted: threading.Event) -> None:
        try:
            while data := src.recv(65536):
                if not upstream and muted.is_set():
                    return
                if upstream and not self.cut.is_set() and b"COMMIT\x00" in data:
                    self.cut.set()
                    muted.set()
                    if self.forward_commit:
                        dst.sendall(data)
                        time.sleep(0.3)  # the server commits; its answer is never relayed
                    return  # both ends are shut below
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):  # shutdown, not just close: the other relay still reads it
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def close(self) -> None:
        self.listener.close()


@pytest.mark.parametrize(("forward_commit", "expected_runs"), [(True, 1), (False, 2)])
def test_a_lost_commit_is_settled_before_anything_is_redone(
    own_postgres: Postgres, own_db: Database, forward_commit: bool, expected_runs: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The connection drops during COMMIT. If the server had committed, the unit is done and not run again
    (one row); if it had not, the unit runs again (still one row)."""
    with own_db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS lost_commits (key text)"))
    cutter = CommitCutter(own_postgres.port, forward_commit=forward_commit)
    db = open_database(own_db.engine.url.set(port=cutter.port).render_as_string(hide_password=False), migrate=False)
    key = uuid.uuid4().hex
    runs = []

    def unit(session: object) -> str:
        from sqlalchemy.orm import Session

        assert isinstance(session, Session)
        runs.append(1)
        session.execute(text("INSERT INTO lost_commits VALUES (:key)"), {"key": key})
        return "done"

    caplog.set_level(logging.INFO, logger="storage.db")
    try:
        assert db.retrying(unit) == "done"
    finally:
        db.dispose()
        cutter.close()
    assert cutter.cut.is_set()
    assert len(runs) == expected_runs
    settled = "had succeeded" in caplog.text
    assert settled == forward_commit, caplog.text
    with own_db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM lost_commits WHERE key = :key"), {"key": key}).scalar() == 1
