package dev.handoff.zk;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.curator.RetryPolicy;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.common.PathUtils;
import org.apache.zookeeper.data.ACL;

/**
 * Options of a {@link ZkMembership}, from {@link ZkMembership#builder()}. Every option is set at
 * most once: a second call throws {@link IllegalStateException}. Every setter rejects a bad value
 * at once with an {@link IllegalArgumentException} naming the option and the value; {@link
 * #build()} checks the required options and the options that depend on each other. Not thread-safe.
 */
public final class ZkMembershipBuilder {

  /** The default ACL: the creating identity may do anything, everyone may read. */
  private static final List<ACL> CREATOR_ALL_WORLD_READ =
      aclList(
          "acl",
          List.of(
              new ACL(ZooDefs.Perms.ALL, ZooDefs.Ids.AUTH_IDS),
              new ACL(ZooDefs.Perms.READ, ZooDefs.Ids.ANYONE_ID_UNSAFE)));

  // null: not set (the default applies at build()).
  private String connectString;
  private String root;
  private String group;
  private String memberId;
  private String host;
  private String version;
  private Duration sessionTimeout;
  private Duration connectionTimeout;
  private Duration startTimeout;
  private RetryPolicy retryPolicy;
  private List<ACL> acl;
  private String aclShown; // how the ACL was chosen, for the "already set" message
  private String digestUser;
  private String digestPassword;
  private ZKClientConfig zkClientConfig;
  private Boolean trackEnsemble;

  ZkMembershipBuilder() {}

  /** Required. ZooKeeper servers, {@code host:port[,host:port...][/chroot]}. */
  public ZkMembershipBuilder connectString(String connectString) {
    setOnce("connectString", this.connectString, quoted(this.connectString));
    this.connectString = requireText("connectString", connectString);
    return this;
  }

