"""Authentication: registration, login, rotating refresh tokens, reuse detection, logout, JWT rules, reset."""

from __future__ import annotations

import time

import bcrypt
import jwt
import pytest
from sqlalchemy import select

from platform_api.auth.models import AuthToken
from platform_api.core.config import PLACEHOLDER_SECRET, PlatformSettings
from platform_api.core.db import unit_of_work
from platform_api.core.security import TokenService, hash_password
from tests.platform_api.conftest import PASSWORD, Api


def register(api: Api, email: str, role: str = "student", password: str = PASSWORD) -> object:
    return api.client.post(
        "/api/auth/register",
        json={
            "email": email,
            "password": password,
            "firstName": "Léa",
            "lastName": "Martin",
            "role": role,
            "classLevel": "premiere" if role == "student" else None,
        },
    )


def login(api: Api, email: str, password: str = PASSWORD) -> dict[str, object]:
    response = api.client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_register_login_me(api: Api) -> None:
    created = register(api, "Lea@Exemple.fr")
    assert created.status_code == 201  # type: ignore[attr-defined]
    body = created.json()  # type: ignore[attr-defined]
    assert body["success"] is True
    assert body["userId"]
    session = login(api, "lea@exemple.fr")
    assert session["user"] == {  # type: ignore[comparison-overlap]
        "id": body["userId"],
        "email": "lea@exemple.fr",
        "firstName": "Léa",
        "lastName": "Martin",
        "role": "student",
    }
    me = api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {session['accessToken']}"}).json()
    assert me["classLevel"] == "premiere"
    wrong = api.client.post("/api/auth/login", json={"email": "lea@exemple.fr", "password": "mauvais123"})
    assert wrong.status_code == 401
    assert wrong.json() == {"error": "invalid_credentials", "detail": "Email ou mot de passe incorrect."}
    assert api.client.post("/api/auth/login", json={"email": "x@exemple.fr", "password": "a1"}).status_code == 401


def test_registering_a_taken_email_looks_like_a_success_and_tells_the_owner(api: Api) -> None:
    """Regression (issue 15, account enumeration): a taken email answered 409 email_taken."""
    first = register(api, "prise@exemple.fr")
    again = register(api, "Prise@Exemple.fr", password="autrechose9")
    fresh = register(api, "libre@exemple.fr")
    assert first.status_code == again.status_code == fresh.status_code == 201  # type: ignore[attr-defined]
    bodies = [r.json() for r in (first, again, fresh)]  # type: ignore[attr-defined]
    assert {tuple(sorted(b)) for b in bodies} == {("message", "success", "userId")}
    assert bodies[1]["message"] == bodies[2]["message"]
    assert len({b["userId"] for b in bodies}) == 3  # the fake id names nobody
    assert api.sql("SELECT count(*) FROM users WHERE email = 'prise@exemple.fr'")[0][0] == 1
    assert [m.to for m in api.mailer.outbox] == ["prise@exemple.fr"]  # the owner learns of the attempt
    assert "déjà un compte" in api.mailer.outbox[0].body
    login(api, "prise@exemple.fr")  # the original password still works, the new one does not
    assert (
        api.client.post("/api/auth/login", json={"email": "prise@exemple.fr", "password": "autrechose9"}).status_code
        == 401
    )
    weak = register(api, "prise@exemple.fr", password="court")  # the same refusals as for a new email
    assert weak.status_code == 400  # type: ignore[attr-defined]
    assert weak.json()["error"] == "password_too_weak"  # type: ignore[attr-defined]


@pytest.mark.parametrize("role", ["teacher", "admin", "superuser"])
def test_public_registration_creates_students_and_parents_only(api: Api, role: str) -> None:
    response = register(api, f"{role}@exemple.fr", role=role)
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert response.json()["error"] == "role_not_allowed"  # type: ignore[attr-defined]
    assert register(api, "parent@exemple.fr", role="parent").status_code == 201  # type: ignore[attr-defined]


def test_passwords_over_72_bytes_are_refused_with_a_message(api: Api) -> None:
    long = "é" * 36 + "a1"  # 74 bytes in UTF-8, 38 characters
    response = register(api, "long@exemple.fr", password=long)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert response.json()["error"] == "password_too_long"  # type: ignore[attr-defined]
    assert "72 octets" in response.json()["detail"]  # type: ignore[attr-defined]
    weak = register(api, "weak@exemple.fr", password="court")
    assert weak.json()["error"] == "password_too_weak"  # type: ignore[attr-defined]


