package io.unimatte.api;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.net.HostAndPort;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * Whether a browser's {@code Origin} may open a WebSocket here: the page's own origin (the host
 * and port the request was sent to, {@code Host}) or one listed in
 * {@code security.corsAllowedOrigins}. Browsers do not apply CORS to WebSocket handshakes, so
 * without this any web page a user visits could drive the server through the user's browser
 * (with their session cookie, or on an open server at all). Requests without {@code Origin}
 * do not come from a browser page and pass.
 */
final class OriginCheck {
  private static final int HTTP_PORT = 80;
  private static final int HTTPS_PORT = 443;

  private OriginCheck() {
  }

  /** True without {@code Origin}, for the page's own origin, and for the origins listed. */
  static boolean allowed(HttpServerRequest req, JsonArray listed) {
    String origin = req.getHeader("Origin");
    if (origin == null || sameOrigin(req)) {
      return true;
    }
    for (Object allowed : listed) {
      if (allowed != null && stripSlash(String.valueOf(allowed).trim()).equalsIgnoreCase(stripSlash(origin.trim()))) {
        return true;
      }
    }
    return false;
  }

  /** Whether the request carries an {@code Origin} naming the host and port it was sent to. */
  static boolean sameOrigin(HttpServerRequest req) {
    String origin = req.getHeader("Origin");
    if (origin == null) {
      return false;
    }
    URI uri;
    try {
      uri = new URI(origin.trim());
    } catch (URISyntaxException e) {
      return false;
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    int defaultPort = scheme.equals("http") ? HTTP_PORT : scheme.equals("https") ? HTTPS_PORT : -1;
    HostAndPort self = req.authority();
    if (uri.getHost() == null || defaultPort < 0 || self == null) {
      return false; // "null" (sandboxed frames, files) and other schemes are never the page's own
    }
    int originPort = uri.getPort() >= 0 ? uri.getPort() : defaultPort;
    // Host carries no scheme: behind a TLS proxy the page is https while this hop is plain http
    int selfPort = self.port() >= 0 ? self.port() : defaultPort;
    return bare(uri.getHost()).equalsIgnoreCase(bare(self.host())) && originPort == selfPort;
  }

  private static String stripSlash(String s) {
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }

  private static String bare(String host) {
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }
}
