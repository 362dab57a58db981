"""Drop-in for ``cleanlab.token_classification``: filter, rank, summary, utils."""
