"""What a scan writes for people and other tools: tables, case files, STR drafts, exports, the report."""
