"""``cryptolake stack``: install and run the lakehouse stack on this machine."""

from __future__ import annotations

import json
import sys
import time
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from cryptolake.core.errors import ServiceError

app = typer.Typer(
    name="stack",
    help="Install, start, inspect and stop the local lakehouse stack "
    "(PostgreSQL, Redis, S3Proxy, Kafka, Trino; Spark jars).",
    no_args_is_help=True,
)
console = Console(stderr=True)
out = Console()

Services = Annotated[
    list[str] | None,
    typer.Argument(
        help="services (postgres, redis, s3, kafka, trino, …; on a cluster also kafka-2, "
        "trino-worker-1, spark-master, spark-worker-1, …); default: all",
        show_default=False,
    ),
]


Profile = Annotated[
    str | None,
    typer.Option(
        "--profile",
        help="single (one node per engine) or cluster (Spark master + 2 workers, Trino "
        "coordinator + worker, 3 Kafka brokers); default: CRYPTOLAKE_STACK__PROFILE or single",
        show_default=False,
    ),
]


def _stack(profile: str | None = None):  # type: ignore[no-untyped-def]
    import os

    from cryptolake.core.settings import get_settings
    from cryptolake.core.stack._stack import Stack

    if profile is None and "CRYPTOLAKE_STACK__PROFILE" not in os.environ:
        # the profile the last `up` on this home ran with (status/down/logs find its services)
        last = get_settings().home / "run" / "profile"
        profile = last.read_text().strip() if last.exists() else None
    if profile is not None:
        if profile not in ("single", "cluster"):
            console.print(f"[bold red]error[/] --profile {profile}: choose single or cluster")
            raise typer.Exit(2)
        # the environment, so that the processes the stack starts see the same profile
        os.environ["CRYPTOLAKE_STACK__PROFILE"] = profile
        get_settings.cache_clear()
    return Stack(get_settings())


