"""A declarative base no model module has registered a table on (yet)."""

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
