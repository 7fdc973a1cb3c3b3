package dev.handoff.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;
import org.apache.zookeeper.server.auth.ProviderRegistry;

/**
 * The JVM-wide part of secured {@link EmbeddedZooKeeper}s (TLS client port, SASL DIGEST-MD5
 * required).
 *
 * <p>An in-process ZooKeeper server reads its TLS and authentication settings from system
 * properties, some of them on every new connection, and its SASL users from the JVM's JAAS {@link
 * Configuration}. So they are set while at least one secured server runs and restored when the last
 * one closes; and a plain server, which would then enforce SASL too, may not run at the same time
 * (either start fails, naming the other). The JAAS sections (one server section with every user,
 * one client section per identity handed out) are served by a {@link Configuration} that falls back
 * to the JVM's own for every other section, and are also written to a JAAS file for client
 * processes.
 */
final class ZooKeeperSecurity {
  static final String SERVER_SECTION = "HandoffTestkitZooKeeperServer";
  private static final String LOGIN_MODULE = "org.apache.zookeeper.server.auth.DigestLoginModule";

  private static final Map<String, String> users = new TreeMap<>();
  private static final Map<String, String> clientSections = new LinkedHashMap<>(); // key: user:pw
  private static final Map<String, String[]> sectionCredentials = new HashMap<>();
  private static Map<String, String> savedProperties;
  private static Path jaasFile;
  private static int securedInstances;
  private static int plainInstances;

  private ZooKeeperSecurity() {}

  /** A secured instance starts: sets the JVM-wide settings if it is the first. */
  static synchronized void acquireSecured(Map<String, String> serverUsers) {
    if (plainInstances > 0) {
      throw new IllegalStateException(
          "cannot start a TLS/SASL EmbeddedZooKeeper while "
              + plainInstances
              + " plain one(s) run in this JVM: in-process ZooKeeper servers take their TLS and"
              + " SASL settings from JVM-wide system properties, which would apply to both; close"
              + " the plain one first");
    }
    for (var e : serverUsers.entrySet()) {
      String known = users.get(e.getKey());
      if (known != null && !known.equals(e.getValue())) {
        throw new IllegalArgumentException(
            "SASL user '"
                + e.getKey()
                + "' already has another password on a secured ZooKeeper in this JVM");
      }
    }
    users.putAll(serverUsers);
    if (securedInstances++ == 0) {
      installJaas();
      setProperties();
    }
    writeJaasFile();
  }

  /** A secured instance closed: restores the JVM-wide settings after the last one. */
  static synchronized void releaseSecured() {
    if (--securedInstances == 0) {
      restoreProperties();
    }
  }

  static synchronized void acquirePlain() {
    if (securedInstances > 0) {
      throw new IllegalStateException(
          "cannot start a plain EmbeddedZooKeeper while "
              + securedInstances
              + " TLS/SASL one(s) run in this JVM: in-process ZooKeeper servers take their TLS and"
              + " SASL settings from JVM-wide system properties, so this one would require SASL"
              + " too; close the secured one first");
    }
    plainInstances++;
  }

  static synchronized void releasePlain() {
    plainInstances--;
  }

  /**
   * The JAAS client section (registered in this JVM and written to {@link #jaasFile()}) with which
   * a ZooKeeper client authenticates as {@code user} with {@code password}.
   */
  static synchronized String clientSection(String user, String password) {
    String key = user + ":" + password;
    String section = clientSections.get(key);
    if (section == null) {
      section = "HandoffTestkitZooKeeperClient-" + (clientSections.size() + 1);
      clientSections.put(key, section);
      sectionCredentials.put(section, new String[] {user, password});
      installJaas();
      writeJaasFile();
    }
    return section;
  }

  /** The JAAS file holding the server section and every client section handed out so far. */
  static synchronized Path jaasFile() {
    writeJaasFile();
    return jaasFile;
  }

