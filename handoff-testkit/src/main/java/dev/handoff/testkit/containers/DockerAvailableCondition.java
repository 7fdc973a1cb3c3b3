package dev.handoff.testkit.containers;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The condition behind {@link RequiresDocker}; Docker is probed once per test run. */
final class DockerAvailableCondition implements ExecutionCondition {
  private static final Logger LOG = LoggerFactory.getLogger(DockerAvailableCondition.class);

  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    String reason =
        context
            .getRoot()
            .getStore(ExtensionContext.Namespace.create(DockerAvailableCondition.class))
            .getOrComputeIfAbsent(
                "reason",
                k -> TestcontainersEnvironment.dockerUnavailableReason().orElse(""),
                String.class);
    if (reason.isEmpty()) {
      return ConditionEvaluationResult.enabled("a Docker daemon answers");
    }
    LOG.warn("{} skipped: {}", context.getDisplayName(), reason);
    return ConditionEvaluationResult.disabled(reason);
  }
}
