from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from studio.accounts.data import account_delete, account_export
from studio.accounts.forms import ApiTokenForm, DeleteAccountForm, SignupForm
from studio.accounts.models import ApiToken
from studio.accounts.services import api_token_create, api_token_revoke
from studio.projects.services import project_create_first


def signup(request: HttpRequest) -> HttpResponse:
    if not settings.STUDIO_SIGNUP_OPEN:
        raise Http404("Sign-up is closed on this studio.")
    if request.user.is_authenticated:
        return redirect("projects:list")

    if request.method == "POST":
        form = SignupForm(request.POST)
        if form.is_valid():
            with transaction.atomic():
                user = form.save()
                project_create_first(owner=user)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            # The Projects page welcomes an account that has made no clip yet.
            return redirect("projects:list")
    else:
        form = SignupForm()

    ctx = {"form": form}
    return render(request, "accounts/signup.html", ctx)


@login_required
def account(request: HttpRequest) -> HttpResponse:
    new_token = None
    if request.method == "POST":
        form = ApiTokenForm(request.POST)
        if form.is_valid():
            _, new_token = api_token_create(
                user=request.user, name=form.cleaned_data["name"]
            )
            form = ApiTokenForm()
    else:
        form = ApiTokenForm()

    ctx = {
        "form": form,
        "new_token": new_token,
        "tokens": ApiToken.objects.filter(user=request.user),
    }
    template = "accounts/account.html"
    if request.htmx:
        template += "#tokens"
    return render(request, template, ctx)


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    api_token_revoke(token=token)
    if request.htmx:
        ctx = {
            "form": ApiTokenForm(),
            "tokens": ApiToken.objects.filter(user=request.user),
        }
        return render(request, "accounts/account.html#tokens", ctx)
    return redirect("accounts:account")


@login_required
def data_export(request: HttpRequest) -> FileResponse:
    archive = account_export(user=request.user)
    name = f"studio-{request.user.get_username()}.zip"
    return FileResponse(
        archive, as_attachment=True, filename=name, content_type="application/zip"
    )


@login_required
def account_delete_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = DeleteAccountForm(request.POST, user=request.user)
        if form.is_valid():
            user = request.user
            logout(request)
            account_delete(user=user)
            messages.success(request, "Your account and everything in it was deleted.")
            return redirect("login")
    else:
        form = DeleteAccountForm(user=request.user)

    ctx = {"form": form}
    return render(request, "accounts/account_delete.html", ctx)
