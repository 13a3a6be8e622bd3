export { type CheckJobOptions, type CheckJobReport, checkJob } from './check-job.ts';
export { type TypeCheckResult, typeCheckJob } from './type-check.ts';
