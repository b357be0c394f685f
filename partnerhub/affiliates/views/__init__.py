"""The affiliate pages: the click route and the affiliate's own page (:mod:`.affiliate`), the operator's
queue (:mod:`.review`)."""
