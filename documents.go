package dokstamp

// DocumentsService: work in progress.
type DocumentsService service
