"""The CAMELEON manifesto site.

Celery's guide for Django imports the Celery app here, so that it exists as soon as Django
starts. This site imports it with the tasks instead (petition/tasks.py), the only module that
sends any, so that a process that sends none, such as export_signatures, never imports Celery:
about a tenth of a second of its start. `celery -A manifesto` finds the app in manifesto.celery.
"""
