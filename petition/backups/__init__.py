"""Backups and restores of the site's database (README, "Backups and restores").

Production backs PostgreSQL up with pgBackRest (deploy/pgbackrest/); the embedded default and
small installations use `manage.py backup` and `restore` (django-dbbackup). Either way a restore
never undoes a withdrawal: `journal` keeps what is needed to apply erasures again, and
`restore` applies it, carries the public log forward and recounts.
"""
