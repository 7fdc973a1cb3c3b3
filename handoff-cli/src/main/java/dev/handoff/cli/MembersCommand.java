package dev.handoff.cli;

import dev.handoff.zk.MemberZnodes;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code members}: the group's registration znodes in ZooKeeper, one per member incarnation. */
@Command(
    name = "members",
    mixinStandardHelpOptions = true,
    description = {
      "Lists the members of a group from ZooKeeper, one line per incarnation: member id, epoch"
          + " (the registration znode's czxid; a session's owner is id#epoch), version, announced"
          + " state, host and when it registered."
    })
final class MembersCommand implements Callable<Integer> {

  @Mixin ZooKeeperOptions zookeeper;
  @Mixin OutputOptions output;
  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    List<MemberZnodes.Entry> entries;
    try (var client = zookeeper.connect()) {
      try {
        entries = MemberZnodes.read(client, zookeeper.root, zookeeper.group);
      } catch (Exception e) {
        throw new CliException(
            HandoffCli.UNREACHABLE,
            "could not read "
                + MemberZnodes.membersPath(zookeeper.root, zookeeper.group)
                + " from ZooKeeper at "
                + zookeeper.connectString
                + ": "
                + e,
            e);
      }
    }
    var out = spec.commandLine().getOut();
    if (output.json()) {
      var array = Json.array();
      for (var e : entries) {
        var node = array.addObject();
        var m = e.member();
        if (m != null) {
          node.put("id", m.id())
              .put("epoch", m.epoch())
              .put("writer", m.writerId())
              .put("version", m.version())
              .put("state", m.state().name())
              .put("host", m.host());
        }
        node.put("znode", e.path())
            .put("sessionId", Long.toHexString(e.sessionId()))
            .put("registered", e.registered().toString())
            .put("lastChanged", e.lastChanged().toString())
            .put("readable", m != null);
      }
      Json.print(out, array);
      return HandoffCli.OK;
    }
    var table = new Table("ID", "EPOCH", "VERSION", "STATE", "HOST", "REGISTERED");
    for (var e : entries) {
      var m = e.member();
      if (m == null) {
        table.row("?", null, null, "UNREADABLE", null, e.registered() + " " + e.path());
      } else {
        table.row(m.id(), m.epoch(), m.version(), m.state(), m.host(), e.registered());
      }
    }
    table.print(out);
    out.println(
        entries.size()
            + (entries.size() == 1 ? " member" : " members")
            + " in group '"
            + zookeeper.group
            + "' under "
            + zookeeper.root);
    return HandoffCli.OK;
  }
}
