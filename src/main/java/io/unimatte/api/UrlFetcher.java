package io.unimatte.api;

import io.unimatte.config.AppConfig;
import io.unimatte.error.CodedException;
import io.unimatte.error.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;

import javax.net.ssl.SSLException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.concurrent.TimeoutException;
import java.util.logging.Logger;

/**
 * Fetches an image given by URL ({@code image_url}) without letting callers reach what they
 * must not: the host is resolved first and every address checked by {@link AddressPolicy}; the
 * connection then goes to the checked address, so a second DNS answer cannot swap it. Redirects
 * are followed by hand, a few at most, each hop checked again. The body is capped while it streams.
 *
 * <p>{@code urlFetch.timeoutMs} is one deadline for the whole fetch, from the DNS lookup to the
 * last byte of the last redirect hop: a server that trickles a byte now and then is cut off when
 * it passes, and so is a DNS lookup that hangs (lookups run on a small pool of their own, so
 * hanging ones never hold the threads that decode images).
 */
final class UrlFetcher {
  private static final Logger LOG = Logger.getLogger(UrlFetcher.class.getName());
  /** The parameter error messages name unless a caller gives another. */
  private static final String IMAGE_URL = "image_url";
  private static final int HTTP_PORT = 80;
  private static final int HTTPS_PORT = 443;
  /** Threads for DNS lookups, shared by every HTTP verticle instance of one Vert.x. */
  private static final String DNS_POOL = "unimatte-url-dns";
  private static final int DNS_THREADS = 4;
  private static final int FIRST_REDIRECT = 300;
  private static final int LAST_REDIRECT = 399;
  private static final int OK = 200;

  /** Resolves a host name to its addresses; {@link InetAddress#getAllByName} outside tests. */
  @FunctionalInterface
  interface Resolver {
    InetAddress[] resolve(String host) throws UnknownHostException;
  }

  private final Vertx vertx;
  private final HttpClient client;
  private final WorkerExecutor dns;
  private final Resolver resolver;
  private final AddressPolicy policy;
  private final long maxBytes;
  private final long timeoutMs;
  private final int maxRedirects;

  UrlFetcher(Vertx vertx, JsonObject cfg) {
    this(vertx, cfg, InetAddress::getAllByName);
  }

