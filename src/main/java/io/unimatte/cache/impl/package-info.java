/** Implementation of {@link io.unimatte.cache}; not API, may change without notice. */
package io.unimatte.cache.impl;
