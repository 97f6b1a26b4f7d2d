"""Layer 2, learning: greedy evaluation (:mod:`lib.train.evaluation`), the stopping rule and
learning curves both trainers share (:mod:`lib.train.training`), supervised learning
(:mod:`lib.train.supervised`) and recurrent PPO (:mod:`lib.train.ppo`). Uses :mod:`lib.core`."""