  /** The root znode of all Handoff data. Default {@code /handoff}. */
  public ZkMembershipBuilder root(String root) {
    setOnce("root", this.root, quoted(this.root));
    requireText("root", root);
    if (!root.startsWith("/") || (root.length() > 1 && root.endsWith("/"))) {
      throw new IllegalArgumentException(
          "root must be an absolute znode path without a trailing '/', was " + quoted(root));
    }
    try {
      PathUtils.validatePath(root);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "root must be a valid znode path, was " + quoted(root) + ": " + e.getMessage(), e);
    }
    this.root = root;
    return this;
  }

  /** The group (cluster) this member belongs to: one znode name. Default {@code default}. */
  public ZkMembershipBuilder group(String group) {
    setOnce("group", this.group, quoted(this.group));
    requireText("group", group);
    if (group.contains("/") || group.equals(".") || group.equals("..")) {
      throw new IllegalArgumentException(
          "group must be a single znode name (no '/', not '.' or '..'), was " + quoted(group));
    }
    try {
      PathUtils.validatePath("/" + group);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "group must be a valid znode name, was " + quoted(group) + ": " + e.getMessage(), e);
    }
    this.group = group;
    return this;
  }

  /** Required. This member's id, stable across restarts (for example a pod name). */
  public ZkMembershipBuilder memberId(String memberId) {
    setOnce("memberId", this.memberId, quoted(this.memberId));
    requireText("memberId", memberId);
    requireLength("memberId", memberId, 200);
    this.memberId = memberId;
    return this;
  }

  /** Where this member runs, for humans. Default: the local host name. */
  public ZkMembershipBuilder host(String host) {
    setOnce("host", this.host, quoted(this.host));
    requireText("host", host);
    requireLength("host", host, 1024);
    this.host = host;
    return this;
  }

  /** The application version this member runs. Default {@code unknown}. */
  public ZkMembershipBuilder version(String version) {
    setOnce("version", this.version, quoted(this.version));
    requireText("version", version);
    requireLength("version", version, 1024);
    this.version = version;
    return this;
  }

  /**
   * ZooKeeper session timeout T (the server may clamp it to its min/max; the negotiated value is
   * what counts). A crashed member is reported EXPIRED about T after it stopped; a live member
   * paused or cut off for more than about 3T/4 may lose its session (it talks to the server at
   * least every T/4), for more than T always does; {@link ZkMembership#writable()} holds a lease of
   * {@code T - max(T/3, 1 s)}. Default 15 s: crashes detected in 15 s, pauses (GC, a saturated CPU)
   * of up to about 11 s survived, a lease of 10 s renewed every 3.75 s.
   */
  public ZkMembershipBuilder sessionTimeout(Duration timeout) {
    setOnce("sessionTimeout", sessionTimeout, sessionTimeout);
    this.sessionTimeout = requirePositive("sessionTimeout", timeout);
    return this;
  }

  /** How long one connection attempt may take. Default 10 s. */
  public ZkMembershipBuilder connectionTimeout(Duration timeout) {
    setOnce("connectionTimeout", connectionTimeout, connectionTimeout);
    this.connectionTimeout = requirePositive("connectionTimeout", timeout);
    return this;
  }

  /** How long {@link ZkMembership#start()} may take before it fails. Default 30 s. */
  public ZkMembershipBuilder startTimeout(Duration timeout) {
    setOnce("startTimeout", startTimeout, startTimeout);
    this.startTimeout = requirePositive("startTimeout", timeout);
    return this;
  }

  /**
   * Curator retry policy for each ZooKeeper operation, and for the attempts to register this
   * member: when it allows no more attempts before {@link ZkMembership#start()} completed, start
   * fails. Default: exponential backoff from 100 ms, at most 1 s between tries, 10 tries.
   */
  public ZkMembershipBuilder retryPolicy(RetryPolicy retryPolicy) {
    setOnce("retryPolicy", this.retryPolicy, this.retryPolicy);
    this.retryPolicy = requireNonNull("retryPolicy", retryPolicy);
    return this;
  }

  /**
   * Authenticates the session with ZooKeeper's digest scheme ({@code user:password}); with the
   * default ACL, only this identity (or a ZooKeeper superuser) can then change or delete the member
   * znodes, and everyone can read them.
   */
  public ZkMembershipBuilder digestAuth(String user, String password) {
    setOnce("digestAuth", digestUser, "user " + quoted(digestUser));
    requireText("digestAuth user", user);
    if (user.contains(":")) {
      throw new IllegalArgumentException(
          "digestAuth user must not contain ':', was " + quoted(user));
    }
    if (password == null || password.isBlank()) {
      // The password is a secret: never in a message.
      throw new IllegalArgumentException("digestAuth password must not be null or blank");
    }
    this.digestUser = user;
    this.digestPassword = password;
    return this;
  }

  /**
   * ZooKeeper client settings passed through unchanged: TLS ({@code zookeeper.client.secure},
   * {@code zookeeper.clientCnxnSocket}, {@code zookeeper.ssl.*}) and SASL ({@code
   * zookeeper.sasl.client}, JAAS section). A session authenticated by SASL or by a TLS client
   * certificate can use the default ACL.
   */
  public ZkMembershipBuilder zkClientConfig(ZKClientConfig config) {
    setOnce("zkClientConfig", zkClientConfig, zkClientConfig);
    this.zkClientConfig = requireNonNull("zkClientConfig", config);
    return this;
  }

  /**
   * The ACL of every znode this member creates (its registration and any missing parents). Default:
   * creator-all + world-read, which needs an authenticated session ({@link #digestAuth}, or SASL /
   * TLS through {@link #zkClientConfig}). One option with {@link #openAcl()}: set one of them,
   * once.
   */
  public ZkMembershipBuilder acl(List<ACL> acl) {
    setOnce("acl", this.acl, aclShown);
    requireNonNull("acl", acl);
    if (acl.isEmpty()) {
      throw new IllegalArgumentException("acl must not be empty, was []");
    }
    this.acl = aclList("acl", acl);
    this.aclShown = acl.toString();
    return this;
  }

  /**
   * Uses the world-writable ACL: anyone who can reach ZooKeeper can delete or rewrite member
   * znodes. Only for development clusters without authentication. Sets the {@link #acl} option.
   */
  public ZkMembershipBuilder openAcl() {
    setOnce("acl", this.acl, aclShown);
    this.acl = aclList("acl", ZooDefs.Ids.OPEN_ACL_UNSAFE);
    this.aclShown = "openAcl()";
    return this;
  }

  /**
   * Whether Curator may replace the connect string with the servers listed in the ensemble's
   * dynamic configuration ({@code /zookeeper/config}), so that a client can fail over to servers it
   * was not given. Default true. Turn it off when clients reach the servers through other addresses
   * than the ones the servers advertise (proxies, NAT, port forwarding).
   */
  public ZkMembershipBuilder trackEnsemble(boolean track) {
    setOnce("trackEnsemble", trackEnsemble, trackEnsemble);
    this.trackEnsemble = track;
    return this;
  }

  /**
   * Builds an instance (not started).
   *
   * @throws IllegalStateException if {@code connectString} or {@code memberId} is missing, or if
   *     the default ACL is used without any identity ({@code digestAuth} or {@code zkClientConfig})
   */
  public ZkMembership build() {
    if (connectString == null) {
      throw new IllegalStateException("connectString is required");
    }
    if (memberId == null) {
      throw new IllegalStateException("memberId is required");
    }
    if (acl == null && digestUser == null && zkClientConfig == null) {
      throw new IllegalStateException(
          "the default ACL (creator-all + world-read) needs an identity: set digestAuth(user,"
              + " password) or zkClientConfig(...) with SASL/TLS, or choose openAcl() or acl(...)");
    }
    return new ZkMembership(
        new ZkSettings(
            connectString,
            root == null ? "/handoff" : root.equals("/") ? "" : root,
            group == null ? "default" : group,
            memberId,
            host != null ? host : localHostName(),
            version == null ? "unknown" : version,
            sessionTimeout == null ? Duration.ofSeconds(15) : sessionTimeout,
            connectionTimeout == null ? Duration.ofSeconds(10) : connectionTimeout,
            startTimeout == null ? Duration.ofSeconds(30) : startTimeout,
            retryPolicy != null ? retryPolicy : new ExponentialBackoffRetry(100, 10, 1000),
            acl != null ? acl : CREATOR_ALL_WORLD_READ,
            trackEnsemble == null || trackEnsemble,
            digestUser,
            digestPassword,
            zkClientConfig));
  }

  // ---------------------------------------------------------------------------------------------
  // Checks

  private static void setOnce(String option, Object current, Object shown) {
    if (current != null) {
      throw new IllegalStateException(option + " was already set to " + shown);
    }
  }

  /** ZooKeeper asks an ACL list whether it contains null, which {@code List.of} refuses. */
  private static List<ACL> aclList(String option, List<ACL> acl) {
    for (var entry : acl) {
      if (entry == null) {
        throw new IllegalArgumentException(option + " must not contain null, was " + acl);
      }
    }
    return Collections.unmodifiableList(new ArrayList<>(acl));
  }

  private static String localHostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "unknown";
    }
  }

  private static <T> T requireNonNull(String option, T value) {
    if (value == null) {
      throw new IllegalArgumentException(option + " must not be null");
    }
    return value;
  }

  private static String requireText(String option, String value) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(
          option + " must not be null or blank, was " + quoted(value));
    }
    return value;
  }

  private static void requireLength(String option, String value, int max) {
    if (value.length() > max) {
      throw new IllegalArgumentException(
          option + " must be at most " + max + " characters, was " + value.length() + " long");
    }
  }

  private static Duration requirePositive(String option, Duration value) {
    if (value == null || value.isZero() || value.isNegative()) {
      throw new IllegalArgumentException(option + " must be positive, was " + value);
    }
    return value;
  }

  private static String quoted(String value) {
    return value == null ? "null" : "'" + value + "'";
  }
}
