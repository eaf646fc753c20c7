"""The ``medrecord`` command line: schema, departments, import, aggregation, records, demo,
legacy migration."""

import typer

from medrecord.cli.aggregate import aggregate_command
from medrecord.cli.data import import_command
from medrecord.cli.database import init
from medrecord.cli.demo import demo
from medrecord.cli.departments import departments
from medrecord.cli.errors import ErrorReportingGroup
from medrecord.cli.events import events, render
from medrecord.cli.migrate import migrate_app
from medrecord.cli.options import store_global_options
from medrecord.cli.serve import serve

__all__ = ["app", "main"]

app = typer.Typer(
    name="medrecord",
    cls=ErrorReportingGroup,
    no_args_is_help=True,
    add_completion=False,
    # Tracebacks of unexpected errors must not print local variables: they can hold chat text.
    pretty_exceptions_show_locals=False,
)
app.callback()(store_global_options)
app.command("init")(init)
app.command("departments")(departments)
app.command("import")(import_command)
app.command("aggregate")(aggregate_command)
app.command("events")(events)
app.command("render")(render)
app.command("demo")(demo)
app.command("serve")(serve)
app.add_typer(migrate_app)


def main() -> None:
    """Run the command line with the process arguments."""
    app(prog_name="medrecord")
