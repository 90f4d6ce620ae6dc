"""One read-only SELECT, sent as cheaply as the driver allows: the unchanged poll's statement.

The candidate page's unchanged poll is most of an exam day's requests, and on PostgreSQL about
half of its cost in the app was SQLAlchemy's execution around the one statement (a Connection,
an execution context, the cursor's description turned into a result's metadata), twice the
driver's own work (`make bench`'s profile). On psycopg the statement here is compiled once,
then sent on a pooled connection's own cursor as a prepared statement, in autocommit (no
BEGIN/ROLLBACK round trips), and its row goes through the columns' own result processors
(`UTCDateTime` hands back aware datetimes, as everywhere). Other drivers (SQLite for
`make run`) take SQLAlchemy's way with the same statement: same row.

The engine's statement listeners (`before_cursor_execute`) still see the statement: the tests
and the benchmark count statements per request with them.
"""

from dataclasses import dataclass

from sqlalchemy import exc
from sqlalchemy.engine import Engine
from sqlalchemy.sql import Select


@dataclass
class _Compiled:
    sql: str
    params: dict
    # The columns' result processors, found from the first answer's column types (a numeric's
    # depends on what the server sends).
    processors: tuple | None = None


class QuickStatement:
    def __init__(self, statement: Select) -> None:
        self.statement = statement
        # By dialect (what the compiled text and the processors depend on): psycopg's, or None.
        self._compiled: dict[tuple[str, str], _Compiled | None] = {}

    def one_or_none(self, engine: Engine, params: dict) -> tuple | None:
        compiled = self._for(engine)
        if compiled is None:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                row = conn.execute(self.statement, params).one_or_none()
            return tuple(row) if row is not None else None
        return self._driver_one_or_none(engine, compiled, {**compiled.params, **params})

    def _for(self, engine: Engine) -> _Compiled | None:
        key = (engine.dialect.name, engine.dialect.driver)
        if key not in self._compiled:
            self._compiled[key] = self._compile(engine)
        return self._compiled[key]

    def _compile(self, engine: Engine) -> _Compiled | None:
        dialect = engine.dialect
        if dialect.driver != "psycopg":
            return None
        compiled = self.statement.compile(dialect=dialect)
        # The statement's own constants (a state's name): the only binds besides the caller's,
        # which are placeholders here and given on every execution.
        params = {
            name: str(value) if isinstance(value, str) else value
            for name, value in compiled.construct_params(_placeholders(compiled)).items()
        }
        if any(not isinstance(v, (str, int, type(None))) for v in params.values()):
            return None  # a bind that needs its type's processing: SQLAlchemy's way
        return _Compiled(compiled.string, params)

    def _processors(self, engine: Engine, description) -> tuple:
        dialect = engine.dialect
        return tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, described.type_code)
            for column, described in zip(self.statement.selected_columns, description, strict=True)
        )

    def _driver_one_or_none(self, engine: Engine, compiled: _Compiled, params: dict):
        dbapi_error = engine.dialect.loaded_dbapi.Error
        try:
            connection = engine.raw_connection()  # the pool's checkout, its idle ping included
        except dbapi_error as error:  # the server away: as SQLAlchemy's own connect says it
            raise exc.DBAPIError.instance(None, None, error, dbapi_error) from error
        try:
            driver = connection.driver_connection
            if driver is None:  # invalidated: never so from a fresh checkout
                raise exc.DisconnectionError("the pooled connection has no driver connection")
            driver.autocommit = True
            try:
                with driver.cursor() as cursor:
                    if engine.dispatch.before_cursor_execute:
                        engine.dispatch.before_cursor_execute(
                            None, cursor, compiled.sql, params, None, False
                        )
                    cursor.execute(compiled.sql, params, prepare=True)
                    row = cursor.fetchone()
                    processors = compiled.processors
                    if processors is None:
                        processors = self._processors(engine, cursor.description)
                        compiled.processors = processors
            finally:
                # Back to the pool as the ORM expects it: in a transaction from its first
                # statement. Idle after a SELECT in autocommit, so this sends nothing.
                driver.autocommit = False
        except dbapi_error as error:
            connection.invalidate()  # whatever broke, the pool gets a fresh one
            raise exc.DBAPIError.instance(compiled.sql, params, error, dbapi_error) from error
        finally:
            connection.close()
        if row is None:
            return None
        return tuple(
            process(value) if process is not None else value
            for process, value in zip(processors, row, strict=True)
        )


def _placeholders(compiled) -> dict:
    """Any value for the caller's binds (those without one of their own), to list them all."""
    return {
        bind.key: 0
        for bind in compiled.binds.values()
        if bind.value is None and bind.callable is None
    }
