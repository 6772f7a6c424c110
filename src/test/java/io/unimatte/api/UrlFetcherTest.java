package io.unimatte.api;

import io.unimatte.error.CodedException;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The address check of {@code image_url} and the deadline of its DNS lookup, without a network. */
class UrlFetcherTest {
  private static final AddressPolicy STRICT = new AddressPolicy(false, false);
  private static final AddressPolicy LENIENT = new AddressPolicy(true, true);
  private static final long DEADLINE_MS = 1_000;
  private static final long MARGIN_MS = 2_000;

  private static String why(AddressPolicy p, String literal) throws Exception {
    return p.refusal(InetAddress.getByName(literal));
  }

  @Test
  void refusesEveryNonPublicFormIncludingIpv4Wrapped() throws Exception {
    String[] refused = {
        "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0", "0.1.2.3",
        "100.64.0.1", "100.127.255.254", "198.18.0.1", "198.19.255.255", "240.0.0.1", "255.255.255.255",
        "224.0.0.1", "192.0.0.170", "192.0.2.1",
        "::", "::1", "::127.0.0.1", "::10.0.0.1", "::8.8.8.8", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
        "64:ff9b::7f00:1", "64:ff9b::10.0.0.1", "64:ff9b::a9fe:a9fe", "64:ff9b::100.64.0.1", "64:ff9b:1::1",
        "2002:c0a8:0101::", "2002:0a00:0001::1", "2002:7f00:0001::", "2002:a9fe:a9fe::", "2002:c612:0001::",
        "2001:0:4136:e378:8000:63bf:f5ff:fffe", // Teredo, client 10.0.0.1 (bits flipped)
        "fd00:ec2::254", "fc00::1", "fe80::1", "fec0::1", "ff02::1", "2001:db8::1", "100::1"};
    for (String a : refused) {
      assertNotNull(why(STRICT, a), a);
    }
    for (String a : new String[] {"8.8.8.8", "1.1.1.1", "100.128.0.1", "198.20.0.1", "223.255.255.254",
        "64:ff9b::808:808", "2002:0808:0808::1", "2606:4700:4700::1111", "2001:0:4136:e378:8000:63bf:f7f7:f7f7"}) {
      assertNull(why(STRICT, a), a);
    }
  }

  @Test
  void configurationOpensLoopbackAndPrivateButNeverReservedOrMetadata() throws Exception {
    assertNull(why(LENIENT, "127.0.0.1"));
    assertNull(why(LENIENT, "::1"));
    assertNull(why(LENIENT, "10.0.0.1"));
    assertNull(why(LENIENT, "2002:c0a8:0101::"));
    assertNull(why(LENIENT, "100.64.0.1"));
    assertNull(why(LENIENT, "198.18.0.1"));
    for (String a : new String[] {"169.254.169.254", "0.0.0.0", "0.1.2.3", "240.0.0.1", "::127.0.0.1",
        "64:ff9b::a9fe:a9fe", "fe80::1", "ff02::1"}) {
      assertNotNull(why(LENIENT, a), a);
    }
    assertTrue(why(STRICT, "2002:c0a8:0101::").contains("6to4"), why(STRICT, "2002:c0a8:0101::"));
    assertTrue(why(STRICT, "64:ff9b::a00:1").contains("NAT64"), why(STRICT, "64:ff9b::a00:1"));
  }

  @Test
  void aHangingDnsLookupEndsAtTheDeadline() throws Exception {
    Vertx vertx = Vertx.vertx();
    CountDownLatch release = new CountDownLatch(1);
    try {
      JsonObject cfg = new JsonObject().put("maxBytes", 1000).put("timeoutMs", DEADLINE_MS).put("maxRedirects", 1);
      UrlFetcher fetcher = new UrlFetcher(vertx, cfg, host -> {
        try {
          release.await(); // a resolver that never answers
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        throw new java.net.UnknownHostException(host);
      });
      long t0 = System.nanoTime();
      ExecutionException e = assertThrows(ExecutionException.class, () -> fetcher.fetch("http://slow.example/x.png")
          .toCompletionStage().toCompletableFuture().get(DEADLINE_MS + MARGIN_MS, TimeUnit.MILLISECONDS));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(e.getCause() instanceof CodedException, e.toString());
      assertEquals("url_timeout", ((CodedException) e.getCause()).code());
      assertTrue(ms < DEADLINE_MS + MARGIN_MS, ms + " ms");
    } finally {
      release.countDown();
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
