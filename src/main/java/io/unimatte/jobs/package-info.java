/**
 * Batch jobs: many images under one id, owned by the client that created them, kept on disk with their
 * results ({@link io.unimatte.jobs.JobStore}) and run through the matting service by
 * {@link io.unimatte.jobs.JobsVerticle}. The batching engine underneath is {@code io.unimatte.batching}.
 */
package io.unimatte.jobs;
