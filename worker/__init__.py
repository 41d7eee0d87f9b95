"""Grading workers: the sandbox that runs student code, and (later) the Celery tasks."""
