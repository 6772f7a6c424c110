package io.unimatte.inference;

/**
 * The session's answer for one image: an alpha map, or an error code (never both).
 *
 * @param alpha           model-resolution alpha in [0, 1], or null on error
 * @param errorCode       stable error code ({@code queue_full}, {@code queue_timeout}, …) or null
 * @param errorMessage    human-readable error
 * @param retryAfterSecs  for {@code queue_full}: when to try again
 * @param batchSize       how many images shared the session call
 * @param queueMillis     time spent waiting in the queue
 * @param inferMillis     time of the session call (shared by the batch)
 */
public record InferenceReply(float[] alpha, String errorCode, String errorMessage, long retryAfterSecs,
                             int batchSize, long queueMillis, long inferMillis) {

  static InferenceReply ok(float[] alpha, int batchSize, long queueMillis, long inferMillis) {
    return new InferenceReply(alpha, null, null, 0, batchSize, queueMillis, inferMillis);
  }

  static InferenceReply error(String code, String message, long retryAfterSecs) {
    return new InferenceReply(null, code, message, retryAfterSecs, 0, 0, 0);
  }

  /** A failed answer given by something other than the session (e.g. the cluster router). */
  public static InferenceReply failure(String code, String message, long retryAfterSecs) {
    return error(code, message, retryAfterSecs);
  }

  public boolean failed() {
    return errorCode != null;
  }
}
