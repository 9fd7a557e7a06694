package dokstamp

// StudentsService: work in progress.
type StudentsService service
