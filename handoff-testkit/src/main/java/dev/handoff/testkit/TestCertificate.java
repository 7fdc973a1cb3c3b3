package dev.handoff.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The self-signed TLS certificate of the testkit's secured servers, made once per JVM at first use
 * with the JDK's {@code keytool} (an EC P-256 key, {@code CN=handoff-testkit}, subject alternative
 * names {@code IP:127.0.0.1} and {@code DNS:localhost} (ZooKeeper's client checks the name it
 * resolved 127.0.0.1 to), valid 7 days). No key material is kept in the repository: the files live
 * in a fresh directory under {@code java.io.tmpdir} and are deleted when the JVM exits.
 *
 * <p>Kafka brokers and ZooKeeper servers present it; their clients trust it through {@link
 * #trustStore()}. Kafka controllers also accept it as a client certificate (mutual TLS on the
 * controller listener), with the principal {@value #PRINCIPAL}. Thread-safe.
 */
public final class TestCertificate {
  /** The certificate's distinguished name, which Kafka maps to the principal {@code User:<DN>}. */
  public static final String PRINCIPAL = "CN=handoff-testkit";

  /** The type of both stores. */
  public static final String STORE_TYPE = "PKCS12";

  private static TestCertificate instance;

  private final Path keyStore;
  private final Path trustStore;
  private final String password;

  private TestCertificate(Path keyStore, Path trustStore, String password) {
    this.keyStore = keyStore;
    this.trustStore = trustStore;
    this.password = password;
  }

  /**
   * The JVM's certificate, generated on the first call (about half a second for {@code keytool}).
   *
   * @throws IllegalStateException if {@code keytool} is missing or fails
   */
  public static synchronized TestCertificate get() {
    if (instance == null) {
      instance = generate();
    }
    return instance;
  }

  /** PKCS12 key store with the private key and certificate (alias {@code handoff-testkit}). */
  public Path keyStore() {
    return keyStore;
  }

  /** PKCS12 trust store holding only the certificate. */
  public Path trustStore() {
    return trustStore;
  }

  /** Password of both stores and of the key (random per JVM). */
  public String password() {
    return password;
  }

  /** A TLS context that trusts exactly this certificate (for probes such as four-letter words). */
  SSLContext clientContext() {
    try (InputStream in = Files.newInputStream(trustStore)) {
      var ks = KeyStore.getInstance(STORE_TYPE);
      ks.load(in, password.toCharArray());
      var tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      var ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), new SecureRandom());
      return ctx;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot load the testkit trust store " + trustStore, e);
    }
  }

  @Override
  public String toString() {
    return "TestCertificate[" + PRINCIPAL + ", " + keyStore.getParent() + "]";
  }

  private static TestCertificate generate() {
    byte[] random = new byte[16];
    new SecureRandom().nextBytes(random);
    String password = HexFormat.of().formatHex(random);
    Path dir = Loopback.newTempDir(null, "handoff-testkit-tls-");
    Path keyStore = dir.resolve("keystore.p12");
    Path trustStore = dir.resolve("truststore.p12");
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    var command =
        new String[] {
          keytool.toString(),
          "-genkeypair",
          "-alias",
          "handoff-testkit",
          "-keyalg",
          "EC",
          "-groupname",
          "secp256r1",
          "-dname",
          PRINCIPAL,
          "-ext",
          "SAN=IP:127.0.0.1,DNS:localhost",
          "-validity",
          "7",
          "-keystore",
          keyStore.toString(),
          "-storetype",
          STORE_TYPE,
          "-storepass",
          password,
          "-keypass",
          password
        };
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String output;
      try (InputStream out = p.getInputStream()) {
        output = new String(out.readAllBytes(), StandardCharsets.UTF_8);
      }
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IllegalStateException("keytool failed to make the test certificate: " + output);
      }
      writeTrustStore(keyStore, trustStore, password);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + keytool, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while making the test certificate", e);
    }
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    Loopback.deleteTree(dir);
                  } catch (IOException ignored) {
                    // the JVM is exiting; the directory is under java.io.tmpdir
                  }
                },
                "handoff-testkit-tls-cleanup"));
    return new TestCertificate(keyStore, trustStore, password);
  }

  private static void writeTrustStore(Path keyStore, Path trustStore, String password) {
    try (InputStream in = Files.newInputStream(keyStore)) {
      var keys = KeyStore.getInstance(STORE_TYPE);
      keys.load(in, password.toCharArray());
      Certificate certificate = keys.getCertificate("handoff-testkit");
      var trust = KeyStore.getInstance(STORE_TYPE);
      trust.load(null, null);
      trust.setCertificateEntry("handoff-testkit", certificate);
      try (OutputStream out = Files.newOutputStream(trustStore)) {
        trust.store(out, password.toCharArray());
      }
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot write the test trust store " + trustStore, e);
    }
  }
}
