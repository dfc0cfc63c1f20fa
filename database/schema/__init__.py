"""The schema as data: the catalog reader and diff, the production baseline, scratch databases,
sample data, row checks and the platform's contract."""
