package io.unimatte.api;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Process-wide request counters for {@code /metrics}, shared by every HTTP verticle instance.
 * Counters only grow (Prometheus computes rates); labels are the route template and status, so
 * the number of series stays small whatever paths clients send.
 */
final class Metrics {
  private static final Map<String, LongAdder> REQUESTS = new ConcurrentHashMap<>();
  private static final LongAdder REQUEST_MILLIS = new LongAdder();

  private Metrics() {
  }

  static void request(String route, int status, long millis) {
    REQUESTS.computeIfAbsent(route + "\u0000" + status, k -> new LongAdder()).increment();
    REQUEST_MILLIS.add(millis);
  }

  /** Prometheus text format of the request counters. */
  static void appendRequests(StringBuilder out) {
    out.append("# HELP unimatte_http_requests_total HTTP requests by route and status\n")
        .append("# TYPE unimatte_http_requests_total counter\n");
    REQUESTS.forEach((k, v) -> {
      String[] parts = k.split("\u0000");
      out.append("unimatte_http_requests_total{route=\"").append(parts[0]).append("\",status=\"").append(parts[1])
          .append("\"} ").append(v.sum()).append('\n');
    });
    out.append("# HELP unimatte_http_request_seconds_total time spent answering HTTP requests\n")
        .append("# TYPE unimatte_http_request_seconds_total counter\n")
        .append("unimatte_http_request_seconds_total ").append(REQUEST_MILLIS.sum() / 1000.0).append('\n');
  }

  static void gauge(StringBuilder out, String name, String help, String type, Number value) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n')
        .append("# TYPE ").append(name).append(' ').append(type).append('\n')
        .append(name).append(' ').append(value).append('\n');
  }
}
