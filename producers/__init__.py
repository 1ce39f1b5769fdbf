"""The publishing side: partner extracts checked, pseudonymised at source, sent as Avro events."""
