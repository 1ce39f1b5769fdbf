"""The embedded stack: broker, PostgreSQL, faust worker and API as supervised child processes."""
