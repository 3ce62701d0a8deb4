#!/bin/sh
# Nightly logical backup of Switchboard's database (run by switchboard-pg-backup.timer on a
# host with the PostgreSQL client tools). For point-in-time recovery use pgBackRest (or
# WAL-G) with WAL archiving on the database server as well: see README, "Backups".
# Restore: createdb switchboard && pg_restore -d switchboard --no-owner <file>.dump
# The LangGraph checkpoint tables are included: they hold each conversation's state.
set -eu
: "${BACKUP_DIR:=/var/backups/switchboard}"
: "${KEEP_DAYS:=14}"
url=$(printf '%s' "$DATABASE_URL" | sed 's/^postgresql+psycopg:/postgresql:/')
mkdir -p "$BACKUP_DIR"
file="$BACKUP_DIR/switchboard-$(date -u +%Y%m%dT%H%M%SZ).dump"
pg_dump --format=custom --compress=6 --no-owner --file="$file.partial" "$url"
mv "$file.partial" "$file"
find "$BACKUP_DIR" -name 'switchboard-*.dump' -mtime +"$KEEP_DAYS" -delete
echo "backup written: $file ($(du -h "$file" | cut -f1))"
