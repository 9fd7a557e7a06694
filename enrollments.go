package dokstamp

// EnrollmentsService: work in progress.
type EnrollmentsService service
