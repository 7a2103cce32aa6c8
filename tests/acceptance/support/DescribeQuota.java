// An independent reader of a user's client quota for the acceptance tests: Apache Kafka's own
// Java Admin client (DescribeClientQuotas), so the provider's raw protocol code is not checked
// against itself. Prints one `key=value` line per quota key of user args[0]; the connection
// comes from the stack's DATAMESH_KAFKA_* environment.
// Run: java -cp '<kafka>/libs/*' DescribeQuota.java USER

import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.quota.ClientQuotaFilter;
import org.apache.kafka.common.quota.ClientQuotaFilterComponent;

public class DescribeQuota {
    public static void main(String[] args) throws Exception {
        Map<String, String> env = System.getenv();
        Properties p = new Properties();
        p.put("bootstrap.servers", env.get("DATAMESH_KAFKA_BOOTSTRAP_SERVERS"));
        String protocol = env.getOrDefault("DATAMESH_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT");
        p.put("security.protocol", protocol);
        if (protocol.startsWith("SASL_")) {
            String mechanism = env.getOrDefault("DATAMESH_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512");
            p.put("sasl.mechanism", mechanism);
            String module = mechanism.equals("PLAIN")
                ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                : "org.apache.kafka.common.security.scram.ScramLoginModule";
            p.put("sasl.jaas.config", module + " required username=\"" + env.get("DATAMESH_KAFKA_SASL_USERNAME")
                + "\" password=\"" + env.get("DATAMESH_KAFKA_SASL_PASSWORD") + "\";");
        }
        try (Admin admin = Admin.create(p)) {
            ClientQuotaFilter filter =
                ClientQuotaFilter.containsOnly(List.of(ClientQuotaFilterComponent.ofEntity(ClientQuotaEntity.USER, args[0])));
            Map<ClientQuotaEntity, Map<String, Double>> found = admin.describeClientQuotas(filter).entities().get();
            for (Map<String, Double> values : found.values()) {
                values.forEach((k, v) -> System.out.println(k + "=" + v));
            }
        }
    }
}
