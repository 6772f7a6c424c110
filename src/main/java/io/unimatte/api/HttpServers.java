package io.unimatte.api;

import io.unimatte.config.AppConfig;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;

/**
 * The HTTP server options every listener of this process shares, read from the {@code server} section.
 *
 * <p>HTTP/2 without TLS (h2c) is off unless {@code server.http2ClearText} is true. Vert.x 5.0.7 turns on
 * both h2c forms with that one switch, and its {@code Upgrade: h2c} path loses or mangles a reply of more
 * than one 16 KB frame that a handler writes at once: with the JDK's {@code HttpClient} (which asks for
 * the upgrade by default) 3 to 7 of 40 {@code GET /metrics} stalled after the headers, and a 65 KB reply
 * reached the client as a broken frame. Off, the server ignores the upgrade and those clients carry on in
 * HTTP/1.1, as RFC 9110 (7.8) lets them. Turn it on only for clients that speak h2c with prior knowledge
 * (a proxy in front).
 */
public final class HttpServers {
  /** The config key of the h2c switch in the {@code server} section. */
  public static final String HTTP2_CLEAR_TEXT = "http2ClearText";

  private HttpServers() {
  }

  /** Host, port and protocols of a listener on {@code port}. */
  public static HttpServerOptions options(JsonObject server, int port) {
    return new HttpServerOptions()
        .setHost(AppConfig.requireString(server, "host"))
        .setPort(port)
        .setHttp2ClearTextEnabled(AppConfig.requireBoolean(server, HTTP2_CLEAR_TEXT));
  }
}
