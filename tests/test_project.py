"""The project's set-up: settings from the environment, deploy checks, migrations,
Docker files, the commands `make run` calls."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


def run_python(code_or_args, env_overrides, *, module=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(env_overrides)
    args = [sys.executable, *(["-m", module] if module else []), *code_or_args]
    return subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "civtrack.settings",
    "DJANGO_SECRET_KEY": "a-real-production-secret-" + "k3y" * 20,
    "DJANGO_ALLOWED_HOSTS": "civtrack.example.org",
}


def test_deploy_check_is_clean_with_production_settings():
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV
    )

    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_the_development_secret_key_is_refused_without_debug():
    result = run_python(
        ["manage.py", "check"], {"DJANGO_SETTINGS_MODULE": "civtrack.settings"}
    )

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_a_malformed_boolean_setting_names_the_variable():
    result = run_python(
        ["manage.py", "check"], {**PRODUCTION_ENV, "DJANGO_DEBUG": "maybe"}
    )

    assert result.returncode != 0
    assert "DJANGO_DEBUG" in result.stderr


def test_debug_is_off_by_default():
    from django.conf import settings

    assert settings.DEBUG is False


def test_passwords_are_hashed_with_argon2():
    from civtrack import settings as production_settings

    assert production_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


@pytest.mark.django_db
def test_models_and_migrations_are_in_step():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_docker_compose_file_parses_with_postgres_16_and_the_app():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())

    assert compose["services"]["db"]["image"] == "postgres:16"
    assert "DATABASE_URL" in compose["services"]["app"]["environment"]
    assert (ROOT / "Dockerfile").read_text().count("scripts/start.sh") == 1


def test_the_images_start_command_configures_gunicorn_outside_docker():
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--check-config",
            "civtrack.wsgi:application",
        ],
        cwd=ROOT,
        env={**os.environ, **PRODUCTION_ENV},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr


def test_env_example_lists_every_variable_the_settings_read():
    import re

    settings_source = (ROOT / "civtrack" / "settings.py").read_text()
    read = set(re.findall(r'env_\w+\(\s*"([A-Z_]+)"', settings_source))
    read |= set(re.findall(r'os\.environ(?:\.get)?[\[(]"([A-Z_]+)"', settings_source))
    listed = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))

    assert read - listed == set()


@pytest.mark.django_db
def test_ensure_admin_creates_one_admin_once(capsys):
    call_command("ensure_admin")
    first = capsys.readouterr().out
    call_command("ensure_admin")
    second = capsys.readouterr().out

    assert "password" in first
    assert "exists already" in second
