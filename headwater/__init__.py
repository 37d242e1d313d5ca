"""headwater: compacted event-source history and governance hub on Apache Kafka."""
