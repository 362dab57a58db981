"""Token classification at K = 9 (CoNLL BIO tags): spanfast vs cleanlab 2.9.0.

The classes are generated from the table (:mod:`spanfast.testing.registry`, the
``timings`` of its ``filter`` and ``rank`` entries). cleanlab runs with its
defaults, as users get them: ``filter_by='prune_by_noise_rate'`` and
``n_jobs=None``, which without psutil means ``multiprocessing.cpu_count()``
worker processes (2 on the reference machine); ``low_memory=True`` goes through
``find_label_issues_batched`` (n_jobs=1).
"""

from ._common import timed_classes

globals().update(timed_classes("token", __name__))
