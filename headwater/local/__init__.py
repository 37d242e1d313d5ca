"""The local stack: a real single-node Kafka broker (from Maven Central jars) with mTLS and ACLs."""
