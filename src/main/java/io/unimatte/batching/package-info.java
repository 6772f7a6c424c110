/**
 * Dynamic batching and queueing core, independent of the web layer.
 *
 * <p>Many clients {@linkplain io.unimatte.batching.BatchingEngine#submit submit} single items; one dedicated
 * engine thread groups them into batches and hands each batch to a {@link io.unimatte.batching.BatchProcessor}
 * (for Unimatte: the thread that owns the inference session). Failures reach callers as futures failed with
 * an {@link io.unimatte.batching.EngineException}, whose {@code code()} is stable enough to map onto HTTP
 * responses.
 *
 * <p>Implementation classes live in {@code io.unimatte.batching.impl} and are not API.
 */
package io.unimatte.batching;
