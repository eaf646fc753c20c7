"""Retiring the legacy tables: renaming them to ``*_deprecated`` once verification passed.

Nothing is dropped. The rename is rejected unless the newest verification passed, no
migration ran after it, and the legacy tables still have the row count and latest
``updated_at`` the verification saw. Quarantined rows need explicit consent.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Engine, func, inspect, select

from medrecord.departments.registry import DepartmentRegistry
from medrecord.errors import MigrationNotVerifiedError
from medrecord.legacy.registry import legacy_mappers
from medrecord.legacy.report import RetirementReport
from medrecord.legacy.runs import finish_run, latest_run, require_bookkeeping, start_run
from medrecord.legacy.source import inspect_legacy_table, latest_update

__all__ = ["DEPRECATED_SUFFIX", "retire_legacy"]

logger = logging.getLogger(__name__)

DEPRECATED_SUFFIX = "_deprecated"


def retire_legacy(
    engine: Engine, *, registry: DepartmentRegistry, accept_quarantined: bool = False
) -> RetirementReport:
    """Rename every legacy table to ``<name>_deprecated`` in one transaction.

    Raises :class:`MigrationNotVerifiedError` with the reason when the migration is not
    verified in its current state. The renamed tables keep every row; renaming them back
    undoes this step.
    """
    require_bookkeeping(engine)
    mappers = legacy_mappers(registry)
    verification = _passed_verification(engine, accept_quarantined=accept_quarantined)
    checked = {table["legacy_table"]: table for table in verification["report"]["tables"]}

    with engine.connect() as connection:
        inspector = inspect(connection)
        present = [mapper for mapper in mappers.values() if inspector.has_table(mapper.table_name)]
        if not present:
            raise MigrationNotVerifiedError("no legacy table exists; nothing to retire")

        for mapper in present:
            seen = checked.get(mapper.table_name)
            if seen is None or not seen["present"]:
                raise MigrationNotVerifiedError(
                    f"the latest verification did not check table {mapper.table_name!r} (it "
                    "did not exist then, or --only left it out); run 'medrecord migrate "
                    "verify' again"
                )
            rows = connection.scalar(select(func.count()).select_from(mapper.table))
            columns = inspect_legacy_table(connection, mapper)
            latest = None if columns is None else latest_update(connection, mapper, columns)
            if rows != seen["rows"] or latest != seen["max_updated_at"]:
                raise MigrationNotVerifiedError(
                    f"table {mapper.table_name!r} changed after the latest verification "
                    f"({seen['rows']} row(s) then, {rows} now); migrate and verify again"
                )
            target = mapper.table_name + DEPRECATED_SUFFIX
            if inspector.has_table(target):
                raise MigrationNotVerifiedError(
                    f"table {target!r} already exists; drop or rename it first"
                )

    run_id = start_run(engine, "retire")
    report = RetirementReport(run_id=run_id, verification_run_id=verification["id"])
    try:
        with engine.begin() as connection:
            preparer = connection.dialect.identifier_preparer
            for mapper in present:
                target = mapper.table_name + DEPRECATED_SUFFIX
                connection.exec_driver_sql(
                    f"ALTER TABLE {preparer.quote(mapper.table_name)} "
                    f"RENAME TO {preparer.quote(target)}"
                )
                report.renamed[mapper.table_name] = target
    except BaseException:
        finish_run(engine, run_id, "failed", None)
        raise

    finish_run(engine, run_id, "finished", report.to_dict())
    logger.info("retired legacy table(s) %s", ", ".join(report.renamed))
    return report


def _passed_verification(engine: Engine, *, accept_quarantined: bool) -> dict[str, Any]:
    verification = latest_run(engine, "verify")
    if verification is None:
        raise MigrationNotVerifiedError(
            "the migration was never verified; run 'medrecord migrate verify' first"
        )
    if verification["status"] != "passed":
        raise MigrationNotVerifiedError(
            f"the latest verification (run {verification['id']}) has status "
            f"{verification['status']!r}; fix what it reports and verify again"
        )

    migration = latest_run(engine, "migrate")
    if migration is not None and migration["id"] > verification["id"]:
        raise MigrationNotVerifiedError(
            f"migration run {migration['id']} ran after the latest verification "
            f"(run {verification['id']}); run 'medrecord migrate verify' again"
        )

    quarantined = verification["report"]["totals"]["quarantined"]
    if quarantined and not accept_quarantined:
        raise MigrationNotVerifiedError(
            f"{quarantined} legacy row(s) are quarantined and not migrated; fix and migrate "
            "them, or pass --accept-quarantined to retire the tables with them unmigrated"
        )
    return verification
