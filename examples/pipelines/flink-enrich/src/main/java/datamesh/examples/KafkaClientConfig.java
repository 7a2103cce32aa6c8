package datamesh.examples;

import java.util.Map;
import java.util.Properties;

/**
 * The Kafka client properties of a job, read from its Flink configuration: every key
 * {@code datamesh.kafka.<prop>} is the Kafka client property {@code <prop>}, except
 * {@code datamesh.kafka.username} and {@code datamesh.kafka.password}, which together become a
 * SCRAM {@code sasl.jaas.config}. Secrets travel in the configuration (Flink masks keys holding
 * "password" in its REST answers and logs), never in program arguments, which Flink shows as is.
 */
final class KafkaClientConfig {
    /** The prefix of the job's Kafka client settings in its Flink configuration. */
    static final String PREFIX = "datamesh.kafka.";

    private static final String USERNAME = "username";
    private static final String PASSWORD = "password";
    private static final String JAAS = "sasl.jaas.config";
    private static final String BOOTSTRAP = "bootstrap.servers";

    private KafkaClientConfig() {}

    /** The Kafka client properties in {@code flinkConfiguration} (the whole configuration as a map). */
    static Properties from(Map<String, String> flinkConfiguration) {
        Properties props = new Properties();
        String username = null;
        String password = null;
        for (Map.Entry<String, String> e : flinkConfiguration.entrySet()) {
            if (!e.getKey().startsWith(PREFIX)) {
                continue;
            }
            String prop = e.getKey().substring(PREFIX.length());
            if (prop.equals(USERNAME)) {
                username = e.getValue();
            } else if (prop.equals(PASSWORD)) {
                password = e.getValue();
            } else if (!prop.isEmpty()) {
                props.setProperty(prop, e.getValue());
            }
        }
        if ((username == null) != (password == null)) {
            throw new IllegalArgumentException(
                    "the job's Flink configuration sets only one of " + PREFIX + USERNAME + " and " + PREFIX
                            + PASSWORD + ": set both (SCRAM login) or neither");
        }
        if (username != null) {
            if (props.containsKey(JAAS)) {
                throw new IllegalArgumentException(
                        "the job's Flink configuration sets both " + PREFIX + JAAS + " and " + PREFIX + USERNAME
                                + "/" + PREFIX + PASSWORD + ": set one or the other");
            }
            props.setProperty(JAAS, scramJaasConfig(username, password));
        }
        String bootstrap = props.getProperty(BOOTSTRAP);
        if (bootstrap == null || bootstrap.isBlank()) {
            throw new IllegalArgumentException(
                    PREFIX + BOOTSTRAP + " is not set in the job's Flink configuration (flinkConfiguration of the "
                            + "run request, or the cluster's config.yaml)");
        }
        return props;
    }

    /** A {@code sasl.jaas.config} value logging in with SCRAM as {@code username}. */
    static String scramJaasConfig(String username, String password) {
        return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                + quoted(username) + "\" password=\"" + quoted(password) + "\";";
    }

    // Kafka parses JAAS values with java.io.StreamTokenizer: inside "..." a backslash escapes the
    // next character, so a quote or backslash of the value needs one in front.
    private static String quoted(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
