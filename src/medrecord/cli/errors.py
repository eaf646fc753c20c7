"""The command group that turns errors into one line on standard error."""

from typing import Any

import sqlalchemy
from typer.core import TyperGroup

from medrecord.cli.output import fail
from medrecord.errors import MedrecordError

__all__ = ["ErrorReportingGroup"]


class ErrorReportingGroup(TyperGroup):
    """A command group that reports library and database errors without a traceback.

    A :class:`MedrecordError` and a database error each become one line on standard
    error and exit status 1. Usage errors keep typer's handling and exit status 2.
    """

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except MedrecordError as error:
            fail(str(error))
        except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.ProgrammingError) as error:
            # Only the first line: later lines of a driver message can quote row values.
            lines = str(error.orig).strip().splitlines()
            detail = lines[0] if lines else type(error.orig).__name__
            fail(
                f"database error: {detail}; check the --db URL, and run 'medrecord init' "
                "if the tables are missing"
            )
