package io.unimatte.batching;

import java.util.List;

/**
 * Processes one batch, e.g. runs one inference call for all inputs at once.
 *
 * <p>Caveats:
 * <ul>
 *   <li>Called once per batch, always on the engine's single thread, so implementations may own
 *       thread-confined resources (an inference session) without locking. It also means a call that
 *       blocks forever stalls the whole engine: nothing else is processed, queued items only time out
 *       when the next batch is formed, and {@link BatchingEngine#shutdown} cannot complete.</li>
 *   <li>Must return exactly one output per input, in input order; any other count fails every item of
 *       the batch with {@link BatchFailedException}.</li>
 *   <li>Anything thrown (including {@link Error}s such as {@link OutOfMemoryError}) fails only the items of
 *       this batch; the engine carries on with the next one.</li>
 *   <li>The input list is read-only and only valid for the duration of the call.</li>
 *   <li>The engine does not use interrupts; a stray interrupt flag left behind is cleared.</li>
 * </ul>
 *
 * @param <I> input type
 * @param <O> output type
 */
@FunctionalInterface
public interface BatchProcessor<I, O> {

  /**
   * @param inputs between 1 and {@code maxBatchSize} inputs, never empty
   * @return one output per input, same order
   */
  List<O> process(List<I> inputs) throws Exception;
}
