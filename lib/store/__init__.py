"""Layer 3, persistence: trained runs and cached analyses on disk, atomic and checksummed
(:mod:`lib.store.runs`), and the versions, machine and code version every result records
(:mod:`lib.store.environment`). Uses :mod:`lib.core` and :mod:`lib.train`."""
