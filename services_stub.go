package dokstamp

// Placeholder declarations until each resource file lands; removed as they do.
type InstitutionsService service
type OrganizationsService service
type ModulesService service
type CoursesService service
type CohortsService service
type StudentsService service
type EnrollmentsService service
type TemplatesService service
type DocumentsService service
type BatchService service
