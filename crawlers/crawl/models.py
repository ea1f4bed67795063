"""Tables of the crawl: checkpoints and the health record of each run."""
