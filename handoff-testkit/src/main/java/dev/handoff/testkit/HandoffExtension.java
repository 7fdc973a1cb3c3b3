package dev.handoff.testkit;

import java.lang.reflect.AnnotatedElement;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * The JUnit 5 extension behind {@link HandoffTest}; use the annotation rather than this class.
 *
 * <p>The environment lives in the extension store of the annotated class, so JUnit closes it when
 * that class's tests are done.
 */
public final class HandoffExtension implements BeforeAllCallback, ParameterResolver {
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(HandoffExtension.class);
  private static final Set<Class<?>> INJECTABLE =
      Set.of(
          HandoffEnvironment.class,
          EmbeddedEnvironment.class,
          EmbeddedKafka.class,
          EmbeddedZooKeeper.class);

  @Override
  public void beforeAll(ExtensionContext context) {
    environment(context);
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return INJECTABLE.contains(parameter.getParameter().getType());
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    EmbeddedEnvironment env = environment(context);
    Class<?> type = parameter.getParameter().getType();
    try {
      if (type == EmbeddedKafka.class) {
        return env.kafka();
      }
      if (type == EmbeddedZooKeeper.class) {
        return env.zooKeeper();
      }
      return env;
    } catch (IllegalStateException e) {
      throw new ParameterResolutionException(
          "cannot inject "
              + type.getSimpleName()
              + " into "
              + parameter.getDeclaringExecutable()
              + ": "
              + e.getMessage(),
          e);
    }
  }

  private static EmbeddedEnvironment environment(ExtensionContext context) {
    ExtensionContext owner = context;
    while (annotation(owner).isEmpty()) {
      owner =
          owner
              .getParent()
              .orElseThrow(
                  () ->
                      new ExtensionConfigurationException(
                          "no @HandoffTest on "
                              + context.getRequiredTestClass().getName()
                              + " or its enclosing classes"));
    }
    HandoffTest config = annotation(owner).orElseThrow();
    return owner
        .getStore(NAMESPACE)
        .getOrComputeIfAbsent(
            EmbeddedEnvironment.class, k -> start(config), EmbeddedEnvironment.class);
  }

  private static Optional<HandoffTest> annotation(ExtensionContext context) {
    Optional<AnnotatedElement> element = context.getElement();
    if (element.isEmpty() || !(element.get() instanceof Class<?> type)) {
      return Optional.empty();
    }
    return AnnotationSupport.findAnnotation(type, HandoffTest.class);
  }

  private static EmbeddedEnvironment start(HandoffTest config) {
    var builder =
        EmbeddedEnvironment.builder()
            .kafkaBrokers(config.kafkaBrokers())
            .zookeeperServers(config.zookeeperServers())
            .fastCompaction(config.fastCompaction())
            .kafkaSaslSsl(config.kafkaSaslSsl())
            .zookeeperTlsSasl(config.zookeeperTlsSasl());
    for (String property : config.brokerProperties()) {
      int eq = property.indexOf('=');
      if (eq <= 0) {
        throw new ExtensionConfigurationException(
            "@HandoffTest brokerProperties entry '" + property + "' is not key=value");
      }
      builder.brokerProperty(property.substring(0, eq).trim(), property.substring(eq + 1).trim());
    }
    return builder.start();
  }
}
