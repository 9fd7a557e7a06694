package dokstamp

// BatchService: work in progress.
type BatchService service
