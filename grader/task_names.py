"""The names of the worker's tasks: the web, the CLI and the reaper send them by name, worker/tasks registers
them (the senders never import the task code)."""

GRADE_TASK = "grader.grade"  # grade(submission_id)
DRY_RUN_TASK = "grader.dry_run"  # dry_run(dry_run_id): a spec's solution and mistakes, before it is published
