package io.unimatte.api;

import io.unimatte.error.CodedException;
import io.unimatte.error.ErrorCode;
import io.unimatte.config.AppConfig;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.streams.WriteStream;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.codec.BodyCodec;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * Fetches an image given by URL ({@code image_url}) without letting callers reach what they
 * must not: the host is resolved first and every address checked (loopback, private, link-local,
 * carrier-grade NAT, unique-local, multicast and the cloud metadata address are refused unless
 * {@code config.json} allows them); the connection then goes to the checked address, so a second
 * DNS answer cannot swap it. Redirects are followed by hand, a few at most, each hop checked
 * again. The body is capped while it streams, and the whole fetch has a timeout.
 */
final class UrlFetcher {
  private static final int HTTP_PORT = 80;
  private static final int HTTPS_PORT = 443;

  private final Vertx vertx;
  private final WebClient client;
  private final long maxBytes;
  private final long timeoutMs;
  private final int maxRedirects;
  private final boolean allowLoopback;
  private final boolean allowPrivate;

  UrlFetcher(Vertx vertx, JsonObject cfg) {
    this.vertx = vertx;
    this.maxBytes = AppConfig.requireLong(cfg, "maxBytes");
    this.timeoutMs = AppConfig.requireLong(cfg, "timeoutMs");
    this.maxRedirects = AppConfig.requireInt(cfg, "maxRedirects");
    this.allowLoopback = cfg.getBoolean("allowLoopback", false);
    this.allowPrivate = cfg.getBoolean("allowPrivateNetworks", false);
    this.client = WebClient.create(vertx, new WebClientOptions().setFollowRedirects(false)
        .setUserAgent("unimatte-url-fetch").setConnectTimeout((int) timeoutMs));
  }

  Future<byte[]> fetch(String url) {
    return fetch(url, "image_url");
  }

  /** Fetches {@code url}; errors name {@code param}, the parameter it came in (e.g. {@code bg_image_url}). */
  Future<byte[]> fetch(String url, String param) {
    return fetch(url, param, 0, System.currentTimeMillis() + timeoutMs);
  }

  private Future<byte[]> fetch(String url, String param, int hop, long deadline) {
    URI uri;
    try {
      uri = URI.create(url.trim());
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(new CodedException(ErrorCode.INVALID_URL, param + " is not a valid URL"));
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
      return Future.failedFuture(new CodedException(ErrorCode.INVALID_URL, param + " must be an http(s) URL with a host"));
    }
    String host = uri.getHost();
    int port = uri.getPort() > 0 ? uri.getPort() : scheme.equals("https") ? HTTPS_PORT : HTTP_PORT;
    return vertx.executeBlocking(() -> resolveAllowed(host, param), false).compose(ip -> {
      long left = deadline - System.currentTimeMillis();
      if (left <= 0) {
        return Future.failedFuture(new CodedException(ErrorCode.URL_TIMEOUT, param + " did not answer in time"));
      }
      CappedBuffer body = new CappedBuffer(maxBytes, param);
      return client.requestAbs(HttpMethod.GET, SocketAddress.inetSocketAddress(port, ip.getHostAddress()), url)
          .timeout(left)
          .as(BodyCodec.pipe(body))
          .send()
          .recover(err -> Future.failedFuture(err instanceof CodedException ? err
              : body.overflow ? new CodedException(ErrorCode.URL_TOO_LARGE, param + " is larger than " + maxBytes + " bytes")
              : new CodedException(ErrorCode.URL_FETCH_FAILED, param + " could not be fetched: " + err.getMessage())))
          .compose(resp -> {
            int status = resp.statusCode();
            if (status >= 300 && status < 400 && resp.getHeader("Location") != null) {
              if (hop >= maxRedirects) {
                return Future.failedFuture(new CodedException(ErrorCode.URL_FETCH_FAILED, "too many redirects"));
              }
              return fetch(uri.resolve(resp.getHeader("Location")).toString(), param, hop + 1, deadline);
            }
            if (status != 200) {
              return Future.failedFuture(new CodedException(ErrorCode.URL_FETCH_FAILED, param + " answered HTTP " + status));
            }
            return Future.succeededFuture(body.bytes());
          });
    });
  }

  /** The first address of {@code host}, if every address it resolves to is allowed. */
  private InetAddress resolveAllowed(String host, String param) {
    InetAddress[] all;
    try {
      all = InetAddress.getAllByName(host);
    } catch (UnknownHostException e) {
      throw new CodedException(ErrorCode.URL_FETCH_FAILED, param + "'s host does not resolve");
    }
    for (InetAddress a : all) {
      String why = refusal(a);
      if (why != null) {
        throw new CodedException(ErrorCode.URL_FORBIDDEN, param + " points to a " + why + " address, which is not allowed");
      }
    }
    return all[0];
  }

  /** Why {@code a} is refused, or null when it is a public address (or allowed by configuration). */
  String refusal(InetAddress a) {
    if (a instanceof Inet6Address v6 && isMappedV4(v6)) {
      byte[] b = v6.getAddress();
      try {
        a = InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]});
      } catch (UnknownHostException e) {
        return "malformed";
      }
    }
    byte[] b = a.getAddress();
    if (a.isLoopbackAddress()) {
      return allowLoopback ? null : "loopback";
    }
    if (a.isAnyLocalAddress() || a.isMulticastAddress()) {
      return "reserved";
    }
    if (a.isLinkLocalAddress()) {
      return "link-local or metadata";
    }
    boolean cgnat = a instanceof Inet4Address && (b[0] & 0xFF) == 100 && (b[1] & 0xC0) == 64;
    boolean zeroNet = a instanceof Inet4Address && b[0] == 0;
    boolean uniqueLocal = a instanceof Inet6Address && (b[0] & 0xFE) == 0xFC;
    if (a.isSiteLocalAddress() || cgnat || uniqueLocal || zeroNet) {
      return allowPrivate ? null : "private";
    }
    return null;
  }

  private static boolean isMappedV4(Inet6Address a) {
    byte[] b = a.getAddress();
    for (int i = 0; i < 10; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return (b[10] & 0xFF) == 0xFF && (b[11] & 0xFF) == 0xFF;
  }

  /** Collects the body, failing the transfer as soon as it passes the cap. */
  private static final class CappedBuffer implements WriteStream<Buffer> {
    private final long cap;
    private final String param;
    private final Buffer data = Buffer.buffer();
    boolean overflow;

    CappedBuffer(long cap, String param) {
      this.cap = cap;
      this.param = param;
    }

    byte[] bytes() {
      return data.getBytes();
    }

    @Override
    public WriteStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
      return this;
    }

    @Override
    public Future<Void> write(Buffer chunk) {
      if (data.length() + (long) chunk.length() > cap) {
        overflow = true;
        return Future.failedFuture(new CodedException(ErrorCode.URL_TOO_LARGE, param + " is larger than " + cap + " bytes"));
      }
      data.appendBuffer(chunk);
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> end() {
      return Future.succeededFuture();
    }

    @Override
    public WriteStream<Buffer> setWriteQueueMaxSize(int maxSize) {
      return this;
    }

    @Override
    public boolean writeQueueFull() {
      return false;
    }

    @Override
    public WriteStream<Buffer> drainHandler(Handler<Void> handler) {
      return this;
    }
  }
}
