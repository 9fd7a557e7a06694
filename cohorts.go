package dokstamp

// CohortsService: work in progress.
type CohortsService service
