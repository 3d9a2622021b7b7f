"""A person's data as the back office pushes it, and what a change of it causes."""
