"""The office's own work: staff accounts and passwords, schemes, exports, statistics."""
