package io.unimatte.service.impl;

import io.unimatte.cache.ResultCache;
import io.unimatte.imaging.MatteConfidence;
import io.unimatte.imaging.output.Foreground;
import io.unimatte.inference.ModelCatalog;
import io.unimatte.service.MatteException;
import io.unimatte.service.MatteRequest;
import io.unimatte.service.MatteResult;
import io.unimatte.service.MattingService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;

import java.util.Map;
import java.util.Optional;

/**
 * The result cache in front of the pipeline: the same bytes, model and options (and whether the matte
 * is wanted beside the result) are answered from the cache, byte-identical, without touching the queue.
 * Every way in goes through it, so each reports cache hits the same way ({@link MatteResult#cacheHit()}).
 */
public final class CachingMattingService implements MattingService {
  private static final String BATCH_SIZE = "batchSize";
  private static final String TIMING = "timing";
  private static final String SCORE = "confidence";
  private static final String UNCERTAIN = "uncertainShare";
  private static final String FOREGROUND = "foregroundShare";
  private static final String SUBJECT = "subjectFound";
  private static final String REVIEW = "review";
  private static final String FOREGROUND_BOX = "foregroundBox";

  private final MattingService delegate;
  private final ResultCache cache;
  private final ModelCatalog models;
  private final WorkerExecutor pool;

  public CachingMattingService(Vertx vertx, MattingService delegate, ResultCache cache, ModelCatalog models,
                               int poolSize) {
    this.delegate = delegate;
    this.cache = cache;
    this.models = models;
    // hashing megabytes is worker-pool work, not event-loop work
    this.pool = vertx.createSharedWorkerExecutor(IMAGING_POOL, poolSize);
  }

  @Override
  public Future<MatteResult> matte(MatteRequest req) {
    String model = req.model() == null ? models.defaultModel() : req.model();
    String options = req.options().canonical() + (req.withMatte() && !req.options().matteOnly() ? ";withMatte" : "");
    return pool.executeBlocking(() -> ResultCache.key(req.data(), model, options), false).compose(key -> {
      var hit = cache.get(key);
      if (hit.isPresent()) {
        return Future.succeededFuture(fromCache(hit.get()));
      }
      return delegate.matte(req).onSuccess(res -> cache.put(key, toCache(res)));
    });
  }

  /** The pipeline's answer: a result the cache holds could still be served, but its key needs the body. */
  @Override
  public Optional<MatteException> refusal(String model) {
    return delegate.refusal(model);
  }

  private static ResultCache.CachedResult toCache(MatteResult r) {
    return new ResultCache.CachedResult(r.bytes(), r.matteBytes(), r.contentType(), r.width(), r.height(), r.model(),
        Map.of(BATCH_SIZE, Integer.toString(r.batchSize()), TIMING, r.timing().header(),
            SCORE, Double.toString(r.confidence().score()), UNCERTAIN, Double.toString(r.confidence().uncertainShare()),
            FOREGROUND, Double.toString(r.confidence().foregroundShare()),
            SUBJECT, Boolean.toString(r.confidence().subjectFound()), REVIEW, Boolean.toString(r.review()),
            FOREGROUND_BOX, r.foreground().encode()));
  }

  private static MatteResult fromCache(ResultCache.CachedResult c) {
    Map<String, String> f = c.headers();
    MatteConfidence confidence = new MatteConfidence(Double.parseDouble(f.get(SCORE)),
        Double.parseDouble(f.get(UNCERTAIN)), Double.parseDouble(f.get(FOREGROUND)),
        Boolean.parseBoolean(f.get(SUBJECT)));
    return new MatteResult(c.bytes(), c.contentType(), c.width(), c.height(), c.model(),
        Integer.parseInt(f.get(BATCH_SIZE)), MatteResult.Timing.parse(f.get(TIMING)), c.matteBytes(), confidence,
        Boolean.parseBoolean(f.get(REVIEW)), true, Foreground.decode(f.get(FOREGROUND_BOX)));
  }

  @Override
  public void close() {
    pool.close();
    delegate.close();
  }
}
