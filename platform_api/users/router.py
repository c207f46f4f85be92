"""Routes of users: own account, administration, parent links, erasure and export."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from platform_api.core.deps import AdminUser, CurrentUser, ParentUser, PlatformDep, SessionDep, StudentUser
from platform_api.core.errors import Forbidden, NotFound, responses
from platform_api.core.schemas import Message, Pagination
from platform_api.users import schemas, service
from platform_api.users.exceptions import EmailTaken, InvalidParentCode, LastAdmin
from platform_api.users.policy import visible_user
from platform_api.users.repository import UserRepository

MAX_PAGE = 100_000  # far beyond any list; keeps the SQL offset a small integer (a 64-bit page number is a 500)

router = APIRouter(prefix="/api/users", tags=["users"])
links_router = APIRouter(prefix="/api/parent-links", tags=["users"])


@router.get("/me")
def read_me(user: CurrentUser, db: SessionDep) -> schemas.UserOut:
    return service.to_out(user, UserRepository(db).profile(user.id))


@router.patch("/me")
def update_me(body: schemas.UserUpdate, user: CurrentUser, db: SessionDep) -> schemas.UserOut:
    service.update_user(db, user, body)
    return service.to_out(user, UserRepository(db).profile(user.id))


@router.get("/me/export")
def export_me(user: CurrentUser, db: SessionDep) -> dict[str, Any]:
    """Everything the platform keeps about the caller, as one JSON document."""
    return service.export_user(db, user)


@router.get("/me/parent-code")
def read_parent_code(user: StudentUser, db: SessionDep) -> schemas.ParentCode:
    """The code a student gives a parent so they can follow their progress."""
    return schemas.ParentCode(parent_code=service.parent_code(db, user))


@router.post("/me/parent-code")
def regenerate_parent_code(user: StudentUser, db: SessionDep) -> schemas.ParentCode:
    return schemas.ParentCode(parent_code=service.parent_code(db, user, regenerate=True))


@router.get("/me/children")
def list_children(user: ParentUser, db: SessionDep) -> list[schemas.UserOut]:
    repo = UserRepository(db)
    children = repo.children(user.id)
    profiles = repo.profiles([c.id for c in children])
    return [service.to_out(c, profiles.get(c.id)) for c in children]


@router.post("/me/children", status_code=status.HTTP_201_CREATED, responses=responses(InvalidParentCode))
def link_child(body: schemas.LinkByCode, user: ParentUser, db: SessionDep) -> schemas.UserOut:
    child = service.link_child_by_code(db, user, body.parent_code)
    return service.to_out(child, UserRepository(db).profile(child.id))


@router.delete("/me/children/{student_id}", status_code=status.HTTP_204_NO_CONTENT, responses=responses(NotFound))
def unlink_child(student_id: str, user: ParentUser, db: SessionDep) -> Response:
    service.unlink_child(db, user, student_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("", responses=responses(Forbidden))
def list_users(
    _admin: AdminUser,
    db: SessionDep,
    role: Annotated[str | None, Query(pattern="^(student|parent|teacher|admin)$")] = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> schemas.UserPage:
    repo = UserRepository(db)
    rows, total = repo.page(role, (page - 1) * limit, limit)
    profiles = repo.profiles([u.id for u in rows])
    return schemas.UserPage(
        users=[service.to_out(u, profiles.get(u.id)) for u in rows],
        pagination=Pagination(page=page, limit=limit, total=total, pages=math.ceil(total / limit) if total else 0),
    )


@router.post("", status_code=status.HTTP_201_CREATED, responses=responses(Forbidden, EmailTaken))
def create_user(body: schemas.UserCreate, _admin: AdminUser, db: SessionDep, platform: PlatformDep) -> schemas.UserOut:
    """Create any account, teachers and administrators included (admins only)."""
    user = service.create_user(db, platform.settings, body)
    return service.to_out(user, UserRepository(db).profile(user.id))


@router.get("/{user_id}", responses=responses(NotFound))
def read_user(user_id: str, user: CurrentUser, db: SessionDep) -> schemas.UserOut:
    target = visible_user(db, user, user_id)
    return service.to_out(target, UserRepository(db).profile(target.id))


@router.patch("/{user_id}", responses=responses(Forbidden, NotFound))
def update_user(user_id: str, body: schemas.AdminUserUpdate, _admin: AdminUser, db: SessionDep) -> schemas.UserOut:
    target = visible_user(db, _admin, user_id)
    service.update_user(db, target, body)
    return service.to_out(target, UserRepository(db).profile(target.id))


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT, responses=responses(NotFound, LastAdmin))
def delete_user(user_id: str, user: CurrentUser, db: SessionDep, platform: PlatformDep) -> Response:
    """Erase a user and their personal data (the user themself, or an admin)."""
    service.erase_user(db, platform, user, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@links_router.post("", status_code=status.HTTP_201_CREATED, responses=responses(Forbidden, NotFound))
def create_link(body: schemas.LinkCreate, _admin: AdminUser, db: SessionDep) -> Message:
    """Link a parent to a student (admins only; parents use the student's code)."""
    service.link_admin(db, body.parent_id, body.student_id)
    return Message(message="Parent et élève liés.")
