"""A pipeline of four small real steps on real Iceberg tables, for the orchestration tests."""
