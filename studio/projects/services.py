from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from studio.generations.services import (
    delete_folders,
    generation_cancel,
    generation_folders,
)
from studio.projects.models import Project
from studio.projects.welcome import FIRST_PROJECT_DESCRIPTION, FIRST_PROJECT_NAME


def project_create(
    *, owner: AbstractBaseUser, name: str, description: str = ""
) -> Project:
    return Project.objects.create(owner=owner, name=name, description=description)


def project_create_first(*, owner: AbstractBaseUser) -> Project:
    """The project a new account starts in, so its prompt box is one click away."""
    return project_create(
        owner=owner, name=FIRST_PROJECT_NAME, description=FIRST_PROJECT_DESCRIPTION
    )


def project_set_archived(*, project: Project, archived: bool) -> None:
    project.archived = archived
    project.save(update_fields=["archived", "updated"])


@transaction.atomic
def project_delete(*, project: Project) -> None:
    """Delete a project with its generations and their files."""
    generations = list(project.generations.all())
    for generation in generations:
        generation_cancel(generation=generation)
    folders = generation_folders(generations)
    project.delete()
    transaction.on_commit(lambda: delete_folders(folders))
