"""Every row of a big table written once, however many columns a migration fills in it.

A shadow-column type change (``conversions.ChangeColumnType``) and a backfill (``ddl.Backfill``,
as in the ``public_id`` recipe) each write every row of their table. One after the other,
each rewrites every row again: as many times the WAL, the dead tuples, the replica lag and
the time. ``rewrite_once`` runs a table's fills together:

1. each fill's preparation (a conversion's archive and shadow column);
2. one trigger keeping every shadow column current for the rows the application writes,
   fired only by the columns it converts (``UPDATE OF``), so that the pass's own UPDATEs,
   which set the shadow columns only, do not convert each value twice;
3. one batched UPDATE setting each column a row still needs (``ddl.fill_in_batches``; a value
   already there, such as a ``public_id`` the application has read, is kept);
4. one catalog swap of every shadow column under a single short ACCESS EXCLUSIVE lock.

A step taking part (a "fill") offers ``pending(connection, table)``, ``prepare(schema_editor,
app_label, table)``, ``fill(connection)`` (a ``ddl.Fill``) and, for a conversion,
``trigger_assignment(connection)`` and ``swap(table)``. Resumable: a finished conversion is
recognised by its column's type, a filled row by its columns; a re-run continues where the
last one stopped.
"""

from psycopg import sql

from database.online import batches
from database.online.ddl import fill_in_batches, printed_fills, run_ddl


def rewrite_once(schema_editor, app_label: str, table: batches.Table, steps: list) -> None:
    """Run ``steps`` (fills of ``table``) as one pass: prepare, trigger, fill, swap."""
    connection = schema_editor.connection
    collecting = schema_editor.collect_sql
    steps = [step for step in steps if collecting or step.pending(connection, table)]
    if not steps:
        return
    for step in steps:
        step.prepare(schema_editor, app_label, table)
    conversions = [step for step in steps if hasattr(step, "swap")]
    trigger = sql.Identifier(f"{table.name}__rewrite"[:63])
    function = table.qualified(f"{table.name}__rewrite"[:63])
    if conversions:
        _keep_current(schema_editor, table, conversions, trigger, function)
    fills = [step.fill(connection) for step in steps]
    if collecting:
        schema_editor.collected_sql.append(printed_fills(connection, table, fills))
    else:
        fill_in_batches(connection, table, fills)
    if conversions:
        swap = [
            sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(table.identifier),
            sql.SQL("DROP TRIGGER {} ON {}").format(trigger, table.identifier),
            sql.SQL("DROP FUNCTION {}()").format(function),
            *(statement for step in conversions for statement in step.swap(table)),
        ]
        run_ddl(schema_editor, sql.SQL("; ").join(swap), table)


def _keep_current(schema_editor, table, conversions, trigger, function) -> None:
    """One trigger setting every shadow column from its source, on insert and on the updates
    that set a source column."""
    connection = schema_editor.connection
    assignments = [step.trigger_assignment(connection) for step in conversions]
    body = sql.SQL(" ").join(
        sql.SQL("NEW.{} := {};").format(sql.Identifier(shadow), expression)
        for shadow, expression in assignments
    )
    sources = sql.SQL(", ").join(sql.Identifier(step.column) for step in conversions)
    run_ddl(
        schema_editor,
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN {body} RETURN NEW; END $$"
        ).format(function=function, body=body),
    )
    run_ddl(
        schema_editor,
        sql.SQL(
            "CREATE OR REPLACE TRIGGER {trigger} BEFORE INSERT OR UPDATE OF {sources} ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION {function}()"
        ).format(trigger=trigger, sources=sources, table=table.identifier, function=function),
        table,
    )
