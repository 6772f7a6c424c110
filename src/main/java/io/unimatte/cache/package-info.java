/**
 * The result cache: finished matting results keyed by input bytes, model and output options, so
 * a repeated request is answered without running the model. Bounded by bytes, expiring after access.
 *
 * <p>Implementation classes live in {@code io.unimatte.cache.impl} and are not API.
 */
package io.unimatte.cache;
