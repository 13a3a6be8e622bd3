// Checkpoints: coordinator, storage (file + S3), metadata format, shared-chunk registry, restore.
// Nothing here yet: exactly-once checkpoints are the next issue. The folder exists so the
// layout, and the rule that state and checkpoint never import api, hold from the start.
export {};
