/** Implementation of {@link io.unimatte.batching}; not API, may change without notice. */
package io.unimatte.batching.impl;
