"""Layer 5, what to compute: the smoke and paper profiles and every shared setting, written
once (:mod:`lib.pipelines.profiles`), sweeps (:mod:`lib.pipelines.sweep`) and the notebooks'
parameters -> stored runs (:mod:`lib.pipelines.experiments`)."""
