"""PostgreSQL: the durable record (event store) and the views kept from it, plus the query API."""
