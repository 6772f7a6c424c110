/** The error codes clients see, with their HTTP statuses; any package may use it. */
package io.unimatte.error;
