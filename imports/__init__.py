"""Getting lists into the register: the readers, the import, its background job and worker,
and the synthetic demo data."""
