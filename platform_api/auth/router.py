"""Routes of authentication: register, login, refresh, logout, me, password reset."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from platform_api.auth import schemas, service
from platform_api.auth.exceptions import InvalidResetToken, TokenReused, WrongPassword
from platform_api.core.deps import CurrentUser, PlatformDep, SessionDep, rate_limit
from platform_api.core.errors import Forbidden, InvalidCredentials, InvalidToken, RateLimited, responses
from platform_api.core.schemas import Message
from platform_api.core.security import PasswordTooLong, PasswordTooWeak
from platform_api.users import schemas as user_schemas
from platform_api.users import service as users
from platform_api.users.exceptions import RoleNotAllowed
from platform_api.users.repository import UserRepository

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(rate_limit("register"))],
    responses=responses(PasswordTooLong, PasswordTooWeak, Forbidden, RateLimited),
)
def register(body: schemas.RegisterIn, db: SessionDep, platform: PlatformDep) -> schemas.RegisterOut:
    """Create a student or parent account (teachers and admins are created by an admin).

    An email that already has an account gets the same answer as a new one (the owner is told by mail), so
    registration does not reveal who has an account.
    """
    if body.role not in ("student", "parent"):
        raise RoleNotAllowed()
    user_id = service.register(db, platform, user_schemas.UserCreate.model_validate(body.model_dump()))
    return schemas.RegisterOut(message=service.REGISTERED, user_id=user_id)


@router.post(
    "/login", dependencies=[Depends(rate_limit("login"))], responses=responses(InvalidCredentials, RateLimited)
)
def login(body: schemas.LoginIn, db: SessionDep, platform: PlatformDep) -> schemas.LoginOut:
    user, access, refresh = service.login(db, platform, str(body.email), body.password)
    return schemas.LoginOut(
        user=schemas.LoginUser.model_validate(user),
        access_token=access,
        refresh_token=refresh,
        expires_in=int(platform.tokens.access_ttl.total_seconds()),
    )


@router.post("/refresh", responses=responses(InvalidToken, TokenReused))
def refresh(body: schemas.RefreshIn, db: SessionDep, platform: PlatformDep) -> schemas.TokensOut:
    """Exchange a refresh token for a new pair; the presented one stops working."""
    access, new_refresh = service.refresh(db, platform, body.refresh_token)
    return schemas.TokensOut(
        access_token=access, refresh_token=new_refresh, expires_in=int(platform.tokens.access_ttl.total_seconds())
    )


@router.post("/logout", responses=responses(InvalidToken))
def logout(body: schemas.RefreshIn, db: SessionDep, platform: PlatformDep) -> Message:
    service.logout(db, platform, body.refresh_token)
    return Message(message="Tu es déconnecté.")


@router.get("/me", responses=responses(InvalidToken))
def me(user: CurrentUser, db: SessionDep) -> user_schemas.UserOut:
    return users.to_out(user, UserRepository(db).profile(user.id))


@router.post("/password/forgot", dependencies=[Depends(rate_limit("login"))], responses=responses(RateLimited))
def forgot_password(body: schemas.ForgotIn, db: SessionDep, platform: PlatformDep) -> Message:
    service.request_reset(db, platform, str(body.email))
    return Message(message="Si un compte existe avec cet email, un lien de réinitialisation vient d'être envoyé.")


@router.post("/password/change", responses=responses(InvalidToken, WrongPassword, PasswordTooLong, PasswordTooWeak))
def change_password(
    body: schemas.PasswordChangeIn, user: CurrentUser, db: SessionDep, platform: PlatformDep
) -> schemas.TokensOut:
    """Change one's password: every other session ends; this device gets a new pair of tokens."""
    access, refresh = service.change_password(db, platform, user, body.current_password, body.new_password)
    return schemas.TokensOut(
        access_token=access, refresh_token=refresh, expires_in=int(platform.tokens.access_ttl.total_seconds())
    )


@router.post("/password/reset", responses=responses(InvalidResetToken, PasswordTooLong))
def reset_password(body: schemas.ResetIn, db: SessionDep, platform: PlatformDep) -> Message:
    service.reset_password(db, platform, body.token, body.password)
    return Message(message="Mot de passe modifié : connecte-toi avec le nouveau.")
