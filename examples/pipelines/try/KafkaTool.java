import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * What try.sh needs of the stack's Kafka, as the stack's admin (the DATAMESH_KAFKA_* variables of
 * stack.env), run as a single-file program on kafka-clients: the Kafka distribution the stack
 * installs has no console tools.
 *
 * <pre>
 * topics NAME...                          create topics (1 partition)
 * user NAME                               SCRAM-SHA-512 credentials, password on stdin
 * acl USER TYPE PATTERN NAME OP...        allow User:USER OPs on TYPE (TOPIC, GROUP) NAME,
 *                                         PATTERN LITERAL or PREFIXED
 * produce TOPIC                           one record per stdin line, the line as its value
 * consume TOPIC N                         the first N records, "key\tvalue" a line (60 s at most)
 * offset GROUP TOPIC                      the group's committed offset of partition 0 (none: -1)
 * </pre>
 */
public final class KafkaTool {
    public static void main(String[] args) throws Exception {
        Properties p = adminProperties();
        switch (args[0]) {
            case "topics" -> {
                try (Admin admin = Admin.create(p)) {
                    List<NewTopic> topics = new ArrayList<>();
                    for (int i = 1; i < args.length; i++) {
                        topics.add(new NewTopic(args[i], 1, (short) 1));
                    }
                    admin.createTopics(topics).all().get();
                }
            }
            case "user" -> {
                String password = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
                try (Admin admin = Admin.create(p)) {
                    admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(
                            args[1], new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), password)))
                            .all().get();
                }
            }
            case "acl" -> {
                List<AclBinding> acls = new ArrayList<>();
                ResourcePattern resource = new ResourcePattern(
                        ResourceType.valueOf(args[2]), args[4], PatternType.valueOf(args[3]));
                for (int i = 5; i < args.length; i++) {
                    acls.add(new AclBinding(resource, new AccessControlEntry(
                            "User:" + args[1], "*", AclOperation.valueOf(args[i]), AclPermissionType.ALLOW)));
                }
                try (Admin admin = Admin.create(p)) {
                    admin.createAcls(acls).all().get();
                }
            }
            case "produce" -> {
                try (KafkaProducer<byte[], byte[]> producer =
                        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
                    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                    for (String line; (line = in.readLine()) != null; ) {
                        producer.send(new ProducerRecord<>(args[1], line.getBytes(StandardCharsets.UTF_8))).get();
                    }
                }
            }
            case "consume" -> {
                int want = Integer.parseInt(args[2]);
                long deadline = System.currentTimeMillis() + 60_000;
                try (KafkaConsumer<byte[], byte[]> consumer =
                        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                    TopicPartition tp = new TopicPartition(args[1], 0);
                    consumer.assign(List.of(tp));
                    consumer.seekToBeginning(List.of(tp));
                    int seen = 0;
                    while (seen < want && System.currentTimeMillis() < deadline) {
                        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                            if (seen++ < want) {
                                System.out.println(text(r.key()) + "\t" + text(r.value()));
                            }
                        }
                    }
                    if (seen < want) {
                        System.err.println("consume " + args[1] + ": " + seen + " of " + want + " records within 60 s");
                        System.exit(1);
                    }
                }
            }
            case "offset" -> {
                try (Admin admin = Admin.create(p)) {
                    var offsets = admin.listConsumerGroupOffsets(args[1]).partitionsToOffsetAndMetadata().get();
                    var committed = offsets.get(new TopicPartition(args[2], 0));
                    System.out.println(committed == null ? -1 : committed.offset());
                }
            }
            default -> throw new IllegalArgumentException("unknown command " + args[0]);
        }
    }

    private static String text(byte[] b) {
        return b == null ? "<null>" : new String(b, StandardCharsets.UTF_8);
    }

    private static Properties adminProperties() {
        Map<String, String> env = System.getenv();
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", env.get("DATAMESH_KAFKA_BOOTSTRAP_SERVERS"));
        p.setProperty("security.protocol", env.get("DATAMESH_KAFKA_SECURITY_PROTOCOL"));
        if (!"PLAINTEXT".equals(env.get("DATAMESH_KAFKA_SECURITY_PROTOCOL"))) {
            p.setProperty("sasl.mechanism", env.get("DATAMESH_KAFKA_SASL_MECHANISM"));
            p.setProperty("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                    + env.get("DATAMESH_KAFKA_SASL_USERNAME") + "\" password=\"" + env.get("DATAMESH_KAFKA_SASL_PASSWORD") + "\";");
        }
        return p;
    }
}