def _fail(exc: ServiceError) -> None:
    console.print(f"[bold red]error[/] {exc}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


class _Progress:
    """One status spinner plus a line per finished step, with elapsed seconds."""

    def __init__(self, title: str) -> None:
        self.t0 = time.monotonic()
        self.status = console.status(title)

    def __enter__(self) -> _Progress:
        self.status.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.status.__exit__(*exc)

    def __call__(self, service: str, message: str) -> None:
        t = time.monotonic() - self.t0
        done = message in ("installed", "healthy", "stopped") or message.startswith("started")
        mark = "[green]✓[/]" if done else "[dim]·[/]"
        console.print(f"{mark} [bold]{service:<8}[/] {message} [dim]({t:.1f}s)[/]", highlight=False)
        self.status.update(f"{service}: {message}")


@app.command()
def setup(profile: Profile = None) -> None:
    """Install every service and the Spark jars into $CRYPTOLAKE_HOME (idempotent)."""
    stack = _stack(profile)
    try:
        with _Progress("installing") as progress:
            t0 = time.monotonic()
            fetched = stack.setup(progress)
    except ServiceError as exc:
        _fail(exc)
    took = time.monotonic() - t0
    changed = [k for k, v in fetched.items() if v]
    what = f"fetched or unpacked: {', '.join(changed)}" if changed else "nothing to download"
    console.print(f"[bold green]setup done[/] in {took:.1f}s — {what}; home {stack.layout.home}")


@app.command()
def up(
    services: Services = None,
    profile: Profile = None,
    no_wait: Annotated[
        list[str] | None,
        typer.Option(
            "--no-wait",
            help="start this service but do not wait for it (nor make what needs it wait); "
            "repeatable. Steps that need Trino wait for it themselves; a later `stack up` waits "
            "for everything",
        ),
    ] = None,
) -> None:
    """Start the services (all by default), wait until healthy, bootstrap catalog/bucket/topics."""
    stack = _stack(profile)
    try:
        with _Progress("starting") as progress:
            result = stack.up(services, progress, no_wait=no_wait or ())
    except ServiceError as exc:
        _fail(exc)
    started = ", ".join(result.started) or "none"
    state = "stack up, not waited for: " + ", ".join(no_wait) if no_wait else "stack healthy"
    console.print(f"[bold green]{state}[/] in {result.seconds:.1f}s — started: {started}")


@app.command()
def status(
    services: Services = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    profile: Profile = None,
) -> None:
    """Per service: pid, ports, health (a real probe), version, data dir, resident memory."""
    from cryptolake.core.stack._stack import status_dicts

    stack = _stack(profile)
    try:
        statuses = stack.status(services)
    except ServiceError as exc:
        _fail(exc)
    if as_json:
        out.print_json(
            json.dumps({"home": str(stack.layout.home), "services": status_dicts(statuses)})
        )
    else:
        home = stack.layout.home
        # 80 columns: the short fields first and whole; the version folds; errors and the data
        # directories (always <home>/data/<service> unless moved) go beneath the table.
        table = Table(title=f"CryptoLake stack — {home}", title_justify="left",
                      box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), show_edge=False)
        for col in ("service", "pid", "port", "health"):
            table.add_column(col, no_wrap=True)
        table.add_column("RSS MB", justify="right", no_wrap=True)
        table.add_column("version", overflow="fold")
        notes: list[str] = []
        for s in statuses:
            health = "[green]ok[/]" if s.healthy else "[red]DOWN[/]"
            version = s.version + (f" [dim]on {s.java.split(' (')[0]}[/]" if s.java else "")
            data = s.data_dir.removeprefix(str(home)).lstrip("/")
            if not s.healthy:
                notes.append(f"[red]{s.service}:[/] {s.error or 'not healthy'}")
            if data and data != f"data/{s.service}":
                notes.append(f"[dim]{s.service} data: {data}[/]")
            table.add_row(
                s.service,
                str(s.pid or "-"),
                ",".join(map(str, s.ports)) or "-",
                health,
                f"{s.rss_mb:,.0f}" if s.rss_mb else "-",
                version,
            )
        out.print(table)
        for note in notes:
            out.print(note)
        javas = {s.java for s in statuses if s.java}
        for java in sorted(javas):
            out.print(f"[dim]{java}[/]")
        total = sum(s.rss_mb or 0 for s in statuses)
        out.print(f"total resident memory: {total:.0f} MB")
    if not all(s.healthy for s in statuses):
        raise typer.Exit(3)


@app.command()
def down(services: Services = None, profile: Profile = None) -> None:
    """Stop the processes this stack started (by pid file), gracefully then forcibly."""
    stack = _stack(profile)
    try:
        with _Progress("stopping") as progress:
            stopped = stack.down(services, progress)
    except ServiceError as exc:
        _fail(exc)
    console.print(f"stopped: {', '.join(stopped) or 'nothing was running'}")


@app.command()
def logs(
    service: Annotated[str, typer.Argument(help="postgres, redis, s3, kafka or trino")],
    follow: Annotated[bool, typer.Option("-f", "--follow", help="keep printing new lines")] = False,
    lines: Annotated[int, typer.Option("-n", "--lines", help="lines to show")] = 50,
    profile: Profile = None,
) -> None:
    """Print a service's log (its supervised stdout and stderr)."""
    stack = _stack(profile)
    try:
        path = stack.log_path(service)
    except ServiceError as exc:
        _fail(exc)
    if not path.exists():
        console.print(f"{service}: no log yet at {path}")
        raise typer.Exit(1)
    with path.open("r", errors="replace") as f:
        tail = f.readlines()[-lines:]
        sys.stdout.writelines(tail)
        sys.stdout.flush()
        if not follow:
            return
        try:
            while True:
                line = f.readline()
                if line:
                    sys.stdout.write(line)
                    sys.stdout.flush()
                else:
                    time.sleep(0.3)
        except KeyboardInterrupt:
            return


if __name__ == "__main__":
    app()
