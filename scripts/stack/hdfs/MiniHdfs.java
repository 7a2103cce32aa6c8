// HDFS for the local stack (scripts/stack/hdfs.sh): one NameNode and one DataNode of Hadoop's
// MiniDFSCluster in this JVM, storage under BASEDIR, every port given on the command line and
// bound to 127.0.0.1, permissions and ACLs on, WebHDFS on. The NameNode's superuser is the user
// this runs as (HADOOP_USER_NAME=hdfs), in the superuser group `supergroup`.
//
// Usage: java -cp CLASSES:LIBS MiniHdfs BASEDIR NN_RPC NN_HTTP DN_DATA DN_HTTP DN_IPC DN_PROXY [KEY=VALUE...]
//   KEY=VALUE: further Hadoop configuration, set last.
// Prints "MiniHdfs ready" once the DataNode is registered and the NameNode is out of safe mode,
// then runs until it is signalled (a shutdown hook stops both nodes).

import java.io.File;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;

public final class MiniHdfs {
    public static void main(String[] args) throws Exception {
        if (args.length < 7) {
            System.err.println("usage: MiniHdfs BASEDIR NN_RPC NN_HTTP DN_DATA DN_HTTP DN_IPC DN_PROXY [KEY=VALUE...]");
            System.exit(2);
        }
        File base = new File(args[0]);
        int nnRpc = Integer.parseInt(args[1]);
        int nnHttp = Integer.parseInt(args[2]);
        String loopback = "127.0.0.1:";

        Configuration conf = new Configuration();
        conf.set("hadoop.security.authentication", "simple");
        conf.setBoolean("dfs.permissions.enabled", true);
        conf.setBoolean("dfs.namenode.acls.enabled", true);
        conf.setBoolean("dfs.webhdfs.enabled", true);
        conf.set("dfs.permissions.superusergroup", "supergroup");
        // Users of the tests that exist on no machine: their groups come from here, not `id`.
        conf.set("hadoop.user.group.static.mapping.overrides", "hdfs=supergroup;nobody=nobody;dr.who=");
        conf.set("dfs.http.policy", "HTTP_ONLY");
        conf.set("dfs.namenode.rpc-bind-host", "127.0.0.1");
        conf.set("dfs.namenode.http-bind-host", "127.0.0.1");
        conf.set("dfs.datanode.address", loopback + args[3]);
        conf.set("dfs.datanode.http.address", loopback + args[4]);
        conf.set("dfs.datanode.ipc.address", loopback + args[5]);
        conf.setInt("dfs.datanode.http.internal-proxy.port", Integer.parseInt(args[6]));
        conf.set("dfs.datanode.hostname", "127.0.0.1");
        conf.setBoolean("dfs.datanode.use.datanode.hostname", false);
        conf.setInt("dfs.replication", 1);
        conf.setInt("dfs.namenode.safemode.extension", 0);
        conf.setInt("dfs.namenode.handler.count", 4);
        conf.setInt("dfs.namenode.service.handler.count", 2);
        conf.setInt("dfs.datanode.handler.count", 2);
        conf.setInt("dfs.heartbeat.interval", 1);
        for (int i = 7; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq <= 0) {
                System.err.println("MiniHdfs: not KEY=VALUE: " + args[i]);
                System.exit(2);
            }
            conf.set(args[i].substring(0, eq), args[i].substring(eq + 1));
        }

        MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf, base)
                .nameNodePort(nnRpc)
                .nameNodeHttpPort(nnHttp)
                .numDataNodes(1)
                .storagesPerDatanode(1)
                .checkDataNodeAddrConfig(true)
                .checkDataNodeHostConfig(true)
                .format(true)
                .waitSafeMode(true)
                .build();
        Runtime.getRuntime().addShutdownHook(new Thread(cluster::shutdown, "MiniHdfs-shutdown"));
        cluster.waitActive();
        cluster.waitClusterUp();
        System.out.println("MiniHdfs ready: hdfs://127.0.0.1:" + cluster.getNameNodePort()
                + " http://127.0.0.1:" + cluster.getNameNode().getHttpAddress().getPort());
        System.out.flush();
        Thread.currentThread().join();
    }
}
