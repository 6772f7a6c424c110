/**
 * The command-line tool: {@code unimatte cut IN OUT} cuts out every image of a file, folder or zip,
 * in-process through the server's own pipeline (embedded mode) or on a Unimatte server through its
 * jobs API and WebSocket (client mode). Nothing else in the project uses this package.
 */
package io.unimatte.cli;
