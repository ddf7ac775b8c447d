FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# A SECRET_KEY for the build only, so that settings do not bake a generated key into the
# image (var/secret_key); the containers get theirs from the environment.
# postgresql-client: pg_dump and pg_restore for `backup` and `restore_backup` (15, as the db).
RUN apt-get update && apt-get install -y --no-install-recommends gettext postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && SECRET_KEY=only-for-the-build python manage.py compilemessages --ignore=.venv --verbosity 0
# -R: importing the settings above created var/static as root; collectstatic writes there.
RUN useradd --create-home app && mkdir -p /app/var /audit /backups \
    && chown -R app /app/var /audit /backups
USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
