"""The class every model subclasses: Flask-SQLAlchemy's `db.Model`, typed for mypy.

`db.Model` is made at run time (it adds the query property, bind keys and table naming to our
`Base`), so mypy cannot use it as a base class. To mypy every model is a plain `Base` subclass,
which has the same metadata and mapped-column typing; at run time it is still `db.Model`.
"""

from typing import TYPE_CHECKING

from app import db

if TYPE_CHECKING:
    from app import Base as Model
else:
    Model = db.Model

__all__ = ["Model"]
