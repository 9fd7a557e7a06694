package dokstamp

// CoursesService: work in progress.
type CoursesService service
