"""Layer 6, what a reader sees: verdicts on the paper's claims (:mod:`lib.report.claims`),
the open-choice variants (:mod:`lib.report.variants`), the settings table with sources
(:mod:`lib.report.provenance`) and the one figure and table style (:mod:`lib.report.style`)."""
