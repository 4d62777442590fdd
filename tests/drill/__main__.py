"""make restore-drill: the day someone deletes every signature, rehearsed.

    python -m tests.drill [--port 5491] [--signers 40] [--keep]

It starts a PostgreSQL cluster of its own (never the machine's: PG_BIN's initdb and pg_ctl, in
a fresh folder under /tmp, on --port), backed up by pgBackRest as production is (the write-ahead
log archived continuously, an encrypted repository of its own), and takes a full backup. Then,
through the site (tests/drill/site.py): people sign and confirm, a head of the public log is
published, the time is noted; after it, three signers withdraw and a few more people sign; then
the mistake: staff invalidate every signature in bulk (the log records their removal, in a
published head), and a raw DELETE empties the table. It then restores the database as it was at
the noted time into a new cluster (on --port + 1) with the site's own commands (`manage.py
restore --to`, then `--finish --damaged`), and checks that every signature acknowledged before
that time is back and none withdrawn since, that count, recount, log and head agree, that the
heads published before the restore stay consistent with the new one, and that the site serves
from the restored database. Bad input is tried on the way (a target outside the backups, a
wrong or missing encryption key, another site's database): each is refused and changes nothing.

It prints how long the backup and the restore took, and the signings given up between the
noted time and the mistake. Exit status 0 when every check holds.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
STANZA = "drill"


class DrillFailed(Exception):
    pass


def say(message: str) -> None:
    print(f"[drill] {message}", flush=True)


def check(condition: bool, message: str) -> None:
    if not condition:
        raise DrillFailed(message)
    say(f"ok: {message}")


def as_postgres(argv: list[str]) -> list[str]:
    """initdb and the server refuse root: run them as the postgres user when we are root."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def run(
    argv: list[str], env: dict[str, str], *, ok: bool = True, cwd: Path = ROOT
) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if ok and done.returncode != 0:
        raise DrillFailed(
            f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
    return done


class Drill:
    def __init__(self, options: argparse.Namespace) -> None:
        self.options = options
        self.work = Path(tempfile.mkdtemp(prefix="pgdrill-", dir="/tmp"))
        if os.geteuid() == 0:
            postgres = pwd.getpwnam("postgres")
            os.chown(self.work, postgres.pw_uid, postgres.pw_gid)
        self.work.chmod(0o755)
        self.config = self.work / "pgbackrest.conf"
        self.damaged = self.work / "damaged"
        self.restored = self.work / "restored"
        self.port = options.port
        self.key = secrets.token_urlsafe(32)
        self.env = {
            **os.environ,
            "PGBACKREST_CONFIG": str(self.config),
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "CACHE_URL": "",
            "CELERY_BROKER_URL": "",
            "RATELIMIT_ENABLE": "0",
            # A head of the log each second: the drill publishes several in a minute.
            "LOG_HEAD_PERIOD_SECONDS": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        self.running: list[Path] = []
        self.figures: dict[str, Any] = {}

    def url(self, port: int, name: str = "petition") -> str:
        return f"postgres://postgres@127.0.0.1:{port}/{name}"

    # The clusters.

    def write_config(self) -> None:
        self.config.write_text(
            "[global]\n"
            f"repo1-path={self.work}/repo\n"
            "repo1-cipher-type=aes-256-cbc\n"
            f"repo1-cipher-pass={self.key}\n"
            "repo1-retention-full=2\n"
            "compress-type=lz4\n"
            f"log-path={self.work}/log\n"
            f"lock-path={self.work}/lock\n"
            f"spool-path={self.work}/spool\n"
            "log-level-console=warn\n"
            "log-level-file=off\n"
            "start-fast=y\n"
            "process-max=2\n"
            f"\n[{STANZA}]\n"
            f"pg1-path={self.damaged}\n"
            f"pg1-port={self.port}\n"
            f"pg1-socket-path={self.work}\n"
        )
        self.config.chmod(0o644)

    def start_damaged(self) -> None:
        run(
            as_postgres(
                [
                    *(str(PG_BIN / "initdb"), "-D", str(self.damaged), "-U", "postgres"),
                    *("--auth=trust", "--encoding=UTF8", "--no-locale"),
                ]
            ),
            self.env,
            cwd=self.work,
        )
        with (self.damaged / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.work}'\n"
                "wal_level = replica\n"
                "archive_mode = on\n"
                f"archive_command = 'pgbackrest --config={self.config} --stanza={STANZA} "
                "archive-push %p'\n"
                "archive_timeout = 60\n"
                "shared_buffers = 64MB\n"
            )
        self.start(self.damaged, self.port)

    def start(self, data: Path, port: int, *extra: str) -> None:
        options = " ".join([f"-p {port}", *extra])
        run(
            as_postgres(
                [
                    *(str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", f"{data}.log"),
                    *("-w", "-t", "600", "-o", options, "start"),
                ]
            ),
            self.env,
            cwd=self.work,
        )
        self.running.append(data)

    def stop_all(self) -> None:
        for data in self.running:
            run(
                as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                self.env,
                ok=False,
                cwd=self.work,
            )
        self.running = []

    def psql(self, port: int, sql: str, database: str = "postgres") -> str:
        return run(
            [
                *("psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres"),
                *("-d", database, "-Atqc", sql),
            ],
            self.env,
        ).stdout.strip()

    def pgbackrest(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
        return run(
            as_postgres(["pgbackrest", f"--stanza={STANZA}", *args]), self.env, ok=ok, cwd=self.work
        )

    # The site.

    def manage(self, database_url: str, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
        env = {**self.env, "DATABASE_URL": database_url}
        return run([sys.executable, "manage.py", *args], env, ok=ok)

    def site(self, database_url: str, *args: str) -> Any:
        env = {**self.env, "DATABASE_URL": database_url}
        return json.loads(run([sys.executable, "-m", "tests.drill.site", *args], env).stdout)

    # The drill.

    def run(self) -> None:
        self.write_config()
        self.start_damaged()
        damaged_url = self.url(self.port)
        self.psql(self.port, "CREATE DATABASE petition")
        self.manage(damaged_url, "migrate", "--verbosity", "0")
        if self.options.fill:
            self.fill(damaged_url)
        self.figures["database_bytes"] = int(
            self.psql(self.port, "SELECT pg_database_size('petition')")
        )
        self.pgbackrest("stanza-create")
        started = time.monotonic()
        self.pgbackrest("--type=full", "backup")
        self.figures["backup_seconds"] = time.monotonic() - started
        self.figures["backup_bytes"] = self.repository_bytes("backup")
        say(f"full backup taken in {self.figures['backup_seconds']:.1f} s")

        signers = self.options.signers
        before = self.site(damaged_url, "sign", str(signers), "before", "--pending", "5")
        withdrawn_before = [before[0]["email"]]
        self.site(damaged_url, "withdraw", *withdrawn_before)
        time.sleep(1.1)
        published_before = self.site(damaged_url, "head")
        say(f"{signers} signed ({signers - 5} confirmed), 1 withdrew; head {published_before}")
        time.sleep(1)
        target = datetime.now(UTC)
        say(f"the time is noted: {target.isoformat()}")
        time.sleep(1)
        withdrawn_after = [signed["email"] for signed in before[1:4]]
        self.site(damaged_url, "withdraw", *withdrawn_after)
        after = self.site(damaged_url, "sign", "5", "after")
        time.sleep(1.1)
        mistake_at = datetime.now(UTC)
        mistake = self.site(damaged_url, "mistake")
        say(
            f"the mistake: {mistake['invalidated']} invalidated in bulk, head {mistake['head']}; "
            f"then a DELETE of {mistake['deleted']} rows"
        )
        emptied = self.site(damaged_url, "state")
        check(
            emptied["emails"] == [] and emptied["counted_recount"] == 0,
            "the damaged database has no signature left",
        )
        # The operator's first step: whatever write-ahead log is still on the damaged
        # server goes to the repository (check switches to a new segment and waits for it).
        self.pgbackrest("check")

        self.refused_inputs(damaged_url)

        started = time.monotonic()
        self.manage(
            damaged_url,
            "restore",
            "--to",
            target.isoformat(),
            "--into",
            str(self.restored),
            "--stanza",
            STANZA,
        )
        if os.geteuid() == 0:
            run(["chown", "-R", "postgres:postgres", str(self.restored)], self.env)
        restored_files = time.monotonic()
        self.start(self.restored, self.port + 1, "-c archive_mode=off")
        restored_url = self.url(self.port + 1)
        while self.psql(self.port + 1, "SELECT pg_is_in_recovery()") != "f":
            time.sleep(0.2)
        opened = time.monotonic()
        other_url = self.another_site()
        refused = self.manage(restored_url, "restore", "--finish", "--damaged", other_url, ok=False)
        check(
            refused.returncode != 0 and "not this site's database" in refused.stderr,
            "a damaged database of another site is refused",
        )
        finishing = time.monotonic()
        finished = self.manage(restored_url, "restore", "--finish", "--damaged", damaged_url)
        done = time.monotonic()
        say(finished.stdout.strip().replace("\n", "; "))
        self.figures.update(
            restore_files_seconds=restored_files - started,
            replay_seconds=opened - restored_files,
            finish_seconds=done - finishing,
            restore_seconds=(done - finishing) + (opened - started),
        )

        state = self.site(restored_url, "state", "--since-head", json.dumps(mistake["head"]))
        self.verify(state, before, after, withdrawn_before + withdrawn_after)
        self.figures.update(
            given_up_seconds=(mistake_at - target).total_seconds(),
            given_up_signings=len(after),
            archive_bytes=self.repository_bytes("archive"),
        )

    def repository_bytes(self, part: str) -> int:
        """What the repository holds of the full backups ("backup") or of the archived
        write-ahead log ("archive"), encrypted and compressed."""
        return sum(f.stat().st_size for f in (self.work / "repo" / part).rglob("*") if f.is_file())

    def fill(self, database_url: str) -> None:
        """Signatures stored in bulk (fake_signatures' COPY), in the count and the log, for
        the figures at scale."""
        started = time.monotonic()
        # Their recount and the log's catching up are queued where nothing runs them (a
        # reconciliation is for the few signatures a day that leave the count): the log
        # takes them in its batches, as beat does for a bulk load.
        saved = dict(self.env)
        self.env["CELERY_BROKER_URL"] = "memory://"
        try:
            self.manage(
                database_url, "fake_signatures", "stop-cyberpedocriminalite", str(self.options.fill)
            )
        finally:
            self.env = saved
        self.psql(self.port, "VACUUM ANALYZE", "petition")
        self.manage(
            database_url,
            "shell",
            "-c",
            "from petition import counting, log; from petition.models import Petition\n"
            "p = Petition.objects.get(slug='stop-cyberpedocriminalite')\n"
            "counting.reconcile(p.pk); log.append_all(p.pk); log.sign_head(p)",
        )
        self.psql(self.port, "VACUUM ANALYZE", "petition")
        seconds = time.monotonic() - started
        say(f"{self.options.fill:,} signatures stored, counted and logged in {seconds:.0f} s")

    def refused_inputs(self, damaged_url: str) -> None:
        """Bad input to the restore: each refused with a clear message, nothing made."""
        cases = {
            "a target before the first backup": (
                {},
                (datetime.now(UTC) - timedelta(days=30)).isoformat(),
                "outside what the backups cover",
            ),
            "a wrong encryption key": (
                {"PGBACKREST_REPO1_CIPHER_PASS": secrets.token_urlsafe(32)},
                datetime.now(UTC).isoformat(),
                "could not read the backups",
            ),
            "a target without its time zone": ({}, "2026-12-07 02:00", "time zone"),
        }
        for name, (env, target, message) in cases.items():
            saved = dict(self.env)
            self.env.update(env)
            try:
                answer = self.manage(
                    damaged_url,
                    "restore",
                    "--to",
                    target,
                    "--into",
                    str(self.restored),
                    "--stanza",
                    STANZA,
                    ok=False,
                )
            finally:
                self.env = saved
            check(
                answer.returncode != 0 and message in answer.stderr and not self.restored.exists(),
                f"{name} is refused, and nothing is written",
            )
        # No key at all: the repository's configuration without its cipher-pass.
        keyless = self.work / "keyless.conf"
        keyless.write_text(
            "\n".join(
                line
                for line in self.config.read_text().splitlines()
                if not line.startswith("repo1-cipher-pass")
            )
        )
        saved = dict(self.env)
        self.env["PGBACKREST_CONFIG"] = str(keyless)
        try:
            answer = self.manage(
                damaged_url,
                "restore",
                "--to",
                datetime.now(UTC).isoformat(),
                "--into",
                str(self.restored),
                "--stanza",
                STANZA,
                ok=False,
            )
        finally:
            self.env = saved
        check(
            answer.returncode != 0 and not self.restored.exists(),
            "a missing encryption key is refused, and nothing is written",
        )

    def another_site(self) -> str:
        """Another site's database, on the damaged cluster: its own signers, its own log."""
        self.psql(self.port, "CREATE DATABASE othersite")
        other = self.url(self.port, "othersite")
        self.manage(other, "migrate", "--verbosity", "0")
        self.site(other, "sign", str(self.options.signers), "elsewhere")
        return other

    def verify(
        self,
        state: dict[str, Any],
        before: list[dict[str, Any]],
        after: list[dict[str, Any]],
        withdrawn: list[str],
    ) -> None:
        emails = set(state["emails"])
        kept = [s for s in before if s["email"] not in withdrawn]
        missing = [s["email"] for s in kept if s["email"] not in emails]
        check(not missing, f"all {len(kept)} signatures acknowledged before the time are back")
        check(
            not emails & set(withdrawn),
            f"the {len(withdrawn)} withdrawn signatures stay withdrawn, 3 of them withdrawn "
            "after the time restored to",
        )
        confirmed = sorted(s["email"] for s in kept if s["confirmed"])
        check(state["confirmed"] == confirmed, f"the {len(confirmed)} confirmed ones are confirmed")
        counts = {
            k: state[k] for k in ("stored_count", "counted_recount", "log_count", "log_recount")
        }
        counts["head"] = state["head"]["count"]
        counts["api"] = state["api_count"]
        check(
            set(counts.values()) == {len(confirmed) + self.options.fill},
            f"count, recount, public log, latest head and counter API agree: {counts}",
        )
        check(
            state.get("consistent_with_published_head") is True,
            "the head published after the mistake is consistent with the restored log's",
        )
        check(
            state["home_status"] == 200, "the site serves its home page from the restored database"
        )
        given_up = [s["email"] for s in after if s["email"] in emails]
        check(not given_up, f"the {len(after)} signings after the time are given up, as said")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.drill", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("DRILL_PORT", "5491")))
    parser.add_argument("--signers", type=int, default=40)
    parser.add_argument("--keep", action="store_true", help="leave the clusters' folder behind")
    parser.add_argument(
        "--fill", type=int, default=0, help="confirmed signatures stored in bulk first (figures)"
    )
    options = parser.parse_args(argv)
    drill = Drill(options)
    say(f"working in {drill.work}")
    try:
        drill.run()
    except DrillFailed as error:
        say(f"FAILED: {error}")
        return 1
    finally:
        drill.stop_all()
        if not options.keep:
            shutil.rmtree(drill.work, ignore_errors=True)
    f = drill.figures
    say(
        f"figures: full backup {f['backup_seconds']:.1f} s; restore {f['restore_seconds']:.1f} s "
        f"(files {f['restore_files_seconds']:.1f} s, replay to the time and open "
        f"{f['replay_seconds']:.1f} s, erasures and log {f['finish_seconds']:.1f} s); "
        f"database {f['database_bytes'] / 1e6:.1f} MB, "
        f"full backup {f['backup_bytes'] / 1e6:.1f} MB in the repository, archived WAL "
        f"{f['archive_bytes'] / 1e6:.1f} MB; the recovery point gave up "
        f"{f['given_up_seconds']:.1f} s of signings ({f['given_up_signings']} signings "
        "acknowledged between the time restored to and the mistake)"
    )
    say("restore drill passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
