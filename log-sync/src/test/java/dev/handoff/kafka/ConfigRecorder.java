package dev.handoff.kafka;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.metrics.KafkaMetric;
import org.apache.kafka.common.metrics.MetricsReporter;

/** A metrics reporter that keeps the configuration every Kafka client loading it was built with. */
public class ConfigRecorder implements MetricsReporter {
  static final Map<String, Map<String, Object>> CONFIGS = new ConcurrentHashMap<>();

  @Override
  public void configure(Map<String, ?> configs) {
    Object id = configs.get("client.id");
    if (id != null) {
      CONFIGS.put(id.toString(), new java.util.HashMap<String, Object>(configs));
    }
  }

  @Override
  public void init(List<KafkaMetric> metrics) {}

  @Override
  public void metricChange(KafkaMetric metric) {}

  @Override
  public void metricRemoval(KafkaMetric metric) {}

  @Override
  public void close() {}
}
