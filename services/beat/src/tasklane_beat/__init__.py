"""Tasklane beat: the one scheduler, publishing recurring work by task name."""