def test_bcrypt_cost_is_12_by_default() -> None:
    assert PlatformSettings().bcrypt_rounds == 12
    hashed = hash_password(PASSWORD, 12)
    assert hashed.startswith("$2b$12$")
    assert bcrypt.checkpw(PASSWORD.encode(), hashed.encode())


def test_refresh_rotates_and_reuse_revokes_the_family(api: Api) -> None:
    register(api, "eleve@exemple.fr")
    first = login(api, "eleve@exemple.fr")
    rotated = api.client.post("/api/auth/refresh", json={"refreshToken": first["refreshToken"]})
    assert rotated.status_code == 200
    pair = rotated.json()
    assert pair["refreshToken"] != first["refreshToken"]
    assert pair["accessToken"]
    # the old token is dead: presenting it again is a reuse, which revokes the whole family
    reuse = api.client.post("/api/auth/refresh", json={"refreshToken": first["refreshToken"]})
    assert reuse.status_code == 401
    assert reuse.json()["error"] == "token_reused"
    after = api.client.post("/api/auth/refresh", json={"refreshToken": pair["refreshToken"]})
    assert after.status_code == 401
    assert after.json()["error"] == "token_revoked"
    # another login is another family, untouched
    other = login(api, "eleve@exemple.fr")
    assert api.client.post("/api/auth/refresh", json={"refreshToken": other["refreshToken"]}).status_code == 200
    stored = api.sql("SELECT token_hash FROM auth_tokens WHERE kind = 'refresh'")
    assert all(len(row[0]) == 64 and row[0] != first["refreshToken"] for row in stored)  # hashed, never raw


def me_status(api: Api, session: dict[str, object]) -> int:
    response = api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {session['accessToken']}"})
    return int(response.status_code)


def test_logout_revokes_the_refresh_token(api: Api) -> None:
    register(api, "sortie@exemple.fr")
    session = login(api, "sortie@exemple.fr")
    assert api.client.post("/api/auth/logout", json={"refreshToken": session["refreshToken"]}).status_code == 200
    dead = api.client.post("/api/auth/refresh", json={"refreshToken": session["refreshToken"]})
    assert dead.status_code == 401


def test_logout_ends_the_access_tokens(api: Api) -> None:
    """Regression (issue 15): the access token stayed valid for its hour after logout."""
    register(api, "fin@exemple.fr")
    session, other_device = login(api, "fin@exemple.fr"), login(api, "fin@exemple.fr")
    assert me_status(api, session) == me_status(api, other_device) == 200
    assert api.client.post("/api/auth/logout", json={"refreshToken": session["refreshToken"]}).status_code == 200
    assert me_status(api, session) == 401
    # The other device's access token ends too; its own refresh token still gives it a fresh pair.
    assert me_status(api, other_device) == 401
    renewed = api.client.post("/api/auth/refresh", json={"refreshToken": other_device["refreshToken"]})
    assert renewed.status_code == 200
    assert me_status(api, renewed.json()) == 200
    assert me_status(api, login(api, "fin@exemple.fr")) == 200  # a new login works at once