  UrlFetcher(Vertx vertx, JsonObject cfg, Resolver resolver) {
    this.vertx = vertx;
    this.resolver = resolver;
    this.maxBytes = AppConfig.requireLong(cfg, "maxBytes");
    this.timeoutMs = AppConfig.requireLong(cfg, "timeoutMs");
    this.maxRedirects = AppConfig.requireInt(cfg, "maxRedirects");
    this.policy = new AddressPolicy(cfg.getBoolean("allowLoopback", false), cfg.getBoolean("allowPrivateNetworks", false));
    // no pooled connections: each fetch opens its own to the address it checked, and closes it
    this.client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false).setMaxRedirects(0));
    this.dns = vertx.createSharedWorkerExecutor(DNS_POOL, DNS_THREADS);
  }

  /** The bytes at {@code url}, or a {@link CodedException} ({@code url_*}, {@code invalid_url}). */
  /**
   * Fetches {@code url} given in the parameter {@code param} (e.g. {@code bg_image_url}): the same
   * rules and deadline, with errors that name that parameter.
   */
  Future<byte[]> fetch(String url, String param) {
    return fetch(url).recover(err -> Future.failedFuture(err instanceof CodedException e
        ? new CodedException(e.error(), e.getMessage().replace(IMAGE_URL, param), e.retryAfterSecs()) : err));
  }

  Future<byte[]> fetch(String url) {
    Fetch f = new Fetch(System.currentTimeMillis() + timeoutMs);
    long timer = vertx.setTimer(timeoutMs, id -> f.expire());
    hop(f, url, 0).onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded()) {
        f.result.tryComplete(ar.result());
      } else {
        f.result.tryFail(ar.cause());
      }
    });
    return f.result.future();
  }

  /** One fetch across its redirect hops: the result, the deadline and the request in flight. */
  private static final class Fetch {
    final Promise<byte[]> result = Promise.promise();
    final long deadline;
    private HttpClientRequest current;

    Fetch(long deadline) {
      this.deadline = deadline;
    }

    long left() {
      return deadline - System.currentTimeMillis();
    }

    synchronized boolean done() {
      return result.future().isComplete();
    }

    /** Remembers the request in flight; false (and the request reset) when the deadline already passed. */
    synchronized boolean attach(HttpClientRequest request) {
      if (result.future().isComplete()) {
        request.reset();
        return false;
      }
      current = request;
      return true;
    }

    synchronized void expire() {
      if (result.tryFail(timeout())) {
        if (current != null) {
          current.reset(); // closes the connection: nothing more is read from a trickling server
        }
      }
    }
  }

  private Future<byte[]> hop(Fetch f, String url, int hop) {
    URI uri;
    try {
      uri = URI.create(url.trim());
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(new CodedException(ErrorCode.INVALID_URL, "image_url is not a valid URL"));
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
      return Future.failedFuture(new CodedException(ErrorCode.INVALID_URL, "image_url must be an http(s) URL with a host"));
    }
    String host = uri.getHost();
    boolean tls = scheme.equals("https");
    int port = uri.getPort() > 0 ? uri.getPort() : tls ? HTTPS_PORT : HTTP_PORT;
    return dns.executeBlocking(() -> f.done() ? null : resolveAllowed(host), false).compose(ip -> {
      long left = f.left();
      if (ip == null || left <= 0) {
        return Future.failedFuture(timeout());
      }
      String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
      RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET)
          .setServer(SocketAddress.inetSocketAddress(port, ip.getHostAddress()))
          .setHost(host.startsWith("[") ? host.substring(1, host.length() - 1) : host).setPort(port).setSsl(tls)
          .setURI(uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery())
          .setConnectTimeout(left).setIdleTimeout(left)
          .putHeader("User-Agent", "unimatte-url-fetch");
      return client.request(options)
          .compose(req -> f.attach(req) ? req.send() : Future.failedFuture(timeout()))
          .compose(resp -> answer(f, uri, resp, hop))
          .recover(err -> Future.failedFuture(describe(err, host)));
    });
  }

  private Future<byte[]> answer(Fetch f, URI uri, HttpClientResponse resp, int hop) {
    Promise<byte[]> body = Promise.promise();
    // set first: the resets below end the response with an error that must not go unhandled
    resp.exceptionHandler(body::tryFail);
    int status = resp.statusCode();
    String location = resp.getHeader("Location");
    if (status >= FIRST_REDIRECT && status <= LAST_REDIRECT && location != null) {
      resp.request().reset(); // the redirect's own body is not wanted
      if (hop >= maxRedirects) {
        return Future.failedFuture(new CodedException(ErrorCode.URL_FETCH_FAILED, "too many redirects"));
      }
      String next;
      try {
        next = uri.resolve(location.trim()).toString();
      } catch (IllegalArgumentException e) {
        return Future.failedFuture(new CodedException(ErrorCode.URL_FETCH_FAILED, "image_url redirects to an invalid URL"));
      }
      return hop(f, next, hop + 1);
    }
    if (status != OK) {
      resp.request().reset();
      return Future.failedFuture(new CodedException(ErrorCode.URL_FETCH_FAILED, "image_url answered HTTP " + status));
    }
    String length = resp.getHeader("Content-Length");
    if (length != null && length.chars().allMatch(Character::isDigit) && length.length() < 19
        && Long.parseLong(length) > maxBytes) {
      resp.request().reset();
      return Future.failedFuture(tooLarge());
    }
    Buffer data = Buffer.buffer();
    resp.handler(chunk -> {
      if (data.length() + (long) chunk.length() > maxBytes) {
        if (body.tryFail(tooLarge())) {
          resp.request().reset();
        }
        return;
      }
      data.appendBuffer(chunk);
    });
    resp.endHandler(v -> body.tryComplete(data.getBytes()));
    return body.future();
  }

  private CodedException tooLarge() {
    return new CodedException(ErrorCode.URL_TOO_LARGE, "image_url is larger than " + maxBytes + " bytes");
  }

  private static CodedException timeout() {
    return new CodedException(ErrorCode.URL_TIMEOUT, "image_url did not answer in time");
  }

  /**
   * The client's view of a failed connection: what kind of failure, never the exception's own text
   * (addresses, ports, TLS internals); that goes to the log.
   */
  private static CodedException describe(Throwable err, String host) {
    if (err instanceof CodedException coded) {
      return coded;
    }
    LOG.fine("event=url_fetch_failed host=" + host.replaceAll("[^\\w.:\\[\\]-]", "?") + " error="
        + err.getClass().getSimpleName() + ":" + String.valueOf(err.getMessage()).replaceAll("[\\r\\n]", " "));
    if (err instanceof TimeoutException || err instanceof io.netty.channel.ConnectTimeoutException
        || err.getClass().getSimpleName().contains("Timeout")) {
      return timeout();
    }
    if (err instanceof ConnectException) {
      return new CodedException(ErrorCode.URL_FETCH_FAILED, "image_url's server refused the connection");
    }
    if (err instanceof SSLException) {
      return new CodedException(ErrorCode.URL_FETCH_FAILED, "the TLS handshake with image_url's server failed");
    }
    return new CodedException(ErrorCode.URL_FETCH_FAILED, "image_url could not be fetched: the connection failed");
  }

  /** The first address of {@code host}, if every address it resolves to is allowed. */
  private InetAddress resolveAllowed(String host) {
    InetAddress[] all;
    try {
      all = resolver.resolve(host);
    } catch (UnknownHostException e) {
      throw new CodedException(ErrorCode.URL_FETCH_FAILED, "image_url's host does not resolve");
    }
    if (all == null || all.length == 0) {
      throw new CodedException(ErrorCode.URL_FETCH_FAILED, "image_url's host does not resolve");
    }
    for (InetAddress a : all) {
      String why = policy.refusal(a);
      if (why != null) {
        throw new CodedException(ErrorCode.URL_FORBIDDEN, "image_url points to a " + why + " address, which is not allowed");
      }
    }
    return all[0];
  }
}
