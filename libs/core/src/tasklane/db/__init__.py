from tasklane.db.base import Base
from tasklane.db.engine import Database

__all__ = ["Base", "Database"]
