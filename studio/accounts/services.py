from __future__ import annotations

import secrets
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from studio.accounts.models import ApiToken, token_digest

TOKEN_PREFIX = "st_"
LAST_USED_PRECISION = timedelta(minutes=1)


def api_token_create(*, user: AbstractBaseUser, name: str) -> tuple[ApiToken, str]:
    """Create a token; the plain value is returned once and never stored."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip()[:100] or "API token",
        prefix=plain[:10],
        digest=token_digest(plain),
    )
    return token, plain


def api_token_revoke(*, token: ApiToken) -> None:
    token.delete()


def api_token_user(plain: str) -> AbstractBaseUser | None:
    """The active user a plain token belongs to, or None."""
    if not plain or not plain.startswith(TOKEN_PREFIX) or len(plain) > 100:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=token_digest(plain))
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    # The account page shows minutes: one write a minute, not one a request.
    now = timezone.now()
    if token.last_used is None or now - token.last_used >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
    return token.user
