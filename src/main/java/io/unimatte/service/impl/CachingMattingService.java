package io.unimatte.service.impl;

import io.unimatte.cache.ResultCache;
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
        Map.of(BATCH_SIZE, Integer.toString(r.batchSize()), TIMING, r.timing().header()));
  }

  private static MatteResult fromCache(ResultCache.CachedResult c) {
    return new MatteResult(c.bytes(), c.contentType(), c.width(), c.height(), c.model(),
        Integer.parseInt(c.headers().getOrDefault(BATCH_SIZE, "0")),
        MatteResult.Timing.parse(c.headers().get(TIMING)), c.matteBytes(), true);
  }

  @Override
  public void close() {
    pool.close();
    delegate.close();
  }
}
