package dev.handoff.testkit;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The SASL_SSL set-up of a secured {@link EmbeddedKafka}: broker properties, the super user's SCRAM
 * credentials (written at format time, since the brokers authenticate to each other with them
 * before any client could create them), and client properties.
 *
 * <p>Listeners: {@code SASL_SSL} for clients and brokers (SCRAM-SHA-512 over TLS), {@code
 * CONTROLLER} over TLS with a required client certificate (KRaft controllers cannot use SCRAM: its
 * credentials live in the metadata log they serve). The brokers' certificate maps to the principal
 * {@code User:CN=handoff-testkit}; it and {@code User:admin} are the super users.
 */
final class BrokerSecurity {
  private static final String MECHANISM = "SCRAM-SHA-512";
  private static final int ITERATIONS = 4096; // SCRAM-SHA-512's minimum: tests log in often

  private final TestCertificate certificate;
  private final String adminPassword;

  private BrokerSecurity(TestCertificate certificate, String adminPassword) {
    this.certificate = certificate;
    this.adminPassword = adminPassword;
  }

  static BrokerSecurity generate() {
    byte[] random = new byte[16];
    new SecureRandom().nextBytes(random);
    return new BrokerSecurity(TestCertificate.get(), HexFormat.of().formatHex(random));
  }

  String adminPassword() {
    return adminPassword;
  }

  int iterations() {
    return ITERATIONS;
  }

  /** Overrides of {@link EmbeddedKafka#brokerProperties}' listeners, plus TLS, SASL and ACLs. */
  Map<String, String> brokerProperties(int brokerPort, int controllerPort) {
    var p = new LinkedHashMap<String, String>();
    p.put(
        "listeners",
        "SASL_SSL://"
            + Loopback.HOST
            + ":"
            + brokerPort
            + ",CONTROLLER://"
            + Loopback.HOST
            + ":"
            + controllerPort);
    p.put("advertised.listeners", "SASL_SSL://" + Loopback.HOST + ":" + brokerPort);
    p.put("listener.security.protocol.map", "SASL_SSL:SASL_SSL,CONTROLLER:SSL");
    p.put("inter.broker.listener.name", "SASL_SSL");
    p.put("sasl.enabled.mechanisms", MECHANISM);
    p.put("sasl.mechanism.inter.broker.protocol", MECHANISM);
    p.put("listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config", jaas("admin", adminPassword));
    p.put("ssl.keystore.location", certificate.keyStore().toString());
    p.put("ssl.keystore.password", certificate.password());
    p.put("ssl.key.password", certificate.password());
    p.put("ssl.keystore.type", TestCertificate.STORE_TYPE);
    p.put("ssl.truststore.location", certificate.trustStore().toString());
    p.put("ssl.truststore.password", certificate.password());
    p.put("ssl.truststore.type", TestCertificate.STORE_TYPE);
    p.put("listener.name.controller.ssl.client.auth", "required");
    p.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
    p.put("super.users", "User:" + EmbeddedKafka.ADMIN_USER + ";User:" + TestCertificate.PRINCIPAL);
    p.put("allow.everyone.if.no.acl.found", "false");
    return p;
  }

  /** {@code StorageTool format} arguments that store the super user's SCRAM credentials. */
  List<String> formatArguments() {
    return List.of(
        "--add-scram",
        MECHANISM
            + "=[name="
            + EmbeddedKafka.ADMIN_USER
            + ",password="
            + adminPassword
            + ",iterations="
            + ITERATIONS
            + "]");
  }

  Map<String, String> clientProperties(String user, String password) {
    var p = new LinkedHashMap<String, String>();
    p.put("security.protocol", "SASL_SSL");
    p.put("sasl.mechanism", MECHANISM);
    p.put("sasl.jaas.config", jaas(user, password));
    p.put("ssl.truststore.location", certificate.trustStore().toString());
    p.put("ssl.truststore.password", certificate.password());
    p.put("ssl.truststore.type", TestCertificate.STORE_TYPE);
    return p;
  }

  private static String jaas(String user, String password) {
    return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
        + user
        + "\" password=\""
        + password
        + "\";";
  }
}
