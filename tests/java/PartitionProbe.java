// The real Java producer (kafka-clients, default partitioner) writing given key bytes, for
// tests/integration/test_stream_producer.py to compare partitions with the Python SDK's.
//
// java -cp '<kafka lib>/*' PartitionProbe.java BOOTSTRAP CA_PEM CERT_PEM KEY_PEM KEYS_HEX_FILE TOPIC...
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Future;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class PartitionProbe {
    public static void main(String[] args) throws Exception {
        Properties config = new Properties();
        config.put("bootstrap.servers", args[0]);
        config.put("security.protocol", "SSL");
        config.put("ssl.truststore.type", "PEM");
        config.put("ssl.truststore.certificates", Files.readString(Path.of(args[1])));
        config.put("ssl.keystore.type", "PEM");
        config.put("ssl.keystore.certificate.chain", Files.readString(Path.of(args[2])));
        config.put("ssl.keystore.key", Files.readString(Path.of(args[3])));
        config.put("acks", "all");
        List<String> keys = Files.readAllLines(Path.of(args[4]));
        HexFormat hex = HexFormat.of();
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int topic = 5; topic < args.length; topic++) {
                for (String key : keys) {
                    byte[] bytes = hex.parseHex(key);
                    // No partition given: the default partitioner chooses murmur2(key) for keyed records.
                    sent.add(producer.send(new ProducerRecord<>(args[topic], bytes, bytes)));
                }
            }
            for (Future<RecordMetadata> acknowledged : sent) {
                acknowledged.get(); // any failed send fails the probe
            }
        }
        System.out.println("sent " + keys.size() + " keys to " + (args.length - 5) + " topics");
    }
}
