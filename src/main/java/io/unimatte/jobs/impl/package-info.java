/** Implementation of {@link io.unimatte.jobs}; not API, may change without notice. */
package io.unimatte.jobs.impl;
