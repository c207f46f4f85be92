"""Users: registration, administration, profiles, parent links, erasure and export of personal data."""

from __future__ import annotations

import secrets
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.orm import Session

from knowledge.store import compact_store
from platform_api.core.config import PlatformSettings
from platform_api.core.db import scrub, utcnow
from platform_api.core.errors import Forbidden
from platform_api.core.security import hash_password
from platform_api.core.state import Platform
from platform_api.documents.storage import remove_stored
from platform_api.users import schemas
from platform_api.users.exceptions import (
    EmailTaken,
    InvalidParentCode,
    LastAdmin,
    NotAStudent,
    RoleNotAllowed,
    UserNotFound,
)
from platform_api.users.models import StudentProfile, User
from platform_api.users.personal_data import PersonalDataRepository
from platform_api.users.repository import UserRepository

log = structlog.get_logger("platform_api.users")
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud and typed by hand


def new_code(length: int = 8) -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(length))


def to_out(user: User, profile: StudentProfile | None = None) -> schemas.UserOut:
    out = schemas.UserOut.model_validate(user)
    out.class_level = profile.class_level if profile else None
    return out


def create_user(db: Session, settings: PlatformSettings, data: schemas.UserCreate) -> User:
    """Create any user (the caller has checked who may create which role)."""
    repo = UserRepository(db)
    email = str(data.email).strip().lower()
    if repo.by_email(email) is not None:
        raise EmailTaken()
    user = repo.add(
        User(
            email=email,
            password_hash=hash_password(data.password, settings.bcrypt_rounds),
            first_name=data.first_name.strip(),
            last_name=data.last_name.strip(),
            role=data.role,
            phone=data.phone,
        )
    )
    if user.role == "student":
        repo.add_profile(StudentProfile(user_id=user.id, class_level=data.class_level, parent_code=new_code()))
    return user


def register(db: Session, settings: PlatformSettings, data: schemas.UserCreate) -> User:
    """Public registration: students and parents only."""
    if data.role not in ("student", "parent"):
        raise RoleNotAllowed()
    return create_user(db, settings, data)


def ensure_admin(db: Session, settings: PlatformSettings, email: str, password: str) -> tuple[User, bool]:
    """The administrator with this email, created when missing; returns (user, created)."""
    existing = UserRepository(db).by_email(email)
    if existing is not None:
        if existing.role != "admin":
            raise EmailTaken("Un compte non administrateur existe déjà avec cet email.")
        return existing, False
    data = schemas.UserCreate(email=email, password=password, first_name="Admin", last_name="Nexus", role="admin")
    return create_user(db, settings, data), True


def update_user(db: Session, user: User, data: schemas.UserUpdate) -> User:
    repo = UserRepository(db)
    for field in ("first_name", "last_name", "phone"):
        value = getattr(data, field)
        if value is not None:
            setattr(user, field, value.strip() if isinstance(value, str) else value)
    if isinstance(data, schemas.AdminUserUpdate) and data.is_active is not None:
        user.is_active = data.is_active
    if data.class_level is not None:
        profile = repo.profile(user.id)
        if profile is None:
            raise NotAStudent()
        profile.class_level = data.class_level
    db.flush()
    return user


def parent_code(db: Session, student: User, regenerate: bool = False) -> str:
    profile = UserRepository(db).profile(student.id)
    if profile is None:
        raise NotAStudent()
    if regenerate:
        profile.parent_code = new_code()
        db.flush()
    return profile.parent_code


def link_child_by_code(db: Session, parent: User, code: str) -> User:
    repo = UserRepository(db)
    profile = repo.profile_by_code(code)
    if profile is None:
        raise InvalidParentCode()
    if repo.link(parent.id, profile.user_id) is None:
        repo.add_link(parent.id, profile.user_id)
    child = repo.get(profile.user_id)
    assert child is not None
    return child


def link_admin(db: Session, parent_id: str, student_id: str) -> None:
    repo = UserRepository(db)
    parent, student = repo.get(parent_id), repo.get(student_id)
    if parent is None or student is None:
        raise UserNotFound()
    if parent.role != "parent":
        raise Forbidden("Seul un compte parent peut être lié à un élève.", code="not_a_parent")
    if student.role != "student":
        raise NotAStudent()
    if repo.link(parent_id, student_id) is None:
        repo.add_link(parent_id, student_id)


def unlink_child(db: Session, parent: User, student_id: str) -> None:
    repo = UserRepository(db)
    link = repo.link(parent.id, student_id)
    if link is None:
        raise UserNotFound()
    repo.remove_link(link)


def erase_user(db: Session, platform: Platform, actor: User, user_id: str) -> None:
    """Erase a user and everything personal, physically: rows, uploads, vectors, cached embeddings, Redis counters.

    The vector store is compacted and, after the commit, SQLite's WAL is checkpointed (``secure_delete`` is on), so
    none of the erased text stays in the data dir's files. The log names the erasure by a keyed hash, not the id.
    """
    repo = UserRepository(db)
    user = repo.get(user_id)
    if user is None or (actor.role != "admin" and actor.id != user_id):
        raise UserNotFound()
    if user.role == "admin" and repo.count_admins() <= 1:
        raise LastAdmin()
    personal = PersonalDataRepository(db)
    documents = personal.documents(user.id)
    passages = sum(remove_stored(platform.ingestor, platform.settings.upload_dir, doc) for doc in documents)
    if passages:
        compact_store(platform.ingestor.store)
    personal.delete_everything(user.id, user.email)
    repo.delete(user)
    platform.limiter.forget(f"user:{user_id}")
    event.listen(db, "after_commit", lambda _session: scrub(platform.engine), once=True)
    by = "self" if actor.id == user_id else actor.id  # an administrator, who is not the one erased
    log.info("user_erased", erasure_ref=platform.tokens.reference(user_id), by=by, documents=len(documents))


def export_user(db: Session, user: User) -> dict[str, Any]:
    """Everything the platform keeps about a user, as JSON (the right of access of the GDPR)."""
    repo = UserRepository(db)
    profile = repo.profile(user.id)
    data = PersonalDataRepository(db).export(user.id, user.email)
    data["parents"] = [{"id": p.id, "email": p.email} for p in repo.parents(user.id)]
    data["children"] = [{"id": c.id, "email": c.email} for c in repo.children(user.id)]
    return {
        "exportedAt": utcnow().isoformat(),
        "user": to_out(user, profile).model_dump(mode="json", by_alias=True),
        "data": data,
    }
