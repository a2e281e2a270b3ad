from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from studio.settings import env_bool, env_int, env_list

ROOT = Path(__file__).resolve().parents[2]


def test_env_helpers_read_typed_values(monkeypatch):
    monkeypatch.setenv("X_BOOL", "off")
    monkeypatch.setenv("X_INT", "12")
    monkeypatch.setenv("X_LIST", "a.example, b.example")
    assert env_bool("X_BOOL", True) is False
    assert env_int("X_INT", 3) == 12
    assert env_list("X_LIST", []) == ["a.example", "b.example"]
    assert env_int("X_MISSING", 3) == 3


def test_env_helpers_refuse_nonsense(monkeypatch):
    monkeypatch.setenv("X_BOOL", "maybe")
    monkeypatch.setenv("X_INT", "twelve")
    with pytest.raises(ImproperlyConfigured):
        env_bool("X_BOOL")
    with pytest.raises(ImproperlyConfigured):
        env_int("X_INT", 0)


def run_manage(
    *args: str, unset: tuple[str, ...] = (), **env: str
) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DJANGO_") and k not in unset
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
    )


def test_production_settings_pass_the_deploy_checks():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="x" * 20 + "a-long-random-production-secret-key-value",
        DJANGO_ALLOWED_HOSTS="studio.example.com",
    )
    assert result.returncode == 0, result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_the_redis_layer_reads_longer_than_its_blocking_receive():
    from channels_redis.core import RedisChannelLayer

    result = run_manage(
        "shell",
        "-c",
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.CHANNEL_LAYERS['default']))",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    layer = json.loads(result.stdout.strip().splitlines()[-1])
    assert layer["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    (host,) = layer["CONFIG"]["hosts"]
    assert host["address"] == "redis://127.0.0.1:6379/0"
    # An idle websocket blocks in the layer's receive; the socket must outwait it.
    assert host["socket_timeout"] > RedisChannelLayer(**layer["CONFIG"]).brpop_timeout


def test_with_redis_the_cache_is_shared_by_every_server_process():
    # Share-link rate limits count in the cache: a per-process cache would
    # let each of several servers grant the full limit.
    script = (
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.CACHES['default']))"
    )
    with_redis = run_manage("shell", "-c", script, REDIS_URL="redis://127.0.0.1:6379/2")
    cache = json.loads(with_redis.stdout.strip().splitlines()[-1])
    assert cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert cache["LOCATION"] == "redis://127.0.0.1:6379/2"
    assert cache["KEY_PREFIX"]
    embedded = run_manage("shell", "-c", script, unset=("REDIS_URL",))
    assert (
        "LocMemCache" in json.loads(embedded.stdout.strip().splitlines()[-1])["BACKEND"]
    )


def test_a_sqlite_database_runs_in_write_ahead_mode_with_a_kept_connection(
    tmp_path,
):
    # The worker thread and the request threads share the file: readers must
    # not block the writer, and commits should not wait for a full disk sync.
    result = run_manage(
        "shell",
        "-c",
        "from django.db import connection\n"
        "c = connection.cursor()\n"
        "c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])\n"
        "c.execute('PRAGMA synchronous'); print(c.fetchone()[0])\n"
        "print(connection.settings_dict['CONN_MAX_AGE'])",
        DATABASE_URL=f"sqlite:///{tmp_path / 'studio.sqlite3'}",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-3:] == ["wal", "1", "600"]
