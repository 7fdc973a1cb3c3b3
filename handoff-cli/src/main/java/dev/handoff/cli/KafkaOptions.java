package dev.handoff.cli;

import dev.handoff.kafka.TopicReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import picocli.CommandLine.Option;

/** Where the delta log's topic is, and how to reach it: like Kafka's own command-line tools. */
final class KafkaOptions {

  @Option(
      names = {"-k", "--kafka", "--bootstrap-server"},
      paramLabel = "host:port[,...]",
      required = true,
      description = "Kafka bootstrap servers.")
  String bootstrapServers;

  @Option(
      names = "--command-config",
      paramLabel = "client.properties",
      description =
          "Client properties for the Kafka clients (security.protocol, sasl.*, ssl.*), as for"
              + " Kafka's own tools.")
  Path commandConfig;

  @Option(
      names = {"-t", "--topic"},
      paramLabel = "topic",
      defaultValue = "handoff-sessions",
      description = "The delta log's topic (default: ${DEFAULT-VALUE}).")
  String topic;

  @Option(
      names = "--timeout",
      paramLabel = "duration",
      defaultValue = "30s",
      converter = DurationConverter.class,
      description =
          "How long a request to Kafka may take, and a read may go without progress"
              + " (default: ${DEFAULT-VALUE}).")
  Duration timeout;

  /** The properties of {@code --command-config}, or none. */
  Map<String, Object> clientProperties() {
    var out = new HashMap<String, Object>();
    if (commandConfig != null) {
      var props = new Properties();
      try (Reader in = Files.newBufferedReader(commandConfig, StandardCharsets.UTF_8)) {
        props.load(in);
      } catch (IOException e) {
        throw new CliException(
            HandoffCli.USAGE, "cannot read --command-config " + commandConfig + ": " + e, e);
      }
      props.forEach((k, v) -> out.put(k.toString(), v));
    }
    return out;
  }

  /** An admin client for read-only requests. */
  Admin admin() {
    var config = clientProperties();
    config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    config.putIfAbsent(AdminClientConfig.CLIENT_ID_CONFIG, "handoff-cli-admin");
    config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
    config.put(
        AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(timeout.toMillis(), 30_000));
    return Admin.create(config);
  }

  /** Reads the whole topic once. */
  TopicSnapshot snapshot() {
    var reader = TopicReader.open(bootstrapServers, topic, clientProperties(), timeout);
    try {
      return TopicSnapshot.read(reader);
    } catch (RuntimeException e) {
      reader.close();
      throw e;
    }
  }
}