def test_password_change_ends_every_other_session(api: Api) -> None:
    register(api, "change@exemple.fr")
    old, other = login(api, "change@exemple.fr"), login(api, "change@exemple.fr")
    headers = {"Authorization": f"Bearer {old['accessToken']}"}
    wrong = api.client.post(
        "/api/auth/password/change", json={"currentPassword": "pasle1bon", "newPassword": "nouveau123"}, headers=headers
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "wrong_password"
    changed = api.client.post(
        "/api/auth/password/change", json={"currentPassword": PASSWORD, "newPassword": "nouveau123"}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    assert me_status(api, changed.json()) == 200  # this device keeps going with its new pair
    assert me_status(api, old) == me_status(api, other) == 401
    assert api.client.post("/api/auth/refresh", json={"refreshToken": other["refreshToken"]}).status_code == 401
    login(api, "change@exemple.fr", "nouveau123")


def test_jwt_is_pinned_and_checked(api: Api) -> None:
    student = api.user("student")
    assert api.platform.settings.jwt_secret is not None
    secret = api.platform.settings.jwt_secret.get_secret_value()
    now = int(time.time())
    claims = {"sub": student.id, "type": "access", "jti": "x", "iat": now, "exp": now + 60}
    forged = [
        jwt.encode(claims, "autre-secret" * 3, "HS256"),
        jwt.encode({**claims, "exp": now - 10}, secret, "HS256"),
        jwt.encode({k: v for k, v in claims.items() if k != "jti"}, secret, "HS256"),
        jwt.encode({**claims, "type": "refresh"}, secret, "HS256"),
        jwt.encode(claims, secret * 2, "HS512"),  # another algorithm (key long enough for it)
        "pas.un.jeton",
    ]
    payload = jwt.encode(claims, secret, "HS256").split(".")[1]
    forged.append(f"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.")  # {"alg": "none"}
    for token in forged:
        response = api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
        assert response.json()["error"] == "invalid_token"
    good = jwt.encode(claims, secret, "HS256")
    assert api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {good}"}).status_code == 200
    assert api.client.get("/api/auth/me").status_code == 401


def test_token_lifetimes() -> None:
    service = TokenService("s" * 40)
    _, access = service.issue("u", "access")
    _, refresh = service.issue("u", "refresh", family="f")
    assert (access.expires_at - access.issued_at).total_seconds() == 3600
    assert (refresh.expires_at - refresh.issued_at).days == 30


@pytest.mark.parametrize("environment", ["development", "test", "production"])
def test_the_placeholder_and_short_keys_are_refused_everywhere(environment: str) -> None:
    """Regression (issue 15, critical): development accepted the documented placeholder as the signing key."""
    with pytest.raises(ValueError, match="NEXUS_JWT_SECRET is the documented placeholder"):
        PlatformSettings(environment=environment, jwt_secret=PLACEHOLDER_SECRET, _env_file=None)
    with pytest.raises(ValueError, match="NEXUS_JWT_SECRET must be at least 32 characters long. Currently, it is 20"):
        PlatformSettings(environment=environment, jwt_secret="z" * 20, _env_file=None)
    with pytest.raises(ValueError, match="NEXUS_JWT_PREVIOUS_SECRETS"):
        PlatformSettings(
            environment=environment, jwt_secret="z" * 40, jwt_previous_secrets="y" * 40 + ",court", _env_file=None
        )


def test_production_needs_its_own_key_and_cost() -> None:
    with pytest.raises(ValueError, match="NEXUS_JWT_SECRET must be set in production"):
        PlatformSettings(environment="production", _env_file=None)
    with pytest.raises(ValueError, match="NEXUS_BCRYPT_ROUNDS"):
        PlatformSettings(environment="production", jwt_secret="z" * 40, bcrypt_rounds=4, _env_file=None)
    assert PlatformSettings(environment="development", _env_file=None).jwt_secret is None  # generated at start


def test_password_reset_with_a_one_hour_token(api: Api) -> None:
    register(api, "oubli@exemple.fr")
    session = login(api, "oubli@exemple.fr")
    unknown = api.client.post("/api/auth/password/forgot", json={"email": "personne@exemple.fr"})
    known = api.client.post("/api/auth/password/forgot", json={"email": "oubli@exemple.fr"})
    assert unknown.status_code == known.status_code == 200
    assert unknown.json() == known.json()  # says nothing about which emails exist
    assert len(api.mailer.outbox) == 1
    mail = api.mailer.outbox[0]
    assert mail.to == "oubli@exemple.fr"
    assert "60 minutes" in mail.body
    token = mail.body.split("Code : ")[1].split()[0]
    with unit_of_work(api.platform.sessions) as db:
        stored = db.scalars(select(AuthToken).where(AuthToken.kind == "password_reset")).one()
        assert 3590 <= (stored.expires_at - stored.created_at).total_seconds() <= 3610
    done = api.client.post("/api/auth/password/reset", json={"token": token, "password": "nouveau123"})
    assert done.status_code == 200
    assert (
        api.client.post("/api/auth/password/reset", json={"token": token, "password": "encore123"}).status_code == 400
    )
    login(api, "oubli@exemple.fr", "nouveau123")
    # the new password closed the sessions opened with the old one, access tokens included (issue 15)
    assert api.client.post("/api/auth/refresh", json={"refreshToken": session["refreshToken"]}).status_code == 401
    assert me_status(api, session) == 401
