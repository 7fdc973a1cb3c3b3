package dev.handoff;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Chooses who receives a session when this node drains. Called from the drain's thread, one session
 * at a time.
 */
@FunctionalInterface
public interface HandoverTarget {

  /**
   * The member to hand {@code session} to, among {@code candidates} (the RUNNING members other than
   * this node, ordered by member id), or empty to keep the session here.
   */
  Optional<Member> choose(String session, List<Member> candidates);

  /** Every session to the member {@code memberId} while it is RUNNING. */
  static HandoverTarget member(String memberId) {
    Objects.requireNonNull(memberId, "memberId");
    return (session, candidates) ->
        candidates.stream().filter(m -> m.id().equals(memberId)).findFirst();
  }

  /**
   * Spread evenly over the candidates that run the newest application version ({@link
   * Member#version()}, compared as dotted numbers where they are numbers, as text elsewhere), as a
   * rolling update wants: sessions move to the new version, not to a peer about to be replaced.
   */
  static HandoverTarget newestVersionEvenly() {
    Map<String, Integer> given = new HashMap<>();
    return (session, candidates) -> {
      if (candidates.isEmpty()) {
        return Optional.empty();
      }
      String newest =
          candidates.stream().map(Member::version).max(HandoverTarget::compareVersions).get();
      var newestOnes = new ArrayList<Member>();
      for (Member m : candidates) {
        if (compareVersions(m.version(), newest) == 0) {
          newestOnes.add(m);
        }
      }
      Member least =
          newestOnes.stream()
              .min(Comparator.comparingInt((Member m) -> given.getOrDefault(m.writerId(), 0)))
              .get();
      given.merge(least.writerId(), 1, Integer::sum);
      return Optional.of(least);
    };
  }

  /**
   * Compares versions such as {@code 1.10.2} and {@code 1.9}, or {@code v10} and {@code v9}: runs
   * of digits as numbers, runs of letters as text, in order.
   */
  static int compareVersions(String a, String b) {
    List<String> x = tokens(a);
    List<String> y = tokens(b);
    for (int i = 0; i < Math.max(x.size(), y.size()); i++) {
      String p = i < x.size() ? x.get(i) : "";
      String q = i < y.size() ? y.get(i) : "";
      boolean pn = !p.isEmpty() && Character.isDigit(p.charAt(0));
      boolean qn = !q.isEmpty() && Character.isDigit(q.charAt(0));
      int c =
          pn && qn
              ? new java.math.BigInteger(p).compareTo(new java.math.BigInteger(q))
              : p.compareTo(q);
      if (c != 0) {
        return c;
      }
    }
    return 0;
  }

  private static List<String> tokens(String version) {
    var out = new ArrayList<String>();
    var m = VersionTokens.PATTERN.matcher(version);
    while (m.find()) {
      out.add(m.group());
    }
    return out;
  }

  /** Holds the compiled pattern (an interface can have no private static fields). */
  final class VersionTokens {
    static final java.util.regex.Pattern PATTERN =
        java.util.regex.Pattern.compile("[0-9]+|[A-Za-z]+");

    private VersionTokens() {}
  }
}