  private static void setProperties() {
    TestCertificate cert = TestCertificate.get();
    var p = new LinkedHashMap<String, String>();
    // Only Netty serves TLS; the plain NIO factory refuses a secure port.
    p.put("zookeeper.serverCnxnFactory", "org.apache.zookeeper.server.NettyServerCnxnFactory");
    p.put("zookeeper.ssl.keyStore.location", cert.keyStore().toString());
    p.put("zookeeper.ssl.keyStore.password", cert.password());
    p.put("zookeeper.ssl.keyStore.type", TestCertificate.STORE_TYPE);
    p.put("zookeeper.ssl.trustStore.location", cert.trustStore().toString());
    p.put("zookeeper.ssl.trustStore.password", cert.password());
    p.put("zookeeper.ssl.trustStore.type", TestCertificate.STORE_TYPE);
    // No client certificates: an identity comes from SASL only (a shared test certificate would
    // give every client the same x509 identity, and creator-all ACLs would include it).
    p.put("zookeeper.ssl.clientAuth", "none");
    p.put(
        ProviderRegistry.AUTHPROVIDER_PROPERTY_PREFIX + "sasl",
        "org.apache.zookeeper.server.auth.SASLAuthenticationProvider");
    // ZooKeeper 3.9's names for "requireClientAuthScheme=sasl": a session must authenticate with
    // SASL before anything else, or the server closes it.
    p.put("zookeeper.enforce.auth.enabled", "true");
    p.put("zookeeper.enforce.auth.schemes", "sasl");
    p.put("zookeeper.sasl.serverconfig", SERVER_SECTION);
    savedProperties = new HashMap<>();
    for (var e : p.entrySet()) {
      savedProperties.put(e.getKey(), System.getProperty(e.getKey()));
      System.setProperty(e.getKey(), e.getValue());
    }
    // The registry reads the authProvider.* properties once per JVM; a plain server may have
    // initialised it already.
    ProviderRegistry.addOrUpdateProvider(ProviderRegistry.AUTHPROVIDER_PROPERTY_PREFIX + "sasl");
  }

  private static void restoreProperties() {
    if (savedProperties == null) {
      return;
    }
    for (var e : savedProperties.entrySet()) {
      if (e.getValue() == null) {
        System.clearProperty(e.getKey());
      } else {
        System.setProperty(e.getKey(), e.getValue());
      }
    }
    savedProperties = null;
  }

  private static void installJaas() {
    Configuration current;
    try {
      current = Configuration.getConfiguration();
    } catch (SecurityException e) {
      current = null; // no JAAS configuration in this JVM
    }
    if (!(current instanceof Sections)) {
      Configuration.setConfiguration(new Sections(current));
    }
  }

  private static synchronized AppConfigurationEntry[] section(String name) {
    if (name.equals(SERVER_SECTION)) {
      var options = new LinkedHashMap<String, String>();
      users.forEach((user, password) -> options.put("user_" + user, password));
      return new AppConfigurationEntry[] {entry(options)};
    }
    String[] credentials = sectionCredentials.get(name);
    if (credentials == null) {
      return null;
    }
    return new AppConfigurationEntry[] {
      entry(Map.of("username", credentials[0], "password", credentials[1]))
    };
  }

  private static AppConfigurationEntry entry(Map<String, String> options) {
    return new AppConfigurationEntry(
        LOGIN_MODULE, AppConfigurationEntry.LoginModuleControlFlag.REQUIRED, options);
  }

  private static void writeJaasFile() {
    try {
      if (jaasFile == null) {
        jaasFile =
            Loopback.newTempDir(null, "handoff-testkit-jaas-").resolve("zookeeper-jaas.conf");
      }
      var sb = new StringBuilder("// written by the Handoff testkit; test credentials only\n");
      appendSection(sb, SERVER_SECTION, section(SERVER_SECTION));
      for (String name : clientSections.values()) {
        appendSection(sb, name, section(name));
      }
      Files.writeString(jaasFile, sb.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the testkit's JAAS file", e);
    }
  }

  private static void appendSection(StringBuilder sb, String name, AppConfigurationEntry[] e) {
    sb.append(name).append(" {\n  ").append(LOGIN_MODULE).append(" required");
    e[0].getOptions()
        .forEach((k, v) -> sb.append("\n  ").append(k).append("=\"").append(v).append('"'));
    sb.append(";\n};\n");
  }

  /** Our sections first, then the JVM's own configuration (if it has one). */
  private static final class Sections extends Configuration {
    private final Configuration fallback;

    Sections(Configuration fallback) {
      this.fallback = fallback;
    }

    @Override
    public AppConfigurationEntry[] getAppConfigurationEntry(String name) {
      AppConfigurationEntry[] ours = section(Objects.requireNonNull(name, "name"));
      if (ours != null || fallback == null) {
        return ours;
      }
      try {
        return fallback.getAppConfigurationEntry(name);
      } catch (SecurityException | IllegalArgumentException e) {
        return null;
      }
    }

    @Override
    public void refresh() {
      if (fallback != null) {
        fallback.refresh();
      }
    }
  }
}
