"""The service side of the grader: accounts, the assignment catalog, exports, the reaper, `grader up`."""
