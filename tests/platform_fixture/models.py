"""Four tables, the way the platform declares them (``backend/db/*.py``)."""

import enum
import uuid
from datetime import datetime

from platform_fixture.db import Base
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.sql import func


class Role(str, enum.Enum):  # noqa: UP042 (as the platform declares its enums)
    OWNER = "owner"
    MEMBER = "member"


# A plain association table: no mapped class.
workspace_members = Table(
    "workspace_members",
    Base.metadata,
    Column("workspace_id", String, ForeignKey("workspaces.id"), primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("joined_at", DateTime(timezone=True), server_default=func.now()),
)


class Account(Base):
    __tablename__ = "accounts"

    id = Column(Integer, primary_key=True, index=True)
    email = Column(String(255), unique=True, nullable=False, index=True)
    role = Column(Enum(Role, name="accountrole"), nullable=False, default=Role.MEMBER)
    settings = Column(JSON, default=dict)
    created_at = Column(DateTime, default=datetime.utcnow)
    updated_at = Column(DateTime(timezone=True), onupdate=func.now())


class Workspace(Base):
    __tablename__ = "workspaces"

    id = Column(String, primary_key=True, default=lambda: str(uuid.uuid4()))
    owner_id = Column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    name = Column(String, nullable=False)
    slug = Column(String, unique=True, nullable=False)
    tags = Column(JSON, default=list)
    is_active = Column(Boolean, default=True)
    created_at = Column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_owner_workspace_name"),)


class Draft(Base):
    __tablename__ = "drafts"

    id = Column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    workspace_id = Column(String, ForeignKey("workspaces.id"), index=True)
    body = Column(Text, nullable=False)
    score = Column(Float, default=0.0)
    status = Column(String(50), default="draft")
    edited_at = Column(DateTime, default=func.now())
