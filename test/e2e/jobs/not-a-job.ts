// A module without a job: runJob must say so.
export const nothing = 42;
